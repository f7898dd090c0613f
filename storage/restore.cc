#include "storage/restore.h"

#include <cstdio>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "storage/backup_repository.h"
#include "storage/files.h"

namespace motcua::storage {
namespace {

namespace fs = std::filesystem;

absl::Status CheckTarget(const std::string& target_dir) {
  std::error_code ec;
  if (fs::exists(target_dir, ec) && !fs::is_empty(target_dir, ec)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the target ", target_dir, " exists and is not empty; a restore never overwrites data"));
  }
  return absl::OkStatus();
}

std::string StagingFor(const std::string& target_dir) {
  std::string t = target_dir;
  while (t.size() > 1 && t.back() == '/') t.pop_back();
  return t + ".restoring";
}

// Checks the database materialised at `staging` against `expected`, then
// moves it to `target_dir`.
absl::StatusOr<AppSummary> CheckAndPlace(const std::string& staging, const std::string& target_dir,
                                         const v1::BackupRecord& expected, ApplicationCheck& app,
                                         const Progress& progress) {
  AppSummary found;
  {
    auto store = Store::Open(staging, ScratchStoreOptions());
    if (!store.ok()) return store.status();
    if ((*store)->LatestSequenceNumber() != expected.sequence_number()) {
      return absl::DataLossError(absl::StrCat("the restored database is at sequence ",
                                              (*store)->LatestSequenceNumber(), ", the copy recorded ",
                                              expected.sequence_number()));
    }
    auto verified = app.Verify(**store, progress);
    if (!verified.ok()) return verified.status();
    if (verified->audit_head != expected.audit_head()) {
      return absl::DataLossError(absl::StrCat("the audit chain recomputes to ", verified->audit_head,
                                              ", the copy recorded ", expected.audit_head()));
    }
    found = *verified;
  }
  std::error_code ec;
  fs::remove(target_dir, ec);  // an empty directory may stand there
  if (std::rename(staging.c_str(), target_dir.c_str()) != 0) {
    return ErrnoStatus(errno, "moving the restored data to", target_dir);
  }
  fs::path parent = fs::absolute(target_dir).parent_path();
  if (absl::Status s = SyncPath(parent.string()); !s.ok()) return s;
  return found;
}

template <typename Materialise>
absl::StatusOr<RestoreResult> Restore(const std::string& target_dir, ApplicationCheck& app,
                                      const Progress& progress, Materialise materialise) {
  if (absl::Status s = CheckTarget(target_dir); !s.ok()) return s;
  const std::string staging = StagingFor(target_dir);
  if (absl::Status s = RemoveTree(staging); !s.ok()) return s;
  RestoreResult result;
  absl::Status s = materialise(staging, &result.source);
  if (s.ok()) {
    auto found = CheckAndPlace(staging, target_dir, result.source, app, progress);
    if (found.ok()) {
      result.found = *found;
      return result;
    }
    s = found.status();
  }
  RemoveTree(staging).IgnoreError();
  return s;
}

}  // namespace

StoreOptions ScratchStoreOptions() {
  StoreOptions options;
  options.block_cache_bytes = 32u << 20;
  options.write_buffer_bytes = 8u << 20;
  return options;
}

absl::StatusOr<RestoreResult> RestoreFromBackup(const std::string& backup_dir, uint32_t backup_id,
                                                const std::string& target_dir,
                                                ApplicationCheck& app, const Progress& progress) {
  std::error_code ec;
  if (!fs::is_directory(backup_dir, ec)) {
    return absl::NotFoundError(absl::StrCat("no backups at ", backup_dir));
  }
  return Restore(target_dir, app, progress, [&](const std::string& staging, v1::BackupRecord* source) {
    auto repo = BackupRepository::Open(backup_dir);
    if (!repo.ok()) return repo.status();
    std::vector<BackupEntry> entries = (*repo)->List();
    if (entries.empty()) return absl::NotFoundError(absl::StrCat("no backups at ", backup_dir));
    const BackupEntry* chosen = backup_id == 0 ? &entries.back() : nullptr;
    for (const auto& e : entries) {
      if (e.id == backup_id) chosen = &e;
    }
    std::string ids;
    for (const auto& e : entries) absl::StrAppend(&ids, ids.empty() ? "" : ", ", e.id);
    if (chosen == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("no backup ", backup_id, " at ", backup_dir, " (there are: ", ids, ")"));
    }
    if (!google::protobuf::util::JsonStringToMessage(chosen->metadata, source).ok()) {
      return absl::DataLossError(absl::StrCat("backup ", chosen->id, " has no readable metadata"));
    }
    source->set_id(std::to_string(chosen->id));
    if (!GoOn(progress, "verifying backup checksums", 0, 1)) return Stopped("the restore");
    if (absl::Status s = (*repo)->Verify(chosen->id); !s.ok()) {
      return absl::DataLossError(absl::StrCat(s.message(), "; choose another with --backup-id (there are: ", ids, ")"));
    }
    if (!GoOn(progress, "copying files", 0, 1)) return Stopped("the restore");
    return (*repo)->Restore(chosen->id, staging);
  });
}

absl::StatusOr<RestoreResult> RestoreFromOffline(const std::string& copy_dir, absl::string_view key,
                                                 const std::string& target_dir,
                                                 const ManifestCheck& check, ApplicationCheck& app,
                                                 const Progress& progress) {
  return Restore(target_dir, app, progress, [&](const std::string& staging, v1::BackupRecord* source) {
    auto manifest = ReadOfflineManifest(copy_dir, check);
    if (!manifest.ok()) return manifest.status();
    source->set_kind(v1::BackupRecord::KIND_OFFLINE);
    source->set_id(manifest->id());
    source->set_location(copy_dir);
    *source->mutable_created_at() = manifest->created_at();
    source->set_created_by(manifest->created_by());
    source->set_sequence_number(manifest->sequence_number());
    source->set_audit_head(manifest->audit_head());
    source->set_dossiers(manifest->dossiers());
    source->set_software_version(manifest->software_version());
    return DecryptOfflineCopy(copy_dir, *manifest, key, staging, progress);
  });
}

}  // namespace motcua::storage
