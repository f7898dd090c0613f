#include "storage/backup_policy.h"

#include <sys/stat.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/time_util.h"
#include "proto/proto_time.h"
#include "storage/files.h"

namespace motcua::storage {
namespace {

bool Positive(const google::protobuf::Duration& d) { return d.seconds() > 0 || d.nanos() > 0; }

std::string When(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", FromProto(t), absl::UTCTimeZone());
}

std::string MediumName(v1::Medium m) { return v1::Medium_Name(m); }

bool SameDevice(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  return stat(a.c_str(), &sa) == 0 && stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev;
}

}  // namespace

std::string HumanDuration(absl::Duration d) {
  if (d < absl::ZeroDuration()) d = absl::ZeroDuration();
  int64_t s = absl::ToInt64Seconds(d);
  if (s >= 86400) return absl::StrFormat("%d d %d h", s / 86400, (s % 86400) / 3600);
  if (s >= 3600) return absl::StrFormat("%d h %d min", s / 3600, (s % 3600) / 60);
  if (s >= 60) return absl::StrFormat("%d min", s / 60);
  return absl::StrFormat("%d s", s);
}

v1::BackupPolicy DefaultBackupPolicy(const std::string& var_dir) {
  v1::BackupPolicy p;
  p.set_min_copies(3);
  p.set_min_media(2);
  p.set_min_offline_copies(1);
  p.set_live_medium(v1::MEDIUM_LOCAL_DISK);
  auto* b = p.mutable_backup();
  b->set_path(var_dir + "/backup");
  b->set_medium(v1::MEDIUM_SECOND_DISK);
  *b->mutable_every() = ToProto(absl::Hours(1));
  *b->mutable_max_age() = ToProto(absl::Hours(26));
  b->set_keep_last(14);
  auto* o = p.mutable_offline();
  o->set_medium(v1::MEDIUM_REMOVABLE);
  *o->mutable_max_age() = ToProto(absl::Hours(24 * 7));
  o->set_key_file(var_dir + "/keys/offline.key");
  *p.mutable_recovery_time_objective() = ToProto(absl::Hours(24));
  *p.mutable_drill_max_age() = ToProto(absl::Hours(24 * 30));
  p.set_drill_path(var_dir + "/drill");
  return p;
}

absl::Status ValidateBackupPolicy(const v1::BackupPolicy& p) {
  auto bad = [](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("backup policy: ", what));
  };
  if (p.min_copies() < 1) return bad("min_copies must be at least 1");
  if (p.min_media() < 1) return bad("min_media must be at least 1");
  if (p.min_offline_copies() < 0) return bad("min_offline_copies cannot be negative");
  if (p.live_medium() == v1::MEDIUM_UNSPECIFIED) return bad("live_medium is not set");
  if (p.backup().path().empty()) return bad("backup.path is not set");
  if (p.backup().medium() == v1::MEDIUM_UNSPECIFIED) return bad("backup.medium is not set");
  if (!Positive(p.backup().max_age())) return bad("backup.max_age must be positive");
  if (p.backup().keep_last() < 1) return bad("backup.keep_last must be at least 1");
  if (p.offline().medium() == v1::MEDIUM_UNSPECIFIED) return bad("offline.medium is not set");
  if (!Positive(p.offline().max_age())) return bad("offline.max_age must be positive");
  if (p.offline().key_file().empty()) return bad("offline.key_file is not set");
  if (!Positive(p.recovery_time_objective())) return bad("recovery_time_objective must be positive");
  if (!Positive(p.drill_max_age())) return bad("drill_max_age must be positive");
  if (p.drill_path().empty()) return bad("drill_path is not set");
  return absl::OkStatus();
}

const char* CopyName(v1::CopyStatus::Copy copy) {
  switch (copy) {
    case v1::CopyStatus::COPY_LIVE: return "live";
    case v1::CopyStatus::COPY_BACKUP: return "backup";
    case v1::CopyStatus::COPY_OFFLINE: return "offline";
    default: return "unknown";
  }
}

absl::StatusOr<v1::BackupPolicy> LoadBackupPolicy(const std::string& path) {
  auto text = ReadWholeFile(path);
  if (!text.ok()) return text.status();
  v1::BackupPolicy policy;
  if (!google::protobuf::TextFormat::ParseFromString(*text, &policy)) {
    return absl::InvalidArgumentError(absl::StrCat("backup policy ", path,
                                                   " is not a valid text-format BackupPolicy"));
  }
  auto complete = CompleteBackupPolicy(std::move(policy));
  if (!complete.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", complete.status().message()));
  }
  return complete;
}

absl::StatusOr<v1::BackupPolicy> CompleteBackupPolicy(v1::BackupPolicy policy) {
  // The rule itself and the legal limits default to 3-2-1 and 24 h.
  const v1::BackupPolicy rule = DefaultBackupPolicy("");
  if (policy.min_copies() == 0) policy.set_min_copies(rule.min_copies());
  if (policy.min_media() == 0) policy.set_min_media(rule.min_media());
  if (policy.min_offline_copies() == 0) policy.set_min_offline_copies(rule.min_offline_copies());
  if (policy.live_medium() == v1::MEDIUM_UNSPECIFIED) policy.set_live_medium(rule.live_medium());
  if (!policy.has_recovery_time_objective()) {
    *policy.mutable_recovery_time_objective() = rule.recovery_time_objective();
  }
  if (!policy.has_drill_max_age()) *policy.mutable_drill_max_age() = rule.drill_max_age();
  if (absl::Status s = ValidateBackupPolicy(policy); !s.ok()) return s;
  return policy;
}

