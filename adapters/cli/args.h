// Command-line parsing for the motcua CLI: `--name value`, `--name=value`,
// boolean switches, repeated flags, and positional words, in any order.
#ifndef MOTCUA_ADAPTERS_CLI_ARGS_H_
#define MOTCUA_ADAPTERS_CLI_ARGS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace motcua::cli {

// A usage mistake (unknown flag, missing argument): the CLI prints the usage
// text and exits 64 rather than 2.
absl::Status UsageError(absl::string_view message);
bool IsUsageError(const absl::Status& status);

class Args {
 public:
  // Splits argv (without the program name). Flags in `switches` take no
  // value; every other flag takes the next word (or its "=value"). A bare
  // "--" makes every later word positional.
  static absl::StatusOr<Args> Parse(const std::vector<std::string>& argv,
                                    const std::set<std::string>& switches);

  const std::vector<std::string>& positional() const { return positional_; }
  // Drops the first positional word (the command name, once dispatched).
  void Shift() {
    if (!positional_.empty()) positional_.erase(positional_.begin());
  }

  bool Has(const std::string& flag) const { return flags_.count(flag) > 0; }
  // The last value given, if any.
  std::optional<std::string> Get(const std::string& flag) const;
  // Every value given, in order.
  std::vector<std::string> GetAll(const std::string& flag) const;
  // The flag as an integer; INVALID usage when it is not one.
  absl::StatusOr<std::optional<int64_t>> GetInt(const std::string& flag) const;

  // Removes and returns the last value of `flag` (for global flags, so the
  // command sees only its own).
  std::optional<std::string> Take(const std::string& flag);
  // Usage error naming the first flag not in `allowed`.
  absl::Status CheckOnly(const std::set<std::string>& allowed) const;

 private:
  std::vector<std::string> positional_;
  std::map<std::string, std::vector<std::string>> flags_;
};

}  // namespace motcua::cli

#endif  // MOTCUA_ADAPTERS_CLI_ARGS_H_
