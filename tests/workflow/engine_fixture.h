#ifndef MOTCUA_TESTS_WORKFLOW_ENGINE_FIXTURE_H_
#define MOTCUA_TESTS_WORKFLOW_ENGINE_FIXTURE_H_

// The engine driven directly, on a real RocksDB in a temp dir, with a clock
// the tests move.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "storage/store.h"
#include "workflow/engine.h"

namespace motcua::workflow {

using google::protobuf::util::TimeUtil;

inline absl::Time Local(int y, int mo, int d, int h, int mi) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0), WorkCalendar::VietnamTime());
}
inline absl::Time FromProto(const google::protobuf::Timestamp& t) {
  return absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(t));
}

inline const Principal kPortal{"portal.dichvucong", v1::ROLE_PORTAL, "", ""};
inline const Principal kPortal2{"portal.tuyensinh", v1::ROLE_PORTAL, "", ""};
inline const Principal kReceiver{"receiver.hn", v1::ROLE_OFFICER, "HN-SGDDT", "receiving"};
inline const Principal kReceiverB{"receiver-b.hn", v1::ROLE_OFFICER, "HN-SGDDT", "receiving"};
inline const Principal kHead{"head.hn", v1::ROLE_OFFICER, "HN-SGDDT", "head"};
inline const Principal kHeadHp{"head.hp", v1::ROLE_OFFICER, "HP-SGDDT", "head"};
inline const Principal kAuditor{"auditor.thanhtra", v1::ROLE_AUDITOR, "", ""};
inline const Principal kAdmin{"admin.it", v1::ROLE_ADMIN, "", ""};

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/motcua-engine-XXXXXX";
    dir_ = mkdtemp(tmpl);
    Reopen();
  }
  void TearDown() override {
    engine_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen(const storage::StoreOptions& store_options = {}) {
    engine_.reset();
    store_.reset();
    auto store = storage::Store::Open(dir_ + "/db", store_options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    auto engine = Engine::Open(store_.get(), &clock_, &WorkCalendar::Builtin(), engine_options_);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = *std::move(engine);
  }

  v1::SubmitDossierRequest Request(std::string request_id) {
    v1::SubmitDossierRequest r;
    r.set_procedure_code("2.001914");
    r.set_unit_code("HN-SGDDT");
    r.set_channel(v1::CHANNEL_ONLINE);
    r.mutable_applicant()->set_id_number("001203004567");
    r.mutable_applicant()->set_full_name("Nguyễn Thị Lan");
    (*r.mutable_form())["diploma_type"] = "Bằng tốt nghiệp trung học phổ thông";
    (*r.mutable_form())["diploma_serial"] = "B0123456";
    (*r.mutable_form())["graduation_year"] = "2015";
    (*r.mutable_form())["school"] = "THPT Chu Văn An";
    r.set_request_id(std::move(request_id));
    return r;
  }

  v1::Dossier Submit(const std::string& request_id) {
    auto d = engine_->SubmitDossier(kPortal, Request(request_id));
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? *d : v1::Dossier();
  }

  absl::StatusOr<v1::Dossier> Decide(const Principal& who, const v1::Dossier& d,
                                     v1::Decision decision, const std::string& request_id) {
    v1::CompleteTaskRequest r;
    r.set_task_id(d.task().id());
    r.set_expected_version(d.version());
    r.set_decision(decision);
    if (decision == v1::DECISION_REJECT) r.add_reasons("Không có tên trong sổ gốc");
    if (decision == v1::DECISION_REQUEST_SUPPLEMENT) r.add_missing_items("Bản sao CCCD");
    r.set_request_id(request_id);
    return engine_->CompleteTask(who, r);
  }

  // The dossier as the auditor reads it now.
  v1::Dossier Get(const v1::Dossier& d) {
    v1::GetDossierRequest r;
    r.set_code(d.code());
    auto got = engine_->GetDossier(kAuditor, r);
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? *got : v1::Dossier();
  }

  std::vector<v1::HistoryEvent> History(const v1::Dossier& d) {
    v1::GetDossierHistoryRequest r;
    r.set_dossier_code(d.code());
    auto history = engine_->GetDossierHistory(kAuditor, r);
    EXPECT_TRUE(history.ok()) << history.status();
    if (!history.ok()) return {};
    return {history->events().begin(), history->events().end()};
  }

  std::string dir_;
  ManualClock clock_{Local(2026, 3, 2, 9, 0)};  // Monday 09:00
  std::unique_ptr<storage::Store> store_;
  EngineOptions engine_options_;  // for the next Reopen
  std::unique_ptr<Engine> engine_;
};

}  // namespace motcua::workflow

#endif  // MOTCUA_TESTS_WORKFLOW_ENGINE_FIXTURE_H_
