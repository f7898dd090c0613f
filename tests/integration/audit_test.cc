// The hash-chained history of a dossier, read and verified over AuditService.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/integration/fixtures.h"

namespace motcua::itest {
namespace {

class AuditTest : public SharedServerTest {
 protected:
  // Runs a dossier through its whole life (submit, receive, its receipt
  // issued, approve, return) and remembers the request ids used.
  void SetUp() override {
    SharedServerTest::SetUp();
    if (HasFatalFailure()) return;
    v1::SubmitDossierRequest submit = ValidSubmission();
    request_ids_.push_back(submit.request_id());
    Reply<v1::Dossier> dossier = server().As("portal").Submit(submit);
    ASSERT_RPC_OK(dossier);
    for (const char* officer : {"receiver", "head", "receiver"}) {
      v1::CompleteTaskRequest approve = std::string(officer) == "head"
                                            ? SignedApproval(server(), officer, dossier.value)
                                            : Approval(dossier.value);
      request_ids_.push_back(approve.request_id());
      dossier = server().As(officer).CompleteTask(approve);
      ASSERT_RPC_OK(dossier);
      if (request_ids_.size() == 2) {  // received: its receipt follows
        dossier = AwaitIssued(server(), dossier.value.code());
        ASSERT_RPC_OK(dossier);
        request_ids_.push_back("issue:d1");
      }
    }
    dossier_ = dossier.value;
  }

  v1::Dossier dossier_;
  std::vector<std::string> request_ids_;
};

TEST_F(AuditTest, GetDossierHistory_FullLifecycle_SequencesRunOneToN) {
  Reply<v1::GetDossierHistoryResponse> history = server().As("auditor").History(dossier_.code());
  ASSERT_RPC_OK(history);
  ASSERT_EQ(history.value.events_size(), 5);
  // Issuing the receipt is the engine's bookkeeping: no new version.
  const int versions[] = {1, 2, 2, 3, 4};
  for (int i = 0; i < history.value.events_size(); ++i) {
    EXPECT_EQ(history.value.events(i).sequence(), i + 1);
    EXPECT_EQ(history.value.events(i).dossier_code(), dossier_.code());
    EXPECT_EQ(history.value.events(i).dossier_version(), versions[i]);
  }
  EXPECT_EQ(dossier_.history_length(), 5);
}

TEST_F(AuditTest, GetDossierHistory_FullLifecycle_EachEventLinksHashOfPrevious) {
  Reply<v1::GetDossierHistoryResponse> history = server().As("auditor").History(dossier_.code());
  ASSERT_RPC_OK(history);
  ASSERT_EQ(history.value.events_size(), 5);
  EXPECT_TRUE(history.value.events(0).previous_hash().empty());
  for (int i = 0; i < history.value.events_size(); ++i) {
    const v1::HistoryEvent& event = history.value.events(i);
    EXPECT_EQ(event.hash().size(), 64u) << "event " << event.sequence();
    if (i > 0) {
      EXPECT_EQ(event.previous_hash(), history.value.events(i - 1).hash())
          << "event " << event.sequence();
    }
  }
  EXPECT_EQ(dossier_.history_head(), history.value.events(4).hash());
}

TEST_F(AuditTest, GetDossierHistory_FullLifecycle_RecordsActorsActionsAndRequests) {
  Reply<v1::GetDossierHistoryResponse> history = server().As("auditor").History(dossier_.code());
  ASSERT_RPC_OK(history);
  ASSERT_EQ(history.value.events_size(), 5);
  struct Expected {
    const char* action;
    const char* actor;
    v1::Role role;
    const char* to_state;
    int national_status;
  };
  const Expected expected[] = {
      {"submitted", kPortalSubject, v1::ROLE_PORTAL, "submitted", 1},
      {"receive", kReceiverSubject, v1::ROLE_OFFICER, "processing", 4},
      {"document_issued", "system", v1::ROLE_UNSPECIFIED, "processing", 4},
      {"approve", kHeadSubject, v1::ROLE_OFFICER, "processed", 9},
      {"return_result", kReceiverSubject, v1::ROLE_OFFICER, "returned", 10},
  };
  for (int i = 0; i < 5; ++i) {
    const v1::HistoryEvent& event = history.value.events(i);
    SCOPED_TRACE("event " + std::to_string(i + 1));
    EXPECT_EQ(event.action(), expected[i].action);
    EXPECT_EQ(event.actor(), expected[i].actor);
    EXPECT_EQ(event.actor_role(), expected[i].role);
    EXPECT_EQ(event.to_state(), expected[i].to_state);
    EXPECT_EQ(event.national_status(), expected[i].national_status);
    EXPECT_EQ(event.request_id(), request_ids_[i]);
    if (i > 0) {
      EXPECT_EQ(event.from_state(), expected[i - 1].to_state);
      EXPECT_EQ(event.decision(), i == 2 ? v1::DECISION_UNSPECIFIED : v1::DECISION_APPROVE);
    }
  }
}

TEST_F(AuditTest, VerifyDossierHistory_FullLifecycle_IntactWithEveryEventChecked) {
  Reply<v1::VerifyDossierHistoryResponse> verified = server().As("auditor").Verify(dossier_.code());
  ASSERT_RPC_OK(verified);
  EXPECT_TRUE(verified.value.intact()) << verified.value.detail();
  EXPECT_EQ(verified.value.events_checked(), 5);
  EXPECT_EQ(verified.value.first_broken_sequence(), 0);
  EXPECT_EQ(verified.value.head_hash(), dossier_.history_head());
}

TEST_F(AuditTest, GetDossierHistory_UnknownDossier_NotFound) {
  EXPECT_RPC_CODE(server().As("auditor").History("HN-SGDDT-000101-9999"),
                  grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace motcua::itest
