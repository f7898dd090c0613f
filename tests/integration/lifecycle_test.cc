// The 2.001914 workflow driven through TaskService and DossierService:
// receipt, approval, return, rejection, supplements, withdrawal, claims and
// stale versions.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "tests/integration/fixtures.h"

namespace motcua::itest {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class LifecycleTest : public SharedServerTest {
 protected:
  // Expects the dossier to be exactly as `before` (same version and state).
  void ExpectUnchanged(const v1::Dossier& before) {
    Reply<v1::Dossier> now = Reread(server(), before.code());
    ASSERT_RPC_OK(now);
    EXPECT_EQ(now.value.version(), before.version());
    EXPECT_EQ(now.value.state(), before.state());
    EXPECT_EQ(now.value.history_length(), before.history_length());
  }
};

TEST_F(LifecycleTest, CompleteTask_ReceiverApproves_MovesToProcessingWithReceipt) {
  Reply<v1::Dossier> submitted = SubmitNew(server());
  ASSERT_RPC_OK(submitted);
  Reply<v1::Dossier> received = server().As("receiver").CompleteTask(Approval(submitted.value));
  ASSERT_RPC_OK(received);
  const v1::Dossier& dossier = received.value;
  EXPECT_EQ(dossier.state(), "processing");
  EXPECT_EQ(dossier.national_status(), 4);
  EXPECT_EQ(dossier.version(), 2);
  ASSERT_TRUE(dossier.has_receipt());
  EXPECT_GT(dossier.receipt().received_at().seconds(), 0);
  EXPECT_GT(dossier.receipt().appointment_at().seconds(),
            dossier.receipt().received_at().seconds());
  EXPECT_EQ(dossier.receipt().received_by(), kReceiverSubject);
  EXPECT_TRUE(dossier.clock().started());
  EXPECT_FALSE(dossier.clock().paused());
}

TEST_F(LifecycleTest, CompleteTask_ReceiverApproves_OpensTaskForHead) {
  Reply<v1::Dossier> received = SubmitAndReceive(server());
  ASSERT_RPC_OK(received);
  const v1::Task& task = received.value.task();
  EXPECT_EQ(task.state(), "processing");
  EXPECT_EQ(task.unit_code(), kUnitHn);
  EXPECT_EQ(task.role(), v1::ROLE_OFFICER);
  EXPECT_EQ(task.position(), "head");
  EXPECT_EQ(task.dossier_version(), 2);
}

TEST_F(LifecycleTest, CompleteTask_HeadApproves_MovesToProcessedWithReturnTask) {
  Reply<v1::Dossier> processed = SubmitReceiveApprove(server());
  ASSERT_RPC_OK(processed);
  const v1::Dossier& dossier = processed.value;
  EXPECT_EQ(dossier.state(), "processed");
  EXPECT_EQ(dossier.national_status(), 9);
  EXPECT_EQ(dossier.version(), 3);
  EXPECT_GT(dossier.clock().stopped_at().seconds(), 0) << "the clock did not stop";
  EXPECT_EQ(dossier.task().role(), v1::ROLE_OFFICER);
  EXPECT_EQ(dossier.task().position(), "receiving");
  EXPECT_FALSE(dossier.closed());
}

TEST_F(LifecycleTest, CompleteTask_ReceiverReturnsResult_ClosesDossier) {
  Reply<v1::Dossier> processed = SubmitReceiveApprove(server());
  ASSERT_RPC_OK(processed);
  Reply<v1::Dossier> returned = server().As("receiver").CompleteTask(Approval(processed.value));
  ASSERT_RPC_OK(returned);
  EXPECT_EQ(returned.value.state(), "returned");
  EXPECT_EQ(returned.value.national_status(), 10);
  EXPECT_TRUE(returned.value.closed());
  EXPECT_TRUE(returned.value.task().id().empty()) << "a closed dossier keeps an open task";
}

TEST_F(LifecycleTest, CompleteTask_RejectWithoutReasons_InvalidArgumentAndUnchanged) {
  Reply<v1::Dossier> submitted = SubmitNew(server());
  ASSERT_RPC_OK(submitted);
  Reply<v1::Dossier> reply =
      server().As("receiver").CompleteTask(Rejection(submitted.value, /*reasons=*/{}));
  EXPECT_RPC_CODE(reply, grpc::StatusCode::INVALID_ARGUMENT);
  ExpectUnchanged(submitted.value);
}

TEST_F(LifecycleTest, CompleteTask_RejectAtIntake_NotReceivedWithReasons) {
  Reply<v1::Dossier> submitted = SubmitNew(server());
  ASSERT_RPC_OK(submitted);
  Reply<v1::Dossier> refused =
      server()
          .As("receiver")
          .CompleteTask(
              Rejection(submitted.value, {"Văn bằng không do Sở cấp", "Thiếu bản chụp CCCD"}));
  ASSERT_RPC_OK(refused);
  EXPECT_EQ(refused.value.state(), "not_received");
  EXPECT_EQ(refused.value.national_status(), 3);
  EXPECT_TRUE(refused.value.closed());
  EXPECT_THAT(refused.value.rejection_reasons(),
              ElementsAre("Văn bằng không do Sở cấp", "Thiếu bản chụp CCCD"));
}

TEST_F(LifecycleTest, CompleteTask_RequestSupplementWithoutItems_InvalidArgumentAndUnchanged) {
  Reply<v1::Dossier> received = SubmitAndReceive(server());
  ASSERT_RPC_OK(received);
  Reply<v1::Dossier> reply =
      server().As("head").CompleteTask(SupplementRequest(received.value, /*missing=*/{}));
  EXPECT_RPC_CODE(reply, grpc::StatusCode::INVALID_ARGUMENT);
  ExpectUnchanged(received.value);
}

TEST_F(LifecycleTest, CompleteTask_HeadRequestsSupplement_AwaitsWithClockPaused) {
  Reply<v1::Dossier> waiting = SubmitReceiveRequestSupplement(server());
  ASSERT_RPC_OK(waiting);
  const v1::Dossier& dossier = waiting.value;
  EXPECT_EQ(dossier.state(), "awaiting_supplement");
  EXPECT_EQ(dossier.national_status(), 5);
  EXPECT_TRUE(dossier.clock().paused());
  EXPECT_THAT(dossier.pending_supplement().missing_items(), ElementsAre("Bản chụp CCCD"));
  EXPECT_EQ(dossier.supplement_request_count(), 1);
}

TEST_F(LifecycleTest, AddSupplement_WhileAwaiting_ResumesProcessing) {
  Reply<v1::Dossier> waiting = SubmitReceiveRequestSupplement(server());
  ASSERT_RPC_OK(waiting);
  Reply<v1::Dossier> resumed = server().As("portal").AddSupplement(Supplement(waiting.value));
  ASSERT_RPC_OK(resumed);
  EXPECT_EQ(resumed.value.state(), "processing");
  EXPECT_EQ(resumed.value.national_status(), 4);
  EXPECT_FALSE(resumed.value.clock().paused());
  EXPECT_EQ(resumed.value.form().at("register_number"), "SG-2015-004217");
  EXPECT_EQ(resumed.value.supplement_request_count(), 1);
  EXPECT_EQ(resumed.value.task().position(), "head");
}

TEST_F(LifecycleTest, AddSupplement_SecondRequest_CountsTwoRequests) {
  Reply<v1::Dossier> waiting = SubmitReceiveRequestSupplement(server());
  ASSERT_RPC_OK(waiting);
  Reply<v1::Dossier> resumed = server().As("portal").AddSupplement(Supplement(waiting.value));
  ASSERT_RPC_OK(resumed);
  Reply<v1::Dossier> again = server().As("head").CompleteTask(SupplementRequest(resumed.value));
  ASSERT_RPC_OK(again);
  EXPECT_EQ(again.value.state(), "awaiting_supplement");
  EXPECT_EQ(again.value.supplement_request_count(), 2);
}

TEST_F(LifecycleTest, AddSupplement_NotAwaitingSupplement_FailedPrecondition) {
  Reply<v1::Dossier> received = SubmitAndReceive(server());
  ASSERT_RPC_OK(received);
  Reply<v1::Dossier> reply = server().As("portal").AddSupplement(Supplement(received.value));
  EXPECT_RPC_CODE(reply, grpc::StatusCode::FAILED_PRECONDITION);
  ExpectUnchanged(received.value);
}

TEST_F(LifecycleTest, WithdrawDossier_Submitted_MovesToWithdrawn) {
  Reply<v1::Dossier> submitted = SubmitNew(server());
  ASSERT_RPC_OK(submitted);
  Reply<v1::Dossier> withdrawn = server().As("portal").Withdraw(Withdrawal(submitted.value));
  ASSERT_RPC_OK(withdrawn);
  EXPECT_EQ(withdrawn.value.state(), "withdrawn");
  EXPECT_EQ(withdrawn.value.national_status(), 7);
  EXPECT_TRUE(withdrawn.value.closed());
  EXPECT_TRUE(withdrawn.value.task().id().empty());
}

TEST_F(LifecycleTest, WithdrawDossier_Processing_MovesToWithdrawn) {
  Reply<v1::Dossier> received = SubmitAndReceive(server());
  ASSERT_RPC_OK(received);
  Reply<v1::Dossier> withdrawn = server().As("portal").Withdraw(Withdrawal(received.value));
  ASSERT_RPC_OK(withdrawn);
  EXPECT_EQ(withdrawn.value.state(), "withdrawn");
  EXPECT_EQ(withdrawn.value.national_status(), 7);
}

TEST_F(LifecycleTest, WithdrawDossier_Closed_FailedPrecondition) {
  Reply<v1::Dossier> processed = SubmitReceiveApprove(server());
  ASSERT_RPC_OK(processed);
  Reply<v1::Dossier> returned = server().As("receiver").CompleteTask(Approval(processed.value));
  ASSERT_RPC_OK(returned);
  Reply<v1::Dossier> reply = server().As("portal").Withdraw(Withdrawal(returned.value));
  EXPECT_RPC_CODE(reply, grpc::StatusCode::FAILED_PRECONDITION);
  ExpectUnchanged(returned.value);
}

TEST_F(LifecycleTest, CompleteTask_StaleVersion_ReturnsAbortedNamingCurrentVersion) {
  Reply<v1::Dossier> received = SubmitAndReceive(server());
  ASSERT_RPC_OK(received);
  ASSERT_EQ(received.value.version(), 2);
  v1::CompleteTaskRequest stale = Approval(received.value);
  stale.set_expected_version(1);
  Reply<v1::Dossier> reply = server().As("head").CompleteTask(stale);
  EXPECT_RPC_CODE(reply, grpc::StatusCode::ABORTED);
  EXPECT_TRUE(std::regex_search(reply.status.error_message(), std::regex(R"((^|\D)2(\D|$))")))
      << "message does not name current version 2: " << reply.status.error_message();
  ExpectUnchanged(received.value);
}

TEST_F(LifecycleTest, WithdrawDossier_StaleVersion_ReturnsAborted) {
  Reply<v1::Dossier> received = SubmitAndReceive(server());
  ASSERT_RPC_OK(received);
  v1::WithdrawDossierRequest stale = Withdrawal(received.value);
  stale.set_expected_version(1);
  EXPECT_RPC_CODE(server().As("portal").Withdraw(stale), grpc::StatusCode::ABORTED);
  ExpectUnchanged(received.value);
}

TEST_F(LifecycleTest, AddSupplement_StaleVersion_ReturnsAborted) {
  Reply<v1::Dossier> waiting = SubmitReceiveRequestSupplement(server());
  ASSERT_RPC_OK(waiting);
  v1::AddSupplementRequest stale = Supplement(waiting.value);
  stale.set_expected_version(waiting.value.version() - 1);
  EXPECT_RPC_CODE(server().As("portal").AddSupplement(stale), grpc::StatusCode::ABORTED);
  ExpectUnchanged(waiting.value);
}

TEST_F(LifecycleTest, CompleteTask_AlreadyCompletedTask_RefusedAndUnchanged) {
  Reply<v1::Dossier> submitted = SubmitNew(server());
  ASSERT_RPC_OK(submitted);
  Reply<v1::Dossier> received = server().As("receiver").CompleteTask(Approval(submitted.value));
  ASSERT_RPC_OK(received);
  received = AwaitIssued(server(), received.value.code());  // the receipt's event, first
  ASSERT_RPC_OK(received);
  // The receiving task is gone; naming it again with the current version
  // (and a new request id) must not fire anything.
  v1::CompleteTaskRequest again = Approval(submitted.value);
  again.set_expected_version(received.value.version());
  Reply<v1::Dossier> reply = server().As("receiver").CompleteTask(again);
  EXPECT_FALSE(reply.ok()) << "completed the receiving task twice";
  ExpectUnchanged(received.value);
}

TEST_F(LifecycleTest, ClaimTask_ByReceiver_RecordsClaimant) {
  Reply<v1::Dossier> submitted = SubmitNew(server());
  ASSERT_RPC_OK(submitted);
  Reply<v1::Task> claimed = server().As("receiver").ClaimTask(Claim(submitted.value));
  ASSERT_RPC_OK(claimed);
  EXPECT_EQ(claimed.value.id(), submitted.value.task().id());
  EXPECT_EQ(claimed.value.claimed_by(), kReceiverSubject);
  Reply<v1::Dossier> now = Reread(server(), submitted.value.code());
  ASSERT_RPC_OK(now);
  EXPECT_EQ(now.value.task().claimed_by(), kReceiverSubject);
}

TEST_F(LifecycleTest, CompleteTask_ClaimedBySelf_Succeeds) {
  Reply<v1::Dossier> submitted = SubmitNew(server());
  ASSERT_RPC_OK(submitted);
  ASSERT_RPC_OK(server().As("receiver").ClaimTask(Claim(submitted.value)));
  Reply<v1::Dossier> now = Reread(server(), submitted.value.code());
  ASSERT_RPC_OK(now);
  Reply<v1::Dossier> received = server().As("receiver").CompleteTask(Approval(now.value));
  ASSERT_RPC_OK(received);
  EXPECT_EQ(received.value.state(), "processing");
}

TEST_F(LifecycleTest, CompleteTask_ClaimedByAnotherOfficer_RefusedAndUnchanged) {
  Reply<v1::Dossier> submitted = SubmitNew(server());
  ASSERT_RPC_OK(submitted);
  ASSERT_RPC_OK(server().As("receiver").ClaimTask(Claim(submitted.value)));
  Reply<v1::Dossier> claimed = Reread(server(), submitted.value.code());
  ASSERT_RPC_OK(claimed);
  Reply<v1::Dossier> reply = server().As("receiver-b").CompleteTask(Approval(claimed.value));
  EXPECT_TRUE(reply.status.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
              reply.status.error_code() == grpc::StatusCode::PERMISSION_DENIED)
      << Describe(reply.status);
  ExpectUnchanged(claimed.value);
}

TEST_F(LifecycleTest, ClaimTask_AlreadyClaimedByAnother_Refused) {
  Reply<v1::Dossier> submitted = SubmitNew(server());
  ASSERT_RPC_OK(submitted);
  ASSERT_RPC_OK(server().As("receiver").ClaimTask(Claim(submitted.value)));
  Reply<v1::Dossier> claimed = Reread(server(), submitted.value.code());
  ASSERT_RPC_OK(claimed);
  Reply<v1::Task> reply = server().As("receiver-b").ClaimTask(Claim(claimed.value));
  EXPECT_FALSE(reply.ok()) << "receiver-b took over receiver's claim";
  Reply<v1::Dossier> now = Reread(server(), submitted.value.code());
  ASSERT_RPC_OK(now);
  EXPECT_EQ(now.value.task().claimed_by(), kReceiverSubject);
}

}  // namespace
}  // namespace motcua::itest
