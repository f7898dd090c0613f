// Timers: transitions fired by time, the overdue mark on the legal clock,
// each exactly once, cancelled when the dossier leaves the state, and
// definitions that misuse them refused at deploy.

#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "tests/workflow/engine_fixture.h"

namespace motcua::workflow {
namespace {

// Accepted by an officer, or expired by a timer after two working days; or
// closed at the deadline its form names.
constexpr char kTimed[] = R"pb(
  code: "T.001" name: "Thủ tục có hạn" initial_state: "open"
  time_limit { working_days: 5 }
  form_fields { name: "deadline" title: "Hạn chót" required: true }
  states { id: "open" title: "Chờ tiếp nhận" national_status: 1 task_title: "Tiếp nhận" }
  states { id: "waiting" title: "Chờ hạn" national_status: 4 }
  states { id: "expired" title: "Hết hạn" national_status: 3 terminal: true }
  states { id: "closed" title: "Đã đóng" national_status: 9 terminal: true }
  states { id: "withdrawn" title: "Rút" national_status: 7 terminal: true }
  transitions { id: "accept" from_state: "open" to_state: "waiting"
                trigger: TRIGGER_APPROVE role: ROLE_OFFICER position: "receiving" }
  transitions { id: "expire" from_state: "open" to_state: "expired"
                trigger: TRIGGER_TIMER timer { after_working_days: 2 } }
  transitions { id: "close" from_state: "waiting" to_state: "closed"
                trigger: TRIGGER_TIMER timer { at_form_field: "deadline" } }
  transitions { id: "withdraw" from_state: "open" to_state: "withdrawn"
                trigger: TRIGGER_WITHDRAW role: ROLE_PORTAL }
  transitions { id: "withdraw_waiting" from_state: "waiting" to_state: "withdrawn"
                trigger: TRIGGER_WITHDRAW role: ROLE_PORTAL }
)pb";

class TimersTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    auto deployed = Deploy(kTimed);
    ASSERT_TRUE(deployed.ok()) << deployed.status();
  }

  absl::StatusOr<v1::ProcedureDefinition> Deploy(const std::string& text) {
    v1::DeployProcedureRequest r;
    if (!google::protobuf::TextFormat::ParseFromString(text, r.mutable_definition())) {
      return absl::InvalidArgumentError("test definition does not parse");
    }
    r.set_request_id(absl::StrCat("deploy-", ++deploys_));
    return engine_->DeployProcedure(kAdmin, r);
  }

  absl::StatusOr<v1::Dossier> SubmitTimed(const std::string& id, const std::string& deadline) {
    v1::SubmitDossierRequest r = Request(id);
    r.set_procedure_code("T.001");
    r.clear_form();
    (*r.mutable_form())["deadline"] = deadline;
    return engine_->SubmitDossier(kPortal, r);
  }

  int Fire() {
    auto fired = engine_->FireDueTimers();
    EXPECT_TRUE(fired.ok()) << fired.status();
    return fired.ok() ? *fired : -1;
  }

  int deploys_ = 0;
};

TEST_F(TimersTest, WorkingDayTimer_FiresOnceWhenDue_AsSystem) {
  auto d = SubmitTimed("t1", "2026-03-31");
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->timers_size(), 1);
  EXPECT_EQ(d->timers(0).transition(), "expire");
  // Two working days from Monday 09:00: Wednesday 09:00.
  EXPECT_EQ(FromProto(d->timers(0).due_at()), Local(2026, 3, 4, 9, 0));

  clock_.Set(Local(2026, 3, 4, 8, 59));
  EXPECT_EQ(Fire(), 0);
  EXPECT_EQ(Get(*d).state(), "open");

  clock_.Set(Local(2026, 3, 4, 9, 0));
  EXPECT_EQ(Fire(), 1);
  v1::Dossier expired = Get(*d);
  EXPECT_EQ(expired.state(), "expired");
  EXPECT_EQ(expired.timers_size(), 0);
  EXPECT_FALSE(expired.has_task());
  const v1::HistoryEvent last = History(*d).back();
  EXPECT_EQ(last.action(), "expire");
  EXPECT_EQ(last.actor(), "system");
  EXPECT_EQ(last.request_id(), absl::StrCat("timer:", d->timers(0).id()));

  clock_.Advance(absl::Hours(24));
  EXPECT_EQ(Fire(), 0);
  EXPECT_EQ(History(*d).size(), 2u);
}

