#include "workflow/work_calendar.h"

#include <cstdint>
#include <random>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace motcua::workflow {
namespace {

using ::testing::HasSubstr;

// Vietnam local time.
absl::Time Vn(int y, int mo, int d, int h, int mi, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), WorkCalendar::VietnamTime());
}

const WorkCalendar& Cal() { return WorkCalendar::Builtin(); }

constexpr absl::Duration kDay = absl::Hours(8);

// ---- Appointment ----

TEST(WorkCalendarTest, Appointment_FridayAfter15hBeforeTet_CountsFromMondayAfterTet) {
  // Fri 13 Feb 2026 16:00; Tết off Mon 16 – Fri 20 Feb; counting starts Mon 23 Feb 08:00.
  EXPECT_EQ(Cal().Appointment(Vn(2026, 2, 13, 16, 0), 1, true), Vn(2026, 2, 23, 17, 0));
}

TEST(WorkCalendarTest, Appointment_MondayMorningOneDay_DueTuesdaySameTime) {
  EXPECT_EQ(Cal().Appointment(Vn(2026, 3, 9, 10, 0), 1, true), Vn(2026, 3, 10, 10, 0));
}

TEST(WorkCalendarTest, Appointment_At1459WithRule_CountsFromReceipt) {
  EXPECT_EQ(Cal().Appointment(Vn(2026, 3, 11, 14, 59), 1, true), Vn(2026, 3, 12, 14, 59));
}

TEST(WorkCalendarTest, Appointment_At1501WithRule_CountsFromNextMorning) {
  EXPECT_EQ(Cal().Appointment(Vn(2026, 3, 11, 15, 1), 1, true), Vn(2026, 3, 12, 17, 0));
}

TEST(WorkCalendarTest, Appointment_Exactly1500WithRule_CountsFromReceipt) {
  EXPECT_EQ(Cal().Appointment(Vn(2026, 3, 11, 15, 0), 1, true), Vn(2026, 3, 12, 15, 0));
}

TEST(WorkCalendarTest, Appointment_HalfSecondAfter1500WithRule_CountsFromNextMorning) {
  const absl::Time received = Vn(2026, 3, 11, 15, 0) + absl::Milliseconds(500);
  EXPECT_EQ(Cal().Appointment(received, 1, true), Vn(2026, 3, 12, 17, 0));
}

TEST(WorkCalendarTest, Appointment_At1501WithoutRule_CountsFromReceipt) {
  EXPECT_EQ(Cal().Appointment(Vn(2026, 3, 11, 15, 1), 1, false), Vn(2026, 3, 12, 15, 1));
}

TEST(WorkCalendarTest, Appointment_SaturdayWithRule_CountsFromMondayMorning) {
  EXPECT_EQ(Cal().Appointment(Vn(2026, 3, 14, 10, 0), 1, true), Vn(2026, 3, 16, 17, 0));
}

TEST(WorkCalendarTest, Appointment_SaturdayWithoutRule_CountsFromMondayMorning) {
  EXPECT_EQ(Cal().Appointment(Vn(2026, 3, 14, 10, 0), 2, false), Vn(2026, 3, 17, 17, 0));
}

TEST(WorkCalendarTest, Appointment_FiveDays_SkipsWeekend) {
  // Wed 11 Mar 10:00 + 5 working days: Thu, Fri, Mon, Tue, Wed 18 Mar 10:00.
  EXPECT_EQ(Cal().Appointment(Vn(2026, 3, 11, 10, 0), 5, true), Vn(2026, 3, 18, 10, 0));
}

TEST(WorkCalendarTest, Appointment_FridayAfter15hBeforeMakeUpSaturday_DueSaturday) {
  // Sat 26 Apr 2025 was worked in exchange for Fri 2 May.
  EXPECT_EQ(Cal().Appointment(Vn(2025, 4, 25, 16, 0), 1, true), Vn(2025, 4, 26, 17, 0));
}

TEST(WorkCalendarTest, Appointment_ZeroDays_ReturnsCountingStart) {
  EXPECT_EQ(Cal().Appointment(Vn(2026, 3, 11, 16, 0), 0, true), Vn(2026, 3, 12, 8, 0));
}

// ---- IsWorkingDay ----

TEST(WorkCalendarTest, IsWorkingDay_MakeUpSaturday_IsWorkingDay) {
  EXPECT_TRUE(Cal().IsWorkingDay(absl::CivilDay(2025, 4, 26)));
  EXPECT_FALSE(Cal().IsWorkingDay(absl::CivilDay(2025, 4, 19)));  // An ordinary Saturday.
  EXPECT_FALSE(Cal().IsWorkingDay(absl::CivilDay(2025, 5, 2)));   // The swapped Friday.
}

