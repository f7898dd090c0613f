#include "workflow/work_calendar.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "motcua/v1/procedure.pb.h"
#include "workflow/builtin_data.h"

namespace motcua::workflow {
namespace {

constexpr absl::Duration kWorkingDay = absl::Hours(8);
constexpr absl::Duration kMorningStart = absl::Hours(8);
constexpr absl::Duration kMorningEnd = absl::Hours(12);
constexpr absl::Duration kAfternoonStart = absl::Hours(13);
constexpr absl::Duration kAfternoonEnd = absl::Hours(17);
constexpr absl::Duration kCutoff = absl::Hours(15);  // The 15:00 rule.

bool IsWeekday(absl::CivilDay day) {
  const absl::Weekday w = absl::GetWeekday(day);
  return w != absl::Weekday::saturday && w != absl::Weekday::sunday;
}

// Start of `day` in Vietnam time. The zone is fixed, so every day is exactly 24 h
// and offsets within a day can be computed as plain durations, sub-second exact.
absl::Time DayStart(absl::CivilDay day) {
  return absl::FromCivil(day, WorkCalendar::VietnamTime());
}

// Working time in [00:00, offset) of a working day.
absl::Duration WorkedBefore(absl::Duration offset) {
  return std::clamp(offset, kMorningStart, kMorningEnd) - kMorningStart +
         std::clamp(offset, kAfternoonStart, kAfternoonEnd) - kAfternoonStart;
}

// Inverse of WorkedBefore for `worked` in (0, 8h]: the earliest offset reaching
// it, so a period's end (12:00, 17:00) is returned as is, not the next start.
absl::Duration OffsetAfterWorked(absl::Duration worked) {
  const absl::Duration morning = kMorningEnd - kMorningStart;
  return worked <= morning ? kMorningStart + worked : kAfternoonStart + (worked - morning);
}

class CollectFirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (error_.empty()) error_ = absl::StrCat(line + 1, ":", column + 1, ": ", message);
  }
  const std::string& error() const { return error_; }

 private:
  std::string error_;
};

int64_t CountIn(const std::vector<absl::CivilDay>& sorted, absl::CivilDay first,
                absl::CivilDay end) {
  return std::lower_bound(sorted.begin(), sorted.end(), end) -
         std::lower_bound(sorted.begin(), sorted.end(), first);
}

}  // namespace

absl::TimeZone WorkCalendar::VietnamTime() {
  // Vietnam has used UTC+7 without DST since 1975.
  static const absl::TimeZone kZone = absl::FixedTimeZone(7 * 3600);
  return kZone;
}

absl::StatusOr<WorkCalendar> WorkCalendar::FromTextProto(std::string_view text) {
  motcua::v1::HolidayCalendar proto;
  google::protobuf::TextFormat::Parser parser;
  CollectFirstError errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), &proto)) {
    return absl::InvalidArgumentError(absl::StrCat("holiday calendar: ", errors.error()));
  }

  // Weekend holidays and weekday "working weekend days" change nothing, so
  // only the entries that do are kept; the counting in WorkingDaysIn relies on it.
  WorkCalendar calendar;
  std::vector<absl::CivilDay> listed_holidays;
  for (const auto& h : proto.holidays()) {
    absl::CivilDay day;
    if (!ParseIsoDate(h.date(), &day)) {
      return absl::InvalidArgumentError(
          absl::StrCat("holiday calendar: bad holiday date \"", h.date(), "\" (", h.name(), ")"));
    }
    listed_holidays.push_back(day);
    if (IsWeekday(day)) calendar.holidays_.push_back(day);
  }
  std::sort(listed_holidays.begin(), listed_holidays.end());
  for (const auto& w : proto.working_weekend_days()) {
    absl::CivilDay day;
    if (!ParseIsoDate(w.date(), &day)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "holiday calendar: bad working weekend date \"", w.date(), "\" (", w.name(), ")"));
    }
    if (std::binary_search(listed_holidays.begin(), listed_holidays.end(), day)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "holiday calendar: ", w.date(), " is listed both as holiday and as working day"));
    }
    if (!IsWeekday(day)) calendar.working_weekend_days_.push_back(day);
  }
  for (auto* days : {&calendar.holidays_, &calendar.working_weekend_days_}) {
    std::sort(days->begin(), days->end());
    days->erase(std::unique(days->begin(), days->end()), days->end());
  }
  return calendar;
}

