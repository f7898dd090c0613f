#include "workflow/procedure.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "motcua/v1/procedure.pb.h"
#include "workflow/builtin_data.h"

namespace motcua::workflow {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr char kBuiltinPath[] = "procedures/copy_from_register.textproto";

// A small valid procedure: an officer receives (or refuses), the head decides
// or asks for a supplement, the applicant supplies it.
//
//   new --accept--> review --approve--> done
//    \--refuse--> refused   \--ask--> waiting --supply--> review
constexpr char kMinimal[] = R"pb(
  code: "9.999999"
  name: "Thủ tục thử"
  effective_from: "2025-01-01"
  initial_state: "new"
  time_limit { working_days: 5 }
  states { id: "new" title: "Mới" national_status: 1 task_title: "Tiếp nhận" }
  states { id: "review" title: "Đang xử lý" national_status: 4 task_title: "Phê duyệt" }
  states { id: "waiting" title: "Chờ bổ sung" national_status: 5 }
  states { id: "done" title: "Đã xử lý" national_status: 9 terminal: true }
  states { id: "refused" title: "Không tiếp nhận" national_status: 3 terminal: true }
  transitions {
    id: "accept"
    from_state: "new"
    to_state: "review"
    trigger: TRIGGER_APPROVE
    role: ROLE_OFFICER
    position: "receiving"
  }
  transitions {
    id: "refuse"
    from_state: "new"
    to_state: "refused"
    trigger: TRIGGER_REJECT
    role: ROLE_OFFICER
    position: "receiving"
  }
  transitions {
    id: "approve"
    from_state: "review"
    to_state: "done"
    trigger: TRIGGER_APPROVE
    role: ROLE_OFFICER
    position: "head"
    actor_differs_from: "accept"
  }
  transitions {
    id: "ask"
    from_state: "review"
    to_state: "waiting"
    trigger: TRIGGER_REQUEST_SUPPLEMENT
    role: ROLE_OFFICER
    position: "head"
  }
  transitions {
    id: "supply"
    from_state: "waiting"
    to_state: "review"
    trigger: TRIGGER_SUPPLEMENT
    role: ROLE_PORTAL
  }
)pb";

// Parses `text` (a ProcedureDefinition in text format), failing the test on a
// parse error.
v1::ProcedureDefinition Parse(const std::string& text) {
  v1::ProcedureDefinition d;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &d)) << text;
  return d;
}

// The minimal definition with `extra` text-format fields appended (repeated
// fields such as states and transitions are added to the existing ones).
v1::ProcedureDefinition Minimal(const std::string& extra = "") {
  return Parse(std::string(kMinimal) + extra);
}

v1::StateDefinition* MutableState(v1::ProcedureDefinition& d, const std::string& id) {
  for (auto& s : *d.mutable_states()) {
    if (s.id() == id) return &s;
  }
  ADD_FAILURE() << "no state " << id;
  return d.add_states();
}

v1::TransitionDefinition* MutableTransition(v1::ProcedureDefinition& d, const std::string& id) {
  for (auto& t : *d.mutable_transitions()) {
    if (t.id() == id) return &t;
  }
  ADD_FAILURE() << "no transition " << id;
  return d.add_transitions();
}

std::string BuiltinText() {
  for (const BuiltinFile& f : BuiltinFiles()) {
    if (f.path == kBuiltinPath) return std::string(f.content);
  }
  ADD_FAILURE() << "no built-in file " << kBuiltinPath;
  return "";
}

std::shared_ptr<const Procedure> CompileBuiltin() {
  absl::StatusOr<std::shared_ptr<const Procedure>> p = Procedure::Compile(Parse(BuiltinText()));
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : nullptr;
}

// Asserts `d` is rejected with INVALID_ARGUMENT and returns the message.
std::string RejectionMessage(const v1::ProcedureDefinition& d) {
  absl::StatusOr<std::shared_ptr<const Procedure>> p = Procedure::Compile(d);
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << p.status();
  return std::string(p.status().message());
}

// ---- The built-in definition ----

TEST(ProcedureTest, Compile_BuiltinCopyFromRegister_Succeeds) {
  const std::string text = BuiltinText();
  ASSERT_FALSE(text.empty());
  v1::ProcedureDefinition d;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &d));
  absl::StatusOr<std::shared_ptr<const Procedure>> p = Procedure::Compile(d);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ((*p)->definition().code(), "2.001914");
}

