#ifndef MOTCUA_STORAGE_BACKUP_REPOSITORY_H_
#define MOTCUA_STORAGE_BACKUP_REPOSITORY_H_

// Copy 2 of the 3-2-1 rule: RocksDB BackupEngine snapshots in a directory of
// their own (meant to be on a second disk). Files shared between backups
// are stored once. Each backup carries application metadata given by the
// caller. Not thread-safe: one operation at a time.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/store.h"

namespace rocksdb {
class BackupEngine;
}

namespace motcua::storage {

struct BackupEntry {
  uint32_t id = 0;
  int64_t created_unix_seconds = 0;
  uint64_t size_bytes = 0;
  std::string metadata;
};

class BackupRepository {
 public:
  // Opens (creating if needed) the repository at `dir`.
  static absl::StatusOr<std::unique_ptr<BackupRepository>> Open(const std::string& dir);
  ~BackupRepository();

  // Backs up all of `store` with `metadata`; returns the new backup's id.
  // `go_on` is called now and then while files are copied; once it returns
  // false the backup stops, its files are removed, and CANCELLED returned.
  absl::StatusOr<uint32_t> Create(Store& store, const std::string& metadata,
                                  const std::function<bool()>& go_on);

  // Re-reads every file of backup `id` and compares sizes and checksums
  // with those recorded when it was made (RocksDB 7.8 can miss corruption
  // while backing up, so this runs after every backup). DATA_LOSS naming
  // the file when they differ.
  absl::Status Verify(uint32_t id);

  // All backups, oldest first.
  std::vector<BackupEntry> List();

  absl::Status Delete(uint32_t id);

  // Restores backup `id` into `db_dir`, which must be empty or absent.
  absl::Status Restore(uint32_t id, const std::string& db_dir);

 private:
  BackupRepository(std::string dir, std::unique_ptr<rocksdb::BackupEngine> engine);
  std::string dir_;
  std::unique_ptr<rocksdb::BackupEngine> engine_;
};

}  // namespace motcua::storage

#endif  // MOTCUA_STORAGE_BACKUP_REPOSITORY_H_
