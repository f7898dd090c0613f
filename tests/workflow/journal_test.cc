// The engine's one writer: state rebuilt from history, the global event log
// and its running hash, gapless dossier numbers, idempotency retention.

#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "motcua/v1/store.pb.h"
#include "tests/workflow/engine_fixture.h"
#include "workflow/applier.h"
#include "workflow/command_runner.h"
#include "workflow/keys.h"
#include "workflow/procedure.h"

namespace motcua::workflow {
namespace {

class JournalTest : public EngineTest {
 protected:
  v1::Dossier Rebuilt(const v1::Dossier& d) {
    v1::GetProcedureRequest r;
    r.set_code(d.procedure_code());
    r.set_version(d.procedure_version());
    auto def = engine_->GetProcedure(kAuditor, r);
    EXPECT_TRUE(def.ok()) << def.status();
    auto proc = Procedure::Compile(*def);
    EXPECT_TRUE(proc.ok()) << proc.status();
    auto rebuilt = ReplayHistory(**proc, History(d));
    EXPECT_TRUE(rebuilt.ok()) << rebuilt.status();
    return rebuilt.ok() ? *rebuilt : v1::Dossier();
  }

  v1::ListLogEventsResponse Log(int64_t after, const std::string& unit = "", int page = 0) {
    v1::ListLogEventsRequest r;
    r.set_after_log_sequence(after);
    r.set_unit_code(unit);
    r.set_page_size(page);
    auto log = engine_->ListLogEvents(kAuditor, r);
    EXPECT_TRUE(log.ok()) << log.status();
    return *log;
  }