TEST(ProcedureTest, Task_BuiltinSubmitted_IsReceivingOfficer) {
  auto p = CompileBuiltin();
  ASSERT_NE(p, nullptr);
  const TaskSpec* task = p->Task("submitted");
  ASSERT_NE(task, nullptr);
  EXPECT_EQ(task->role, v1::ROLE_OFFICER);
  EXPECT_EQ(task->position, "receiving");
  EXPECT_EQ(task->title, "Tiếp nhận hồ sơ");
}

TEST(ProcedureTest, Task_BuiltinProcessing_IsHeadOfficer) {
  auto p = CompileBuiltin();
  ASSERT_NE(p, nullptr);
  const TaskSpec* task = p->Task("processing");
  ASSERT_NE(task, nullptr);
  EXPECT_EQ(task->role, v1::ROLE_OFFICER);
  EXPECT_EQ(task->position, "head");
  EXPECT_EQ(task->title, "Phê duyệt cấp bản sao");
}

TEST(ProcedureTest, Task_BuiltinAwaitingSupplement_IsNull) {
  auto p = CompileBuiltin();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->Task("awaiting_supplement"), nullptr);
}

TEST(ProcedureTest, Task_UnknownState_IsNull) {
  auto p = CompileBuiltin();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->Task("no_such_state"), nullptr);
}

TEST(ProcedureTest, Transition_BuiltinProcessingApprove_IsApprove) {
  auto p = CompileBuiltin();
  ASSERT_NE(p, nullptr);
  const v1::TransitionDefinition* t = p->Transition("processing", v1::TRIGGER_APPROVE);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->id(), "approve");
  EXPECT_EQ(t->to_state(), "processed");
}

TEST(ProcedureTest, Transition_TriggerWithNoTransition_IsNull) {
  auto p = CompileBuiltin();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->Transition("returned", v1::TRIGGER_APPROVE), nullptr);
  EXPECT_EQ(p->Transition("awaiting_supplement", v1::TRIGGER_APPROVE), nullptr);
}

TEST(ProcedureTest, TransitionById_BuiltinReceive_FoundAndUnknownIsNull) {
  auto p = CompileBuiltin();
  ASSERT_NE(p, nullptr);
  const v1::TransitionDefinition* t = p->TransitionById("receive");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->from_state(), "submitted");
  EXPECT_EQ(p->TransitionById("no_such_transition"), nullptr);
}

TEST(ProcedureTest, State_BuiltinReturned_IsTerminalWithStatus10) {
  auto p = CompileBuiltin();
  ASSERT_NE(p, nullptr);
  const v1::StateDefinition* s = p->State("returned");
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->terminal());
  EXPECT_EQ(s->national_status(), 10);
  EXPECT_EQ(p->State("no_such_state"), nullptr);
}

// ---- The minimal definition and boundaries ----

TEST(ProcedureTest, Compile_MinimalDefinition_Succeeds) {
  absl::StatusOr<std::shared_ptr<const Procedure>> p = Procedure::Compile(Minimal());
  ASSERT_TRUE(p.ok()) << p.status();
}

TEST(ProcedureTest, Compile_WorkingDays1And365_Succeed) {
  for (int days : {1, 365}) {
    v1::ProcedureDefinition d = Minimal();
    d.mutable_time_limit()->set_working_days(days);
    EXPECT_TRUE(Procedure::Compile(d).ok()) << "working_days " << days;
  }
}

TEST(ProcedureTest, Compile_NationalStatus1And10_Succeed) {
  v1::ProcedureDefinition d = Minimal();
  MutableState(d, "new")->set_national_status(1);
  MutableState(d, "done")->set_national_status(10);
  absl::StatusOr<std::shared_ptr<const Procedure>> p = Procedure::Compile(d);
  EXPECT_TRUE(p.ok()) << p.status();
}

TEST(ProcedureTest, Compile_OfficerDecisionByClerk_Succeeds) {
  v1::ProcedureDefinition d = Minimal();
  MutableTransition(d, "approve")->set_role(v1::ROLE_CLERK);
  MutableTransition(d, "ask")->set_role(v1::ROLE_CLERK);
  absl::StatusOr<std::shared_ptr<const Procedure>> p = Procedure::Compile(d);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_NE((*p)->Task("review"), nullptr);
  EXPECT_EQ((*p)->Task("review")->role, v1::ROLE_CLERK);
}

// ---- Rejections ----

