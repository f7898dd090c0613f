// kill -9 under load, and graceful stop: what was acknowledged survives,
// exactly once.
//
// The kill scenario runs once per test process (SetUpTestSuite): several
// portal threads submit continuously, each recording every acknowledged
// submission; after about two seconds the server gets SIGKILL and is started
// again on the same data dir. Each test then checks one promise against the
// restarted server.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/fixtures.h"

namespace motcua::itest {
namespace {

constexpr int kSubmitters = 4;
constexpr auto kLoadBeforeKill = std::chrono::seconds(2);

struct Acknowledged {
  v1::SubmitDossierRequest request;
  std::string code;
};

struct KillScenario {
  std::unique_ptr<ServerProcess> server;
  std::vector<Acknowledged> acknowledged;
  // Requests in flight (or sent) when the server died: no answer came back.
  std::vector<v1::SubmitDossierRequest> unacknowledged;
  // Failures before the kill, which should not happen at all.
  std::vector<std::string> errors_before_kill;
  std::string setup_error;
};

void RunKillScenario(KillScenario& s) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> started = ServerProcess::Start();
  if (!started.ok()) {
    s.setup_error = started.status().ToString();
    return;
  }
  s.server = std::move(*started);
  std::atomic<bool> killed{false};
  std::mutex mu;
  std::vector<std::thread> submitters;
  for (int t = 0; t < kSubmitters; ++t) {
    // Each thread its own connection, as separate portal front ends would.
    submitters.emplace_back([&s, &killed, &mu, t, channel = s.server->NewChannel("portal")] {
      Client portal(channel);
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (std::chrono::steady_clock::now() < give_up) {
        v1::SubmitDossierRequest request = ValidSubmission(t % 2 == 0 ? kUnitHn : kUnitHp);
        Reply<v1::Dossier> reply = portal.Submit(request);
        std::lock_guard<std::mutex> lock(mu);
        if (reply.ok()) {
          s.acknowledged.push_back({std::move(request), reply.value.code()});
          continue;
        }
        if (!killed.load()) {
          s.errors_before_kill.push_back(Describe(reply.status));
          continue;
        }
        s.unacknowledged.push_back(std::move(request));
        return;
      }
    });
  }
  std::this_thread::sleep_for(kLoadBeforeKill);
  killed.store(true);
  absl::Status kill = s.server->Kill();
  for (std::thread& thread : submitters) thread.join();
  if (!kill.ok()) {
    s.setup_error = "SIGKILL: " + kill.ToString();
    return;
  }
  std::fprintf(stderr, "kill -9 scenario: %zu submissions acknowledged, %zu unanswered\n",
               s.acknowledged.size(), s.unacknowledged.size());
  if (absl::Status restarted = s.server->Restart(); !restarted.ok()) {
    s.setup_error = "restart after SIGKILL: " + restarted.ToString();
  }
}

class KillNineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scenario_ = new KillScenario;
    RunKillScenario(*scenario_);
  }
  static void TearDownTestSuite() {
    delete scenario_;
    scenario_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(scenario_->setup_error.empty()) << scenario_->setup_error;
    ASSERT_FALSE(scenario_->acknowledged.empty()) << "no submission was acknowledged in 2 s";
    ASSERT_TRUE(server().Running()) << server().LogTail();
  }

  static ServerProcess& server() { return *scenario_->server; }
  static const std::vector<Acknowledged>& acknowledged() { return scenario_->acknowledged; }

  static int CountDossiersOf(const std::string& applicant_id) {
    v1::ListDossiersRequest request;
    request.set_applicant_id_number(applicant_id);
    Reply<std::vector<v1::Dossier>> all = server().As("auditor").ListAllDossiers(request);
    EXPECT_RPC_OK(all);
    return static_cast<int>(all.value.size());
  }

  static KillScenario* scenario_;
};

KillScenario* KillNineTest::scenario_ = nullptr;

TEST_F(KillNineTest, BeforeKill_EverySubmissionWasAcknowledged) {
  EXPECT_TRUE(scenario_->errors_before_kill.empty())
      << scenario_->errors_before_kill.size()
      << " failures, first: " << scenario_->errors_before_kill.front();
}

TEST_F(KillNineTest, AcknowledgedSubmissions_AllPresentAfterRestart) {
  std::mutex mu;
  std::vector<std::string> missing;
  ParallelFor(static_cast<int>(acknowledged().size()), 4, [&](int i) {
    const Acknowledged& ack = acknowledged()[i];
    Reply<v1::Dossier> dossier = server().As("auditor").GetDossier(ack.code);
    std::lock_guard<std::mutex> lock(mu);
    if (!dossier.ok()) {
      missing.push_back(ack.code + " " + Describe(dossier.status));
    } else {
      EXPECT_EQ(dossier.value.applicant().id_number(), ack.request.applicant().id_number())
          << ack.code;
      EXPECT_EQ(dossier.value.state(), "submitted") << ack.code;
    }
  });
  EXPECT_TRUE(missing.empty()) << missing.size() << " of " << acknowledged().size()
                               << " acknowledged dossiers lost, first: " << missing.front();
}

