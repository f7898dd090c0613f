#ifndef MOTCUA_STORAGE_BACKUP_POLICY_H_
#define MOTCUA_STORAGE_BACKUP_POLICY_H_

// The 3-2-1 policy: loading it, and judging the copies the engine has
// against it. Judging is a pure function of the policy, the catalog and the
// time, so it can be tested without waiting for anything to grow old.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "motcua/v1/backup.pb.h"

namespace motcua::storage {

// The development default: everything under `var_dir` (copy 2 in
// <var>/backup, the offline key in <var>/keys, drills in <var>/drill);
// hourly backups kept 26 h, offline copy at most 7 days old, drills at most
// 30 days old, RTO 24 h.
v1::BackupPolicy DefaultBackupPolicy(const std::string& var_dir);

// Reads a text-format BackupPolicy. The rule (3 copies, 2 media, 1
// offline, on MEDIUM_LOCAL_DISK live) and the limits (RTO 24 h, a drill every 30
// days) default when left out; paths, media and ages must be given.
// backup.every zero or absent: no schedule. INVALID_ARGUMENT naming the
// problem.
absl::StatusOr<v1::BackupPolicy> LoadBackupPolicy(const std::string& path);

// `policy` with the rule and the limits filled in where left out (as
// LoadBackupPolicy does), then validated.
absl::StatusOr<v1::BackupPolicy> CompleteBackupPolicy(v1::BackupPolicy policy);

// INVALID_ARGUMENT naming the first field that makes no sense.
absl::Status ValidateBackupPolicy(const v1::BackupPolicy& policy);

// Judges `records` (the whole catalog) and the latest drill against
// `policy` at `now`. `live_dir` is used to warn when copy 2 shares the live
// data's device.
v1::BackupStatus EvaluateBackupPolicy(const v1::BackupPolicy& policy,
                                      const std::vector<v1::BackupRecord>& records,
                                      const v1::DrillRecord* last_drill, absl::Time now,
                                      const std::string& live_dir);

// "live", "backup", "offline": the copy's name for people and metric labels.
const char* CopyName(v1::CopyStatus::Copy copy);

// "3 d 4 h", "25 min", "12 s": for people.
std::string HumanDuration(absl::Duration d);

}  // namespace motcua::storage

#endif  // MOTCUA_STORAGE_BACKUP_POLICY_H_