TEST(ProcedureTest, Compile_TransitionToUnknownState_RejectedNamingTransition) {
  v1::ProcedureDefinition d = Minimal();
  MutableTransition(d, "approve")->set_to_state("nowhere");
  EXPECT_THAT(RejectionMessage(d), AllOf(HasSubstr("\"approve\""), HasSubstr("nowhere")));
}

TEST(ProcedureTest, Compile_UnknownFromState_RejectedNamingTransition) {
  v1::ProcedureDefinition d = Minimal(R"pb(
    transitions {
      id: "ghost"
      from_state: "limbo"
      to_state: "done"
      trigger: TRIGGER_WITHDRAW
      role: ROLE_PORTAL
    }
  )pb");
  EXPECT_THAT(RejectionMessage(d), AllOf(HasSubstr("\"ghost\""), HasSubstr("limbo")));
}

TEST(ProcedureTest, Compile_UnreachableState_RejectedNamingState) {
  v1::ProcedureDefinition d = Minimal(R"pb(
    states { id: "orphan" title: "Mồ côi" national_status: 8 terminal: true }
  )pb");
  EXPECT_THAT(RejectionMessage(d), HasSubstr("\"orphan\""));
}

TEST(ProcedureTest, Compile_NationalStatus0_RejectedNamingState) {
  v1::ProcedureDefinition d = Minimal();
  MutableState(d, "waiting")->set_national_status(0);
  EXPECT_THAT(RejectionMessage(d), HasSubstr("\"waiting\""));
}

TEST(ProcedureTest, Compile_NationalStatus11_RejectedNamingState) {
  v1::ProcedureDefinition d = Minimal();
  MutableState(d, "done")->set_national_status(11);
  EXPECT_THAT(RejectionMessage(d), AllOf(HasSubstr("\"done\""), HasSubstr("11")));
}

TEST(ProcedureTest, Compile_OfficerDecisionWithUnspecifiedRole_RejectedNamingTransition) {
  v1::ProcedureDefinition d = Minimal();
  MutableTransition(d, "approve")->set_role(v1::ROLE_UNSPECIFIED);
  EXPECT_THAT(RejectionMessage(d), AllOf(HasSubstr("\"approve\""), HasSubstr("nobody may fire")));
}

TEST(ProcedureTest, Compile_OfficerDecisionByPortal_RejectedNamingTransition) {
  v1::ProcedureDefinition d = Minimal();
  MutableTransition(d, "refuse")->set_role(v1::ROLE_PORTAL);
  EXPECT_THAT(RejectionMessage(d), HasSubstr("\"refuse\""));
}

TEST(ProcedureTest, Compile_SupplementTriggerWithOfficerRole_RejectedNamingTransition) {
  v1::ProcedureDefinition d = Minimal();
  MutableTransition(d, "supply")->set_role(v1::ROLE_OFFICER);
  EXPECT_THAT(RejectionMessage(d), HasSubstr("\"supply\""));
}

TEST(ProcedureTest, Compile_TransitionWithoutTrigger_RejectedNamingTransition) {
  v1::ProcedureDefinition d = Minimal();
  MutableTransition(d, "supply")->set_trigger(v1::TRIGGER_UNSPECIFIED);
  EXPECT_THAT(RejectionMessage(d), HasSubstr("\"supply\""));
}

TEST(ProcedureTest, Compile_TriggerOutsideEnum_RejectedNamingTransition) {
  // proto3 enums are open: a number no Trigger names survives parsing, but no
  // caller can ever produce it, so nobody could fire the transition.
  v1::ProcedureDefinition d = Minimal();
  MutableTransition(d, "supply")->set_trigger(static_cast<v1::Trigger>(99));
  EXPECT_THAT(RejectionMessage(d), HasSubstr("\"supply\""));
}

TEST(ProcedureTest, Compile_WorkingDays0_Rejected) {
  v1::ProcedureDefinition d = Minimal();
  d.mutable_time_limit()->set_working_days(0);
  EXPECT_THAT(RejectionMessage(d), HasSubstr("working_days"));
}

TEST(ProcedureTest, Compile_WorkingDays366_Rejected) {
  v1::ProcedureDefinition d = Minimal();
  d.mutable_time_limit()->set_working_days(366);
  EXPECT_THAT(RejectionMessage(d), AllOf(HasSubstr("working_days"), HasSubstr("366")));
}

