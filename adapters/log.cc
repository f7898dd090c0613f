#include "adapters/log.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <vector>

#include "absl/base/const_init.h"
#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "adapters/utf8.h"

namespace motcua::adapters {
namespace {

// Constant-initialized and never destroyed, so logging works from static
// constructors and destructors too.
ABSL_CONST_INIT absl::Mutex log_mu(absl::kConstInit);
ABSL_CONST_INIT std::ostream* log_sink ABSL_GUARDED_BY(log_mu) = nullptr;
ABSL_CONST_INIT std::atomic<LogFormat> log_format{LogFormat::kText};

constexpr size_t kMinLengthToShowEnds = 8;

absl::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "unknown";
}

// A JSON string literal; the text format quotes with the same escapes.
void AppendQuoted(std::string* out, absl::string_view text) {
  out->push_back('"');
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = text[i];
    if (c >= 0x80) {
      const size_t length = Utf8SequenceLength(text.substr(i));
      if (length == 0) {
        out->append("\xEF\xBF\xBD");  // U+FFFD: a collector rejects invalid UTF-8.
        ++i;
      } else {
        out->append(text.data() + i, length);
        i += length;
      }
      continue;
    }
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          absl::StrAppendFormat(out, "\\u%04x", c);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out->push_back('"');
}

// Text values go bare when they are one printable ASCII word.
void AppendTextValue(std::string* out, absl::string_view value) {
  const bool bare = !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
    return c > ' ' && c < 0x7F && c != '"' && c != '=' && c != '\\';
  });
  if (bare) {
    absl::StrAppend(out, value);
  } else {
    AppendQuoted(out, value);
  }
}

void WriteLine(absl::string_view line) {
  absl::MutexLock lock(&log_mu);
  if (log_sink != nullptr) {
    log_sink->write(line.data(), static_cast<std::streamsize>(line.size()));
    log_sink->flush();
    return;
  }
  // One write(2) for the whole line: the mutex orders this process's lines,
  // and a line up to PIPE_BUF also stays whole beside other writers of the pipe.
  while (!line.empty()) {
    const ssize_t n = write(STDERR_FILENO, line.data(), line.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    line.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("log format \"", name, "\": want \"text\" or \"json\""));
}

void SetLogFormat(LogFormat format) { log_format.store(format, std::memory_order_relaxed); }

void SetLogSink(std::ostream* out) {
  absl::MutexLock lock(&log_mu);
  log_sink = out;
}

LogField::LogField(absl::string_view key, std::string value, bool is_string)
    : key_(key.empty() ? "_" : std::string(key)), value_(std::move(value)), is_string_(is_string) {
  for (char& c : key_) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '.' && c != '-') c = '_';
  }
}

LogField::LogField(absl::string_view key, absl::string_view value)
    : LogField(key, std::string(value), /*is_string=*/true) {}

LogField::LogField(absl::string_view key, double value)
    : LogField(key, "", /*is_string=*/!std::isfinite(value)) {
  if (std::isnan(value)) {
    value_ = "NaN";
  } else if (std::isinf(value)) {
    value_ = value > 0 ? "+Inf" : "-Inf";
  } else {
    // The shortest text that reads back as the same double.
    char buffer[32];
    value_.assign(buffer, std::to_chars(buffer, buffer + sizeof(buffer), value).ptr);
  }
}

std::string FormatLogLine(absl::Time time, LogFormat format, LogLevel level,
                          absl::string_view event, absl::Span<const LogField> fields) {
  const std::string when = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", time, absl::UTCTimeZone());
  std::string line;
  if (format == LogFormat::kJson) {
    absl::StrAppend(&line, "{\"time\":\"", when, "\",\"level\":\"", LevelName(level),
                    "\",\"event\":");
    AppendQuoted(&line, event);
    for (const LogField& field : fields) {
      absl::StrAppend(&line, ",\"", field.key(), "\":");
      if (field.is_string()) {
        AppendQuoted(&line, field.value());
      } else {
        absl::StrAppend(&line, field.value());
      }
    }
    line.append("}\n");
  } else {
    absl::StrAppend(&line, "time=", when, " level=", LevelName(level), " event=");
    AppendTextValue(&line, event);
    for (const LogField& field : fields) {
      absl::StrAppend(&line, " ", field.key(), "=");
      AppendTextValue(&line, field.value());
    }
    line.push_back('\n');
  }
  return line;
}

void Log(LogLevel level, absl::string_view event, absl::Span<const LogField> fields) {
  WriteLine(
      FormatLogLine(absl::Now(), log_format.load(std::memory_order_relaxed), level, event, fields));
}

std::string MaskIdNumber(absl::string_view id) {
  // Where each character starts, so that a multibyte one is kept or starred whole.
  std::vector<size_t> starts;
  for (size_t i = 0; i < id.size(); ++i) {
    if ((static_cast<unsigned char>(id[i]) & 0xC0) != 0x80) starts.push_back(i);
  }
  const size_t length = starts.size();
  if (length < kMinLengthToShowEnds) return std::string(length, '*');
  return absl::StrCat(id.substr(0, starts[2]), std::string(length - 4, '*'),
                      id.substr(starts[length - 2]));
}

}  // namespace motcua::adapters
