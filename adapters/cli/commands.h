// The commands of the motcua CLI. Each takes its own arguments (global
// options already removed) and returns the process exit code, or an error
// that main prints.
#ifndef MOTCUA_ADAPTERS_CLI_COMMANDS_H_
#define MOTCUA_ADAPTERS_CLI_COMMANDS_H_

#include <memory>
#include <string>

#include <google/protobuf/message.h>

#include "absl/status/statusor.h"
#include "adapters/cli/args.h"
#include "adapters/cli/client.h"
#include "signing/trust_store.h"

namespace motcua::cli {

// Exit codes: 0 done, 1 a check failed (verify-history found a broken
// chain), 2 an error, 64 a usage mistake (sysexits EX_USAGE).
inline constexpr int kExitOk = 0;
inline constexpr int kExitCheckFailed = 1;
inline constexpr int kExitError = 2;
inline constexpr int kExitUsage = 64;

// What every command shares: where to connect and how to print.
class Context {
 public:
  Context(ConnectionOptions connection, bool json)
      : connection_(std::move(connection)), json_(json) {}

  bool json() const { return json_; }
  const std::string& pki_dir() const { return connection_.pki_dir; }
  // The connection, made on first use so usage errors need no server.
  absl::StatusOr<Client*> client();

 private:
  ConnectionOptions connection_;
  bool json_;
  std::unique_ptr<Client> client_;
};

// Runs `name` (e.g. "submit", or "procedures" with the subcommand first in
// args.positional()). Usage error for an unknown command.
absl::StatusOr<int> RunCommand(const std::string& name, Context& context, Args& args);

// `backup SUBCOMMAND ...` (backup_commands.cc).
absl::StatusOr<int> Backup(Context& context, Args& args);

// `verify FILE.pdf ...`: offline signature verification (verify_command.cc).
absl::StatusOr<int> Verify(Context& context, Args& args);

// `export CODE DIR` and `verify-dossier (CODE | --from DIR)`: the dossier
// audit, on the server or offline (dossier_audit_commands.cc).
absl::StatusOr<int> Export(Context& context, Args& args);
absl::StatusOr<int> VerifyDossier(Context& context, Args& args);

// Helpers the command files share.

// Exactly `count` positional words, or a usage error naming what is missing.
absl::Status ExpectPositional(const Args& args, size_t count, absl::string_view what);
// `message` from the protobuf JSON in `path`; unknown fields are an error.
absl::Status ParseJsonFile(const std::string& path, google::protobuf::Message* message);
// A PDF file to verify; refused above 256 MiB.
absl::StatusOr<std::string> ReadPdfFile(const std::string& path);
// The anchors of an offline check: --trust PATH (directory or certificate
// file), by default <pki-dir>/ca.crt.
absl::StatusOr<signing::TrustStore> LoadTrustAnchors(const Context& context, const Args& args);

// The usage text printed by --help and after a usage error.
const char* UsageText();

}  // namespace motcua::cli

#endif  // MOTCUA_ADAPTERS_CLI_COMMANDS_H_
