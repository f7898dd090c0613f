#include "storage/backup_repository.h"

#include "absl/strings/str_cat.h"
#include "rocksdb/env.h"
#include "rocksdb/utilities/backup_engine.h"
#include "storage/rocks_internal.h"

namespace motcua::storage {

BackupRepository::BackupRepository(std::string dir, std::unique_ptr<rocksdb::BackupEngine> engine)
    : dir_(std::move(dir)), engine_(std::move(engine)) {}

BackupRepository::~BackupRepository() = default;

absl::StatusOr<std::unique_ptr<BackupRepository>> BackupRepository::Open(const std::string& dir) {
  rocksdb::BackupEngineOptions options(dir);
  options.sync = true;
  options.share_table_files = true;
  options.share_files_with_checksum = true;
  // Two cores serve the clients too; one copying thread leaves them room.
  options.max_background_operations = 1;
  rocksdb::BackupEngine* raw = nullptr;
  rocksdb::IOStatus s = rocksdb::BackupEngine::Open(options, rocksdb::Env::Default(), &raw);
  if (!s.ok()) return FromRocks(s, absl::StrCat("opening the backups at ", dir));
  return std::unique_ptr<BackupRepository>(
      new BackupRepository(dir, std::unique_ptr<rocksdb::BackupEngine>(raw)));
}

absl::StatusOr<uint32_t> BackupRepository::Create(Store& store, const std::string& metadata,
                                                  const std::function<bool()>& go_on) {
  rocksdb::CreateBackupOptions options;
  options.flush_before_backup = true;
  bool stopped = false;
  if (go_on) {
    options.progress_callback = [&] {
      if (!stopped && !go_on()) {
        stopped = true;
        engine_->StopBackup();
      }
    };
  }
  rocksdb::BackupID id = 0;
  rocksdb::IOStatus s =
      engine_->CreateNewBackupWithMetadata(options, RocksDbOf(store), metadata, &id);
  if (s.ok()) return id;  // finished before it saw the stop
  if (stopped) {
    // A stopped engine stays stopped; a fresh one removes what was copied.
    auto fresh = Open(dir_);
    if (!fresh.ok()) return fresh.status();
    engine_ = std::move((*fresh)->engine_);
    if (absl::Status gc = FromRocks(engine_->GarbageCollect(), "cleaning up a cancelled backup");
        !gc.ok()) {
      return gc;
    }
    return absl::CancelledError("the backup was cancelled; nothing of it was kept");
  }
  return FromRocks(s, absl::StrCat("backing up to ", dir_));
}

absl::Status BackupRepository::Verify(uint32_t id) {
  return FromRocks(engine_->VerifyBackup(id, /*verify_with_checksum=*/true),
                   absl::StrCat("backup ", id, " in ", dir_));
}

std::vector<BackupEntry> BackupRepository::List() {
  std::vector<rocksdb::BackupInfo> infos;
  engine_->GetBackupInfo(&infos);
  std::vector<BackupEntry> entries;
  for (const auto& info : infos) {
    entries.push_back({info.backup_id, info.timestamp, info.size, info.app_metadata});
  }
  return entries;
}

absl::Status BackupRepository::Delete(uint32_t id) {
  return FromRocks(engine_->DeleteBackup(id), absl::StrCat("deleting backup ", id));
}

absl::Status BackupRepository::Restore(uint32_t id, const std::string& db_dir) {
  rocksdb::RestoreOptions options;
  return FromRocks(engine_->RestoreDBFromBackup(options, id, db_dir, db_dir),
                   absl::StrCat("restoring backup ", id, " into ", db_dir));
}

}  // namespace motcua::storage
