#ifndef MOTCUA_TESTS_INTEGRATION_CLI_RUNNER_H_
#define MOTCUA_TESTS_INTEGRATION_CLI_RUNNER_H_

// Runs the real motcua CLI binary as a child process.

#include <ostream>
#include <string>
#include <vector>

namespace motcua::itest {

struct CliResult {
  // The exit status; -1 when the CLI did not exit normally (signal, kill).
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::ostream& operator<<(std::ostream& os, const CliResult& r);

// Runs MOTCUA_CLI_PATH with exactly `args` (no shell), capturing stdout and
// stderr. MOTCUA_* variables are removed from its environment so only the
// flags decide where it connects and who it is. Killed after 60 s.
CliResult RunCli(const std::vector<std::string>& args);

// The same for any program, e.g. MOTCUAD_PATH for a start that must fail.
CliResult RunProgram(const std::string& path, const std::vector<std::string>& args);

}  // namespace motcua::itest

#endif  // MOTCUA_TESTS_INTEGRATION_CLI_RUNNER_H_