const WorkCalendar& WorkCalendar::Builtin() {
  static const WorkCalendar* const kBuiltin = [] {
    constexpr std::string_view kPath = "calendar/vn_holidays.textproto";
    for (const BuiltinFile& file : BuiltinFiles()) {
      if (file.path != kPath) continue;
      absl::StatusOr<WorkCalendar> calendar = FromTextProto(file.content);
      if (calendar.ok()) return new WorkCalendar(*std::move(calendar));
      std::fprintf(stderr, "builtin %s: %s\n", kPath.data(), calendar.status().ToString().c_str());
      std::abort();
    }
    std::fprintf(stderr, "builtin %s missing\n", kPath.data());
    std::abort();
  }();
  return *kBuiltin;
}

bool WorkCalendar::IsWorkingDay(absl::CivilDay day) const {
  return IsWeekday(day)
             ? !std::binary_search(holidays_.begin(), holidays_.end(), day)
             : std::binary_search(working_weekend_days_.begin(), working_weekend_days_.end(), day);
}

int64_t WorkCalendar::WorkingDaysIn(absl::CivilDay first, absl::CivilDay end) const {
  if (end <= first) return 0;
  const int64_t weeks = (end - first) / 7;
  int64_t count = weeks * 5;
  for (absl::CivilDay d = first + weeks * 7; d < end; ++d) count += IsWeekday(d) ? 1 : 0;
  return count - CountIn(holidays_, first, end) + CountIn(working_weekend_days_, first, end);
}

absl::Duration WorkCalendar::WorkedInDay(absl::Time t, absl::CivilDay* day) const {
  *day = absl::ToCivilDay(t, VietnamTime());
  return IsWorkingDay(*day) ? WorkedBefore(t - DayStart(*day)) : absl::ZeroDuration();
}

absl::Duration WorkCalendar::WorkingTimeBetween(absl::Time from, absl::Time to) const {
  if (to <= from) return absl::ZeroDuration();
  if (from == absl::InfinitePast() || to == absl::InfiniteFuture()) {
    return absl::InfiniteDuration();
  }
  absl::CivilDay from_day, to_day;
  const absl::Duration before_from = WorkedInDay(from, &from_day);
  const absl::Duration before_to = WorkedInDay(to, &to_day);
  return kWorkingDay * WorkingDaysIn(from_day, to_day) + before_to - before_from;
}

absl::Time WorkCalendar::AddWorkingTime(absl::Time from, absl::Duration working) const {
  if (working <= absl::ZeroDuration() || from == absl::InfinitePast() ||
      from == absl::InfiniteFuture()) {
    return from;
  }
  if (working == absl::InfiniteDuration()) return absl::InfiniteFuture();
  // Count from 00:00 of from's day, then skip whole weeks and days while more
  // than that stretch's working time is left.
  absl::CivilDay day;
  absl::Duration left = working + WorkedInDay(from, &day);
  for (int64_t n = WorkingDaysIn(day, day + 7); left > kWorkingDay * n;
       n = WorkingDaysIn(day, day + 7)) {
    left -= kWorkingDay * n;
    day += 7;
  }
  for (; !IsWorkingDay(day) || left > kWorkingDay; ++day) {
    if (IsWorkingDay(day)) left -= kWorkingDay;
  }
  return DayStart(day) + OffsetAfterWorked(left);
}

absl::Time WorkCalendar::Appointment(absl::Time received, int working_days,
                                     bool after_15h_next_day) const {
  absl::Time start = received;
  if (after_15h_next_day && received != absl::InfinitePast() &&
      received != absl::InfiniteFuture()) {
    absl::CivilDay day = absl::ToCivilDay(received, VietnamTime());
    if (!IsWorkingDay(day) || received - DayStart(day) > kCutoff) {
      ++day;
      while (!IsWorkingDay(day)) ++day;
      start = DayStart(day) + kMorningStart;
    }
  }
  return AddWorkingTime(start, kWorkingDay * std::max(working_days, 0));
}

bool ParseIsoDate(std::string_view s, absl::CivilDay* day) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  int fields[3] = {0, 0, 0};
  const std::pair<int, int> spans[3] = {{0, 4}, {5, 2}, {8, 2}};
  for (int i = 0; i < 3; ++i) {
    for (char c : s.substr(spans[i].first, spans[i].second)) {
      if (!absl::ascii_isdigit(c)) return false;
      fields[i] = fields[i] * 10 + (c - '0');
    }
  }
  *day = absl::CivilDay(fields[0], fields[1], fields[2]);
  return day->month() == fields[1] && day->day() == fields[2];
}

}  // namespace motcua::workflow
