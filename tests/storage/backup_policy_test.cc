#include "storage/backup_policy.h"

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"

namespace motcua::storage {
namespace {

using ::google::protobuf::util::TimeUtil;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const absl::Time kNow = absl::FromCivil(absl::CivilSecond(2026, 11, 23, 9, 0, 0), absl::UTCTimeZone());

google::protobuf::Timestamp At(absl::Time t) {
  return TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t));
}

v1::BackupRecord Backup(const std::string& id, absl::Duration age, bool ok = true) {
  v1::BackupRecord r;
  r.set_kind(v1::BackupRecord::KIND_BACKUP);
  r.set_id(id);
  *r.mutable_created_at() = At(kNow - age);
  *r.mutable_verified_at() = At(kNow - age);
  r.set_verified_ok(ok);
  if (!ok) r.set_verification_error("Corruption: checksum mismatch in 000012.sst");
  return r;
}

v1::BackupRecord Offline(const std::string& id, absl::Duration age, bool detached = true) {
  v1::BackupRecord r;
  r.set_kind(v1::BackupRecord::KIND_OFFLINE);
  r.set_id(id);
  *r.mutable_created_at() = At(kNow - age);
  r.set_verified_ok(true);
  if (detached) {
    r.mutable_custody()->set_detached_by("Nguyễn Văn An");
    r.mutable_custody()->set_kept_at("Két sắt phòng 203");
  }
  return r;
}

v1::DrillRecord Drill(absl::Duration age, absl::Duration took, bool ok = true) {
  v1::DrillRecord d;
  *d.mutable_started_at() = At(kNow - age);
  *d.mutable_took() = TimeUtil::MicrosecondsToDuration(absl::ToInt64Microseconds(took));
  d.set_ok(ok);
  if (!ok) d.set_error("the audit chain recomputes to 00ab");
  return d;
}

std::string Reasons(const v1::BackupStatus& s) { return absl::StrJoin(s.reasons(), "\n"); }

class PolicyTest : public ::testing::Test {
 protected:
  v1::BackupStatus Evaluate(const std::vector<v1::BackupRecord>& records,
                            const v1::DrillRecord* drill) {
    return EvaluateBackupPolicy(policy_, records, drill, kNow, "/nonexistent-live");
  }
  v1::BackupPolicy policy_ = DefaultBackupPolicy("/nonexistent-var");
  v1::DrillRecord good_drill_ = Drill(absl::Hours(24), absl::Minutes(2));
};

TEST_F(PolicyTest, FreshVerifiedDetachedCopiesAndARecentDrillComply) {
  auto s = Evaluate({Backup("1", absl::Hours(30)), Backup("2", absl::Hours(1)),
                     Offline("o1", absl::Hours(48))},
                    &good_drill_);
  EXPECT_TRUE(s.compliant()) << Reasons(s);
  EXPECT_THAT(s.reasons(), IsEmpty());
  ASSERT_EQ(s.copies_size(), 3);
  EXPECT_EQ(s.copies(1).latest().id(), "2");  // the newest backup decides
  EXPECT_TRUE(s.copies(2).counts());
}

TEST_F(PolicyTest, NothingYetSaysWhatIsMissing) {
  auto s = Evaluate({}, nullptr);
  EXPECT_FALSE(s.compliant());
  EXPECT_THAT(Reasons(s), HasSubstr("copy 2: backup: none has been made"));
  EXPECT_THAT(Reasons(s), HasSubstr("offline copy: none has been made"));
  EXPECT_THAT(Reasons(s), HasSubstr("only 1 of the 3 required copies are usable"));
  EXPECT_THAT(Reasons(s), HasSubstr("usable copies are on 1 kind(s) of media"));
  EXPECT_THAT(Reasons(s), HasSubstr("no restore drill has been recorded"));
}

TEST_F(PolicyTest, StaleBackupDoesNotCount) {
  auto s = Evaluate({Backup("7", absl::Hours(27)), Offline("o1", absl::Hours(1))}, &good_drill_);
  EXPECT_FALSE(s.compliant());
  EXPECT_THAT(Reasons(s), HasSubstr("copy 2: backup 7 is 1 d 3 h old; the policy allows 1 d 2 h"));
}

TEST_F(PolicyTest, AFailedVerificationNamesTheBackupEvenWhenANewerOneIsGood) {
  auto s = Evaluate({Backup("3", absl::Hours(5), /*ok=*/false), Backup("4", absl::Hours(1)),
                     Offline("o1", absl::Hours(1))},
                    &good_drill_);
  EXPECT_FALSE(s.compliant());
  EXPECT_THAT(Reasons(s), HasSubstr("copy 2: backup 3 failed verification"));
  EXPECT_THAT(Reasons(s), HasSubstr("checksum mismatch in 000012.sst"));
  EXPECT_TRUE(s.copies(1).counts());
}

