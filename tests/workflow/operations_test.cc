// Long-running operations driven on the engine: planned, each item done
// once in its own commit, cancelled between items, resumed after a restart.

#include <atomic>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "tests/workflow/engine_fixture.h"

namespace motcua::workflow {
namespace {

// The operation once done; fails the test if it is not within a minute.
v1::Operation WaitDone(Engine& engine, const std::string& name) {
  v1::WaitOperationRequest r;
  r.set_name(name);
  r.set_timeout_seconds(60);
  auto op = engine.WaitOperation(kAdmin, r);
  EXPECT_TRUE(op.ok()) << op.status();
  EXPECT_TRUE(op->done()) << op->DebugString();
  return *op;
}

// Open dossiers are archived by the engine's own job.
constexpr char kArchivable[] = R"pb(
  code: "T.200" name: "Thủ tục lưu trữ" initial_state: "open"
  time_limit { working_days: 5 }
  states { id: "open" title: "Đang mở" national_status: 1 task_title: "Tiếp nhận" }
  states { id: "accepted" title: "Đã nhận" national_status: 4 task_title: "Trả kết quả" }
  states { id: "archived" title: "Lưu trữ" national_status: 10 terminal: true }
  transitions { id: "accept" from_state: "open" to_state: "accepted"
                trigger: TRIGGER_APPROVE role: ROLE_OFFICER position: "receiving" }
  transitions { id: "archive" from_state: "open" to_state: "archived" trigger: TRIGGER_SYSTEM }
  transitions { id: "return" from_state: "accepted" to_state: "archived"
                trigger: TRIGGER_APPROVE role: ROLE_OFFICER position: "receiving" }
)pb";

class OperationsTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    v1::DeployProcedureRequest r;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(kArchivable, r.mutable_definition()));
    r.set_request_id("deploy-archivable");
    ASSERT_TRUE(engine_->DeployProcedure(kAdmin, r).ok());
  }

  std::vector<v1::Dossier> SubmitMany(int n) {
    std::vector<v1::Dossier> dossiers;
    for (int i = 0; i < n; ++i) {
      v1::SubmitDossierRequest r = Request(absl::StrCat("s", i));
      r.set_procedure_code("T.200");
      r.clear_form();
      auto d = engine_->SubmitDossier(kPortal, r);
      EXPECT_TRUE(d.ok()) << d.status();
      dossiers.push_back(*d);
    }
    return dossiers;
  }

  v1::TransitionDossiersRequest Archive(const std::string& request_id) {
    v1::TransitionDossiersRequest r;
    r.set_procedure_code("T.200");
    r.set_transition("archive");
    r.set_request_id(request_id);
    return r;
  }


  // How many "archive" events the dossier's history holds.
  int Archives(const v1::Dossier& d) {
    v1::GetDossierHistoryRequest r;
    r.set_dossier_code(d.code());
    auto h = engine_->GetDossierHistory(kAuditor, r);
    EXPECT_TRUE(h.ok()) << h.status();
    int n = 0;
    for (const auto& e : h->events()) n += e.action() == "archive";
    return n;
  }
};

TEST_F(OperationsTest, TransitionDossiers_MovesEveryDossierInTheStateOnce) {
  std::vector<v1::Dossier> dossiers = SubmitMany(60);
  // One has moved on: not planned.
  ASSERT_TRUE(Decide(kReceiver, dossiers[0], v1::DECISION_APPROVE, "c0").ok());

  auto started = engine_->TransitionDossiers(kAdmin, Archive("op-1"));
  ASSERT_TRUE(started.ok()) << started.status();
  EXPECT_TRUE(absl::StartsWith(started->name(), "operations/"));
  v1::Operation done = WaitDone(*engine_, started->name());
  ASSERT_TRUE(done.has_response()) << done.DebugString();
  EXPECT_EQ(done.response().done_items(), 59);
  EXPECT_EQ(done.metadata().total_items(), 59);
  EXPECT_EQ(done.metadata().phase(), v1::OperationMetadata::PHASE_DONE);
  EXPECT_EQ(Archives(dossiers[0]), 0);
  for (size_t i = 1; i < dossiers.size(); ++i) EXPECT_EQ(Archives(dossiers[i]), 1) << i;

  // A retry of the start returns the same operation and starts nothing.
  auto retried = engine_->TransitionDossiers(kAdmin, Archive("op-1"));
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(retried->name(), started->name());
  v1::ListOperationsRequest list;
  auto listed = engine_->ListOperations(kAdmin, list);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->operations_size(), 1);
}