v1::BackupStatus EvaluateBackupPolicy(const v1::BackupPolicy& policy,
                                      const std::vector<v1::BackupRecord>& records,
                                      const v1::DrillRecord* last_drill, absl::Time now,
                                      const std::string& live_dir) {
  v1::BackupStatus status;
  *status.mutable_policy() = policy;
  *status.mutable_evaluated_at() = ToProto(now);
  auto reason = [&](std::string text) { status.add_reasons(std::move(text)); };

  // Copy 1: the live data.
  v1::CopyStatus* live = status.add_copies();
  live->set_copy(v1::CopyStatus::COPY_LIVE);
  live->set_medium(policy.live_medium());
  live->set_counts(true);

  // Copy 2: the newest backup decides; any retained backup that failed its
  // last verification is a problem of its own.
  const v1::BackupRecord* latest_backup = nullptr;
  const v1::BackupRecord* latest_offline = nullptr;
  for (const auto& r : records) {
    if (r.kind() == v1::BackupRecord::KIND_BACKUP && !r.deleted()) {
      if (latest_backup == nullptr || FromProto(r.created_at()) >= FromProto(latest_backup->created_at())) {
        latest_backup = &r;
      }
      if (!r.verified_ok()) {
        reason(absl::StrCat("copy 2: backup ", r.id(), " failed verification at ", When(r.verified_at()),
                            ": ", r.verification_error()));
      }
    }
    if (r.kind() == v1::BackupRecord::KIND_OFFLINE) {
      if (latest_offline == nullptr || FromProto(r.created_at()) >= FromProto(latest_offline->created_at())) {
        latest_offline = &r;
      }
    }
  }
  auto judge = [&](v1::CopyStatus* c, const v1::BackupRecord* latest, v1::Medium medium,
                   const google::protobuf::Duration& max_age, absl::string_view label) {
    c->set_medium(medium);
    *c->mutable_max_age() = max_age;
    if (latest == nullptr) {
      c->set_reason(absl::StrCat(label, ": none has been made"));
      return;
    }
    *c->mutable_latest() = *latest;
    absl::Duration age = now - FromProto(latest->created_at());
    *c->mutable_age() = ToProto(age);
    if (!latest->verified_ok()) {
      c->set_reason(absl::StrCat(label, " ", latest->id(), " failed verification: ",
                                 latest->verification_error()));
    } else if (age > FromProto(max_age)) {
      c->set_reason(absl::StrCat(label, " ", latest->id(), " is ", HumanDuration(age),
                                 " old; the policy allows ", HumanDuration(FromProto(max_age))));
    } else {
      c->set_counts(true);
    }
  };
  v1::CopyStatus* backup = status.add_copies();
  backup->set_copy(v1::CopyStatus::COPY_BACKUP);
  judge(backup, latest_backup, policy.backup().medium(), policy.backup().max_age(), "copy 2: backup");
  if (!backup->counts() && (latest_backup == nullptr || latest_backup->verified_ok())) {
    reason(backup->reason());
  }
  if (!policy.backup().path().empty() && SameDevice(policy.backup().path(), live_dir)) {
    status.add_warnings(absl::StrCat("copy 2 is declared ", MediumName(policy.backup().medium()),
                                     " but ", policy.backup().path(),
                                     " is on the same device as the live data"));
  }

  v1::CopyStatus* offline = status.add_copies();
  offline->set_copy(v1::CopyStatus::COPY_OFFLINE);
  judge(offline, latest_offline, policy.offline().medium(), policy.offline().max_age(),
        "offline copy");
  if (offline->counts() && latest_offline->custody().detached_by().empty()) {
    offline->set_counts(false);
    offline->set_reason(absl::StrCat("offline copy ", latest_offline->id(),
                                     " is not yet recorded as detached and kept offline "
                                     "(motcua backup confirm-detached)"));
  }
  if (!offline->counts()) reason(offline->reason());

  // The rule itself.
  int copies = 0, offline_copies = 0;
  std::set<int> media;
  for (const auto& c : status.copies()) {
    if (!c.counts()) continue;
    ++copies;
    media.insert(c.medium());
    if (c.copy() == v1::CopyStatus::COPY_OFFLINE) ++offline_copies;
  }
  if (copies < policy.min_copies()) {
    reason(absl::StrCat("only ", copies, " of the ", policy.min_copies(), " required copies are usable"));
  }
  if (static_cast<int>(media.size()) < policy.min_media()) {
    reason(absl::StrCat("usable copies are on ", media.size(), " kind(s) of media; the policy requires ",
                        policy.min_media()));
  }
  if (offline_copies < policy.min_offline_copies() && offline->reason().empty()) {
    reason("no offline copy is usable");
  }

  // Evidence that a restore works and is fast enough.
  if (last_drill == nullptr) {
    reason("no restore drill has been recorded (motcua backup drill)");
  } else {
    *status.mutable_last_drill() = *last_drill;
    absl::Duration age = now - FromProto(last_drill->started_at());
    if (!last_drill->ok()) {
      reason(absl::StrCat("the last restore drill failed: ", last_drill->error()));
    } else if (FromProto(last_drill->took()) > FromProto(policy.recovery_time_objective())) {
      reason(absl::StrCat("the last restore drill took ", HumanDuration(FromProto(last_drill->took())),
                          ", more than the ", HumanDuration(FromProto(policy.recovery_time_objective())),
                          " allowed"));
    } else if (age > FromProto(policy.drill_max_age())) {
      reason(absl::StrCat("the last restore drill is ", HumanDuration(age), " old; the policy wants one every ",
                          HumanDuration(FromProto(policy.drill_max_age()))));
    }
  }
  status.set_compliant(status.reasons().empty());
  return status;
}

}  // namespace motcua::storage
