// Documents issued after their step, on the real server: killed (kill -9)
// while receipts wait to be sealed, every committed step still gets its
// document exactly once, and the history and the documents verify.

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "motcua/v1/operations.grpc.pb.h"
#include "tests/integration/fixtures.h"

namespace motcua::itest {
namespace {

v1::EngineStatus EngineStatusOf(ServerProcess& server) {
  auto stub = v1::OperationService::NewStub(server.Channel("admin"));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::EngineStatus status;
  grpc::Status s = stub->GetEngineStatus(&context, v1::GetEngineStatusRequest(), &status);
  EXPECT_TRUE(s.ok()) << Describe(s);
  return status;
}

TEST(OutboxKillTest, KilledWhileReceiptsWait_EachIssuedExactlyOnceAfterRestart) {
  auto started = ServerProcess::Start();
  ASSERT_TRUE(started.ok()) << started.status();
  ServerProcess& server = **started;
  constexpr int kDossiers = 400;
  std::vector<v1::Dossier> submitted(kDossiers);
  std::atomic<int> failures{0};
  ParallelFor(kDossiers, 8, [&](int i) {
    Reply<v1::Dossier> d = server.As("portal").Submit(ValidSubmission());
    if (!d.ok()) ++failures;
    submitted[i] = d.value;
  });
  ASSERT_EQ(failures.load(), 0);
  // Receiving returns before the receipt is sealed: a backlog builds up.
  ParallelFor(kDossiers, 8, [&](int i) {
    Reply<v1::Dossier> d = server.As("receiver").CompleteTask(Approval(submitted[i]));
    if (!d.ok() || d.value.documents_size() != 1) ++failures;
  });
  ASSERT_EQ(failures.load(), 0);
  const v1::EngineStatus before = EngineStatusOf(server);
  ASSERT_GT(before.documents_pending(), 0) << "every receipt was issued before the kill";
  ASSERT_TRUE(server.Kill().ok());
  ASSERT_TRUE(server.Restart().ok());

  v1::EngineStatus after = EngineStatusOf(server);
  for (int i = 0; i < 1200 && after.documents_pending() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    after = EngineStatusOf(server);
  }
  ASSERT_EQ(after.documents_pending(), 0);
  EXPECT_EQ(after.document_failures(), 0) << after.document_last_error();

  std::atomic<int> wrong{0};
  ParallelFor(kDossiers, 8, [&](int i) {
    Reply<v1::GetDossierHistoryResponse> h = server.As("auditor").History(submitted[i].code());
    Reply<v1::Dossier> d = Reread(server, submitted[i].code());
    int issued = 0;
    for (const auto& e : h.value.events()) issued += e.action() == "document_issued";
    if (!h.ok() || !d.ok() || issued != 1 || d.value.documents(0).pending()) {
      if (wrong++ < 5) ADD_FAILURE() << submitted[i].code() << " issued " << issued << " times";
    }
  });
  EXPECT_EQ(wrong.load(), 0);
  for (int i = 0; i < kDossiers; i += kDossiers / 8) {
    Reply<v1::VerifyDossierResponse> audit =
        server.As("auditor").VerifyDossier(submitted[i].code(), /*skip_revocation_check=*/false);
    ASSERT_RPC_OK(audit);
    EXPECT_TRUE(audit.value.all_passed()) << audit.value.DebugString();
  }
  Reply<v1::VerifyEventLogResponse> log =
      server.As("auditor").VerifyEventLog(v1::VerifyEventLogRequest());
  ASSERT_RPC_OK(log);
  EXPECT_TRUE(log.value.intact()) << log.value.problem();
}

}  // namespace
}  // namespace motcua::itest