TEST_F(TimersTest, LeavingTheState_CancelsItsTimer_AndArmsTheNextStates) {
  auto d = SubmitTimed("t1", "2026-03-20");
  ASSERT_TRUE(d.ok());
  auto accepted = Decide(kReceiver, *d, v1::DECISION_APPROVE, "c1");
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  ASSERT_EQ(accepted->timers_size(), 1);
  EXPECT_EQ(accepted->timers(0).transition(), "close");
  // A date deadline means the end of that day in Vietnam.
  EXPECT_EQ(FromProto(accepted->timers(0).due_at()), Local(2026, 3, 21, 0, 0));

  clock_.Set(Local(2026, 3, 10, 9, 0));  // "expire" would have been due
  EXPECT_EQ(Fire(), 0);
  EXPECT_EQ(Get(*d).state(), "waiting");
  clock_.Set(Local(2026, 3, 21, 0, 0));
  EXPECT_EQ(Fire(), 1);
  EXPECT_EQ(Get(*d).state(), "closed");
}

TEST_F(TimersTest, WithdrawnDossier_TimerDoesNothing) {
  auto d = SubmitTimed("t1", "2026-03-31");
  ASSERT_TRUE(d.ok());
  v1::WithdrawDossierRequest w;
  w.set_code(d->code());
  w.set_expected_version(d->version());
  w.set_request_id("w1");
  ASSERT_TRUE(engine_->WithdrawDossier(kPortal, w).ok());
  clock_.Set(Local(2026, 4, 30, 9, 0));
  EXPECT_EQ(Fire(), 0);
  EXPECT_EQ(Get(*d).state(), "withdrawn");
  EXPECT_EQ(History(*d).size(), 2u);
}

TEST_F(TimersTest, TimerDueWhileServerWasDown_FiresAfterRestart) {
  auto d = SubmitTimed("t1", "2026-03-31");
  ASSERT_TRUE(d.ok());
  Reopen();
  clock_.Set(Local(2026, 3, 9, 9, 0));
  EXPECT_EQ(Fire(), 1);
  EXPECT_EQ(Get(*d).state(), "expired");
}

TEST_F(TimersTest, DeadlineFieldNotATime_RefusedAtSubmissionNamingTheField) {
  auto d = SubmitTimed("t1", "cuối tháng");
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(d.status().message().find("deadline"), std::string::npos) << d.status();
}

TEST_F(TimersTest, Overdue_MarkedByTimerWhenTheAppointmentPasses_Once) {
  v1::Dossier d = Submit("r1");
  auto received = Decide(kReceiver, d, v1::DECISION_APPROVE, "c1");
  ASSERT_TRUE(received.ok());
  // Monday 09:00 plus one working day: Tuesday 09:00.
  ASSERT_EQ(FromProto(received->receipt().appointment_at()), Local(2026, 3, 3, 9, 0));
  ASSERT_EQ(received->timers_size(), 1);
  EXPECT_EQ(received->timers(0).kind(), v1::Timer::KIND_OVERDUE);
  EXPECT_FALSE(received->overdue());

  clock_.Set(Local(2026, 3, 3, 9, 1));
  EXPECT_EQ(Fire(), 1);
  v1::Dossier late = Get(d);
  EXPECT_TRUE(late.overdue());
  EXPECT_EQ(late.timers_size(), 0);
  EXPECT_EQ(History(d).back().action(), "overdue");
  EXPECT_EQ(late.task().dossier_version(), late.version());
  EXPECT_EQ(Fire(), 0);
}

TEST_F(TimersTest, Overdue_ClockPausedBeforeTheAppointment_NotMarked) {
  v1::Dossier d = Submit("r1");
  auto received = Decide(kReceiver, d, v1::DECISION_APPROVE, "c1");
  ASSERT_TRUE(received.ok());
  auto paused = Decide(kHead, *received, v1::DECISION_REQUEST_SUPPLEMENT, "c2");
  ASSERT_TRUE(paused.ok()) << paused.status();
  EXPECT_EQ(paused->timers_size(), 0);
  clock_.Set(Local(2026, 3, 20, 9, 0));
  EXPECT_EQ(Fire(), 0);
  EXPECT_FALSE(Get(d).overdue());
}

struct BadDefinition {
  const char* name;
  const char* from;  // text replaced in kTimed
  const char* to;
  const char* named;  // the message must name this
};

class TimerDeployTest : public TimersTest,
                        public ::testing::WithParamInterface<BadDefinition> {};

TEST_P(TimerDeployTest, Refused_InvalidArgumentNamingTheTransition) {
  const BadDefinition& bad = GetParam();
  std::string text = kTimed;
  size_t at = text.find(bad.from);
  ASSERT_NE(at, std::string::npos) << bad.from;
  text.replace(at, std::string(bad.from).size(), bad.to);
  auto deployed = Deploy(text);
  EXPECT_EQ(deployed.status().code(), absl::StatusCode::kInvalidArgument) << deployed.status();
  EXPECT_NE(deployed.status().message().find(bad.named), std::string::npos) << deployed.status();
}