TEST(WorkCalendarTest, Builtin_Parses_KnowsTet2026) {
  EXPECT_TRUE(Cal().IsWorkingDay(absl::CivilDay(2026, 2, 13)));
  for (int d = 14; d <= 22; ++d) {
    EXPECT_FALSE(Cal().IsWorkingDay(absl::CivilDay(2026, 2, d))) << "Feb " << d;
  }
  EXPECT_TRUE(Cal().IsWorkingDay(absl::CivilDay(2026, 2, 23)));
}

// ---- AddWorkingTime / WorkingTimeBetween ----

TEST(WorkCalendarTest, WorkingTimeBetween_LunchBreak_NotCounted) {
  EXPECT_EQ(Cal().WorkingTimeBetween(Vn(2026, 3, 9, 11, 30), Vn(2026, 3, 9, 13, 30)),
            absl::Hours(1));
}

TEST(WorkCalendarTest, AddWorkingTime_AcrossLunch_SkipsBreak) {
  EXPECT_EQ(Cal().AddWorkingTime(Vn(2026, 3, 9, 11, 0), absl::Hours(2)), Vn(2026, 3, 9, 14, 0));
}

TEST(WorkCalendarTest, AddWorkingTime_EndingOnPeriodEnd_StaysThere) {
  EXPECT_EQ(Cal().AddWorkingTime(Vn(2026, 3, 9, 9, 0), absl::Hours(3)), Vn(2026, 3, 9, 12, 0));
  EXPECT_EQ(Cal().AddWorkingTime(Vn(2026, 3, 9, 8, 0), kDay), Vn(2026, 3, 9, 17, 0));
}

TEST(WorkCalendarTest, AddWorkingTime_FromBeforeOpening_StartsAt0800) {
  EXPECT_EQ(Cal().AddWorkingTime(Vn(2026, 3, 9, 6, 0), absl::Hours(1)), Vn(2026, 3, 9, 9, 0));
}

TEST(WorkCalendarTest, AddWorkingTime_FridayEvening_ContinuesMonday) {
  EXPECT_EQ(Cal().AddWorkingTime(Vn(2026, 3, 13, 18, 0), absl::Hours(1)), Vn(2026, 3, 16, 9, 0));
}

TEST(WorkCalendarTest, AddWorkingTime_Zero_ReturnsFrom) {
  EXPECT_EQ(Cal().AddWorkingTime(Vn(2026, 3, 14, 10, 0), absl::ZeroDuration()),
            Vn(2026, 3, 14, 10, 0));
}

TEST(WorkCalendarTest, WorkingTimeBetween_AcrossHolidayAndWeekend_CountsOnlyWorkingHours) {
  // Wed 29 Apr 2026 16:00 → Mon 4 May 10:00: 1 h Wed, Thu 30 Apr and Fri 1 May
  // holidays, weekend, 2 h Mon.
  EXPECT_EQ(Cal().WorkingTimeBetween(Vn(2026, 4, 29, 16, 0), Vn(2026, 5, 4, 10, 0)),
            absl::Hours(3));
}

TEST(WorkCalendarTest, WorkingTimeBetween_ToNotAfterFrom_IsZero) {
  EXPECT_EQ(Cal().WorkingTimeBetween(Vn(2026, 3, 9, 10, 0), Vn(2026, 3, 9, 10, 0)),
            absl::ZeroDuration());
  EXPECT_EQ(Cal().WorkingTimeBetween(Vn(2026, 3, 10, 10, 0), Vn(2026, 3, 9, 10, 0)),
            absl::ZeroDuration());
}

TEST(WorkCalendarTest, WorkingTimeBetween_ThreeYears_MatchesDayByDayCount) {
  int64_t working_days = 0;
  for (absl::CivilDay d(2025, 1, 1); d < absl::CivilDay(2028, 1, 1); ++d) {
    working_days += Cal().IsWorkingDay(d) ? 1 : 0;
  }
  EXPECT_EQ(Cal().WorkingTimeBetween(Vn(2025, 1, 1, 0, 0), Vn(2028, 1, 1, 0, 0)),
            kDay * working_days);
}

TEST(WorkCalendarTest, AddWorkingTime_365WorkingDays_IsInverseOfWorkingTimeBetween) {
  const absl::Time from = Vn(2025, 1, 2, 10, 0);
  const absl::Time due = Cal().AddWorkingTime(from, kDay * 365);
  EXPECT_EQ(Cal().WorkingTimeBetween(from, due), kDay * 365);
  EXPECT_EQ(absl::ToCivilSecond(due, WorkCalendar::VietnamTime()).hour(), 10);
}

