// Safe retries: a request repeated with the same request_id returns the first
// answer and changes nothing; a request_id reused for a different request is
// refused.

#include <gtest/gtest.h>

#include <string>

#include "tests/integration/fixtures.h"

namespace motcua::itest {
namespace {

class IdempotencyTest : public SharedServerTest {
 protected:
  int CountDossiersOf(const std::string& applicant_id) {
    v1::ListDossiersRequest request;
    request.set_applicant_id_number(applicant_id);
    Reply<std::vector<v1::Dossier>> all = server().As("auditor").ListAllDossiers(request);
    EXPECT_RPC_OK(all);
    return static_cast<int>(all.value.size());
  }
};

TEST_F(IdempotencyTest, SubmitDossier_RetrySameRequestId_ReturnsSameDossier) {
  const v1::SubmitDossierRequest request = ValidSubmission();
  Reply<v1::Dossier> first = server().As("portal").Submit(request);
  ASSERT_RPC_OK(first);
  Reply<v1::Dossier> retry = server().As("portal").Submit(request);
  ASSERT_RPC_OK(retry);
  EXPECT_EQ(retry.value.code(), first.value.code());
  EXPECT_EQ(retry.value.version(), first.value.version());
  EXPECT_EQ(retry.value.submitted_at().seconds(), first.value.submitted_at().seconds());
  EXPECT_EQ(retry.value.task().id(), first.value.task().id());
}

TEST_F(IdempotencyTest, SubmitDossier_RetrySameRequestId_CreatesNothing) {
  const v1::SubmitDossierRequest request = ValidSubmission();
  Reply<v1::Dossier> first = server().As("portal").Submit(request);
  ASSERT_RPC_OK(first);
  for (int i = 0; i < 3; ++i) ASSERT_RPC_OK(server().As("portal").Submit(request));
  EXPECT_EQ(CountDossiersOf(request.applicant().id_number()), 1);
  Reply<v1::Dossier> now = Reread(server(), first.value.code());
  ASSERT_RPC_OK(now);
  EXPECT_EQ(now.value.version(), 1);
  EXPECT_EQ(now.value.history_length(), 1);
}

TEST_F(IdempotencyTest, SubmitDossier_SameRequestIdDifferentBody_FailedPrecondition) {
  const v1::SubmitDossierRequest request = ValidSubmission();
  ASSERT_RPC_OK(server().As("portal").Submit(request));
  v1::SubmitDossierRequest changed = request;
  (*changed.mutable_form())["school"] = "Trường THPT Kim Liên";
  Reply<v1::Dossier> reply = server().As("portal").Submit(changed);
  EXPECT_RPC_CODE(reply, grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(CountDossiersOf(request.applicant().id_number()), 1);
}

TEST_F(IdempotencyTest, CompleteTask_RetrySameRequestId_ReturnsSameAnswerAndChangesNothing) {
  Reply<v1::Dossier> submitted = SubmitNew(server());
  ASSERT_RPC_OK(submitted);
  const v1::CompleteTaskRequest request = Approval(submitted.value);
  Reply<v1::Dossier> first = server().As("receiver").CompleteTask(request);
  ASSERT_RPC_OK(first);
  Reply<v1::Dossier> retry = server().As("receiver").CompleteTask(request);
  ASSERT_RPC_OK(retry);
  EXPECT_EQ(retry.value.code(), first.value.code());
  EXPECT_EQ(retry.value.version(), first.value.version());
  EXPECT_EQ(retry.value.state(), first.value.state());
  // One receive; its receipt issued after it is the only event since.
  Reply<v1::Dossier> now = AwaitIssued(server(), submitted.value.code());
  ASSERT_RPC_OK(now);
  EXPECT_EQ(now.value.version(), first.value.version());
  EXPECT_EQ(now.value.history_length(), first.value.history_length() + 1);
}

TEST_F(IdempotencyTest, CompleteTask_RetryAfterDossierMovedOn_ReturnsFirstAnswer) {
  Reply<v1::Dossier> submitted = SubmitNew(server());
  ASSERT_RPC_OK(submitted);
  const v1::CompleteTaskRequest receive = Approval(submitted.value);
  Reply<v1::Dossier> first = server().As("receiver").CompleteTask(receive);
  ASSERT_RPC_OK(first);
  Reply<v1::Dossier> approved =
      server().As("head").CompleteTask(SignedApproval(server(), "head", first.value));
  ASSERT_RPC_OK(approved);
  // The receipt from the receive is issued after its commit and may land
  // after the approval; settle it so the history no longer grows by itself.
  Reply<v1::Dossier> settled = AwaitIssued(server(), submitted.value.code());
  ASSERT_RPC_OK(settled);

  Reply<v1::Dossier> retry = server().As("receiver").CompleteTask(receive);
  ASSERT_RPC_OK(retry);
  EXPECT_EQ(retry.value.version(), first.value.version());
  EXPECT_EQ(retry.value.state(), "processing");
  Reply<v1::Dossier> now = Reread(server(), submitted.value.code());
  ASSERT_RPC_OK(now);
  EXPECT_EQ(now.value.version(), approved.value.version());
  EXPECT_EQ(now.value.state(), "processed");
  EXPECT_EQ(now.value.history_length(), settled.value.history_length());
}

TEST_F(IdempotencyTest, CompleteTask_SameRequestIdDifferentBody_FailedPrecondition) {
  Reply<v1::Dossier> submitted = SubmitNew(server());
  ASSERT_RPC_OK(submitted);
  const v1::CompleteTaskRequest request = Approval(submitted.value);
  Reply<v1::Dossier> first = server().As("receiver").CompleteTask(request);
  ASSERT_RPC_OK(first);
  v1::CompleteTaskRequest changed = request;
  changed.set_comment("Đã kiểm tra bản gốc");
  EXPECT_RPC_CODE(server().As("receiver").CompleteTask(changed),
                  grpc::StatusCode::FAILED_PRECONDITION);
  Reply<v1::Dossier> now = Reread(server(), submitted.value.code());
  ASSERT_RPC_OK(now);
  EXPECT_EQ(now.value.version(), first.value.version());
}

TEST_F(IdempotencyTest, WithdrawDossier_RetrySameRequestId_ReturnsSameAnswer) {
  Reply<v1::Dossier> submitted = SubmitNew(server());
  ASSERT_RPC_OK(submitted);
  const v1::WithdrawDossierRequest request = Withdrawal(submitted.value);
  Reply<v1::Dossier> first = server().As("portal").Withdraw(request);
  ASSERT_RPC_OK(first);
  Reply<v1::Dossier> retry = server().As("portal").Withdraw(request);
  ASSERT_RPC_OK(retry);
  EXPECT_EQ(retry.value.version(), first.value.version());
  EXPECT_EQ(retry.value.state(), "withdrawn");
  Reply<v1::Dossier> now = Reread(server(), submitted.value.code());
  ASSERT_RPC_OK(now);
  EXPECT_EQ(now.value.history_length(), first.value.history_length());
}

TEST_F(IdempotencyTest, AddSupplement_RetrySameRequestId_ReturnsSameAnswer) {
  Reply<v1::Dossier> waiting = SubmitReceiveRequestSupplement(server());
  ASSERT_RPC_OK(waiting);
  const v1::AddSupplementRequest request = Supplement(waiting.value);
  Reply<v1::Dossier> first = server().As("portal").AddSupplement(request);
  ASSERT_RPC_OK(first);
  Reply<v1::Dossier> retry = server().As("portal").AddSupplement(request);
  ASSERT_RPC_OK(retry);
  EXPECT_EQ(retry.value.version(), first.value.version());
  Reply<v1::Dossier> now = Reread(server(), waiting.value.code());
  ASSERT_RPC_OK(now);
  EXPECT_EQ(now.value.version(), first.value.version());
  EXPECT_EQ(now.value.history_length(), first.value.history_length());
}

}  // namespace
}  // namespace motcua::itest