  v1::VerifyEventLogResponse VerifyLog(int64_t from = 0, int64_t to = 0) {
    v1::VerifyEventLogRequest r;
    r.set_from_log_sequence(from);
    r.set_to_log_sequence(to);
    auto result = engine_->VerifyEventLog(kAuditor, r);
    EXPECT_TRUE(result.ok()) << result.status();
    return *result;
  }
};

// Every path of the built-in procedure: receipt, supplements asked and
// given (before and after receipt, pausing and resuming the legal clock),
// claims, approval, refusals, withdrawals, the result returned.
TEST_F(JournalTest, StateRebuiltFromHistory_EqualsStoredState_ForEveryPath) {
  std::vector<v1::Dossier> dossiers;
  for (int i = 0; i < 12; ++i) {
    dossiers.push_back(Submit(absl::StrCat("mixed-", i)));
    clock_.Advance(absl::Minutes(37));
  }
  int step = 0;
  auto decide = [&](const Principal& who, v1::Dossier& d, v1::Decision decision) {
    auto next = Decide(who, d, decision, absl::StrCat("step-", ++step));
    ASSERT_TRUE(next.ok()) << next.status();
    d = *next;
    clock_.Advance(absl::Hours(5));
  };
  for (size_t i = 0; i < dossiers.size(); ++i) {
    v1::Dossier& d = dossiers[i];
    switch (i % 6) {
      case 0:  // received, approved by the head, result returned
        decide(kReceiver, d, v1::DECISION_APPROVE);
        decide(kHead, d, v1::DECISION_APPROVE);
        decide(kReceiver, d, v1::DECISION_APPROVE);
        break;
      case 1: {  // claimed, supplement asked and given, then approved
        decide(kReceiver, d, v1::DECISION_APPROVE);
        v1::ClaimTaskRequest claim;
        claim.set_task_id(d.task().id());
        claim.set_expected_version(d.version());
        claim.set_request_id(absl::StrCat("claim-", i));
        ASSERT_TRUE(engine_->ClaimTask(kHead, claim).ok());
        d = Get(d);
        decide(kHead, d, v1::DECISION_REQUEST_SUPPLEMENT);
        clock_.Advance(absl::Hours(24 * 3));
        v1::AddSupplementRequest s;
        s.set_code(d.code());
        s.set_expected_version(d.version());
        (*s.mutable_form())["school"] = "THPT Việt Đức";
        auto* a = s.add_attachments();
        a->set_name("cccd.pdf");
        a->set_content("%PDF-1.4 bản sao");
        s.set_request_id(absl::StrCat("supplement-", i));
        auto supplied = engine_->AddSupplement(kPortal, s);
        ASSERT_TRUE(supplied.ok()) << supplied.status();
        d = *supplied;
        decide(kHead, d, v1::DECISION_APPROVE);
        break;
      }
      case 2:  // refused at receipt
        decide(kReceiver, d, v1::DECISION_REJECT);
        break;
      case 3: {  // received, then withdrawn by the applicant
        decide(kReceiver, d, v1::DECISION_APPROVE);
        v1::WithdrawDossierRequest w;
        w.set_code(d.code());
        w.set_expected_version(d.version());
        w.set_reason("Nộp nhầm");
        w.set_request_id(absl::StrCat("withdraw-", i));
        ASSERT_TRUE(engine_->WithdrawDossier(kPortal, w).ok());
        break;
      }
      case 4:  // rejected by the head after receipt
        decide(kReceiver, d, v1::DECISION_APPROVE);
        decide(kHead, d, v1::DECISION_REJECT);
        break;
      default: {  // supplement asked at intake and given; left waiting
        decide(kReceiver, d, v1::DECISION_REQUEST_SUPPLEMENT);
        v1::AddSupplementRequest s;
        s.set_code(d.code());
        s.set_expected_version(d.version());
        (*s.mutable_form())["graduation_year"] = "2016";
        s.set_request_id(absl::StrCat("intake-supplement-", i));
        ASSERT_TRUE(engine_->AddSupplement(kPortal, s).ok());
        break;
      }
    }
  }
  for (const v1::Dossier& d : dossiers) {
    EXPECT_EQ(Rebuilt(d).DebugString(), Get(d).DebugString()) << d.code();
  }
}

TEST_F(JournalTest, EventLog_NumbersEveryEventOnceWithoutGaps_UnderConcurrency) {
  constexpr int kThreads = 8, kPerThread = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto d = engine_->SubmitDossier(kPortal, Request(absl::StrCat("c", t, "-", i)));
        ASSERT_TRUE(d.ok()) << d.status();
        ASSERT_TRUE(Decide(kReceiver, *d, v1::DECISION_APPROVE, absl::StrCat("r", t, "-", i)).ok());
      }
    });
  }
  for (auto& th : threads) th.join();

  std::set<std::pair<std::string, int64_t>> seen;
  int64_t expected = 1, after = 0;
  for (;;) {
    v1::ListLogEventsResponse page = Log(after, "", 37);
    EXPECT_EQ(page.head_log_sequence(), 2 * kThreads * kPerThread);
    for (const auto& e : page.events()) {
      EXPECT_EQ(e.log_sequence(), expected++);
      EXPECT_TRUE(seen.insert({e.dossier_code(), e.sequence()}).second) << e.dossier_code();
    }
    if (page.last_log_sequence() == after) break;
    after = page.last_log_sequence();
  }
  EXPECT_EQ(seen.size(), 2u * kThreads * kPerThread);
  v1::VerifyEventLogResponse verified = VerifyLog();
  EXPECT_TRUE(verified.intact()) << verified.problem();
  EXPECT_EQ(verified.to_log_sequence(), 2 * kThreads * kPerThread);
}

TEST_F(JournalTest, EventLog_UnitFilter_ReturnsOnlyThatUnit) {
  Submit("hn-1");
  auto r = Request("hp-1");
  r.set_unit_code("HP-SGDDT");
  ASSERT_TRUE(engine_->SubmitDossier(kPortal, r).ok());
  Submit("hn-2");
  v1::ListLogEventsResponse hp = Log(0, "HP-SGDDT");
  ASSERT_EQ(hp.events_size(), 1);
  EXPECT_EQ(hp.events(0).log_sequence(), 2);
  EXPECT_EQ(hp.last_log_sequence(), 3);

  // An officer reads only their own unit.
  v1::ListLogEventsRequest other;
  other.set_unit_code("HP-SGDDT");
  EXPECT_EQ(engine_->ListLogEvents(kReceiver, other).status().code(),
            absl::StatusCode::kPermissionDenied);
  auto own = engine_->ListLogEvents(kReceiver, v1::ListLogEventsRequest());
  ASSERT_TRUE(own.ok()) << own.status();
  EXPECT_EQ(own->events_size(), 2);
}

