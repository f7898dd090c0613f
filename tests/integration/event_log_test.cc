// The engine's history as the source of truth, over gRPC against the real
// server: every dossier's state rebuilt from its history, the global event
// log read and verified, a unit watch resumed after a disconnect.

#include <chrono>
#include <set>

#include "tests/integration/fixtures.h"
#include "workflow/applier.h"
#include "workflow/procedure.h"

namespace motcua::itest {
namespace {

class EventLogTest : public SharedServerTest {
 protected:
  // The dossier as its history, read by the auditor, rebuilds it.
  void ExpectRebuildsFromHistory(const std::string& code) {
    Client auditor = server().As("auditor");
    Reply<v1::Dossier> served = auditor.GetDossier(code);
    ASSERT_RPC_OK(served);
    Reply<v1::GetDossierHistoryResponse> history = auditor.History(code);
    ASSERT_RPC_OK(history);
    Reply<v1::ProcedureDefinition> def =
        auditor.GetProcedure(served.value.procedure_code(), served.value.procedure_version());
    ASSERT_RPC_OK(def);
    auto procedure = workflow::Procedure::Compile(def.value);
    ASSERT_TRUE(procedure.ok()) << procedure.status();
    auto rebuilt = workflow::ReplayHistory(
        **procedure, {history.value.events().begin(), history.value.events().end()});
    ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
    EXPECT_EQ(rebuilt->DebugString(), served.value.DebugString()) << code;
  }

  Reply<v1::ListLogEventsResponse> Log(const std::string& as, int64_t after,
                                       const std::string& unit = "") {
    v1::ListLogEventsRequest request;
    request.set_after_log_sequence(after);
    request.set_unit_code(unit);
    return server().As(as).ListLogEvents(request);
  }

