// motcua: the command-line client of motcuad, for officers, auditors and
// operators. The options every command shares are declared here; the
// commands with their own in commands.cc (AddCommands). `motcua --help`
// lists them, `motcua COMMAND --help` explains one.
#include <CLI/CLI.hpp>
#include <grpc/grpc.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "adapters/cli/client.h"
#include "adapters/cli/commands.h"

namespace {

using motcua::cli::kExitError;
using motcua::cli::kExitUsage;

constexpr char kDescription[] =
    "motcua: the command-line client of motcuad, for officers, auditors and operators.\n"
    "Options go anywhere on the line, before or after the command.\n";

constexpr char kFooter[] =
    "Who you are: every command that talks to the server needs --cert/--key, --profile or\n"
    "--as; there is no default identity. verify, verify-dossier --from and backup restore\n"
    "work offline and need none.\n"
    "\n"
    "Commands that change a dossier or task take --version N (expected version; default:\n"
    "the dossier's current version, read first) and --request-id ID (default: a new random\n"
    "id; pass the same id to retry safely).\n"
    "\n"
    "Each command explains itself: motcua approve --help; --help-all shows them all.\n"
    "\n"
    "Exit status: 0 ok, 1 a check failed (broken chain, policy not met, failed\n"
    "verification or drill), 2 error (printed as \"error: CODE: message\"), 64 usage error.";

constexpr char kCommandFooter[] =
    "The options of motcua (--server, --as, --cert/--key, --profile, --json, ...) go here "
    "too: motcua --help.";

// CLI11's help, with the usage line as motcua writes it: "usage: motcua
// verify FILE.pdf [OPTIONS]", the arguments before the options; and the
// list of commands showing each one's arguments.
class HelpFormatter : public CLI::Formatter {
 public:
  HelpFormatter() {
    label("Usage", "usage");
    label("SUBCOMMAND", "COMMAND");
  }

  std::string make_subcommand(const CLI::App* command) const override {
    std::string name = command->get_name();
    for (const CLI::Option* argument :
         command->get_options([](const CLI::Option* o) { return o->get_positional(); })) {
      absl::StrAppend(&name, " ", make_option_usage(argument));
    }
    if (!command->get_subcommands({}).empty()) absl::StrAppend(&name, " COMMAND");
    std::ostringstream out;
    CLI::detail::format_help(out, name, command->get_description(), get_column_width());
    return out.str();
  }