TEST(ProcedureTest, Compile_DuplicateStateId_RejectedNamingState) {
  v1::ProcedureDefinition d = Minimal(R"pb(
    states { id: "review" title: "Lần nữa" national_status: 4 }
  )pb");
  EXPECT_THAT(RejectionMessage(d), AllOf(HasSubstr("\"review\""), HasSubstr("twice")));
}

TEST(ProcedureTest, Compile_DuplicateTransitionId_RejectedNamingTransition) {
  v1::ProcedureDefinition d = Minimal(R"pb(
    transitions {
      id: "approve"
      from_state: "review"
      to_state: "refused"
      trigger: TRIGGER_REJECT
      role: ROLE_OFFICER
      position: "head"
    }
  )pb");
  EXPECT_THAT(RejectionMessage(d), AllOf(HasSubstr("\"approve\""), HasSubstr("twice")));
}

TEST(ProcedureTest, Compile_TwoTransitionsForSameStateAndTrigger_RejectedNamingBoth) {
  v1::ProcedureDefinition d = Minimal(R"pb(
    transitions {
      id: "approve_again"
      from_state: "review"
      to_state: "refused"
      trigger: TRIGGER_APPROVE
      role: ROLE_OFFICER
      position: "head"
    }
  )pb");
  EXPECT_THAT(RejectionMessage(d), AllOf(HasSubstr("\"approve_again\""), HasSubstr("\"review\"")));
}

TEST(ProcedureTest, Compile_NonTerminalStateWithoutExit_RejectedNamingState) {
  v1::ProcedureDefinition d = Minimal(R"pb(
    states { id: "stuck" title: "Kẹt" national_status: 8 }
    transitions {
      id: "park"
      from_state: "review"
      to_state: "stuck"
      trigger: TRIGGER_REJECT
      role: ROLE_OFFICER
      position: "head"
    }
  )pb");
  EXPECT_THAT(RejectionMessage(d), HasSubstr("\"stuck\""));
}

TEST(ProcedureTest, Compile_TransitionLeavingTerminalState_RejectedNamingTransition) {
  v1::ProcedureDefinition d = Minimal(R"pb(
    transitions {
      id: "reopen"
      from_state: "done"
      to_state: "review"
      trigger: TRIGGER_WITHDRAW
      role: ROLE_PORTAL
    }
  )pb");
  EXPECT_THAT(RejectionMessage(d), AllOf(HasSubstr("\"reopen\""), HasSubstr("terminal")));
}

TEST(ProcedureTest, Compile_ActorDiffersFromUnknownTransition_RejectedNamingBoth) {
  v1::ProcedureDefinition d = Minimal();
  MutableTransition(d, "approve")->add_actor_differs_from("nobody_fired_this");
  EXPECT_THAT(RejectionMessage(d), AllOf(HasSubstr("\"approve\""), HasSubstr("nobody_fired_this")));
}

TEST(ProcedureTest, Compile_OfficerDecisionsWithoutTaskTitle_RejectedNamingState) {
  v1::ProcedureDefinition d = Minimal();
  MutableState(d, "review")->clear_task_title();
  EXPECT_THAT(RejectionMessage(d), AllOf(HasSubstr("\"review\""), HasSubstr("task_title")));
}

TEST(ProcedureTest, Compile_TaskTitleWithoutOfficerDecision_RejectedNamingState) {
  v1::ProcedureDefinition d = Minimal();
  MutableState(d, "waiting")->set_task_title("Chờ");
  EXPECT_THAT(RejectionMessage(d), AllOf(HasSubstr("\"waiting\""), HasSubstr("task_title")));
}

TEST(ProcedureTest, Compile_DecisionsOfOneStateWithDifferentPositions_RejectedNamingState) {
  v1::ProcedureDefinition d = Minimal();
  MutableTransition(d, "ask")->set_position("deputy");
  EXPECT_THAT(RejectionMessage(d), AllOf(HasSubstr("\"ask\""), HasSubstr("\"review\"")));
}

TEST(ProcedureTest, Compile_EffectiveFromMonth13_RejectedNamingValue) {
  v1::ProcedureDefinition d = Minimal();
  d.set_effective_from("2025-13-01");
  EXPECT_THAT(RejectionMessage(d), AllOf(HasSubstr("effective_from"), HasSubstr("2025-13-01")));
}

TEST(ProcedureTest, Compile_InitialStateMissing_Rejected) {
  v1::ProcedureDefinition d = Minimal();
  d.clear_initial_state();
  EXPECT_THAT(RejectionMessage(d), HasSubstr("initial_state"));
}

