#ifndef MOTCUA_STORAGE_BACKUP_MANAGER_H_
#define MOTCUA_STORAGE_BACKUP_MANAGER_H_

// Keeps the 3-2-1 policy for a live store: takes copy-2 backups (on a
// schedule and on request) and verifies them, exports offline copies,
// records their custody, runs timed restore drills, and keeps a catalog of
// all of it in the store itself as evidence. Judges the policy on request.
//
// Every copy is taken from a checkpoint, so it is the database exactly at
// one sequence number, recorded with the audit-chain head at that point.
// One operation runs at a time; a second one is refused with UNAVAILABLE.
// Each takes a Progress, which may stop it (CANCELLED) until what it makes
// is complete: a cancelled backup or export leaves nothing, a cancelled
// drill records nothing; once a copy is made it is kept and recorded.
// Nothing here deletes or rewrites an offline copy; retention deletes
// copy-2 backups only, never while the policy declares a legal hold.

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "motcua/v1/backup.pb.h"
#include "storage/offline_copy.h"
#include "storage/restore.h"
#include "storage/store.h"

namespace motcua::storage {

struct BackupManagerOptions {
  v1::BackupPolicy policy;
  // The live store's directory (checkpoints go beside it, at
  // <live_dir>.checkpoint, on the same file system).
  std::string live_dir;
  std::string software_version;
  ManifestSeal seal;
  ManifestCheck check;
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

class BackupManager {
 public:
  // `live` and `app` must outlive the manager.
  BackupManager(Store* live, ApplicationCheck* app, BackupManagerOptions options);
  ~BackupManager();  // stops the schedule

  // Copy 2: backs up, verifies, applies retention. The record says whether
  // verification passed.
  absl::StatusOr<v1::BackupRecord> RunBackup(const std::string& actor, const Progress& progress);
  // Re-verifies every retained backup, and the offline copy mounted at
  // `offline_dir` if given; records the results.
  absl::StatusOr<std::vector<v1::BackupRecord>> Verify(const std::string& offline_dir,
                                                       const Progress& progress);
  // Copy 3: an encrypted, signed export into `destination`.
  absl::StatusOr<v1::BackupRecord> ExportOffline(const std::string& actor,
                                                 const std::string& destination,
                                                 const Progress& progress);
  // Records who detached offline copy `copy_id` and where it is kept. The
  // same custody again returns the record unchanged; another custody for a
  // copy already confirmed is ALREADY_EXISTS.
  absl::StatusOr<v1::BackupRecord> ConfirmDetached(const std::string& actor,
                                                   const std::string& copy_id,
                                                   const std::string& detached_by,
                                                   const std::string& kept_at);
  // Restores the newest verified backup (or the offline copy at
  // `offline_dir`) into a scratch directory, checks it, times it, deletes
  // it, and records the drill.
  absl::StatusOr<v1::DrillRecord> RunDrill(const std::string& actor, const std::string& offline_dir,
                                           const Progress& progress);

  absl::StatusOr<v1::BackupStatus> Status();
  absl::StatusOr<v1::ListBackupsResponse> List();

  // Takes a backup whenever the newest is older than policy.backup.every
  // (if set). Calls `on_status` (one call at a time) about every minute and
  // after every operation that changes the catalog, and `on_backup` (if set)
  // with the outcome of every backup the schedule takes.
  void StartSchedule(std::function<void(const v1::BackupStatus&)> on_status,
                     std::function<void(const absl::StatusOr<v1::BackupRecord>&)> on_backup = {});

 private:
  absl::StatusOr<v1::BackupRecord> RunBackupLocked(const std::string& actor,
                                                   const Progress& progress);
  // A checkpoint of the live store, beside it, opened, with the record of
  // what it holds. Removed from disk when destroyed.
  struct Snapshot {
    ~Snapshot();
    std::string dir;
    std::unique_ptr<Store> store;
    v1::BackupRecord record;
  };
  absl::StatusOr<std::unique_ptr<Snapshot>> TakeSnapshot(const std::string& actor);
  absl::Status Save(const v1::BackupRecord& record);
  absl::Status SaveDrill(const v1::DrillRecord& drill);
  absl::StatusOr<std::vector<v1::BackupRecord>> LoadRecords();
  absl::StatusOr<std::vector<v1::DrillRecord>> LoadDrills();
  absl::Status ApplyRetention();
  void ScheduleLoop();
  // Judges the policy now and hands the result to on_status_.
  void Publish();

  Store* const live_;
  ApplicationCheck* const app_;
  const BackupManagerOptions options_;

  std::mutex operation_mu_;  // one long operation at a time

  std::mutex publish_mu_;
  std::function<void(const v1::BackupStatus&)> on_status_;  // guarded by publish_mu_
  // Set before the schedule thread starts, read only by it.
  std::function<void(const absl::StatusOr<v1::BackupRecord>&)> on_backup_;

  std::mutex schedule_mu_;
  std::condition_variable schedule_cv_;
  bool stopping_ = false;
  std::thread schedule_thread_;
};

}  // namespace motcua::storage

#endif  // MOTCUA_STORAGE_BACKUP_MANAGER_H_