TEST_F(PolicyTest, DeletedBackupsAreHistoryNotProblems) {
  v1::BackupRecord old = Backup("1", absl::Hours(100), /*ok=*/false);
  old.set_deleted(true);
  auto s = Evaluate({old, Backup("2", absl::Hours(1)), Offline("o1", absl::Hours(1))}, &good_drill_);
  EXPECT_TRUE(s.compliant()) << Reasons(s);
}

TEST_F(PolicyTest, OfflineCopyMustBeDetachedAndRecent) {
  auto undetached = Evaluate({Backup("1", absl::Hours(1)), Offline("o2", absl::Hours(1), false)},
                             &good_drill_);
  EXPECT_FALSE(undetached.compliant());
  EXPECT_THAT(Reasons(undetached), HasSubstr("offline copy o2 is not yet recorded as detached"));

  auto stale = Evaluate({Backup("1", absl::Hours(1)), Offline("o1", absl::Hours(24 * 8))},
                        &good_drill_);
  EXPECT_FALSE(stale.compliant());
  EXPECT_THAT(Reasons(stale), HasSubstr("offline copy o1 is 8 d 0 h old; the policy allows 7 d 0 h"));
}

TEST_F(PolicyTest, TwoCopiesOnOneKindOfMediumAreNotTwoMedia) {
  policy_.mutable_backup()->set_medium(v1::MEDIUM_LOCAL_DISK);
  policy_.mutable_offline()->set_medium(v1::MEDIUM_LOCAL_DISK);
  auto s = Evaluate({Backup("1", absl::Hours(1)), Offline("o1", absl::Hours(1))}, &good_drill_);
  EXPECT_FALSE(s.compliant());
  EXPECT_THAT(Reasons(s), HasSubstr("usable copies are on 1 kind(s) of media; the policy requires 2"));
}

TEST_F(PolicyTest, DrillsMustSucceedWithinTheRtoAndBeRecent) {
  const std::vector<v1::BackupRecord> copies = {Backup("1", absl::Hours(1)),
                                                Offline("o1", absl::Hours(1))};
  v1::DrillRecord failed = Drill(absl::Hours(1), absl::Minutes(1), /*ok=*/false);
  EXPECT_THAT(Reasons(Evaluate(copies, &failed)), HasSubstr("the last restore drill failed"));
  v1::DrillRecord slow = Drill(absl::Hours(1), absl::Hours(25));
  EXPECT_THAT(Reasons(Evaluate(copies, &slow)),
              HasSubstr("the last restore drill took 1 d 1 h, more than the 1 d 0 h allowed"));
  v1::DrillRecord old = Drill(absl::Hours(24 * 31), absl::Minutes(1));
  EXPECT_THAT(Reasons(Evaluate(copies, &old)), HasSubstr("the last restore drill is 31 d 0 h old"));
}

TEST(BackupPolicyFileTest, DefaultsTheRuleAndRequiresPathsAndAges) {
  const std::string dir = testing::TempDir();
  const std::string good = dir + "/good.textproto";
  std::ofstream(good) << "backup { path: \"/b\" medium: MEDIUM_SECOND_DISK max_age { seconds: 3600 } keep_last: 2 }\n"
                         "offline { medium: MEDIUM_REMOVABLE max_age { seconds: 60 } key_file: \"/k\" }\n"
                         "drill_path: \"/d\"\n";
  auto policy = LoadBackupPolicy(good);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->min_copies(), 3);
  EXPECT_EQ(policy->min_media(), 2);
  EXPECT_EQ(policy->min_offline_copies(), 1);
  EXPECT_EQ(policy->recovery_time_objective().seconds(), 24 * 3600);
  EXPECT_FALSE(policy->backup().has_every());  // no schedule

  const std::string missing = dir + "/missing.textproto";
  std::ofstream(missing) << "backup { path: \"/b\" medium: MEDIUM_SECOND_DISK keep_last: 2 }\n";
  auto bad = LoadBackupPolicy(missing);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("backup.max_age must be positive"));

  const std::string garbage = dir + "/garbage.textproto";
  std::ofstream(garbage) << "backup { pathh: 1 }\n";
  EXPECT_THAT(LoadBackupPolicy(garbage).status().message(), HasSubstr("not a valid text-format"));
}

}  // namespace
}  // namespace motcua::storage