TEST(ProcedureTest, Compile_InitialStateUnknown_RejectedNamingIt) {
  v1::ProcedureDefinition d = Minimal();
  d.set_initial_state("start");
  EXPECT_THAT(RejectionMessage(d), AllOf(HasSubstr("initial_state"), HasSubstr("\"start\"")));
}

TEST(ProcedureTest, Compile_CodeMissing_Rejected) {
  v1::ProcedureDefinition d = Minimal();
  d.clear_code();
  EXPECT_THAT(RejectionMessage(d), HasSubstr("code"));
}

// ---- SameDefinition ----

TEST(ProcedureTest, SameDefinition_DifferentVersionAndDeployStamps_IsSame) {
  v1::ProcedureDefinition a = Parse(BuiltinText());
  v1::ProcedureDefinition b = a;
  b.set_version(7);
  b.mutable_deployed_at()->set_seconds(1751328000);
  b.set_deployed_by("CN=admin");
  EXPECT_TRUE(SameDefinition(a, b));
  EXPECT_TRUE(SameDefinition(b, a));
}

TEST(ProcedureTest, SameDefinition_ChangedStateTitle_IsNotSame) {
  v1::ProcedureDefinition a = Parse(BuiltinText());
  v1::ProcedureDefinition b = a;
  MutableState(b, "processing")->set_title("Đang thẩm định");
  EXPECT_FALSE(SameDefinition(a, b));
}

TEST(ProcedureTest, SameDefinition_ChangedTimeLimit_IsNotSame) {
  v1::ProcedureDefinition a = Parse(BuiltinText());
  v1::ProcedureDefinition b = a;
  b.mutable_time_limit()->set_working_days(2);
  EXPECT_FALSE(SameDefinition(a, b));
}

// ---- Signature requirements ----

TEST(ProcedureTest, Compile_BuiltinApprove_RequiresActorThenSeal) {
  auto p = CompileBuiltin();
  ASSERT_NE(p, nullptr);
  const v1::TransitionDefinition* approve = p->TransitionById("approve");
  ASSERT_NE(approve, nullptr);
  ASSERT_EQ(approve->signatures_size(), 2);
  EXPECT_EQ(approve->signatures(0).signer(), v1::SIGNER_ACTOR);
  EXPECT_EQ(approve->signatures(1).signer(), v1::SIGNER_UNIT_SEAL);
  EXPECT_EQ(approve->signatures(0).document(), "certified_copy");
  const v1::TransitionDefinition* receive = p->TransitionById("receive");
  ASSERT_NE(receive, nullptr);
  ASSERT_EQ(receive->signatures_size(), 1);
  EXPECT_EQ(receive->signatures(0).signer(), v1::SIGNER_UNIT_SEAL);
}

// A template of kind "copy" with a slot for each of `signers`.
v1::DocumentTemplate CopyTemplate(const std::vector<v1::Signer>& signers,
                                  const std::string& body = "{unit.name}") {
  v1::DocumentTemplate t;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(R"pb(
    kind: "copy"
    reference { x: 85 y: 150 side: 120 text_x: 85 text_y: 62 }
  )pb", &t));
  v1::Block* block = t.add_blocks();
  block->set_id("body");
  block->mutable_paragraph()->set_text(body);
  for (v1::Signer signer : signers) {
    if (signer == v1::SIGNER_UNSPECIFIED) continue;
    v1::SignatureSlot* slot = t.add_slots();
    const bool actor = signer == v1::SIGNER_ACTOR;
    slot->set_id(actor ? "head" : "seal");
    slot->set_signer(signer);
    slot->set_x(actor ? 330 : 100);
    slot->set_top(280);
    slot->set_width(actor ? 200 : 90);
    slot->set_height(90);
  }
  return t;
}

// `accept` of the minimal definition producing "copy" and requiring
// `signers`, with a template whose slots match.
v1::ProcedureDefinition WithSignatures(std::vector<std::string> signers,
                                       const std::string& document = "copy") {
  v1::ProcedureDefinition d = Minimal();
  v1::TransitionDefinition* t = MutableTransition(d, "accept");
  t->set_produces_document("copy");
  std::vector<v1::Signer> slots;
  for (const std::string& signer : signers) {
    v1::SignatureRequirement* r = t->add_signatures();
    r->set_document(document);
    v1::Signer value = v1::SIGNER_UNSPECIFIED;
    EXPECT_TRUE(v1::Signer_Parse(signer, &value)) << signer;
    r->set_signer(value);
    if (std::find(slots.begin(), slots.end(), value) == slots.end()) slots.push_back(value);
  }
  *d.add_templates() = CopyTemplate(slots);
  return d;
}

