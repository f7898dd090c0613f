#ifndef MOTCUA_STORAGE_RESTORE_H_
#define MOTCUA_STORAGE_RESTORE_H_

// Restoring a copy into a new data directory, checked before it is handed
// over: the database must be exactly the one the copy recorded (same
// sequence number) and the application must find it whole (the audit-chain
// head recomputes to the recorded one, every document matches its hash).
// Work happens in <target>.restoring and is renamed to <target> only when
// every check passed: on any error nothing is left at <target>.

#include <string>

#include "absl/status/statusor.h"
#include "motcua/v1/backup.pb.h"
#include "storage/offline_copy.h"
#include "storage/store.h"

namespace motcua::storage {

// What the application finds in a store.
struct AppSummary {
  std::string audit_head;
  int64_t dossiers = 0;
  int64_t documents = 0;
};

// The application's view of a store, supplied by workflow/ (storage/ knows
// nothing of dossiers).
class ApplicationCheck {
 public:
  virtual ~ApplicationCheck() = default;
  // Cheap: the audit-chain head as the store records it.
  virtual absl::StatusOr<AppSummary> Summarize(Store& store) = 0;
  // Thorough: recomputes every chain and document hash and starts the
  // application on the store without changing it. DATA_LOSS naming the
  // first problem.
  virtual absl::StatusOr<AppSummary> Verify(Store& store, const Progress& progress) = 0;
};

struct RestoreResult {
  // The copy's record (from its metadata or signed manifest).
  v1::BackupRecord source;
  AppSummary found;
};

// Restores backup `backup_id` (0: the newest) of the copy-2 repository at
// `backup_dir` into `target_dir`.
absl::StatusOr<RestoreResult> RestoreFromBackup(const std::string& backup_dir, uint32_t backup_id,
                                                const std::string& target_dir,
                                                ApplicationCheck& app, const Progress& progress);

// Restores the offline copy at `copy_dir` (decrypting with `key`, after
// checking the manifest's signature with `check`) into `target_dir`.
absl::StatusOr<RestoreResult> RestoreFromOffline(const std::string& copy_dir, absl::string_view key,
                                                 const std::string& target_dir,
                                                 const ManifestCheck& check, ApplicationCheck& app,
                                                 const Progress& progress);

// Store options for a database opened only to be read or checked.
StoreOptions ScratchStoreOptions();

}  // namespace motcua::storage

#endif  // MOTCUA_STORAGE_RESTORE_H_
