#include "adapters/cli/args.h"

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace motcua::cli {
namespace {

constexpr char kUsagePayload[] = "motcua.cli/usage";

}  // namespace

absl::Status UsageError(absl::string_view message) {
  absl::Status status = absl::InvalidArgumentError(message);
  status.SetPayload(kUsagePayload, absl::Cord("1"));
  return status;
}

bool IsUsageError(const absl::Status& status) {
  return status.GetPayload(kUsagePayload).has_value();
}

absl::StatusOr<Args> Args::Parse(const std::vector<std::string>& argv,
                                 const std::set<std::string>& switches) {
  Args args;
  bool only_positional = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& word = argv[i];
    if (only_positional || word.size() < 3 || word.substr(0, 2) != "--") {
      // A single "-" and short options are not flags here; "-h" is handled
      // by the caller as a word.
      args.positional_.push_back(word);
      continue;
    }
    if (word == "--") {
      only_positional = true;
      continue;
    }
    std::string name = word.substr(2);
    std::optional<std::string> value;
    if (const size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    if (switches.count(name) > 0) {
      if (value.has_value()) return UsageError(absl::StrCat("--", name, " takes no value"));
      args.flags_[name].push_back("");
      continue;
    }
    if (!value.has_value()) {
      if (i + 1 >= argv.size()) return UsageError(absl::StrCat("--", name, " needs a value"));
      value = argv[++i];
    }
    args.flags_[name].push_back(*std::move(value));
  }
  return args;
}

std::optional<std::string> Args::Get(const std::string& flag) const {
  auto it = flags_.find(flag);
  if (it == flags_.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> Args::GetAll(const std::string& flag) const {
  auto it = flags_.find(flag);
  if (it == flags_.end()) return {};
  return it->second;
}

absl::StatusOr<std::optional<int64_t>> Args::GetInt(const std::string& flag) const {
  std::optional<std::string> text = Get(flag);
  if (!text.has_value()) return std::optional<int64_t>();
  int64_t value;
  if (!absl::SimpleAtoi(*text, &value)) {
    return UsageError(absl::StrCat("--", flag, " must be an integer, got \"", *text, "\""));
  }
  return std::optional<int64_t>(value);
}

std::optional<std::string> Args::Take(const std::string& flag) {
  std::optional<std::string> value = Get(flag);
  flags_.erase(flag);
  return value;
}

absl::Status Args::CheckOnly(const std::set<std::string>& allowed) const {
  for (const auto& [name, values] : flags_) {
    if (allowed.count(name) == 0) {
      return UsageError(absl::StrCat("unknown option --", name, " for this command"));
    }
  }
  return absl::OkStatus();
}

}  // namespace motcua::cli