  std::string make_usage(const CLI::App* app, std::string name) const override {
    std::string usage = CLI::Formatter::make_usage(app, std::move(name));
    const std::string options = " [OPTIONS]";
    if (const size_t at = usage.find(options); at != std::string::npos) {
      usage.erase(at, options.size());
      usage.insert(usage.find_last_not_of('\n') + 1, options);
    }
    return usage;
  }
};

// What went wrong: CLI11's words, but a missing or unknown command named
// as such rather than "A subcommand is required".
std::string ParseErrorMessage(const CLI::App& app, const CLI::ParseError& error) {
  const CLI::App* at = &app;
  while (!at->get_subcommands().empty()) at = at->get_subcommands().front();
  if (dynamic_cast<const CLI::RequiredError*>(&error) == nullptr ||
      at->get_require_subcommand_min() == 0) {
    return error.what();
  }
  for (const std::string& word : app.remaining()) {
    if (!word.empty() && word[0] != '-') return absl::StrCat("unknown command \"", word, "\"");
  }
  return "missing command";
}

// The message, then the usage of the command given (or of motcua).
int UsageFailure(const CLI::App& app, const std::string& message) {
  std::cerr << "motcua: " << message << "\n\n" << app.help();
  return kExitUsage;
}

// Parses `words` (argv without the program); the exit code when that is
// the end of it: --help, or a usage mistake.
std::optional<int> Parse(CLI::App& app, std::vector<std::string> words) {
  std::reverse(words.begin(), words.end());  // as CLI11 takes them
  try {
    app.parse(std::move(words));
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --help-all
    return UsageFailure(app, ParseErrorMessage(app, e));
  }
  return std::nullopt;
}

int Run(int argc, char** argv) {
  CLI::App app(kDescription, "motcua");
  app.formatter(std::make_shared<HelpFormatter>());
  app.set_help_all_flag("--help-all", "Print the help of every command and exit");
  // Commands inherit these: an option the command does not know is tried
  // as motcua's, and a flag given twice takes its last value.
  app.fallthrough();
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.require_subcommand(1);

  motcua::cli::ConnectionOptions connection;
  connection.pki_dir = "./var/pki";
  std::string profile;
  double timeout_seconds = absl::ToDoubleSeconds(connection.timeout);
  bool json = false;
  const std::string server_group = "Server";
  const std::string identity_group =
      "Who you are (for every command that talks to the server; no default)";
  app.add_option("--server", connection.server,
                 "server address (default: the profile's, else $MOTCUA_SERVER, else "
                 "127.0.0.1:50051)")
      ->type_name("HOST:PORT")
      ->group(server_group);
  app.add_option("--timeout", timeout_seconds, "deadline of each call")
      ->type_name("SECONDS")
      ->capture_default_str()
      ->group(server_group);
  app.add_flag("--insecure", connection.insecure,
               "plain-text connection (server started with --insecure)")
      ->group(server_group);
  app.add_option("--cert", connection.cert, "your client certificate")
      ->type_name("FILE")
      ->group(identity_group);
  app.add_option("--key", connection.key, "its private key")
      ->type_name("FILE")
      ->group(identity_group);
  app.add_option("--ca", connection.ca, "CA of the server certificate (default <pki-dir>/ca.crt)")
      ->type_name("FILE")
      ->group(identity_group);
  app.add_option("--profile", profile,
                 "a file of \"server = ...\", \"ca = ...\", \"cert = ...\", \"key = ...\" lines; "
                 "options given win")
      ->type_name("FILE")
      ->envname("MOTCUA_PROFILE")
      ->group(identity_group);
  app.add_option("--as", connection.as,
                 "development: a client of the dev PKI (portal, receiver, head, clerk, auditor, "
                 "admin, ...)")
      ->type_name("NAME")
      ->envname("MOTCUA_AS")
      ->group(identity_group);
  app.add_option("--pki-dir", connection.pki_dir, "the development PKI")
      ->type_name("DIR")
      ->envname("MOTCUA_PKI_DIR")
      ->capture_default_str()
      ->group(identity_group);
  app.add_flag("--json", json, "print protobuf JSON instead of tables");

  motcua::cli::Args args;
  motcua::cli::Handler handler = nullptr;
  app.footer(kCommandFooter);  // the commands' (inherited as they are added)
  motcua::cli::AddCommands(app, args, &handler);
  app.footer(kFooter);

  // `motcua help [COMMAND...]` is `motcua [COMMAND...] --help` (hidden: no group).
  std::vector<std::string> topic;
  CLI::App* help = app.add_subcommand("help")->group("");
  help->add_option("COMMAND", topic);

  if (std::optional<int> exit = Parse(app, {argv + 1, argv + argc})) return *exit;
  if (help->parsed()) {
    topic.push_back("--help");
    std::vector<std::string> again = std::move(topic);
    app.clear();
    return Parse(app, std::move(again)).value_or(kExitUsage);
  }

  // A profile fills what the options leave out.
  if (!profile.empty()) {
    if (absl::Status s = motcua::cli::ApplyProfile(profile, &connection); !s.ok()) {
      std::cerr << "error: " << s.message() << "\n";
      return kExitError;
    }
  }
  if (connection.server.empty()) {
    const char* server = std::getenv("MOTCUA_SERVER");
    connection.server = server != nullptr && *server != '\0' ? server : "127.0.0.1:50051";
  }
  if (connection.cert.empty() != connection.key.empty()) {
    return UsageFailure(app, "--cert and --key go together");
  }
  if (!(timeout_seconds > 0)) return UsageFailure(app, "--timeout must be a positive number");
  connection.timeout = absl::Seconds(timeout_seconds);

  if (handler == nullptr) return UsageFailure(app, "missing command");

  motcua::cli::Context context(std::move(connection), json);
  absl::StatusOr<int> result = handler(context, args);
  if (!result.ok()) {
    if (motcua::cli::IsUsageError(result.status())) {
      return UsageFailure(app, std::string(result.status().message()));
    }
    std::cerr << "error: " << absl::StatusCodeToString(result.status().code()) << ": "
              << result.status().message() << "\n";
    return kExitError;
  }
  return *result;
}

}  // namespace

// gRPC tears a channel down on its own threads. Holding a reference to the
// library until the command's channel is gone, and then shutting it down
// here, makes that teardown finish before the process exits: otherwise a
// TLS session could still be half-freed when the leak checker looks.
int main(int argc, char** argv) {
  grpc_init();
  const int exit_code = Run(argc, argv);
  grpc_shutdown_blocking();
  return exit_code;
}
