#include "storage/offline_copy.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/files.h"

namespace motcua::storage {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// A stand-in seal whose "signature" is a copy of what it signs: enough to
// tell an altered manifest from an intact one here. The server's real key
// is exercised by the integration tests.
std::string FakeSign(absl::string_view manifest) { return absl::StrCat("sig:", manifest); }

class OfflineCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(testing::TempDir()) /
            absl::StrCat("offline-copy-", ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "db");
    fs::create_directories(root_ / "usb");
    std::ofstream(root_ / "db" / "000001.sst") << std::string(3 << 20, 'x') << "tail";
    std::ofstream(root_ / "db" / "CURRENT") << "MANIFEST-000002\n";
    std::ofstream(root_ / "db" / "empty.log");
    ASSERT_TRUE(EnsureOfflineKey((root_ / "key").string()).ok());
    key_ = *LoadOfflineKey((root_ / "key").string());
    seal_.sign = [](absl::string_view m) -> absl::StatusOr<std::string> { return FakeSign(m); };
    seal_.certificate_pem = "CERT";
    check_ = [](absl::string_view m, absl::string_view sig, absl::string_view cert) {
      if (cert != "CERT" || sig != FakeSign(m)) return absl::PermissionDeniedError("bad signature");
      return absl::OkStatus();
    };
    v1::OfflineManifest manifest;
    manifest.set_id("copy-1");
    manifest.set_sequence_number(42);
    manifest.set_audit_head("ab");
    auto written = WriteOfflineCopy((root_ / "db").string(), (root_ / "usb").string(), key_, manifest,
                                    seal_, nullptr);
    ASSERT_TRUE(written.ok()) << written.status();
    copy_ = (root_ / "usb" / "copy-1").string();
  }

  fs::path root_;
  std::string key_;
  ManifestSeal seal_;
  ManifestCheck check_;
  std::string copy_;
};

TEST_F(OfflineCopyTest, RoundTripGivesBackTheSameBytes) {
  auto manifest = ReadOfflineManifest(copy_, check_);
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  EXPECT_EQ(manifest->sequence_number(), 42u);
  EXPECT_EQ(manifest->files_size(), 3);
  EXPECT_TRUE(CheckOfflineFiles(copy_, *manifest, nullptr).ok());
  // Encrypted on the medium: the plaintext does not appear.
  auto on_medium = ReadWholeFile(copy_ + "/files/CURRENT");
  ASSERT_TRUE(on_medium.ok());
  EXPECT_EQ(on_medium->find("MANIFEST"), std::string::npos);

  const std::string target = (root_ / "restored").string();
  ASSERT_TRUE(DecryptOfflineCopy(copy_, *manifest, key_, target, nullptr).ok());
  for (const char* name : {"000001.sst", "CURRENT", "empty.log"}) {
    EXPECT_EQ(*ReadWholeFile(target + "/" + name), *ReadWholeFile((root_ / "db" / name).string()))
        << name;
  }
}

TEST_F(OfflineCopyTest, NeverOverwritesAnExistingCopy) {
  v1::OfflineManifest again;
  again.set_id("copy-1");
  auto second = WriteOfflineCopy((root_ / "db").string(), (root_ / "usb").string(), key_, again,
                                 seal_, nullptr);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(OfflineCopyTest, WrongKeyIsNamedAndLeavesNothing) {
  auto manifest = ReadOfflineManifest(copy_, check_);
  ASSERT_TRUE(manifest.ok());
  const std::string target = (root_ / "restored").string();
  absl::Status s = DecryptOfflineCopy(copy_, *manifest, std::string(32, 'k'), target, nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("wrong key"));
  EXPECT_FALSE(fs::exists(target));
}

TEST_F(OfflineCopyTest, AlteredCiphertextIsCaughtWithAndWithoutTheKey) {
  auto manifest = ReadOfflineManifest(copy_, check_);
  ASSERT_TRUE(manifest.ok());
  {
    std::fstream f(copy_ + "/files/000001.sst", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(1 << 20);
    f.put('\x7f');
  }
  absl::Status check = CheckOfflineFiles(copy_, *manifest, nullptr);
  EXPECT_EQ(check.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(check.message(), HasSubstr("000001.sst"));
  const std::string target = (root_ / "restored").string();
  absl::Status s = DecryptOfflineCopy(copy_, *manifest, key_, target, nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("does not decrypt"));
  EXPECT_FALSE(fs::exists(target));
}

TEST_F(OfflineCopyTest, AFileSwappedUnderAnotherNameDoesNotDecrypt) {
  auto manifest = ReadOfflineManifest(copy_, check_);
  ASSERT_TRUE(manifest.ok());
  // Same size needed to pass the size check: swap two equal-length names.
  fs::copy_file(copy_ + "/files/empty.log", copy_ + "/files/CURRENT.swap");
  v1::OfflineManifest edited = *manifest;
  for (auto& f : *edited.mutable_files()) {
    if (f.name() == "empty.log") f.set_name("CURRENT.swap");
  }
  absl::Status s = DecryptOfflineCopy(copy_, edited, key_, (root_ / "restored").string(), nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
}

TEST_F(OfflineCopyTest, AlteredManifestIsNotAuthentic) {
  std::string json = *ReadWholeFile(copy_ + "/manifest.json");
  json.replace(json.find("42"), 2, "43");
  ASSERT_TRUE(WriteWholeFile(copy_ + "/manifest.json", json).ok());
  auto manifest = ReadOfflineManifest(copy_, check_);
  EXPECT_EQ(manifest.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(manifest.status().message(), HasSubstr("not authentic"));
}

TEST_F(OfflineCopyTest, KeyFileMustHoldSixtyFourHexDigits) {
  ASSERT_TRUE(WriteWholeFile((root_ / "short.key").string(), "abcd\n").ok());
  auto key = LoadOfflineKey((root_ / "short.key").string());
  EXPECT_EQ(key.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(LoadOfflineKey((root_ / "none.key").string()).status().message(),
              HasSubstr("openssl rand -hex 32"));
}

}  // namespace
}  // namespace motcua::storage
