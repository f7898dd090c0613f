// Two officers acting on the same task at the same moment: optimistic
// concurrency lets exactly one through.

#include <gtest/gtest.h>

#include <latch>
#include <string>
#include <thread>

#include "tests/integration/fixtures.h"

namespace motcua::itest {
namespace {

constexpr int kRounds = 20;

class ConcurrencyTest : public SharedServerTest {};

TEST_F(ConcurrencyTest, CompleteTask_TwoOfficersAtOnce_ExactlyOneWinsPerDossier) {
  // Separate connections, opened before the race.
  Client receiver = server().As("receiver");
  Client receiver_b = server().As("receiver-b");
  ASSERT_RPC_OK(receiver.ListMyTasks(v1::ListMyTasksRequest()));
  ASSERT_RPC_OK(receiver_b.ListMyTasks(v1::ListMyTasksRequest()));

  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    Reply<v1::Dossier> submitted = SubmitNew(server());
    ASSERT_RPC_OK(submitted);
    // Both read version 1 and decide to receive it.
    const v1::CompleteTaskRequest a = Approval(submitted.value);
    const v1::CompleteTaskRequest b = Approval(submitted.value);
    Reply<v1::Dossier> reply_a, reply_b;
    std::latch start(2);
    std::thread ta([&] {
      start.arrive_and_wait();
      reply_a = receiver.CompleteTask(a);
    });
    std::thread tb([&] {
      start.arrive_and_wait();
      reply_b = receiver_b.CompleteTask(b);
    });
    ta.join();
    tb.join();

    ASSERT_NE(reply_a.ok(), reply_b.ok())
        << "receiver: " << Describe(reply_a.status) << "; receiver-b: " << Describe(reply_b.status);
    const grpc::Status& loser = reply_a.ok() ? reply_b.status : reply_a.status;
    EXPECT_TRUE(loser.error_code() == grpc::StatusCode::ABORTED ||
                loser.error_code() == grpc::StatusCode::FAILED_PRECONDITION)
        << Describe(loser);

    ASSERT_RPC_OK(AwaitIssued(server(), submitted.value.code()));
    Reply<v1::GetDossierHistoryResponse> history =
        server().As("auditor").History(submitted.value.code());
    ASSERT_RPC_OK(history);
    int receive_events = 0;
    for (const v1::HistoryEvent& event : history.value.events()) {
      if (event.action() == "receive") ++receive_events;
    }
    EXPECT_EQ(receive_events, 1);
    EXPECT_EQ(history.value.events_size(), 3);  // submitted, receive, its receipt issued
    Reply<v1::Dossier> now = Reread(server(), submitted.value.code());
    ASSERT_RPC_OK(now);
    EXPECT_EQ(now.value.version(), 2);
    EXPECT_EQ(now.value.state(), "processing");
  }
}

TEST_F(ConcurrencyTest, SubmitDossier_SameRequestIdAtOnce_CreatesOneDossier) {
  Client portal_a = server().As("portal");
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const v1::SubmitDossierRequest request = ValidSubmission();
    Reply<v1::Dossier> reply_a, reply_b;
    std::latch start(2);
    std::thread ta([&] {
      start.arrive_and_wait();
      reply_a = portal_a.Submit(request);
    });
    std::thread tb([&] {
      start.arrive_and_wait();
      reply_b = portal_a.Submit(request);
    });
    ta.join();
    tb.join();
    // A retry racing the original: whichever answers OK names the same
    // dossier, and only one dossier exists.
    ASSERT_TRUE(reply_a.ok() || reply_b.ok())
        << Describe(reply_a.status) << "; " << Describe(reply_b.status);
    if (reply_a.ok() && reply_b.ok()) {
      EXPECT_EQ(reply_a.value.code(), reply_b.value.code());
    }
    v1::ListDossiersRequest list;
    list.set_applicant_id_number(request.applicant().id_number());
    Reply<v1::ListDossiersResponse> found = server().As("auditor").ListDossiers(list);
    ASSERT_RPC_OK(found);
    EXPECT_EQ(found.value.dossiers_size(), 1);
  }
}

}  // namespace
}  // namespace motcua::itest