TEST_F(OperationsTest, Cancelled_EveryItemDoneOrUntouched) {
  std::vector<v1::Dossier> dossiers = SubmitMany(1500);
  auto started = engine_->TransitionDossiers(kAdmin, Archive("op-1"));
  ASSERT_TRUE(started.ok());
  v1::CancelOperationRequest cancel;
  cancel.set_name(started->name());
  // Cancel once some items are done.
  for (int i = 0; i < 2000; ++i) {
    v1::GetOperationRequest get;
    get.set_name(started->name());
    if (engine_->GetOperation(kAdmin, get)->metadata().done_items() > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(engine_->CancelOperation(kAdmin, cancel).ok());
  v1::Operation done = WaitDone(*engine_, started->name());
  ASSERT_TRUE(done.has_error()) << done.DebugString();
  EXPECT_EQ(done.error().code(), static_cast<int>(absl::StatusCode::kCancelled));
  int archived = 0;
  for (const v1::Dossier& d : dossiers) {
    const int n = Archives(d);
    EXPECT_LE(n, 1) << d.code();
    archived += n;
  }
  EXPECT_EQ(archived, done.metadata().done_items());
  EXPECT_GT(archived, 0);
  EXPECT_LT(archived, 1500) << "the operation finished before the cancel";
}

TEST_F(OperationsTest, EngineClosedMidway_ResumesAtOpen_EachItemOnce) {
  std::vector<v1::Dossier> dossiers = SubmitMany(1500);
  auto started = engine_->TransitionDossiers(kAdmin, Archive("op-1"));
  ASSERT_TRUE(started.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  v1::GetOperationRequest get;
  get.set_name(started->name());
  ASSERT_FALSE(engine_->GetOperation(kAdmin, get)->done()) << "finished before the close";
  Reopen();
  v1::Operation done = WaitDone(*engine_, started->name());
  ASSERT_TRUE(done.has_response()) << done.DebugString();
  EXPECT_EQ(done.response().done_items(), 1500);
  for (const v1::Dossier& d : dossiers) EXPECT_EQ(Archives(d), 1) << d.code();
}

TEST_F(OperationsTest, BadStarts_Refused) {
  auto unknown = Archive("x1");
  unknown.set_procedure_code("9.999");
  auto refused = engine_->TransitionDossiers(kAdmin, unknown);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("9.999"), std::string::npos);

  auto officer_decision = Archive("x2");
  officer_decision.set_transition("accept");
  refused = engine_->TransitionDossiers(kAdmin, officer_decision);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("accept"), std::string::npos);

  EXPECT_EQ(engine_->TransitionDossiers(kReceiver, Archive("x3")).status().code(),
            absl::StatusCode::kPermissionDenied);
  v1::GetOperationRequest get;
  get.set_name("operations/nope");
  EXPECT_EQ(engine_->GetOperation(kAdmin, get).status().code(), absl::StatusCode::kNotFound);
}

// Jobs: one piece of work by a registered runner (backups use them).
class JobsTest : public EngineTest {
 protected:
  // A runner that counts three steps, each held while `gated_`; stops when
  // told to.
  void SetUp() override {
    engine_options_.jobs["count"] = [this](const Job& job, JobControl& control)
        -> absl::StatusOr<v1::OperationResult> {
      ++runs_;
      v1::TransitionDossiersRequest request;
      if (!request.ParseFromString(job.request)) return absl::DataLossError("bad request");
      last_request_id_ = request.request_id();
      started_by_ = job.started_by;
      for (int step = 1; step <= 3; ++step) {
        while (gated_) {
          if (!control.Report("waiting", step - 1, 3)) {
            return absl::CancelledError("stopped while waiting");
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        if (!control.Report("counting", step, 3)) return absl::CancelledError("stopped");
      }
      v1::OperationResult result;
      result.set_done_items(3);
      return result;
    };
    EngineTest::SetUp();
  }

  absl::StatusOr<v1::Operation> Start(const Principal& who, const std::string& request_id) {
    v1::TransitionDossiersRequest request;
    request.set_request_id(request_id);
    return engine_->StartJob(who, "count", "Count to three", request, request_id);
  }
  v1::Operation Get(const std::string& name) {
    v1::GetOperationRequest r;
    r.set_name(name);
    auto op = engine_->GetOperation(kAdmin, r);
    EXPECT_TRUE(op.ok()) << op.status();
    return op.ok() ? *op : v1::Operation();
  }
  // Waits until the running job shows `stage`.
  void AwaitStage(const std::string& name, const std::string& stage) {
    for (int i = 0; i < 5000 && Get(name).metadata().stage() != stage; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_EQ(Get(name).metadata().stage(), stage);
  }

  std::atomic<int> runs_{0};
  std::atomic<bool> gated_{false};
  std::string last_request_id_;
  std::string started_by_;
};

TEST_F(JobsTest, Runs_ItsResultIsTheResponse_ARetryStartsNothing) {
  auto started = Start(kAdmin, "job-1");
  ASSERT_TRUE(started.ok()) << started.status();
  EXPECT_EQ(started->metadata().kind(), "count");
  EXPECT_EQ(started->metadata().description(), "Count to three");
  v1::Operation done = WaitDone(*engine_, started->name());
  ASSERT_TRUE(done.has_response()) << done.DebugString();
  EXPECT_EQ(done.response().done_items(), 3);
  EXPECT_EQ(done.metadata().stage(), "counting");
  EXPECT_EQ(done.metadata().done_items(), 3);
  EXPECT_EQ(done.metadata().total_items(), 3);
  EXPECT_EQ(last_request_id_, "job-1");
  EXPECT_EQ(started_by_, kAdmin.subject);

  auto retried = Start(kAdmin, "job-1");
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(retried->name(), started->name());
  EXPECT_EQ(runs_, 1);
  EXPECT_EQ(Start(kAuditor, "job-2").status().code(), absl::StatusCode::kPermissionDenied);
  v1::TransitionDossiersRequest request;
  EXPECT_EQ(engine_->StartJob(kAdmin, "no-such-kind", "?", request, "job-3").status().code(),
            absl::StatusCode::kInternal);
}

TEST_F(JobsTest, Cancelled_StopsAtItsNextReport) {
  gated_ = true;
  auto started = Start(kAdmin, "job-1");
  ASSERT_TRUE(started.ok());
  AwaitStage(started->name(), "waiting");
  EXPECT_EQ(Get(started->name()).metadata().total_items(), 3);  // progress is live
  v1::CancelOperationRequest cancel;
  cancel.set_name(started->name());
  ASSERT_TRUE(engine_->CancelOperation(kAdmin, cancel).ok());
  v1::Operation done = WaitDone(*engine_, started->name());
  ASSERT_TRUE(done.has_error()) << done.DebugString();
  EXPECT_EQ(done.error().code(), static_cast<int>(absl::StatusCode::kCancelled));
  EXPECT_EQ(done.error().message(), "stopped while waiting");
  EXPECT_TRUE(done.metadata().cancel_requested());
}

TEST_F(JobsTest, EngineClosedWhileItRuns_EndedAbortedAtOpenNotRunAgain) {
  gated_ = true;
  auto started = Start(kAdmin, "job-1");
  ASSERT_TRUE(started.ok());
  AwaitStage(started->name(), "waiting");
  Reopen();  // the job sees the stop and returns; the next start ends it
  gated_ = false;
  v1::Operation done = Get(started->name());
  ASSERT_TRUE(done.done()) << done.DebugString();
  ASSERT_TRUE(done.has_error()) << done.DebugString();
  EXPECT_EQ(done.error().code(), static_cast<int>(absl::StatusCode::kAborted));
  EXPECT_NE(done.error().message().find("interrupted by a restart"), std::string::npos);
  EXPECT_EQ(runs_, 1);

  // A new start runs; the retried id still names the first operation.
  EXPECT_EQ(Start(kAdmin, "job-1")->name(), started->name());
  auto again = Start(kAdmin, "job-2");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(WaitDone(*engine_, again->name()).has_response());
  EXPECT_EQ(runs_, 2);
}

}  // namespace
}  // namespace motcua::workflow