TEST(ProcedureTest, Compile_DocumentWithoutTemplate_Rejected) {
  v1::ProcedureDefinition d = WithSignatures({"SIGNER_ACTOR"});
  d.clear_templates();
  EXPECT_THAT(RejectionMessage(d), AllOf(HasSubstr("\"accept\""), HasSubstr("no template")));
}

TEST(ProcedureTest, Compile_SlotNobodyFills_Rejected) {
  v1::ProcedureDefinition d = WithSignatures({"SIGNER_ACTOR"});
  *d.mutable_templates(0) = CopyTemplate({v1::SIGNER_ACTOR, v1::SIGNER_UNIT_SEAL});
  EXPECT_THAT(RejectionMessage(d), AllOf(HasSubstr("template \"copy\" slot \"seal\""),
                                         HasSubstr("no transition fills it")));
}

TEST(ProcedureTest, Compile_SignatureWithoutSlot_Rejected) {
  v1::ProcedureDefinition d = WithSignatures({"SIGNER_ACTOR", "SIGNER_UNIT_SEAL"});
  *d.mutable_templates(0) = CopyTemplate({v1::SIGNER_ACTOR});
  EXPECT_THAT(RejectionMessage(d), AllOf(HasSubstr("\"accept\""),
                                         HasSubstr("SIGNER_UNIT_SEAL on \"copy\""),
                                         HasSubstr("no slot")));
}

TEST(ProcedureTest, Compile_TemplateBindsFormFieldsTheProcedureHas) {
  v1::ProcedureDefinition d = WithSignatures({"SIGNER_ACTOR"});
  *d.mutable_templates(0) = CopyTemplate({v1::SIGNER_ACTOR}, "{form.school}");
  EXPECT_THAT(RejectionMessage(d), AllOf(HasSubstr("template \"copy\" block \"body\""),
                                         HasSubstr("unknown field \"form.school\"")));
  v1::FormField* field = d.add_form_fields();
  field->set_name("school");
  field->set_title("Trường");
  EXPECT_TRUE(Procedure::Compile(d).ok()) << Procedure::Compile(d).status();
}

TEST(ProcedureTest, Compile_OfficerSigningTheReceiptTimesBeforeTheyExist_Rejected) {
  v1::ProcedureDefinition d = WithSignatures({"SIGNER_ACTOR"});
  MutableTransition(d, "accept")->set_issues_receipt(true);
  MutableTransition(d, "accept")->set_clock(v1::CLOCK_ACTION_START);
  *d.mutable_templates(0) =
      CopyTemplate({v1::SIGNER_ACTOR}, "Hẹn trả kết quả: {receipt.appointment_at}");
  EXPECT_THAT(RejectionMessage(d),
              AllOf(HasSubstr("\"accept\""), HasSubstr("receipt.appointment_at is known")));
}

TEST(ProcedureTest, Compile_TemplateKindTwice_Rejected) {
  v1::ProcedureDefinition d = WithSignatures({"SIGNER_ACTOR"});
  *d.add_templates() = d.templates(0);
  EXPECT_THAT(RejectionMessage(d), HasSubstr("kind defined twice"));
}

TEST(ProcedureTest, Compile_ActorThenSeal_Succeeds) {
  auto p = Procedure::Compile(WithSignatures({"SIGNER_ACTOR", "SIGNER_UNIT_SEAL"}));
  EXPECT_TRUE(p.ok()) << p.status();
}

TEST(ProcedureTest, Compile_SealOnly_Succeeds) {
  auto p = Procedure::Compile(WithSignatures({"SIGNER_UNIT_SEAL"}));
  EXPECT_TRUE(p.ok()) << p.status();
}

TEST(ProcedureTest, Compile_SealBeforeActor_Rejected) {
  EXPECT_THAT(RejectionMessage(WithSignatures({"SIGNER_UNIT_SEAL", "SIGNER_ACTOR"})),
              AllOf(HasSubstr("\"accept\""), HasSubstr("before the unit seal")));
}

TEST(ProcedureTest, Compile_ActorTwice_Rejected) {
  EXPECT_THAT(RejectionMessage(WithSignatures({"SIGNER_ACTOR", "SIGNER_ACTOR"})),
              HasSubstr("actor's signature twice"));
}

