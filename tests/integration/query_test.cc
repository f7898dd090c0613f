// Reading the engine: worklists, dossier search and paging, event streams.

#include <grpcpp/client_context.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/fixtures.h"

namespace motcua::itest {
namespace {

std::set<std::string> TaskIds(const std::vector<v1::Task>& tasks) {
  std::set<std::string> ids;
  for (const v1::Task& task : tasks) ids.insert(task.id());
  return ids;
}

class WorklistTest : public SharedServerTest {};

TEST_F(WorklistTest, ListMyTasks_Receiver_HoldsExactlyUnitTasksForReceivingPosition) {
  // One dossier in each kind of state the receiver might or might not see.
  Reply<v1::Dossier> submitted_hn = SubmitNew(server(), kUnitHn);
  Reply<v1::Dossier> processing_hn = SubmitAndReceive(server(), kUnitHn);
  Reply<v1::Dossier> processed_hn = SubmitReceiveApprove(server());
  Reply<v1::Dossier> submitted_hp = SubmitNew(server(), kUnitHp);
  ASSERT_RPC_OK(submitted_hn);
  ASSERT_RPC_OK(processing_hn);
  ASSERT_RPC_OK(processed_hn);
  ASSERT_RPC_OK(submitted_hp);

  // What the receiver should see: every open HN task for an officer in the
  // receiving position, per the auditor's view of all HN dossiers.
  v1::ListDossiersRequest all_hn;
  all_hn.set_unit_code(kUnitHn);
  Reply<std::vector<v1::Dossier>> dossiers = server().As("auditor").ListAllDossiers(all_hn);
  ASSERT_RPC_OK(dossiers);
  std::set<std::string> expected;
  for (const v1::Dossier& d : dossiers.value) {
    if (!d.task().id().empty() && d.task().role() == v1::ROLE_OFFICER &&
        (d.task().position() == "receiving" || d.task().position().empty())) {
      expected.insert(d.task().id());
    }
  }

  Reply<std::vector<v1::Task>> worklist = server().As("receiver").AllMyTasks();
  ASSERT_RPC_OK(worklist);
  EXPECT_EQ(TaskIds(worklist.value), expected);
  EXPECT_EQ(worklist.value.size(), TaskIds(worklist.value).size()) << "a task is listed twice";
  EXPECT_TRUE(expected.count(submitted_hn.value.task().id()));
  EXPECT_TRUE(expected.count(processed_hn.value.task().id()));
  EXPECT_FALSE(expected.count(processing_hn.value.task().id()));
  EXPECT_FALSE(expected.count(submitted_hp.value.task().id()));
}

TEST_F(WorklistTest, ListMyTasks_Head_HoldsProcessingTasksOnly) {
  Reply<v1::Dossier> submitted = SubmitNew(server(), kUnitHn);
  Reply<v1::Dossier> processing = SubmitAndReceive(server(), kUnitHn);
  Reply<v1::Dossier> processing_hp = SubmitAndReceive(server(), kUnitHp);
  ASSERT_RPC_OK(submitted);
  ASSERT_RPC_OK(processing);
  ASSERT_RPC_OK(processing_hp);
  Reply<std::vector<v1::Task>> worklist = server().As("head").AllMyTasks();
  ASSERT_RPC_OK(worklist);
  const std::set<std::string> ids = TaskIds(worklist.value);
  EXPECT_TRUE(ids.count(processing.value.task().id()));
  EXPECT_FALSE(ids.count(submitted.value.task().id()));
  EXPECT_FALSE(ids.count(processing_hp.value.task().id()));
  for (const v1::Task& task : worklist.value) {
    EXPECT_EQ(task.unit_code(), kUnitHn) << task.id();
    EXPECT_EQ(task.position(), "head") << task.id();
  }
}

TEST_F(WorklistTest, ListMyTasks_OfficerOfOtherUnit_SeesOnlyItsUnit) {
  Reply<v1::Dossier> hn = SubmitNew(server(), kUnitHn);
  Reply<v1::Dossier> hp = SubmitNew(server(), kUnitHp);
  ASSERT_RPC_OK(hn);
  ASSERT_RPC_OK(hp);
  Reply<std::vector<v1::Task>> worklist = server().As("receiver-hp").AllMyTasks();
  ASSERT_RPC_OK(worklist);
  const std::set<std::string> ids = TaskIds(worklist.value);
  EXPECT_TRUE(ids.count(hp.value.task().id()));
  EXPECT_FALSE(ids.count(hn.value.task().id()));
  for (const v1::Task& task : worklist.value) EXPECT_EQ(task.unit_code(), kUnitHp) << task.id();
}

TEST_F(WorklistTest, ListMyTasks_AfterCompletion_TaskMovesToNextWorklist) {
  Reply<v1::Dossier> submitted = SubmitNew(server(), kUnitHn);
  ASSERT_RPC_OK(submitted);
  Reply<std::vector<v1::Task>> before = server().As("receiver-b").AllMyTasks();
  ASSERT_RPC_OK(before);
  ASSERT_TRUE(TaskIds(before.value).count(submitted.value.task().id()));

  Reply<v1::Dossier> received = server().As("receiver").CompleteTask(Approval(submitted.value));
  ASSERT_RPC_OK(received);
  Reply<std::vector<v1::Task>> receiving_after = server().As("receiver-b").AllMyTasks();
  Reply<std::vector<v1::Task>> head_after = server().As("head").AllMyTasks();
  ASSERT_RPC_OK(receiving_after);
  ASSERT_RPC_OK(head_after);
  EXPECT_FALSE(TaskIds(receiving_after.value).count(submitted.value.task().id()));
  EXPECT_TRUE(TaskIds(head_after.value).count(received.value.task().id()));
}

TEST_F(WorklistTest, ListMyTasks_Paged_VisitsEachTaskOnce) {
  for (int i = 0; i < 5; ++i) ASSERT_RPC_OK(SubmitNew(server(), kUnitHp));
  Client receiver = server().As("receiver-hp");
  Reply<std::vector<v1::Task>> whole = receiver.AllMyTasks();
  ASSERT_RPC_OK(whole);
  ASSERT_GE(whole.value.size(), 5u);

  std::vector<std::string> paged;
  v1::ListMyTasksRequest request;
  request.set_page_size(2);
  for (int page = 0; page < 1000; ++page) {
    Reply<v1::ListMyTasksResponse> reply = receiver.ListMyTasks(request);
    ASSERT_RPC_OK(reply);
    EXPECT_LE(reply.value.tasks_size(), 2);
    for (const v1::Task& task : reply.value.tasks()) paged.push_back(task.id());
    if (reply.value.next_page_token().empty()) break;
    request.set_page_token(reply.value.next_page_token());
  }
  EXPECT_EQ(paged.size(), whole.value.size());
  EXPECT_EQ(std::set<std::string>(paged.begin(), paged.end()), TaskIds(whole.value));
}

class SearchTest : public SharedServerTest {};

TEST_F(SearchTest, ListDossiers_FilterByApplicant_ReturnsOnlyTheirDossiers) {
  const std::string applicant = NewApplicantId();
  std::set<std::string> theirs;
  for (int i = 0; i < 2; ++i) {
    Reply<v1::Dossier> d = server().As("portal").Submit(ValidSubmission(kUnitHn, applicant));
    ASSERT_RPC_OK(d);
    theirs.insert(d.value.code());
  }
  ASSERT_RPC_OK(SubmitNew(server()));  // someone else
  v1::ListDossiersRequest request;
  request.set_applicant_id_number(applicant);
  Reply<std::vector<v1::Dossier>> listed = server().As("auditor").ListAllDossiers(request);
  ASSERT_RPC_OK(listed);
  std::set<std::string> codes;
  for (const v1::Dossier& d : listed.value) codes.insert(d.code());
  EXPECT_EQ(codes, theirs);
}

TEST_F(SearchTest, ListDossiers_FilterByUnit_ReturnsOnlyThatUnit) {
  Reply<v1::Dossier> hp = SubmitNew(server(), kUnitHp);
  ASSERT_RPC_OK(hp);
  ASSERT_RPC_OK(SubmitNew(server(), kUnitHn));
  v1::ListDossiersRequest request;
  request.set_unit_code(kUnitHp);
  Reply<std::vector<v1::Dossier>> listed = server().As("auditor").ListAllDossiers(request);
  ASSERT_RPC_OK(listed);
  bool saw = false;
  for (const v1::Dossier& d : listed.value) {
    EXPECT_EQ(d.unit_code(), kUnitHp) << d.code();
    saw = saw || d.code() == hp.value.code();
  }
  EXPECT_TRUE(saw);
}

TEST_F(SearchTest, ListDossiers_FilterByNationalStatus_ReturnsOnlyThatStatus) {
  const std::string applicant = NewApplicantId();
  Reply<v1::Dossier> waiting = server().As("portal").Submit(ValidSubmission(kUnitHn, applicant));
  Reply<v1::Dossier> other = server().As("portal").Submit(ValidSubmission(kUnitHn, applicant));
  ASSERT_RPC_OK(waiting);
  ASSERT_RPC_OK(other);
  Reply<v1::Dossier> received = server().As("receiver").CompleteTask(Approval(other.value));
  ASSERT_RPC_OK(received);

  v1::ListDossiersRequest request;
  request.set_applicant_id_number(applicant);
  request.set_national_status(4);
  Reply<std::vector<v1::Dossier>> listed = server().As("auditor").ListAllDossiers(request);
  ASSERT_RPC_OK(listed);
  ASSERT_EQ(listed.value.size(), 1u);
  EXPECT_EQ(listed.value[0].code(), other.value.code());
  EXPECT_EQ(listed.value[0].national_status(), 4);

  request.set_national_status(0);  // any
  Reply<std::vector<v1::Dossier>> any = server().As("auditor").ListAllDossiers(request);
  ASSERT_RPC_OK(any);
  EXPECT_EQ(any.value.size(), 2u);
}

TEST_F(SearchTest, ListDossiers_DateRangeCoveringSubmissionDay_IncludesDossier) {
  Reply<v1::Dossier> d = SubmitNew(server());
  ASSERT_RPC_OK(d);
  v1::ListDossiersRequest request;
  request.set_applicant_id_number(d.value.applicant().id_number());
  request.set_submitted_from(VnDate(d.value.submitted_at()));
  request.set_submitted_to(VnDate(d.value.submitted_at()));
  Reply<std::vector<v1::Dossier>> listed = server().As("auditor").ListAllDossiers(request);
  ASSERT_RPC_OK(listed);
  ASSERT_EQ(listed.value.size(), 1u);
  EXPECT_EQ(listed.value[0].code(), d.value.code());
}

TEST_F(SearchTest, ListDossiers_DateRangeOutsideSubmissionDay_ExcludesDossier) {
  Reply<v1::Dossier> d = SubmitNew(server());
  ASSERT_RPC_OK(d);
  v1::ListDossiersRequest request;
  request.set_applicant_id_number(d.value.applicant().id_number());

  request.set_submitted_from(VnDateShifted(d.value.submitted_at(), 1));
  Reply<std::vector<v1::Dossier>> after = server().As("auditor").ListAllDossiers(request);
  ASSERT_RPC_OK(after);
  EXPECT_EQ(after.value.size(), 0u) << "from the day after";

  request.clear_submitted_from();
  request.set_submitted_to(VnDateShifted(d.value.submitted_at(), -1));
  Reply<std::vector<v1::Dossier>> before = server().As("auditor").ListAllDossiers(request);
  ASSERT_RPC_OK(before);
  EXPECT_EQ(before.value.size(), 0u) << "until the day before";
}

TEST_F(SearchTest, ListDossiers_Paged_VisitsEachDossierOnceNewestFirst) {
  const std::string applicant = NewApplicantId();
  std::set<std::string> submitted;
  for (int i = 0; i < 7; ++i) {
    Reply<v1::Dossier> d = server().As("portal").Submit(ValidSubmission(kUnitHn, applicant));
    ASSERT_RPC_OK(d);
    submitted.insert(d.value.code());
  }
  v1::ListDossiersRequest request;
  request.set_applicant_id_number(applicant);
  request.set_page_size(3);
  std::vector<v1::Dossier> seen;
  std::vector<int> page_sizes;
  for (int page = 0; page < 100; ++page) {
    Reply<v1::ListDossiersResponse> reply = server().As("auditor").ListDossiers(request);
    ASSERT_RPC_OK(reply);
    page_sizes.push_back(reply.value.dossiers_size());
    for (const v1::Dossier& d : reply.value.dossiers()) seen.push_back(d);
    if (reply.value.next_page_token().empty()) break;
    request.set_page_token(reply.value.next_page_token());
  }
  EXPECT_EQ(page_sizes, (std::vector<int>{3, 3, 1}));
  std::set<std::string> codes;
  for (const v1::Dossier& d : seen) codes.insert(d.code());
  EXPECT_EQ(seen.size(), 7u) << "duplicates across pages";
  EXPECT_EQ(codes, submitted) << "gaps across pages";
  for (size_t i = 1; i < seen.size(); ++i) {
    const auto& newer = seen[i - 1].submitted_at();
    const auto& older = seen[i].submitted_at();
    EXPECT_TRUE(newer.seconds() > older.seconds() ||
                (newer.seconds() == older.seconds() && newer.nanos() >= older.nanos()))
        << seen[i - 1].code() << " listed before older-or-equal " << seen[i].code();
  }
}

class WatchTest : public SharedServerTest {};

TEST_F(WatchTest, WatchEvents_Dossier_ReplaysExistingThenStreamsNewEvents) {
  Reply<v1::Dossier> submitted = SubmitNew(server());
  ASSERT_RPC_OK(submitted);
  Client watcher = server().As("receiver");
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  v1::WatchEventsRequest request;
  request.set_dossier_code(submitted.value.code());
  auto stream = watcher.dossiers().WatchEvents(&context, request);

  v1::HistoryEvent event;
  ASSERT_TRUE(stream->Read(&event)) << "no replayed event: " << Describe(stream->Finish());
  EXPECT_EQ(event.sequence(), 1);
  EXPECT_EQ(event.action(), "submitted");

  Reply<v1::Dossier> received = server().As("receiver").CompleteTask(Approval(submitted.value));
  ASSERT_RPC_OK(received);
  ASSERT_TRUE(stream->Read(&event)) << "no live event: " << Describe(stream->Finish());
  EXPECT_EQ(event.sequence(), 2);
  EXPECT_EQ(event.action(), "receive");
  EXPECT_EQ(event.dossier_code(), submitted.value.code());
  context.TryCancel();
  stream->Finish();
}

TEST_F(WatchTest, WatchEvents_AfterSequence_ReplaysOnlyLaterEvents) {
  Reply<v1::Dossier> processed = SubmitReceiveApprove(server());
  ASSERT_RPC_OK(processed);
  Client watcher = server().As("receiver");
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  v1::WatchEventsRequest request;
  request.set_dossier_code(processed.value.code());
  request.set_after_sequence(1);
  auto stream = watcher.dossiers().WatchEvents(&context, request);

  v1::HistoryEvent event;
  ASSERT_TRUE(stream->Read(&event)) << Describe(stream->Finish());
  EXPECT_EQ(event.sequence(), 2);
  ASSERT_TRUE(stream->Read(&event)) << Describe(stream->Finish());
  EXPECT_EQ(event.sequence(), 3);
  context.TryCancel();
  stream->Finish();
}

TEST_F(WatchTest, WatchEvents_Unit_StreamsEventsOfThatUnitOnly) {
  Client watcher = server().As("receiver");
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::WatchEventsRequest request;
  request.set_unit_code(kUnitHn);
  auto stream = watcher.dossiers().WatchEvents(&context, request);

  // A reader thread collects what arrives.
  std::mutex mu;
  std::condition_variable arrived;
  std::vector<v1::HistoryEvent> events;
  std::thread reader([&] {
    v1::HistoryEvent event;
    while (stream->Read(&event)) {
      std::lock_guard<std::mutex> lock(mu);
      events.push_back(event);
      arrived.notify_all();
    }
  });
  auto seen = [&](const std::string& code) {
    for (const v1::HistoryEvent& e : events) {
      if (e.dossier_code() == code) return true;
    }
    return false;
  };

  // The subscription starts asynchronously: submit HN probes until one is
  // streamed, so the watch is known to be live.
  // No ASSERT until the reader thread is joined.
  bool live = false;
  grpc::Status probe_status;
  for (int attempt = 0; attempt < 50 && !live && probe_status.ok(); ++attempt) {
    Reply<v1::Dossier> probe = SubmitNew(server(), kUnitHn);
    probe_status = probe.status;
    if (!probe.ok()) break;
    std::unique_lock<std::mutex> lock(mu);
    live = arrived.wait_for(lock, std::chrono::milliseconds(200),
                            [&] { return seen(probe.value.code()); });
  }
  Reply<v1::Dossier> other_unit;
  Reply<v1::Dossier> own_unit;
  if (live) {
    other_unit = SubmitNew(server(), kUnitHp);
    own_unit = SubmitNew(server(), kUnitHn);
  }
  bool own_seen = false;
  if (live && own_unit.ok()) {
    std::unique_lock<std::mutex> lock(mu);
    own_seen = arrived.wait_for(lock, std::chrono::seconds(10),
                                [&] { return seen(own_unit.value.code()); });
  }
  context.TryCancel();
  reader.join();
  stream->Finish();

  ASSERT_TRUE(probe_status.ok()) << Describe(probe_status);
  ASSERT_TRUE(live) << "no event of a new HN dossier arrived on the unit watch";
  ASSERT_RPC_OK(other_unit);
  ASSERT_RPC_OK(own_unit);
  EXPECT_TRUE(own_seen);
  EXPECT_FALSE(seen(other_unit.value.code())) << "an HP event reached the HN watch";
  for (const v1::HistoryEvent& e : events) {
    EXPECT_EQ(e.dossier_code().rfind(std::string(kUnitHn) + "-", 0), 0u) << e.dossier_code();
  }
}

}  // namespace
}  // namespace motcua::itest
