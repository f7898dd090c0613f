#ifndef MOTCUA_ADAPTERS_LOG_H_
#define MOTCUA_ADAPTERS_LOG_H_

// Structured logs for motcuad: one line per event on stderr, either JSON
//   {"time":"2026-12-07T02:11:55.123Z","level":"info","event":"serving","port":8443}
// or key=value text
//   time=2026-12-07T02:11:55.123Z level=info event=serving tls=mutual note="two words"
//
// Privacy: logs carry no personal data. Never log a person's name, ID number
// (CCCD/CMND), birth date, address or phone number; where an ID number must
// appear to trace a case, log MaskIdNumber(id). Dossier codes, task ids,
// request ids, procedure and unit codes are fine.
//
// Thread safety: every function may be called from any thread. Each line is
// written whole with one write, so concurrent events never interleave.

#include <concepts>
#include <cstdint>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace motcua::adapters {

namespace log_internal {
// Integers other than bool, which gets "true"/"false" rather than 1/0.
template <typename T>
concept Integer = std::integral<T> && !std::same_as<T, bool>;
}  // namespace log_internal

enum class LogLevel { kInfo, kWarning, kError };
enum class LogFormat { kText, kJson };

// "text" or "json"; INVALID_ARGUMENT otherwise.
absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view name);

// The format of every following line; kText until set. Meant to be called
// once, at startup.
void SetLogFormat(LogFormat format);

// Sends lines to `*out` instead of stderr, for tests; nullptr returns to
// stderr. `*out` must stay valid until it is replaced.
void SetLogSink(std::ostream* out);

// One key and its value. Keys are identifiers from code: any byte other than
// a letter, digit, '_', '.' or '-' becomes '_', so a line always parses.
// Strings are kept as given (invalid UTF-8 becomes U+FFFD when written);
// numbers and booleans are written unquoted in JSON.
class LogField {
 public:
  LogField(absl::string_view key, absl::string_view value);
  // Without it, a string literal would pick the bool overload.
  LogField(absl::string_view key, const char* value) : LogField(key, absl::string_view(value)) {}
  template <log_internal::Integer T>
  LogField(absl::string_view key, T value)
      : LogField(key, std::to_string(value), /*is_string=*/false) {}
  // NaN and infinities are written as the strings "NaN", "+Inf", "-Inf".
  LogField(absl::string_view key, double value);
  LogField(absl::string_view key, bool value)
      : LogField(key, value ? "true" : "false", /*is_string=*/false) {}

  const std::string& key() const { return key_; }
  const std::string& value() const { return value_; }
  bool is_string() const { return is_string_; }

 private:
  LogField(absl::string_view key, std::string value, bool is_string);

  std::string key_;
  std::string value_;
  bool is_string_;
};

// Writes one line for `event` (a short snake_case word, e.g. "serving",
// "backup_failed") with `fields` in order. "time", "level" and "event" are
// taken: do not use them as field keys.
void Log(LogLevel level, absl::string_view event, absl::Span<const LogField> fields = {});

// The line Log would write at `time` in `format`, ending with '\n'. Pure.
std::string FormatLogLine(absl::Time time, LogFormat format, LogLevel level,
                          absl::string_view event, absl::Span<const LogField> fields);

// "001204012345" -> "00********45": keeps the first two and last two
// characters and stars the rest, one star per character; values shorter
// than 8 characters become all stars.
std::string MaskIdNumber(absl::string_view id);

}  // namespace motcua::adapters

#endif  // MOTCUA_ADAPTERS_LOG_H_
