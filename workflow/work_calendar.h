#ifndef MOTCUA_WORKFLOW_WORK_CALENDAR_H_
#define MOTCUA_WORKFLOW_WORK_CALENDAR_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace motcua::workflow {

// The legal clock: working-time arithmetic in Vietnam local time (UTC+7, no
// DST). Working days are Mon–Fri minus public holidays plus declared working
// weekend days (make-up Saturdays, ngày làm bù); working hours are 08:00–12:00
// and 13:00–17:00, so a working day (ngày làm việc) is 8 working hours.
// Immutable once built; safe to share between threads.
class WorkCalendar {
 public:
  // Parses a motcua.v1.HolidayCalendar textproto. INVALID_ARGUMENT, naming the
  // bad date, for a malformed date or a day that is both holiday and working.
  static absl::StatusOr<WorkCalendar> FromTextProto(std::string_view text);

  // The calendar compiled into the binary (workflow/calendar/vn_holidays.textproto).
  // Aborts at first use if that file is missing or invalid: a build defect.
  static const WorkCalendar& Builtin();

  bool IsWorkingDay(absl::CivilDay day) const;

  // Working time in [from, to); zero when to <= from. Infinite when either end is.
  absl::Duration WorkingTimeBetween(absl::Time from, absl::Time to) const;

  // The instant at which `working` working time has elapsed after `from`.
  // A result landing exactly on the end of a working period stays there
  // (17:00, not next day 08:00). `working` <= 0 returns `from`.
  absl::Time AddWorkingTime(absl::Time from, absl::Duration working) const;

  // Appointment (hẹn trả kết quả) for a dossier received at `received` with a
  // limit of `working_days`. With `after_15h_next_day` (the 15:00 rule), receipt
  // strictly after 15:00:00 on a working day, or any time on a non-working day,
  // is counted from 08:00 of the next working day. `working_days` <= 0 returns
  // the instant counting starts.
  absl::Time Appointment(absl::Time received, int working_days, bool after_15h_next_day) const;

  // Vietnam local time: fixed UTC+7.
  static absl::TimeZone VietnamTime();

 private:
  WorkCalendar() = default;

  // Working days in [first, end), in O(log holidays).
  int64_t WorkingDaysIn(absl::CivilDay first, absl::CivilDay end) const;
  // Sets `day` to t's local day; returns the working time on it before t.
  absl::Duration WorkedInDay(absl::Time t, absl::CivilDay* day) const;

  // Sorted and unique. Only entries that change something: holidays_ holds
  // weekdays, working_weekend_days_ Saturdays and Sundays.
  std::vector<absl::CivilDay> holidays_;
  std::vector<absl::CivilDay> working_weekend_days_;
};

// Parses exactly "YYYY-MM-DD". absl::ParseCivilTime alone accepts other
// spellings ("25-07-01" as the year 25) and normalises 2026-02-30 into March.
bool ParseIsoDate(std::string_view text, absl::CivilDay* day);

}  // namespace motcua::workflow

#endif  // MOTCUA_WORKFLOW_WORK_CALENDAR_H_
