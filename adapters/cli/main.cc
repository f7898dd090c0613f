// motcua: the command-line client of motcuad, for officers, auditors and
// operators. See UsageText() in commands.cc for the commands.
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "adapters/cli/args.h"
#include "adapters/cli/client.h"
#include "adapters/cli/commands.h"

namespace {

std::string EnvOr(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

int UsageFailure(const absl::Status& status) {
  std::cerr << "motcua: " << status.message() << "\n\n" << motcua::cli::UsageText();
  return motcua::cli::kExitUsage;
}

int Run(int argc, char** argv) {
  using motcua::cli::Args;
  const std::vector<std::string> words(argv + 1, argv + argc);
  absl::StatusOr<Args> parsed = Args::Parse(words, {"json", "insecure", "help", "no-revocation"});
  if (!parsed.ok()) return UsageFailure(parsed.status());
  Args& args = *parsed;

  motcua::cli::ConnectionOptions connection;
  std::optional<std::string> server = args.Take("server");
  connection.pki_dir = args.Take("pki-dir").value_or(EnvOr("MOTCUA_PKI_DIR", "./var/pki"));
  connection.as = args.Take("as").value_or(EnvOr("MOTCUA_AS", ""));
  connection.cert = args.Take("cert").value_or("");
  connection.key = args.Take("key").value_or("");
  connection.ca = args.Take("ca").value_or("");
  connection.insecure = args.Take("insecure").has_value();
  // A profile fills what the flags leave out.
  if (std::string profile = args.Take("profile").value_or(EnvOr("MOTCUA_PROFILE", ""));
      !profile.empty()) {
    if (absl::Status s = motcua::cli::ApplyProfile(profile, &connection); !s.ok()) {
      std::cerr << "error: " << s.message() << "\n";
      return motcua::cli::kExitError;
    }
  }
  if (server) connection.server = *server;
  if (connection.server.empty()) connection.server = EnvOr("MOTCUA_SERVER", "127.0.0.1:50051");
  if (std::optional<std::string> timeout = args.Take("timeout")) {
    double seconds;
    if (!absl::SimpleAtod(*timeout, &seconds) || seconds <= 0) {
      return UsageFailure(motcua::cli::UsageError("--timeout must be a positive number"));
    }
    connection.timeout = absl::Seconds(seconds);
  }
  if (connection.cert.empty() != connection.key.empty()) {
    return UsageFailure(motcua::cli::UsageError("--cert and --key go together"));
  }
  const bool json = args.Take("json").has_value();
  const bool help = args.Take("help").has_value();

  if (help || args.positional().empty() || args.positional()[0] == "help" ||
      args.positional()[0] == "-h") {
    if (!help && args.positional().empty()) {
      return UsageFailure(motcua::cli::UsageError("missing command"));
    }
    std::cout << motcua::cli::UsageText();
    return motcua::cli::kExitOk;
  }

  // The command sees only its own words.
  const std::string command = args.positional()[0];
  args.Shift();
  motcua::cli::Context context(std::move(connection), json);
  absl::StatusOr<int> result = motcua::cli::RunCommand(command, context, args);
  if (!result.ok()) {
    if (motcua::cli::IsUsageError(result.status())) return UsageFailure(result.status());
    std::cerr << "error: " << absl::StatusCodeToString(result.status().code()) << ": "
              << result.status().message() << "\n";
    return motcua::cli::kExitError;
  }
  return *result;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
