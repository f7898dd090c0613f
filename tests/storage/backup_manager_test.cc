// The backup manager's long operations stopped through their Progress (how
// a cancelled operation reaches them): a stopped backup, export or drill
// leaves nothing half-made and records nothing, and the next one works.

#include "storage/backup_manager.h"

#include <openssl/rand.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/backup_repository.h"

namespace motcua::storage {
namespace {

namespace fs = std::filesystem;

// storage/ knows nothing of dossiers: a store is whatever it holds.
class AnyStore : public ApplicationCheck {
 public:
  absl::StatusOr<AppSummary> Summarize(Store&) override { return AppSummary{"head", 0, 0}; }
  absl::StatusOr<AppSummary> Verify(Store&, const Progress& progress) override {
    if (!GoOn(progress, "checking dossiers", 0, 0)) return Stopped("checking");
    return AppSummary{"head", 0, 0};
  }
};

// Stops the operation at the first report of `stage`, and remembers that it
// got there (a stop never reached would prove nothing).
struct StopAt {
  std::string stage;
  bool reached = false;
  Progress progress() {
    return [this](absl::string_view s, int64_t, int64_t) {
      if (s != stage) return true;
      reached = true;
      return false;
    };
  }
};

std::vector<std::string> Entries(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) names.push_back(e.path().filename());
  return names;
}

class BackupManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(testing::TempDir()) /
            absl::StrCat("backup-manager-",
                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "usb");
    auto store = Store::Open((root_ / "live").string());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    // 12 MiB that do not compress: the backup engine reports progress every
    // 4 MiB it copies, so a stop while copying has somewhere to happen.
    for (int batch = 0; batch < 12; ++batch) {
      WriteSet w;
      for (int i = 0; i < 16; ++i) {
        std::string value(64 << 10, '\0');
        RAND_bytes(reinterpret_cast<unsigned char*>(value.data()), static_cast<int>(value.size()));
        w.Put(Family::kDocuments, absl::StrCat("doc-", batch, "-", i), value);
      }
      ASSERT_TRUE(store_->Commit(w).ok());
    }
    ASSERT_TRUE(EnsureOfflineKey((root_ / "keys" / "offline.key").string()).ok());
    BackupManagerOptions options;
    options.policy.mutable_backup()->set_path((root_ / "backup").string());
    options.policy.mutable_backup()->set_keep_last(3);
    options.policy.mutable_offline()->set_key_file((root_ / "keys" / "offline.key").string());
    options.policy.set_drill_path((root_ / "drill").string());
    options.live_dir = (root_ / "live").string();
    options.software_version = "test";
    options.seal.sign = [](absl::string_view m) -> absl::StatusOr<std::string> {
      return absl::StrCat("sig:", m);
    };
    options.seal.certificate_pem = "CERT";
    options.check = [](absl::string_view m, absl::string_view sig, absl::string_view) {
      return sig == absl::StrCat("sig:", m) ? absl::OkStatus()
                                            : absl::PermissionDeniedError("bad signature");
    };
    manager_ = std::make_unique<BackupManager>(store_.get(), &app_, std::move(options));
  }
  void TearDown() override {
    manager_.reset();
    store_.reset();
    fs::remove_all(root_);
  }

  std::vector<BackupEntry> BackupsOnDisk() {
    auto repo = BackupRepository::Open((root_ / "backup").string());
    EXPECT_TRUE(repo.ok()) << repo.status();
    return repo.ok() ? (*repo)->List() : std::vector<BackupEntry>{};
  }

  fs::path root_;
  AnyStore app_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<BackupManager> manager_;
};

TEST_F(BackupManagerTest, BackupStoppedWhileCopying_LeavesNoBackupAndNoRecord) {
  StopAt stop{"copying files"};
  auto record = manager_->RunBackup("admin", stop.progress());
  ASSERT_TRUE(stop.reached);
  EXPECT_EQ(record.status().code(), absl::StatusCode::kCancelled) << record.status();
  EXPECT_THAT(BackupsOnDisk(), ::testing::IsEmpty());
  EXPECT_THAT(manager_->List()->records(), ::testing::IsEmpty());

  // The repository is as it was: the next backup is whole and verified.
  auto next = manager_->RunBackup("admin", nullptr);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_TRUE(next->verified_ok()) << next->verification_error();
  EXPECT_EQ(BackupsOnDisk().size(), 1u);
}

TEST_F(BackupManagerTest, ExportStoppedWhileEncrypting_LeavesTheMediumEmpty) {
  StopAt stop{"encrypting files"};
  auto record = manager_->ExportOffline("admin", (root_ / "usb").string(), stop.progress());
  ASSERT_TRUE(stop.reached);
  EXPECT_EQ(record.status().code(), absl::StatusCode::kCancelled) << record.status();
  EXPECT_THAT(Entries(root_ / "usb"), ::testing::IsEmpty());  // no copy, no .partial
  EXPECT_THAT(manager_->List()->records(), ::testing::IsEmpty());
}

TEST_F(BackupManagerTest, ExportStoppedOnceWritten_IsKeptAndRecorded) {
  // Checking the copy read back from the medium comes after it is whole.
  StopAt stop{"checking files"};
  auto record = manager_->ExportOffline("admin", (root_ / "usb").string(), stop.progress());
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_TRUE(stop.reached);
  EXPECT_TRUE(record->verified_ok()) << record->verification_error();
  EXPECT_THAT(Entries(root_ / "usb"), ::testing::ElementsAre(record->id()));
  EXPECT_EQ(manager_->List()->records_size(), 1);
}

TEST_F(BackupManagerTest, DrillStopped_RecordsNoDrillAndLeavesNoScratch) {
  ASSERT_TRUE(manager_->RunBackup("admin", nullptr).ok());
  StopAt stop{"copying files"};
  auto drill = manager_->RunDrill("admin", "", stop.progress());
  ASSERT_TRUE(stop.reached);
  EXPECT_EQ(drill.status().code(), absl::StatusCode::kCancelled) << drill.status();
  EXPECT_THAT(manager_->List()->drills(), ::testing::IsEmpty());
  EXPECT_THAT(Entries(root_ / "drill"), ::testing::IsEmpty());

  auto next = manager_->RunDrill("admin", "", nullptr);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_TRUE(next->ok()) << next->error();
  EXPECT_EQ(manager_->List()->drills_size(), 1);
}

}  // namespace
}  // namespace motcua::storage