TEST_F(KillNineTest, AcknowledgedSubmissions_RetryReturnsSameDossierWithoutDuplicate) {
  std::mutex mu;
  int mismatches = 0;
  ParallelFor(static_cast<int>(acknowledged().size()), 4, [&](int i) {
    const Acknowledged& ack = acknowledged()[i];
    Reply<v1::Dossier> retry = server().As("portal").Submit(ack.request);
    const int copies = CountDossiersOf(ack.request.applicant().id_number());
    std::lock_guard<std::mutex> lock(mu);
    if (!retry.ok() || retry.value.code() != ack.code || retry.value.version() != 1 ||
        copies != 1) {
      if (++mismatches <= 5) {
        ADD_FAILURE() << "request " << ack.request.request_id() << " acknowledged as " << ack.code
                      << "; retry after restart: "
                      << (retry.ok() ? retry.value.code() : Describe(retry.status))
                      << "; dossiers of that applicant: " << copies;
      }
    }
  });
  EXPECT_EQ(mismatches, 0) << "of " << acknowledged().size();
}

TEST_F(KillNineTest, AcknowledgedSubmissions_CodesAllDistinct) {
  std::set<std::string> codes;
  for (const Acknowledged& ack : acknowledged()) {
    EXPECT_TRUE(codes.insert(ack.code).second) << ack.code << " acknowledged twice";
  }
}

TEST_F(KillNineTest, AcknowledgedSubmissions_HistoriesIntact) {
  std::mutex mu;
  int broken = 0;
  ParallelFor(static_cast<int>(acknowledged().size()), 4, [&](int i) {
    const Acknowledged& ack = acknowledged()[i];
    Reply<v1::VerifyDossierHistoryResponse> verified = server().As("auditor").Verify(ack.code);
    std::lock_guard<std::mutex> lock(mu);
    if (!verified.ok() || !verified.value.intact() || verified.value.events_checked() != 1) {
      if (++broken <= 5) {
        ADD_FAILURE() << ack.code << ": "
                      << (verified.ok() ? verified.value.ShortDebugString()
                                        : Describe(verified.status));
      }
    }
  });
  EXPECT_EQ(broken, 0) << "of " << acknowledged().size();
}

TEST_F(KillNineTest, UnacknowledgedSubmission_RetryAfterRestartCreatesItOnce) {
  ASSERT_FALSE(scenario_->unacknowledged.empty());
  std::set<std::string> acknowledged_codes;
  for (const Acknowledged& ack : acknowledged()) acknowledged_codes.insert(ack.code);
  for (const v1::SubmitDossierRequest& request : scenario_->unacknowledged) {
    SCOPED_TRACE("request " + request.request_id());
    const std::string& applicant = request.applicant().id_number();
    EXPECT_LE(CountDossiersOf(applicant), 1) << "before the retry";
    Reply<v1::Dossier> first = server().As("portal").Submit(request);
    Reply<v1::Dossier> second = server().As("portal").Submit(request);
    ASSERT_RPC_OK(first);
    ASSERT_RPC_OK(second);
    EXPECT_EQ(first.value.code(), second.value.code());
    EXPECT_FALSE(acknowledged_codes.count(first.value.code()))
        << first.value.code() << " was already given to another acknowledged submission";
    EXPECT_EQ(CountDossiersOf(applicant), 1) << "after the retries";
  }
}

// Graceful stop and restart.
class GracefulRestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<ServerProcess>> started = ServerProcess::Start();
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
  }
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(GracefulRestartTest, Sigterm_ExitsWithStatusZero) {
  ASSERT_RPC_OK(SubmitNew(*server_));
  absl::StatusOr<int> wstatus = server_->Stop();
  ASSERT_TRUE(wstatus.ok()) << wstatus.status();
  EXPECT_TRUE(WIFEXITED(*wstatus)) << "wait status " << *wstatus;
  EXPECT_EQ(WEXITSTATUS(*wstatus), 0) << server_->LogTail();
}

TEST_F(GracefulRestartTest, RestartAfterSigterm_KeepsDossiersAndContinuesSequence) {
  Reply<v1::Dossier> before = SubmitNew(*server_);
  ASSERT_RPC_OK(before);
  ASSERT_TRUE(server_->Stop().ok());
  ASSERT_TRUE(server_->Restart().ok()) << server_->LogTail();

  Reply<v1::Dossier> kept = server_->As("auditor").GetDossier(before.value.code());
  ASSERT_RPC_OK(kept);
  EXPECT_EQ(kept.value.version(), before.value.version());
  Reply<v1::VerifyDossierHistoryResponse> verified =
      server_->As("auditor").Verify(before.value.code());
  ASSERT_RPC_OK(verified);
  EXPECT_TRUE(verified.value.intact());

  Reply<v1::Dossier> after = SubmitNew(*server_);
  ASSERT_RPC_OK(after);
  EXPECT_NE(after.value.code(), before.value.code());
  EXPECT_GT(after.value.code(), before.value.code()) << "the daily sequence went backwards";
}

}  // namespace
}  // namespace motcua::itest
