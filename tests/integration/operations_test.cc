// Long-running operations on the real server: an operation over thousands
// of dossiers killed (kill -9) three times at random points finishes with
// every item done exactly once; one cancelled halfway leaves each dossier
// moved once or untouched. Test size here (MOTCUA_OPERATION_TEST_COUNT for
// the 20,000-dossier run).

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"
#include "motcua/v1/operations.grpc.pb.h"
#include "tests/integration/fixtures.h"

namespace motcua::itest {
namespace {

constexpr char kArchivable[] = R"pb(
  code: "T.200" name: "Thủ tục lưu trữ" initial_state: "open"
  time_limit { working_days: 5 }
  states { id: "open" title: "Đang mở" national_status: 1 task_title: "Tiếp nhận" }
  states { id: "archived" title: "Lưu trữ" national_status: 10 terminal: true }
  transitions { id: "accept" from_state: "open" to_state: "archived"
                trigger: TRIGGER_APPROVE role: ROLE_OFFICER position: "receiving" }
  transitions { id: "archive" from_state: "open" to_state: "archived" trigger: TRIGGER_SYSTEM }
)pb";

int DossierCount() {
  const char* env = std::getenv("MOTCUA_OPERATION_TEST_COUNT");
  return env != nullptr ? std::atoi(env) : 8000;
}

class OperationKillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = ServerProcess::Start();
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
    v1::DeployProcedureRequest deploy;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(kArchivable,
                                                               deploy.mutable_definition()));
    deploy.set_request_id(NewRequestId());
    ASSERT_RPC_OK(server_->As("admin").Deploy(deploy));
    codes_.resize(DossierCount());
    std::atomic<int> failures{0};
    ParallelFor(static_cast<int>(codes_.size()), 8, [&](int i) {
      v1::SubmitDossierRequest request = ValidSubmission();
      request.set_procedure_code("T.200");
      request.clear_form();
      Reply<v1::Dossier> d = server_->As("portal").Submit(request);
      if (!d.ok()) ++failures;
      codes_[i] = d.value.code();
    });
    ASSERT_EQ(failures.load(), 0);
  }

  grpc::Status Call(const std::function<grpc::Status(v1::OperationService::Stub&,
                                                     grpc::ClientContext&)>& call) {
    auto stub = v1::OperationService::NewStub(server_->Channel("admin"));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(90));
    return call(*stub, context);
  }

  v1::Operation Start() {
    v1::TransitionDossiersRequest request;
    request.set_procedure_code("T.200");
    request.set_transition("archive");
    request.set_request_id(NewRequestId());
    v1::Operation op;
    grpc::ClientContext context;
    grpc::Status s = server_->As("admin").dossiers().TransitionDossiers(&context, request, &op);
    EXPECT_TRUE(s.ok()) << Describe(s);
    return op;
  }

  v1::Operation Get(const std::string& name) {
    v1::GetOperationRequest request;
    request.set_name(name);
    v1::Operation op;
    grpc::Status s = Call([&](auto& stub, auto& context) {
      return stub.GetOperation(&context, request, &op);
    });
    EXPECT_TRUE(s.ok()) << Describe(s);
    return op;
  }

  // How many "archive" events each dossier's history holds.
  std::vector<int> Archives() {
    std::vector<int> counts(codes_.size(), -1);
    ParallelFor(static_cast<int>(codes_.size()), 8, [&](int i) {
      Reply<v1::GetDossierHistoryResponse> h = server_->As("auditor").History(codes_[i]);
      if (!h.ok()) return;
      counts[i] = 0;
      for (const auto& e : h.value.events()) counts[i] += e.action() == "archive";
    });
    return counts;
  }

  std::unique_ptr<ServerProcess> server_;
  std::vector<std::string> codes_;
};

TEST_F(OperationKillTest, KilledThreeTimesAtRandomPoints_EveryItemDoneExactlyOnce) {
  const v1::Operation started = Start();
  ASSERT_FALSE(started.name().empty());
  std::mt19937 random(std::random_device{}());
  int64_t done_before = 0;
  for (int kill = 0; kill < 3; ++kill) {
    // A random moment after more items were done.
    std::this_thread::sleep_for(std::chrono::milliseconds(random() % 40));
    v1::Operation op = Get(started.name());
    for (int i = 0; i < 2000 && op.metadata().done_items() <= done_before && !op.done(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      op = Get(started.name());
    }
    ASSERT_FALSE(op.done()) << "finished before kill " << kill << "; raise the count";
    done_before = op.metadata().done_items();
    ASSERT_TRUE(server_->Kill().ok());
    ASSERT_TRUE(server_->Restart().ok());
  }
  v1::Operation done = AwaitOperation(*server_, started.name());
  ASSERT_TRUE(done.done());
  ASSERT_TRUE(done.has_response()) << done.DebugString();
  EXPECT_EQ(done.response().done_items(), static_cast<int64_t>(codes_.size()));
  EXPECT_EQ(done.response().skipped_items(), 0);
  std::vector<int> archives = Archives();
  for (size_t i = 0; i < codes_.size(); ++i) {
    ASSERT_EQ(archives[i], 1) << codes_[i];
  }
}

TEST_F(OperationKillTest, CancelledHalfway_EachDossierMovedOnceOrUntouched) {
  const v1::Operation started = Start();
  v1::Operation op = Get(started.name());
  for (int i = 0; i < 5000 && op.metadata().done_items() < static_cast<int64_t>(codes_.size() / 3);
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    op = Get(started.name());
  }
  v1::CancelOperationRequest cancel;
  cancel.set_name(started.name());
  v1::Operation cancelled;
  grpc::Status s = Call([&](auto& stub, auto& context) {
    return stub.CancelOperation(&context, cancel, &cancelled);
  });
  ASSERT_TRUE(s.ok()) << Describe(s);
  v1::Operation done = AwaitOperation(*server_, started.name());
  ASSERT_TRUE(done.has_error()) << done.DebugString();
  EXPECT_EQ(done.error().code(), grpc::StatusCode::CANCELLED);
  std::vector<int> archives = Archives();
  int moved = 0;
  for (size_t i = 0; i < codes_.size(); ++i) {
    ASSERT_GE(archives[i], 0) << codes_[i];
    ASSERT_LE(archives[i], 1) << codes_[i];
    moved += archives[i];
  }
  EXPECT_EQ(moved, done.metadata().done_items());
  EXPECT_GT(moved, 0);
  EXPECT_LT(moved, static_cast<int>(codes_.size())) << "finished before the cancel";
}

}  // namespace
}  // namespace motcua::itest
