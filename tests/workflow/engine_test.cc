// The engine driven directly, on a real RocksDB in a temp dir, with a clock
// the tests move.

#include "workflow/engine.h"

#include "tests/workflow/engine_fixture.h"

#include <filesystem>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "motcua/v1/store.pb.h"
#include "storage/store.h"

namespace motcua::workflow {
namespace {

TEST_F(EngineTest, Submit_AssignsUnitDateSequenceCode) {
  v1::Dossier a = Submit("r1");
  v1::Dossier b = Submit("r2");
  EXPECT_EQ(a.code(), "HN-SGDDT-260302-0001");
  EXPECT_EQ(b.code(), "HN-SGDDT-260302-0002");
  EXPECT_EQ(a.state(), "submitted");
  EXPECT_EQ(a.national_status(), 1);
  EXPECT_EQ(a.version(), 1);
  EXPECT_EQ(a.task().role(), v1::ROLE_OFFICER);
  EXPECT_EQ(a.task().position(), "receiving");
}

TEST_F(EngineTest, Submit_SequenceNeverRepeatsAfterReopen) {
  Submit("r1");
  Submit("r2");
  Reopen();
  EXPECT_EQ(Submit("r3").code(), "HN-SGDDT-260302-0003");
}

TEST_F(EngineTest, Submit_SequenceRestartsEachDayAndUnit) {
  Submit("r1");
  clock_.Advance(absl::Hours(24));
  EXPECT_EQ(Submit("r2").code(), "HN-SGDDT-260303-0001");
  auto r = Request("r3");
  r.set_unit_code("HP-SGDDT");
  auto d = engine_->SubmitDossier(kPortal, r);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->code(), "HP-SGDDT-260303-0001");
}

TEST_F(EngineTest, Submit_MissingRequiredField_NamesItInVietnamese) {
  auto r = Request("r1");
  r.mutable_form()->erase("diploma_serial");
  auto d = engine_->SubmitDossier(kPortal, r);
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(d.status().message().find("Số hiệu văn bằng"), absl::string_view::npos)
      << d.status();
}

TEST_F(EngineTest, Submit_BadIdNumber_InvalidArgument) {
  auto r = Request("r1");
  r.mutable_applicant()->set_id_number("12345");
  EXPECT_EQ(engine_->SubmitDossier(kPortal, r).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(EngineTest, Submit_ByOfficer_PermissionDenied) {
  EXPECT_EQ(engine_->SubmitDossier(kReceiver, Request("r1")).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(EngineTest, Submit_RetrySameRequestId_ReturnsFirstAnswerAndAddsNothing) {
  v1::Dossier first = Submit("same");
  auto again = engine_->SubmitDossier(kPortal, Request("same"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->code(), first.code());
  EXPECT_EQ(Submit("next").code(), "HN-SGDDT-260302-0002");
}

TEST_F(EngineTest, Submit_SameRequestIdDifferentBody_FailedPrecondition) {
  Submit("same");
  auto r = Request("same");
  (*r.mutable_form())["school"] = "THPT khác";
  EXPECT_EQ(engine_->SubmitDossier(kPortal, r).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(EngineTest, Lifecycle_ReceiveApproveReturn_ReachesStatus10WithIntactHistory) {
  v1::Dossier d = Submit("r1");
  auto received = Decide(kReceiver, d, v1::DECISION_APPROVE, "c1");
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_EQ(received->national_status(), 4);
  EXPECT_TRUE(received->has_receipt());
  EXPECT_EQ(received->receipt().received_by(), kReceiver.subject);
  // Monday 09:00 + 1 working day = Tuesday 09:00.
  EXPECT_EQ(FromProto(received->receipt().appointment_at()), Local(2026, 3, 3, 9, 0));
  EXPECT_EQ(received->task().position(), "head");

  clock_.Advance(absl::Hours(2));
  auto approved = Decide(kHead, *received, v1::DECISION_APPROVE, "c2");
  ASSERT_TRUE(approved.ok()) << approved.status();
  EXPECT_EQ(approved->national_status(), 9);
  EXPECT_TRUE(approved->clock().finished_on_time());

  auto returned = Decide(kReceiver, *approved, v1::DECISION_APPROVE, "c3");
  ASSERT_TRUE(returned.ok()) << returned.status();
  EXPECT_EQ(returned->national_status(), 10);
  EXPECT_TRUE(returned->closed());
  EXPECT_FALSE(returned->has_task());

  v1::VerifyDossierHistoryRequest verify;
  verify.set_dossier_code(d.code());
  auto report = engine_->VerifyDossierHistory(kAuditor, verify);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->intact()) << report->detail();
  EXPECT_EQ(report->events_checked(), 4);
}

TEST_F(EngineTest, Receive_FridayAfter15hBeforeTet_AppointmentAfterTet) {
  clock_.Set(Local(2026, 2, 13, 16, 0));
  v1::Dossier d = Submit("r1");
  auto received = Decide(kReceiver, d, v1::DECISION_APPROVE, "c1");
  ASSERT_TRUE(received.ok());
  EXPECT_EQ(FromProto(received->receipt().appointment_at()), Local(2026, 2, 23, 17, 0));
}

TEST_F(EngineTest, RequestSupplement_PausesClock_SupplementMovesAppointment) {
  v1::Dossier d = Submit("r1");
  auto received = Decide(kReceiver, d, v1::DECISION_APPROVE, "c1");  // due Tue 09:00
  ASSERT_TRUE(received.ok());
  clock_.Advance(absl::Hours(1));  // Mon 10:00, 7 working hours left
  auto asked = Decide(kHead, *received, v1::DECISION_REQUEST_SUPPLEMENT, "c2");
  ASSERT_TRUE(asked.ok()) << asked.status();
  EXPECT_EQ(asked->national_status(), 5);
  EXPECT_TRUE(asked->clock().paused());
  EXPECT_EQ(asked->supplement_request_count(), 1);
  EXPECT_EQ(asked->pending_supplement().missing_items(0), "Bản sao CCCD");
  EXPECT_FALSE(asked->has_task());

  clock_.Set(Local(2026, 3, 5, 8, 0));  // Thursday 08:00: two days later
  v1::AddSupplementRequest supplement;
  supplement.set_code(d.code());
  supplement.set_expected_version(asked->version());
  (*supplement.mutable_form())["register_number"] = "123/2015";
  supplement.set_request_id("s1");
  auto resumed = engine_->AddSupplement(kPortal, supplement);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->state(), "processing");
  EXPECT_FALSE(resumed->clock().paused());
  // 7 working hours from Thu 08:00, lunch excluded: Thu 16:00.
  EXPECT_EQ(FromProto(resumed->receipt().appointment_at()), Local(2026, 3, 5, 16, 0));
  EXPECT_EQ(resumed->form().at("register_number"), "123/2015");
  EXPECT_EQ(resumed->task().position(), "head");
}

TEST_F(EngineTest, Reject_WithoutReasons_InvalidArgument) {
  v1::Dossier d = Submit("r1");
  v1::CompleteTaskRequest r;
  r.set_task_id(d.task().id());
  r.set_expected_version(d.version());
  r.set_decision(v1::DECISION_REJECT);
  r.set_request_id("c1");
  EXPECT_EQ(engine_->CompleteTask(kReceiver, r).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(EngineTest, RefuseAtIntake_IsTerminalStatus3WithReasons) {
  v1::Dossier d = Submit("r1");
  auto refused = Decide(kReceiver, d, v1::DECISION_REJECT, "c1");
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->national_status(), 3);
  EXPECT_TRUE(refused->closed());
  EXPECT_EQ(refused->rejection_reasons(0), "Không có tên trong sổ gốc");
}

TEST_F(EngineTest, CompleteTask_StaleVersion_ReturnsAbortedNamingCurrentVersion) {
  v1::Dossier d = Submit("r1");
  ASSERT_TRUE(Decide(kReceiver, d, v1::DECISION_APPROVE, "c1").ok());
  auto stale = Decide(kReceiverB, d, v1::DECISION_APPROVE, "c2");
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted);
  EXPECT_NE(stale.status().message().find("version 2"), absl::string_view::npos);
}

TEST_F(EngineTest, CompleteTask_ConcurrentOfficers_ExactlyOneWins) {
  for (int round = 0; round < 10; ++round) {
    v1::Dossier d = Submit(absl::StrCat("r", round));
    std::atomic<int> wins{0};
    std::thread a([&] { wins += Decide(kReceiver, d, v1::DECISION_APPROVE, d.code()).ok(); });
    std::thread b([&] { wins += Decide(kReceiverB, d, v1::DECISION_APPROVE, d.code()).ok(); });
    a.join();
    b.join();
    EXPECT_EQ(wins.load(), 1) << d.code();
    v1::GetDossierHistoryRequest h;
    h.set_dossier_code(d.code());
    EXPECT_EQ(engine_->GetDossierHistory(kAuditor, h)->events_size(), 2);
  }
}

TEST_F(EngineTest, CompleteTask_WrongPositionOrUnit_PermissionDenied) {
  v1::Dossier d = Submit("r1");
  EXPECT_EQ(Decide(kHead, d, v1::DECISION_APPROVE, "c1").status().code(),
            absl::StatusCode::kPermissionDenied);
  auto received = Decide(kReceiver, d, v1::DECISION_APPROVE, "c2");
  ASSERT_TRUE(received.ok());
  EXPECT_EQ(Decide(kHeadHp, *received, v1::DECISION_APPROVE, "c3").status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(EngineTest, SeparationOfDuty_ReceiverMayNotApprove) {
  // One person holding both positions must still not decide what they received.
  Principal both_receiving{"dual.hn", v1::ROLE_OFFICER, "HN-SGDDT", "receiving"};
  Principal both_head{"dual.hn", v1::ROLE_OFFICER, "HN-SGDDT", "head"};
  v1::Dossier d = Submit("r1");
  auto received = Decide(both_receiving, d, v1::DECISION_APPROVE, "c1");
  ASSERT_TRUE(received.ok());
  auto approved = Decide(both_head, *received, v1::DECISION_APPROVE, "c2");
  EXPECT_EQ(approved.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(approved.status().message().find("separation of duty"), absl::string_view::npos);
}

TEST_F(EngineTest, ClaimTask_ClaimedByOther_OtherCannotComplete) {
  v1::Dossier d = Submit("r1");
  v1::ClaimTaskRequest claim;
  claim.set_task_id(d.task().id());
  claim.set_expected_version(d.version());
  claim.set_request_id("k1");
  auto task = engine_->ClaimTask(kReceiver, claim);
  ASSERT_TRUE(task.ok()) << task.status();
  EXPECT_EQ(task->claimed_by(), kReceiver.subject);
  v1::Dossier current = d;
  current.set_version(task->dossier_version());
  EXPECT_EQ(Decide(kReceiverB, current, v1::DECISION_APPROVE, "c1").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Decide(kReceiver, current, v1::DECISION_APPROVE, "c2").ok());
}

TEST_F(EngineTest, Worklist_HoldsExactlyTheTasksOfUnitRoleAndPosition) {
  v1::Dossier a = Submit("r1");
  v1::Dossier b = Submit("r2");
  ASSERT_TRUE(Decide(kReceiver, b, v1::DECISION_APPROVE, "c1").ok());
  auto receiver_list = engine_->ListMyTasks(kReceiver, {});
  ASSERT_TRUE(receiver_list.ok());
  ASSERT_EQ(receiver_list->tasks_size(), 1);
  EXPECT_EQ(receiver_list->tasks(0).dossier_code(), a.code());
  auto head_list = engine_->ListMyTasks(kHead, {});
  ASSERT_EQ(head_list->tasks_size(), 1);
  EXPECT_EQ(head_list->tasks(0).dossier_code(), b.code());
  EXPECT_EQ(engine_->ListMyTasks(kHeadHp, {})->tasks_size(), 0);
  EXPECT_EQ(engine_->ListMyTasks(kAuditor, {}).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(EngineTest, Worklist_PagesWithoutGapsOrDuplicates) {
  for (int i = 0; i < 7; ++i) Submit(absl::StrCat("r", i));
  std::set<std::string> seen;
  v1::ListMyTasksRequest r;
  r.set_page_size(3);
  int pages = 0;
  do {
    auto page = engine_->ListMyTasks(kReceiver, r);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& t : page->tasks()) EXPECT_TRUE(seen.insert(t.id()).second) << t.id();
    r.set_page_token(page->next_page_token());
    ++pages;
  } while (!r.page_token().empty());
  EXPECT_EQ(seen.size(), 7u);
  EXPECT_EQ(pages, 3);
}

TEST_F(EngineTest, ListDossiers_PortalSeesOnlyItsOwn) {
  Submit("r1");
  auto r = Request("r2");
  ASSERT_TRUE(engine_->SubmitDossier(kPortal2, r).ok());
  auto mine = engine_->ListDossiers(kPortal2, {});
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->dossiers_size(), 1);
  EXPECT_EQ(mine->dossiers(0).submitted_by(), kPortal2.subject);
  EXPECT_EQ(engine_->ListDossiers(kAuditor, {})->dossiers_size(), 2);
}

TEST_F(EngineTest, ListDossiers_FiltersByStatusAndDate) {
  v1::Dossier a = Submit("r1");
  clock_.Advance(absl::Hours(24));
  Submit("r2");
  ASSERT_TRUE(Decide(kReceiver, a, v1::DECISION_APPROVE, "c1").ok());
  v1::ListDossiersRequest by_status;
  by_status.set_national_status(4);
  auto processing = engine_->ListDossiers(kAuditor, by_status);
  ASSERT_EQ(processing->dossiers_size(), 1);
  EXPECT_EQ(processing->dossiers(0).code(), a.code());
  v1::ListDossiersRequest by_day;
  by_day.set_submitted_from("2026-03-03");
  by_day.set_submitted_to("2026-03-03");
  auto tuesday = engine_->ListDossiers(kAuditor, by_day);
  ASSERT_EQ(tuesday->dossiers_size(), 1);
  EXPECT_EQ(tuesday->dossiers(0).code(), "HN-SGDDT-260303-0001");
}

TEST_F(EngineTest, VerifyHistory_TamperedEvent_NamesFirstBrokenEvent) {
  v1::Dossier d = Submit("r1");
  ASSERT_TRUE(Decide(kReceiver, d, v1::DECISION_APPROVE, "c1").ok());
  // Rewrite event 1 as if someone edited the actor in the database.
  std::string key = storage::JoinKey({d.code(), storage::OrderedUint64(1)});
  auto bytes = store_->Get(storage::Family::kHistory, key);
  ASSERT_TRUE(bytes.ok());
  v1::StoredEvent stored;
  ASSERT_TRUE(stored.ParseFromString(*bytes));
  v1::HistoryEvent event;
  ASSERT_TRUE(event.ParseFromString(stored.event()));
  event.set_actor("someone.else");
  stored.set_event(event.SerializeAsString());
  storage::WriteSet w;
  w.Put(storage::Family::kHistory, key, stored.SerializeAsString());
  ASSERT_TRUE(store_->Commit(w).ok());

  v1::VerifyDossierHistoryRequest verify;
  verify.set_dossier_code(d.code());
  auto report = engine_->VerifyDossierHistory(kAuditor, verify);
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->intact());
  EXPECT_EQ(report->first_broken_sequence(), 1);
}

TEST_F(EngineTest, Withdraw_OnlyByOwningPortal_Status7) {
  v1::Dossier d = Submit("r1");
  v1::WithdrawDossierRequest w;
  w.set_code(d.code());
  w.set_expected_version(d.version());
  w.set_reason("Không còn nhu cầu");
  w.set_request_id("w1");
  EXPECT_EQ(engine_->WithdrawDossier(kPortal2, w).status().code(),
            absl::StatusCode::kPermissionDenied);
  auto withdrawn = engine_->WithdrawDossier(kPortal, w);
  ASSERT_TRUE(withdrawn.ok()) << withdrawn.status();
  EXPECT_EQ(withdrawn->national_status(), 7);
  EXPECT_TRUE(withdrawn->closed());
  EXPECT_EQ(engine_->ListMyTasks(kReceiver, {})->tasks_size(), 0);
}

TEST_F(EngineTest, Deploy_NewVersion_RunningDossierStaysPinned) {
  v1::Dossier d = Submit("r1");
  v1::GetProcedureRequest get;
  get.set_code("2.001914");
  auto current = engine_->GetProcedure(kAdmin, get);
  ASSERT_TRUE(current.ok());
  v1::DeployProcedureRequest deploy;
  *deploy.mutable_definition() = *current;
  deploy.mutable_definition()->mutable_time_limit()->set_working_days(3);
  deploy.set_request_id("d1");
  EXPECT_EQ(engine_->DeployProcedure(kReceiver, deploy).status().code(),
            absl::StatusCode::kPermissionDenied);
  auto deployed = engine_->DeployProcedure(kAdmin, deploy);
  ASSERT_TRUE(deployed.ok()) << deployed.status();
  EXPECT_EQ(deployed->version(), current->version() + 1);

  auto received = Decide(kReceiver, d, v1::DECISION_APPROVE, "c1");
  ASSERT_TRUE(received.ok());
  EXPECT_EQ(received->procedure_version(), current->version());
  // Still the 1-day limit of the version it started on.
  EXPECT_EQ(FromProto(received->receipt().appointment_at()), Local(2026, 3, 3, 9, 0));
  EXPECT_EQ(Submit("r2").procedure_version(), deployed->version());
}

TEST_F(EngineTest, Deploy_FutureEffectiveDate_NewDossiersWaitForIt) {
  v1::GetProcedureRequest get;
  get.set_code("2.001914");
  auto current = engine_->GetProcedure(kAdmin, get);
  ASSERT_TRUE(current.ok());
  v1::DeployProcedureRequest deploy;
  *deploy.mutable_definition() = *current;
  deploy.mutable_definition()->set_effective_from("2026-04-01");
  deploy.set_request_id("d1");
  auto deployed = engine_->DeployProcedure(kAdmin, deploy);
  ASSERT_TRUE(deployed.ok());
  EXPECT_EQ(Submit("r1").procedure_version(), current->version());
  clock_.Set(Local(2026, 4, 1, 8, 0));
  EXPECT_EQ(Submit("r2").procedure_version(), deployed->version());
}

TEST_F(EngineTest, Deploy_InvalidDefinition_NamesOffendingState) {
  v1::GetProcedureRequest get;
  get.set_code("2.001914");
  v1::DeployProcedureRequest deploy;
  *deploy.mutable_definition() = *engine_->GetProcedure(kAdmin, get);
  deploy.mutable_definition()->mutable_states(0)->set_national_status(11);
  deploy.set_request_id("d1");
  auto result = engine_->DeployProcedure(kAdmin, deploy);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("submitted"), absl::string_view::npos);
}

TEST_F(EngineTest, BuiltinProcedures_ReopenDoesNotDeployAgain) {
  Reopen();
  auto list = engine_->ListProcedures(kAuditor, {});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->procedures_size(), 1);
  EXPECT_EQ(list->procedures(0).versions_size(), 1);
}

TEST_F(EngineTest, Watch_DossierReplaysThenStreamsLiveEvents) {
  v1::Dossier d = Submit("r1");
  v1::WatchEventsRequest w;
  w.set_dossier_code(d.code());
  auto feed = engine_->WatchEvents(kPortal, w);
  ASSERT_TRUE(feed.ok()) << feed.status();
  v1::HistoryEvent e;
  ASSERT_TRUE(*(*feed)->Next(&e, absl::Seconds(1)));
  EXPECT_EQ(e.sequence(), 1);
  ASSERT_TRUE(Decide(kReceiver, d, v1::DECISION_APPROVE, "c1").ok());
  ASSERT_TRUE(*(*feed)->Next(&e, absl::Seconds(1)));
  EXPECT_EQ(e.sequence(), 2);
  EXPECT_EQ(e.action(), "receive");
  EXPECT_FALSE(*(*feed)->Next(&e, absl::Milliseconds(50)));
}

}  // namespace
}  // namespace motcua::workflow