TEST_F(JournalTest, EventLog_ChainHashNotedEarlier_StillMatchesLater) {
  Submit("a");
  Submit("b");
  const std::string noted = VerifyLog().chain_at_end();
  Submit("c");
  v1::VerifyEventLogResponse range = VerifyLog(1, 2);
  EXPECT_TRUE(range.intact());
  EXPECT_EQ(range.chain_at_end(), noted);
  v1::VerifyEventLogResponse tail = VerifyLog(3, 3);
  EXPECT_EQ(tail.chain_before(), noted);
}

TEST_F(JournalTest, EventLog_EventRemovedBehindTheEngine_VerifyNamesTheEntry) {
  Submit("a");
  v1::Dossier b = Submit("b");
  Submit("c");
  storage::WriteSet w;
  w.Delete(storage::Family::kHistory, HistoryKey(b.code(), 1));
  ASSERT_TRUE(store_->Commit(w).ok());
  v1::VerifyEventLogResponse result = VerifyLog();
  EXPECT_FALSE(result.intact());
  EXPECT_EQ(result.first_broken_log_sequence(), 2);
  EXPECT_NE(result.problem().find(b.code()), std::string::npos) << result.problem();
}

TEST_F(JournalTest, EventLog_EntryRemoved_VerifyReportsTheGap) {
  Submit("a");
  Submit("b");
  Submit("c");
  storage::WriteSet w;
  w.Delete(storage::Family::kEventLog, LogKey(2));
  ASSERT_TRUE(store_->Commit(w).ok());
  v1::VerifyEventLogResponse result = VerifyLog();
  EXPECT_FALSE(result.intact());
  EXPECT_EQ(result.first_broken_log_sequence(), 2);
}

TEST_F(JournalTest, EventLog_ContinuesAfterReopen) {
  Submit("a");
  Reopen();
  v1::Dossier b = Submit("b");
  EXPECT_EQ(History(b).back().log_sequence(), 2);
  EXPECT_TRUE(VerifyLog().intact());
}

TEST_F(JournalTest, VerifyEventLog_RangeOutsideTheLog_InvalidArgument) {
  Submit("a");
  v1::VerifyEventLogRequest r;
  r.set_from_log_sequence(1);
  r.set_to_log_sequence(5);
  EXPECT_EQ(engine_->VerifyEventLog(kAuditor, r).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_->VerifyEventLog(kReceiver, v1::VerifyEventLogRequest()).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(JournalTest, Codes_StayGapless_WhenOneSubmissionInTenIsRefused) {
  std::vector<std::thread> threads;
  std::mutex mu;
  std::set<std::string> codes;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        v1::SubmitDossierRequest r = Request(absl::StrCat("g", t, "-", i));
        auto* a = r.add_attachments();
        a->set_name("don.pdf");
        // One in ten carries an empty file: refused after every other check.
        if (i % 10 == 3) a->set_content(""); else a->set_content("%PDF-1.4");
        auto d = engine_->SubmitDossier(kPortal, r);
        if (i % 10 == 3) {
          EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
          continue;
        }
        ASSERT_TRUE(d.ok()) << d.status();
        std::lock_guard<std::mutex> lock(mu);
        codes.insert(d->code());
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(codes.size(), 180u);
  int n = 0;
  for (const std::string& code : codes) {
    EXPECT_EQ(code, absl::StrFormat("HN-SGDDT-260302-%04d", ++n));
  }
}

TEST_F(JournalTest, IdempotencyRecord_OlderThanRetention_RemovedByCompaction) {
  storage::StoreOptions options;
  options.idempotency_expired = IdempotencyRetention(absl::Hours(24 * 7));
  // Answered long ago (the engine's clock), compacted now (the system clock).
  clock_.Set(absl::Now() - absl::Hours(24 * 8));
  Reopen(options);
  v1::Dossier old = Submit("retried-late");
  clock_.Set(absl::Now() - absl::Hours(24));
  v1::Dossier recent = Submit("retried-soon");

  ASSERT_TRUE(store_->Compact(storage::Family::kIdempotency).ok());
  // Within the window the retry gets the first answer...
  EXPECT_EQ(Submit("retried-soon").code(), recent.code());
  // ...after it, the id is forgotten and the request runs again.
  v1::Dossier again = Submit("retried-late");
  EXPECT_NE(again.code(), old.code());
}

}  // namespace
}  // namespace motcua::workflow