  // The log's last number now (the suite's server is shared by its tests).
  int64_t Head() {
    Reply<v1::ListLogEventsResponse> log = Log("auditor", 0);
    EXPECT_RPC_OK(log);
    return log.value.head_log_sequence();
  }
};

TEST_F(EventLogTest, StateRebuiltFromHistory_EqualsServedDossier_OnEveryPath) {
  std::vector<std::string> codes;
  // Sealed receipt, then the head's signed certified copy, then returned.
  Reply<v1::Dossier> approved = SubmitReceiveApprove(server());
  ASSERT_RPC_OK(approved);
  Reply<v1::Dossier> returned = server().As("receiver").CompleteTask(Approval(approved.value));
  ASSERT_RPC_OK(returned);
  codes.push_back(returned.value.code());
  // Clock paused by a supplement request, resumed by the supplement.
  Reply<v1::Dossier> paused = SubmitReceiveRequestSupplement(server());
  ASSERT_RPC_OK(paused);
  Reply<v1::Dossier> resumed = server().As("portal").AddSupplement(Supplement(paused.value));
  ASSERT_RPC_OK(resumed);
  codes.push_back(resumed.value.code());
  // Refused by the head, with reasons.
  Reply<v1::Dossier> received = SubmitAndReceive(server());
  ASSERT_RPC_OK(received);
  ASSERT_RPC_OK(server().As("head").CompleteTask(Rejection(received.value)));
  codes.push_back(received.value.code());
  // Claimed, then withdrawn by the applicant.
  Reply<v1::Dossier> fresh = SubmitNew(server());
  ASSERT_RPC_OK(fresh);
  ASSERT_RPC_OK(server().As("receiver").ClaimTask(Claim(fresh.value)));
  Reply<v1::Dossier> claimed = Reread(server(), fresh.value.code());
  ASSERT_RPC_OK(claimed);
  ASSERT_RPC_OK(server().As("portal").Withdraw(Withdrawal(claimed.value)));
  codes.push_back(fresh.value.code());

  for (const std::string& code : codes) ExpectRebuildsFromHistory(code);
}

TEST_F(EventLogTest, ListAndVerify_AuditorReadsEveryEventInOrder_OfficerOnlyTheirUnit) {
  const int64_t start = Head();
  ASSERT_RPC_OK(SubmitAndReceive(server(), kUnitHn));
  ASSERT_RPC_OK(SubmitNew(server(), kUnitHp));

  // HN: submitted, received, its receipt issued; HP: submitted.
  Reply<v1::ListLogEventsResponse> all = Log("auditor", start);
  ASSERT_RPC_OK(all);
  ASSERT_EQ(all.value.events_size(), 4);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(all.value.events(i).log_sequence(), start + i + 1);
  EXPECT_EQ(all.value.head_log_sequence(), start + 4);

  Reply<v1::ListLogEventsResponse> hn = Log("receiver", start);
  ASSERT_RPC_OK(hn);
  EXPECT_EQ(hn.value.events_size(), 3);
  EXPECT_RPC_CODE(Log("receiver", 0, kUnitHp), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_RPC_CODE(Log("portal", 0), grpc::StatusCode::PERMISSION_DENIED);

  Reply<v1::VerifyEventLogResponse> verified =
      server().As("auditor").VerifyEventLog(v1::VerifyEventLogRequest());
  ASSERT_RPC_OK(verified);
  EXPECT_TRUE(verified.value.intact()) << verified.value.problem();
  EXPECT_EQ(verified.value.to_log_sequence(), start + 4);
  EXPECT_EQ(verified.value.chain_at_end().size(), 64u);
}

// Reads `n` events from a unit watch that starts after `after`.
std::vector<v1::HistoryEvent> WatchUnit(ServerProcess& server, int64_t after, size_t n,
                                        const std::function<void()>& meanwhile) {
  Client watcher = server.As("receiver");
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::WatchEventsRequest request;
  request.set_unit_code(kUnitHn);
  request.set_after_log_sequence(after);
  auto stream = watcher.dossiers().WatchEvents(&context, request);
  meanwhile();
  std::vector<v1::HistoryEvent> events;
  v1::HistoryEvent event;
  while (events.size() < n && stream->Read(&event)) events.push_back(event);
  context.TryCancel();
  stream->Finish();
  return events;
}

TEST_F(EventLogTest, UnitWatch_DisconnectsAndResumes_MissesNothingAndSeesNothingTwice) {
  Reply<v1::Dossier> first = SubmitNew(server(), kUnitHn);
  ASSERT_RPC_OK(first);
  const int64_t start = Head();
  // First session: after the first dossier's event; two HN submissions (and
  // one of another unit) while it runs.
  std::vector<v1::HistoryEvent> session1 = WatchUnit(server(), start, 2, [&] {
    for (const char* unit : {kUnitHn, kUnitHp, kUnitHn}) {
      Reply<v1::Dossier> d = SubmitNew(server(), unit);
      ASSERT_RPC_OK(d);
    }
  });
  ASSERT_EQ(session1.size(), 2u);

  // While disconnected: the first dossier is received (and its receipt
  // issued), another submitted.
  ASSERT_RPC_OK(server().As("receiver").CompleteTask(Approval(first.value)));
  ASSERT_RPC_OK(AwaitIssued(server(), first.value.code()));
  ASSERT_RPC_OK(SubmitNew(server(), kUnitHp));
  ASSERT_RPC_OK(SubmitNew(server(), kUnitHn));

  // Second session resumes from the last event received; one more arrives live.
  std::vector<v1::HistoryEvent> session2 =
      WatchUnit(server(), session1.back().log_sequence(), 4, [&] {
        Reply<v1::Dossier> d = SubmitNew(server(), kUnitHn);
        ASSERT_RPC_OK(d);
      });
  ASSERT_EQ(session2.size(), 4u);

  // Exactly the unit's events after the first, in log order, once each.
  Reply<v1::ListLogEventsResponse> log = Log("auditor", start, kUnitHn);
  ASSERT_RPC_OK(log);
  std::vector<v1::HistoryEvent> watched = session1;
  watched.insert(watched.end(), session2.begin(), session2.end());
  ASSERT_EQ(watched.size(), static_cast<size_t>(log.value.events_size()));
  for (size_t i = 0; i < watched.size(); ++i) {
    EXPECT_EQ(watched[i].log_sequence(), log.value.events(i).log_sequence()) << i;
    EXPECT_EQ(watched[i].hash(), log.value.events(i).hash()) << i;
  }
  EXPECT_EQ(session2[0].action(), "receive");
  EXPECT_EQ(session2[0].dossier_code(), first.value.code());
  EXPECT_EQ(session2[1].action(), "document_issued");
}

}  // namespace
}  // namespace motcua::itest
