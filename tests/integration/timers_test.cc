// Timers on the real server: thousands due at the same moment all fire,
// each exactly once, with the server killed (kill -9) twice while they fire.
// At test size here; the 100,000-timer case runs as a benchmark
// (scripts/bench-timers.sh).

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/text_format.h"
#include "tests/integration/fixtures.h"

namespace motcua::itest {
namespace {


int TimerCount() {
  const char* env = std::getenv("MOTCUA_TIMER_TEST_COUNT");
  return env != nullptr ? std::atoi(env) : 3000;
}

int64_t LogHead(ServerProcess& server) {
  v1::ListLogEventsRequest request;
  request.set_page_size(1);
  Reply<v1::ListLogEventsResponse> log = server.As("auditor").ListLogEvents(request);
  return log.ok() ? log.value.head_log_sequence() : -1;
}

// Waits until the log passes `above` (a firing committed), at most `limit`.
int64_t AwaitLogAbove(ServerProcess& server, int64_t above, absl::Duration limit) {
  const absl::Time give_up = absl::Now() + limit;
  int64_t head = LogHead(server);
  while (head <= above && absl::Now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    head = LogHead(server);
  }
  return head;
}

TEST(TimersKillTest, ThousandsDueAtOnce_AllFireExactlyOnce_AcrossTwoKills) {
  auto started = ServerProcess::Start();
  ASSERT_TRUE(started.ok()) << started.status();
  ServerProcess& server = **started;
  v1::DeployProcedureRequest deploy;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(kDeadlineProcedureText,
                                                             deploy.mutable_definition()));
  deploy.set_request_id(NewRequestId());
  ASSERT_RPC_OK(server.As("admin").Deploy(deploy));

  const int n = TimerCount();
  // Far enough ahead for every submission to land first, at the pace this
  // build and machine submit (a sanitizer build is several times slower).
  const absl::Time probe_start = absl::Now();
  constexpr int kProbe = 100;
  ParallelFor(kProbe, 8, [&](int) { ASSERT_RPC_OK(server.As("portal").Submit(ValidSubmission())); });
  const absl::Duration per_submission = (absl::Now() - probe_start) / kProbe;
  const absl::Time deadline = absl::Now() + absl::Seconds(3) + 3 * per_submission * n;
  const std::string deadline_text = absl::FormatTime(absl::RFC3339_full, deadline, absl::UTCTimeZone());
  std::vector<std::string> codes(n);
  std::atomic<int> failures{0};
  ParallelFor(n, 8, [&](int i) {
    v1::SubmitDossierRequest request = ValidSubmission();
    request.set_procedure_code("T.100");
    request.clear_form();
    (*request.mutable_form())["deadline"] = deadline_text;
    Reply<v1::Dossier> d = server.As("portal").Submit(request);
    if (!d.ok() || d.value.timers_size() != 1) {
      ++failures;
      return;
    }
    codes[i] = d.value.code();
  });
  ASSERT_EQ(failures.load(), 0);
  ASSERT_LT(absl::Now(), deadline) << "submissions outlasted the deadline; lower the count";
  const int64_t armed = LogHead(server);  // the probe's events, then one per timer
  ASSERT_EQ(armed, kProbe + n);

  // Kill as soon as firing has begun, twice.
  for (int kill = 0; kill < 2; ++kill) {
    const int64_t before = LogHead(server);
    const int64_t head = AwaitLogAbove(server, before, absl::Seconds(60) + (deadline - absl::Now()));
    ASSERT_GT(head, before) << "no timer fired";
    ASSERT_TRUE(server.Kill().ok());
    ASSERT_TRUE(server.Restart().ok());
    // The restarted server waits a poll before firing: this is what the
    // killed one had committed.
    const int64_t at_kill = LogHead(server);
    EXPECT_LT(at_kill, armed + n) << "kill " << kill << " came after the last timer fired";
    EXPECT_GT(at_kill, before);
  }

  // Every dossier closes, each by exactly one firing.
  const int64_t done = AwaitLogAbove(server, armed + n - 1, absl::Seconds(120));
  ASSERT_EQ(done, armed + n);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // a poll with nothing left
  EXPECT_EQ(LogHead(server), armed + n);

  std::atomic<int> wrong{0};
  ParallelFor(n, 8, [&](int i) {
    Reply<v1::GetDossierHistoryResponse> history = server.As("auditor").History(codes[i]);
    if (!history.ok() || history.value.events_size() != 2 ||
        history.value.events(1).action() != "close" ||
        history.value.events(1).actor() != "system") {
      if (wrong++ < 5) ADD_FAILURE() << codes[i] << ": " << history.value.DebugString();
    }
  });
  EXPECT_EQ(wrong.load(), 0);
  v1::VerifyEventLogRequest verify;
  Reply<v1::VerifyEventLogResponse> verified = server.As("auditor").VerifyEventLog(verify);
  ASSERT_RPC_OK(verified);
  EXPECT_TRUE(verified.value.intact()) << verified.value.problem();
}

}  // namespace
}  // namespace motcua::itest