INSTANTIATE_TEST_SUITE_P(
    Definitions, TimerDeployTest,
    ::testing::Values(
        BadDefinition{"NoDueRule", "timer { after_working_days: 2 }", "", "expire"},
        BadDefinition{"PersonsRole", "trigger: TRIGGER_TIMER timer { after_working_days: 2 }",
                      "trigger: TRIGGER_TIMER role: ROLE_OFFICER timer { after_working_days: 2 }",
                      "expire"},
        BadDefinition{"SystemWithRole", "trigger: TRIGGER_TIMER timer { after_working_days: 2 }",
                      "trigger: TRIGGER_SYSTEM role: ROLE_PORTAL", "expire"},
        BadDefinition{"OnTerminalState", "id: \"close\" from_state: \"waiting\"",
                      "id: \"close\" from_state: \"expired\"", "close"},
        BadDefinition{"UnknownField", "at_form_field: \"deadline\"", "at_form_field: \"nope\"",
                      "close"},
        BadDefinition{"RuleOnAnotherTrigger", "trigger: TRIGGER_WITHDRAW role: ROLE_PORTAL }",
                      "trigger: TRIGGER_WITHDRAW role: ROLE_PORTAL timer { after: { seconds: 5 } } }",
                      "withdraw"},
        BadDefinition{"ZeroDays", "after_working_days: 2", "after_working_days: 0", "expire"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace motcua::workflow

namespace motcua::workflow {
namespace {

// The built-in procedure with a three-day time limit, as a new version.
class ApologyReminderTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    v1::GetProcedureRequest get;
    get.set_code("2.001914");
    auto builtin = engine_->GetProcedure(kAdmin, get);
    ASSERT_TRUE(builtin.ok()) << builtin.status();
    v1::DeployProcedureRequest deploy;
    *deploy.mutable_definition() = *builtin;
    deploy.mutable_definition()->mutable_time_limit()->set_working_days(3);
    deploy.set_request_id("three-days");
    ASSERT_TRUE(engine_->DeployProcedure(kAdmin, deploy).ok());
  }

  int Fire() {
    auto fired = engine_->FireDueTimers();
    EXPECT_TRUE(fired.ok()) << fired.status();
    return fired.ok() ? *fired : -1;
  }
};

TEST_F(ApologyReminderTest, OneWorkingDayBeforeTheAppointment_RemindsOnce) {
  v1::Dossier d = Submit("r1");
  auto received = Decide(kReceiver, d, v1::DECISION_APPROVE, "c1");
  ASSERT_TRUE(received.ok()) << received.status();
  // Monday 09:00 + 3 working days: Thursday 09:00; the reminder Wednesday 09:00.
  ASSERT_EQ(FromProto(received->receipt().appointment_at()), Local(2026, 3, 5, 9, 0));
  ASSERT_EQ(received->timers_size(), 2);
  EXPECT_EQ(received->timers(0).kind(), v1::Timer::KIND_APOLOGY_REMINDER);
  EXPECT_EQ(FromProto(received->timers(0).due_at()), Local(2026, 3, 4, 9, 0));

  clock_.Set(Local(2026, 3, 4, 8, 59));
  EXPECT_EQ(Fire(), 0);
  clock_.Set(Local(2026, 3, 4, 9, 0));
  EXPECT_EQ(Fire(), 1);
  v1::Dossier reminded = Get(d);
  EXPECT_TRUE(reminded.apology_due());
  EXPECT_FALSE(reminded.overdue());
  EXPECT_EQ(reminded.version(), received->version());  // bookkeeping
  EXPECT_EQ(History(d).back().action(), "apology_reminder");
  ASSERT_EQ(reminded.timers_size(), 1);
  EXPECT_EQ(reminded.timers(0).kind(), v1::Timer::KIND_OVERDUE);
  EXPECT_EQ(Fire(), 0);
}

TEST_F(ApologyReminderTest, ClockPausedFirst_NoReminder_ThenReArmedOnResume) {
  v1::Dossier d = Submit("r1");
  auto received = Decide(kReceiver, d, v1::DECISION_APPROVE, "c1");
  ASSERT_TRUE(received.ok());
  auto paused = Decide(kHead, *received, v1::DECISION_REQUEST_SUPPLEMENT, "c2");
  ASSERT_TRUE(paused.ok()) << paused.status();
  EXPECT_EQ(paused->timers_size(), 0);
  clock_.Set(Local(2026, 3, 9, 9, 0));  // the next Monday
  EXPECT_EQ(Fire(), 0);
  v1::AddSupplementRequest s;
  s.set_code(d.code());
  s.set_expected_version(paused->version());
  (*s.mutable_form())["register_number"] = "123/2015";
  s.set_request_id("s1");
  auto resumed = engine_->AddSupplement(kPortal, s);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  // Three working days were left at the pause: the reminder comes after two.
  ASSERT_EQ(resumed->timers_size(), 2);
  EXPECT_EQ(FromProto(resumed->timers(0).due_at()), Local(2026, 3, 11, 9, 0));
}

}  // namespace
}  // namespace motcua::workflow