TEST(WorkCalendarTest, AddWorkingTime_RandomSamples_InverseOfWorkingTimeBetween) {
  std::mt19937_64 rng(20260213);
  const int64_t begin = absl::ToUnixSeconds(Vn(2025, 1, 1, 0, 0));
  const int64_t end = absl::ToUnixSeconds(Vn(2027, 12, 1, 0, 0));
  std::uniform_int_distribution<int64_t> instant(begin, end);
  std::uniform_int_distribution<int64_t> millis(1, int64_t{40} * 8 * 3600 * 1000);
  for (int i = 0; i < 2000; ++i) {
    const absl::Time from = absl::FromUnixSeconds(instant(rng));
    const absl::Duration working = absl::Milliseconds(millis(rng));
    const absl::Time due = Cal().AddWorkingTime(from, working);
    ASSERT_EQ(Cal().WorkingTimeBetween(from, due), working) << from << " + " << working;
    // The earliest such instant: nothing is worked in the last moment before it.
    ASSERT_LT(Cal().WorkingTimeBetween(from, due - absl::Milliseconds(1)), working);

    // The other way round: adding the working time between two instants lands
    // on or before the later one, with no working time left between them.
    const absl::Time to = absl::FromUnixSeconds(instant(rng));
    const absl::Duration between = Cal().WorkingTimeBetween(from, to);
    if (between > absl::ZeroDuration()) {
      const absl::Time back = Cal().AddWorkingTime(from, between);
      ASSERT_LE(back, to) << from << " → " << to;
      ASSERT_EQ(Cal().WorkingTimeBetween(back, to), absl::ZeroDuration()) << from << " → " << to;
    }
  }
}

// ---- FromTextProto ----

TEST(WorkCalendarTest, FromTextProto_NonexistentDate_RejectedNamingIt) {
  absl::StatusOr<WorkCalendar> calendar =
      WorkCalendar::FromTextProto(R"pb(holidays { date: "2026-02-30" name: "x" })pb");
  ASSERT_EQ(calendar.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(calendar.status().message(), HasSubstr("2026-02-30"));
}

TEST(WorkCalendarTest, FromTextProto_MalformedDate_RejectedNamingIt) {
  absl::StatusOr<WorkCalendar> calendar =
      WorkCalendar::FromTextProto(R"pb(working_weekend_days { date: "2026-1-10" })pb");
  ASSERT_EQ(calendar.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(calendar.status().message(), HasSubstr("2026-1-10"));
}

TEST(WorkCalendarTest, FromTextProto_SyntaxError_Rejected) {
  EXPECT_EQ(WorkCalendar::FromTextProto("holidays { date: ").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(WorkCalendarTest, FromTextProto_DayBothHolidayAndWorking_Rejected) {
  absl::StatusOr<WorkCalendar> calendar = WorkCalendar::FromTextProto(R"pb(
    holidays { date: "2026-01-10" }
    working_weekend_days { date: "2026-01-10" }
  )pb");
  ASSERT_EQ(calendar.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(calendar.status().message(), HasSubstr("2026-01-10"));
}

TEST(WorkCalendarTest, FromTextProto_WeekendHolidayAndWeekdayWorkingDay_ChangeNothing) {
  absl::StatusOr<WorkCalendar> calendar = WorkCalendar::FromTextProto(R"pb(
    holidays { date: "2026-04-26" }              # a Sunday
    working_weekend_days { date: "2026-04-28" }  # a Tuesday
  )pb");
  ASSERT_TRUE(calendar.ok()) << calendar.status();
  EXPECT_FALSE(calendar->IsWorkingDay(absl::CivilDay(2026, 4, 26)));
  EXPECT_TRUE(calendar->IsWorkingDay(absl::CivilDay(2026, 4, 28)));
  // One full week Mon 27 Apr – Mon 4 May: five working days.
  EXPECT_EQ(calendar->WorkingTimeBetween(Vn(2026, 4, 27, 0, 0), Vn(2026, 5, 4, 0, 0)), kDay * 5);
}

TEST(WorkCalendarTest, FromTextProto_Empty_OnlyWeekendsOff) {
  absl::StatusOr<WorkCalendar> calendar = WorkCalendar::FromTextProto("");
  ASSERT_TRUE(calendar.ok()) << calendar.status();
  EXPECT_TRUE(calendar->IsWorkingDay(absl::CivilDay(2026, 2, 17)));
  EXPECT_FALSE(calendar->IsWorkingDay(absl::CivilDay(2026, 2, 14)));
}

}  // namespace
}  // namespace motcua::workflow
