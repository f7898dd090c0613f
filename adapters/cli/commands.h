// The commands of the motcua CLI. AddCommands declares each one, with its
// arguments and options, on the CLI11 app; after parsing, the chosen
// command's handler runs with what was given and returns the process exit
// code, or an error that main prints.
#ifndef MOTCUA_ADAPTERS_CLI_COMMANDS_H_
#define MOTCUA_ADAPTERS_CLI_COMMANDS_H_

#include <google/protobuf/message.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "adapters/cli/client.h"
#include "signing/trust_store.h"

namespace CLI {
class App;
}  // namespace CLI

namespace motcua::cli {

// Exit codes: 0 done, 1 a check failed (verify-history found a broken
// chain), 2 an error, 64 a usage mistake (sysexits EX_USAGE).
inline constexpr int kExitOk = 0;
inline constexpr int kExitCheckFailed = 1;
inline constexpr int kExitError = 2;
inline constexpr int kExitUsage = 64;

// A usage mistake the parser cannot see (e.g. two options that exclude each
// other): main prints the command's usage and exits 64 rather than 2.
absl::Status UsageError(absl::string_view message);
bool IsUsageError(const absl::Status& status);

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

// The arguments and options of the command being run, filled by the
// parser. Only one command runs, so commands share fields; each reads
// only those it declares (AddCommands), the others keep their defaults.
// An empty string is an option not given.
struct Args {
  // Arguments.
  std::string code;         // CODE: a dossier's or a procedure's
  std::string task_id;      // TASK_ID, "<dossier code>/<step>"
  std::string file;         // FILE.json, FILE.pdf, FILE.textproto
  std::string document_id;  // DOCUMENT_ID: d1, d2, ...
  std::string dir;          // DIR
  std::string copy_id;      // COPY_ID of a backup

  // Changes: the expected version (none: read the current one first) and
  // the request id (empty: a new one).
  std::optional<int64_t> version;
  std::string request_id;
  // Decisions.
  std::string comment;
  std::vector<std::string> reasons;  // reject: every --reason, in order
  std::string reason;                // withdraw
  std::vector<std::string> items;    // request-supplement: every --item, in order
  // The officer's signing key: a PKCS#12 file, or a key on a PKCS#11 token.
  std::string sign_with_p12, p12_password;
  std::string pkcs11_module, token, key_label, pin_file, certificate;
  std::string save_preview;  // where to keep the PDF being signed
  std::string batch;         // approve: a file of TASK_IDs, one a line ("-": stdin)
  // Queries.
  std::string output;
  std::string applicant, unit, dossier;
  std::optional<int64_t> status;
  std::string from, to;  // list: dates; verify-dossier, backup restore: directories
  int64_t limit = 0;     // 0: no limit
  int64_t after = 0;
  // Offline checks.
  std::string trust;
  bool no_revocation = false;
  int64_t max_revocation_age_seconds = 0;
  // Backups.
  std::string offline, by, kept_at, key_file;
  uint32_t backup_id = 0;  // 0: the latest
  // Operations.
  std::string transition;
  std::string before;  // renew-documents: YYYY-MM-DD
  bool no_wait = false;
};

using Handler = absl::StatusOr<int> (*)(Context& context, const Args& args);

// Declares every command on `app` (as subcommands, `procedures` and `backup`
// with their own), their options bound to `args`. Parsing a command line
// sets `*chosen` to the handler of the command it names.
void AddCommands(CLI::App& app, Args& args, Handler* chosen);

// Handlers defined beside the code they need.

// `verify FILE.pdf`: offline signature verification (verify_command.cc).
absl::StatusOr<int> Verify(Context& context, const Args& args);

// `export CODE DIR` and `verify-dossier (CODE | --from DIR)`: the dossier
// audit, on the server or offline (dossier_audit_commands.cc).
absl::StatusOr<int> Export(Context& context, const Args& args);
absl::StatusOr<int> VerifyDossier(Context& context, const Args& args);

// `backup SUBCOMMAND` (backup_commands.cc): each talks to the server but
// Restore, which works on a copy's files alone.
namespace backup {
absl::StatusOr<int> Status(Context& context, const Args& args);
absl::StatusOr<int> List(Context& context, const Args& args);
absl::StatusOr<int> Run(Context& context, const Args& args);
absl::StatusOr<int> Verify(Context& context, const Args& args);
absl::StatusOr<int> ExportOffline(Context& context, const Args& args);
absl::StatusOr<int> ConfirmDetached(Context& context, const Args& args);
absl::StatusOr<int> Drill(Context& context, const Args& args);
absl::StatusOr<int> Restore(Context& context, const Args& args);
}  // namespace backup

// `operations SUBCOMMAND`, `transition-all`, `renew-documents` and `status`
// (operation_commands.cc).
namespace operations {
absl::StatusOr<int> List(Context& context, const Args& args);
absl::StatusOr<int> Show(Context& context, const Args& args);
absl::StatusOr<int> Cancel(Context& context, const Args& args);
absl::StatusOr<int> Wait(Context& context, const Args& args);
absl::StatusOr<int> TransitionAll(Context& context, const Args& args);
absl::StatusOr<int> RenewDocuments(Context& context, const Args& args);
absl::StatusOr<int> EngineStatus(Context& context, const Args& args);
}  // namespace operations

// Helpers the command files share.

// --request-id, or a new random one.
std::string RequestIdFrom(const Args& args);

// Follows operation `name` to its end, drawing a progress bar (stage, rate,
// time left) on stderr unless --json; returns the operation as it ended
// (operation_commands.cc).
absl::StatusOr<v1::Operation> FollowOperation(Context& context, Client& client,
                                              const std::string& name);

// `message` from the protobuf JSON in `path`; unknown fields are an error.
absl::Status ParseJsonFile(const std::string& path, google::protobuf::Message* message);
// A PDF file to verify; refused above 256 MiB.
absl::StatusOr<std::string> ReadPdfFile(const std::string& path);
// The anchors of an offline check: --trust PATH (directory or certificate
// file), by default <pki-dir>/ca.crt.
absl::StatusOr<signing::TrustStore> LoadTrustAnchors(const Context& context, const Args& args);

}  // namespace motcua::cli

#endif  // MOTCUA_ADAPTERS_CLI_COMMANDS_H_