TEST(ProcedureTest, Compile_SealTwice_Rejected) {
  EXPECT_THAT(RejectionMessage(WithSignatures({"SIGNER_UNIT_SEAL", "SIGNER_UNIT_SEAL"})),
              HasSubstr("unit seal twice"));
}

TEST(ProcedureTest, Compile_UnspecifiedSigner_Rejected) {
  EXPECT_THAT(RejectionMessage(WithSignatures({"SIGNER_UNSPECIFIED"})),
              HasSubstr("SIGNER_ACTOR or SIGNER_UNIT_SEAL"));
}

TEST(ProcedureTest, Compile_SignatureOnAnotherDocument_Rejected) {
  EXPECT_THAT(RejectionMessage(WithSignatures({"SIGNER_ACTOR"}, "receipt")),
              AllOf(HasSubstr("\"receipt\""), HasSubstr("produces \"copy\"")));
}

TEST(ProcedureTest, Compile_SignaturesWithoutDocument_Rejected) {
  v1::ProcedureDefinition d = WithSignatures({"SIGNER_UNIT_SEAL"});
  MutableTransition(d, "accept")->clear_produces_document();
  EXPECT_THAT(RejectionMessage(d), HasSubstr("produces no document"));
}

TEST(ProcedureTest, Compile_SignatureOnApplicantTrigger_Rejected) {
  v1::ProcedureDefinition d = Minimal();
  v1::TransitionDefinition* t = MutableTransition(d, "supply");
  t->set_produces_document("copy");
  v1::SignatureRequirement* r = t->add_signatures();
  r->set_document("copy");
  r->set_signer(v1::SIGNER_UNIT_SEAL);
  EXPECT_THAT(RejectionMessage(d), AllOf(HasSubstr("\"supply\""), HasSubstr("officer's decision")));
}

// ---- One document signed over several steps ----

// `t` requires `signer` on the "book", in `slot` (empty: the signer's only).
void RequireOnBook(v1::TransitionDefinition* t, v1::Signer signer, const std::string& slot) {
  v1::SignatureRequirement* r = t->add_signatures();
  r->set_document("book");
  r->set_signer(signer);
  r->set_slot(slot);
}

// The minimal definition where `accept` (the teacher) produces a "book" and
// signs its first slot, and `approve` (the principal) signs it further with
// the seal; slots in `order` (ids among teacher, principal, seal).
v1::ProcedureDefinition ThreeSigners(std::vector<std::string> order = {"teacher", "principal",
                                                                      "seal"}) {
  v1::ProcedureDefinition d = Minimal(R"pb(
    templates {
      kind: "book"
      reference { x: 60 y: 40 side: 80 text_x: 150 text_y: 76 }
      blocks { id: "body" paragraph { text: "{unit.name}" } }
    }
  )pb");
  for (const std::string& id : order) {
    v1::SignatureSlot* slot = d.mutable_templates(0)->add_slots();
    slot->set_id(id);
    slot->set_signer(id == "seal" ? v1::SIGNER_UNIT_SEAL : v1::SIGNER_ACTOR);
    slot->set_x(id == "teacher" ? 60 : 320);
    slot->set_top(id == "seal" ? 180 : 280);
    slot->set_width(id == "seal" ? 90 : 190);
    slot->set_height(90);
  }
  v1::TransitionDefinition* accept = MutableTransition(d, "accept");
  accept->set_produces_document("book");
  RequireOnBook(accept, v1::SIGNER_ACTOR, "teacher");
  v1::TransitionDefinition* approve = MutableTransition(d, "approve");
  approve->set_signs_document("book");
  RequireOnBook(approve, v1::SIGNER_ACTOR, "principal");
  RequireOnBook(approve, v1::SIGNER_UNIT_SEAL, "");
  return d;
}

TEST(ProcedureTest, Compile_ThreeSignersOverTwoSteps_SlotsInSigningOrder) {
  auto p = Procedure::Compile(ThreeSigners());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ((*p)->SlotsFilledBy(*(*p)->TransitionById("accept")), (std::vector<int>{0}));
  EXPECT_EQ((*p)->SlotsFilledBy(*(*p)->TransitionById("approve")), (std::vector<int>{1, 2}));
  EXPECT_TRUE((*p)->SlotsFilledBy(*(*p)->TransitionById("ask")).empty());
}

TEST(ProcedureTest, Compile_APersonSlotAfterTheSeal_Rejected) {
  EXPECT_THAT(RejectionMessage(ThreeSigners({"teacher", "seal", "principal"})),
              AllOf(HasSubstr("template \"book\" slot \"principal\""),
                    HasSubstr("a person would sign after the seal")));
}

TEST(ProcedureTest, Compile_SigningADocumentAPathMayNotHave_RejectedNamingTheState) {
  v1::ProcedureDefinition d = ThreeSigners();
  // A way into review that skips the teacher's signature.
  v1::TransitionDefinition* skip = d.add_transitions();
  skip->set_id("skip");
  skip->set_from_state("new");
  skip->set_to_state("review");
  skip->set_trigger(v1::TRIGGER_REQUEST_SUPPLEMENT);
  skip->set_role(v1::ROLE_OFFICER);
  skip->set_position("receiving");
  EXPECT_THAT(RejectionMessage(d),
              AllOf(HasSubstr("transition \"approve\""), HasSubstr("slot \"principal\""),
                    HasSubstr("state \"review\" without that document")));
}

TEST(ProcedureTest, Compile_SigningWithAnEarlierSlotStillEmpty_Rejected) {
  // A deputy signs between teacher and principal, but only when the head
  // asks for a supplement: straight from the teacher, the deputy's slot
  // would still be empty when the principal signs.
  v1::ProcedureDefinition d = ThreeSigners({"teacher", "deputy", "principal", "seal"});
  v1::TransitionDefinition* ask = MutableTransition(d, "ask");
  ask->set_signs_document("book");
  RequireOnBook(ask, v1::SIGNER_ACTOR, "deputy");
  EXPECT_THAT(RejectionMessage(d), AllOf(HasSubstr("transition \"approve\""),
                                         HasSubstr("state \"review\" with the document's slot "
                                                   "\"deputy\" still to fill")));
}

TEST(ProcedureTest, Compile_SigningASlotTwiceOnALoop_Rejected) {
  // The principal may sign when asking for a supplement; after it comes
  // back, the approval would sign the principal's slot again.
  v1::ProcedureDefinition d = ThreeSigners();
  v1::TransitionDefinition* ask = MutableTransition(d, "ask");
  ask->set_signs_document("book");
  RequireOnBook(ask, v1::SIGNER_ACTOR, "principal");
  EXPECT_THAT(RejectionMessage(d),
              AllOf(HasSubstr("signs slot \"principal\""), HasSubstr("already signed")));
}

TEST(ProcedureTest, Compile_NewDocumentNotStartingAtItsFirstSlot_Rejected) {
  v1::ProcedureDefinition d = ThreeSigners();
  MutableTransition(d, "accept")->mutable_signatures(0)->set_slot("principal");
  EXPECT_THAT(RejectionMessage(d), AllOf(HasSubstr("transition \"accept\""),
                                         HasSubstr("out of turn"), HasSubstr("first slot")));
}

TEST(ProcedureTest, Compile_SeveralSlotsForTheSignerAndNoneNamed_Rejected) {
  v1::ProcedureDefinition d = ThreeSigners();
  MutableTransition(d, "accept")->mutable_signatures(0)->clear_slot();
  EXPECT_THAT(RejectionMessage(d),
              AllOf(HasSubstr("several slots for SIGNER_ACTOR"), HasSubstr("signatures.slot")));
}

TEST(ProcedureTest, Compile_SlotOfAnotherSigner_Rejected) {
  v1::ProcedureDefinition d = ThreeSigners();
  MutableTransition(d, "accept")->mutable_signatures(0)->set_slot("seal");
  EXPECT_THAT(RejectionMessage(d), HasSubstr("slot \"seal\" of \"book\" is for SIGNER_UNIT_SEAL"));
}

TEST(ProcedureTest, Compile_SignsAndProducesAtOnce_Rejected) {
  v1::ProcedureDefinition d = ThreeSigners();
  MutableTransition(d, "approve")->set_produces_document("book");
  EXPECT_THAT(RejectionMessage(d), HasSubstr("exclude each other"));
}

TEST(ProcedureTest, Compile_SignsDocumentAfterCommit_Rejected) {
  v1::ProcedureDefinition d = ThreeSigners();
  v1::TransitionDefinition* approve = MutableTransition(d, "approve");
  approve->mutable_signatures()->DeleteSubrange(0, 1);
  approve->set_issue_after_commit(true);
  EXPECT_THAT(RejectionMessage(d), HasSubstr("no issue_after_commit"));
}

}  // namespace
}  // namespace motcua::workflow
