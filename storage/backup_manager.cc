#include "storage/backup_manager.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "proto/proto_time.h"
#include "storage/backup_policy.h"
#include "storage/backup_repository.h"
#include "storage/files.h"

namespace motcua::storage {
namespace {

namespace fs = std::filesystem;
using google::protobuf::util::TimeUtil;

constexpr char kRecordPrefix[] = "record";
constexpr char kDrillPrefix[] = "drill";


std::string RecordKey(const v1::BackupRecord& r) {
  return JoinKey({kRecordPrefix, OrderedUint64(TimeUtil::TimestampToMicroseconds(r.created_at())),
                  v1::BackupRecord::Kind_Name(r.kind()), r.id()});
}

std::string ToJson(const google::protobuf::Message& m) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &json, options);
  return json;
}

// Runs `publish` when the operation's scope ends, after its lock is
// released (declare it before the lock).
class PublishWhenDone {
 public:
  explicit PublishWhenDone(std::function<void()> publish) : publish_(std::move(publish)) {}
  ~PublishWhenDone() { publish_(); }
  PublishWhenDone(const PublishWhenDone&) = delete;
  PublishWhenDone& operator=(const PublishWhenDone&) = delete;

 private:
  std::function<void()> publish_;
};

absl::Status Busy() {
  return absl::UnavailableError(
      "another backup operation is running; try again when it has finished");
}

}  // namespace

BackupManager::BackupManager(Store* live, ApplicationCheck* app, BackupManagerOptions options)
    : live_(live), app_(app), options_(std::move(options)) {}

BackupManager::~BackupManager() {
  {
    std::lock_guard<std::mutex> lock(schedule_mu_);
    stopping_ = true;
  }
  schedule_cv_.notify_all();
  if (schedule_thread_.joinable()) schedule_thread_.join();
}

absl::Status BackupManager::Save(const v1::BackupRecord& record) {
  WriteSet w;
  w.Put(Family::kBackups, RecordKey(record), record.SerializeAsString());
  return live_->Commit(w);
}

absl::Status BackupManager::SaveDrill(const v1::DrillRecord& drill) {
  WriteSet w;
  w.Put(Family::kBackups,
        JoinKey({kDrillPrefix, OrderedUint64(TimeUtil::TimestampToMicroseconds(drill.started_at()))}),
        drill.SerializeAsString());
  return live_->Commit(w);
}

absl::StatusOr<std::vector<v1::BackupRecord>> BackupManager::LoadRecords() {
  std::vector<v1::BackupRecord> records;
  bool parsed = true;
  absl::Status s = live_->Scan(Family::kBackups, JoinKey({kRecordPrefix, ""}), "", false,
                               [&](absl::string_view, absl::string_view value) {
                                 parsed = records.emplace_back().ParseFromArray(value.data(), value.size());
                                 return parsed;
                               });
  if (!s.ok()) return s;
  if (!parsed) return absl::DataLossError("the backup catalog holds an unreadable record");
  return records;
}

absl::StatusOr<std::vector<v1::DrillRecord>> BackupManager::LoadDrills() {
  std::vector<v1::DrillRecord> drills;
  bool parsed = true;
  absl::Status s = live_->Scan(Family::kBackups, JoinKey({kDrillPrefix, ""}), "", false,
                               [&](absl::string_view, absl::string_view value) {
                                 parsed = drills.emplace_back().ParseFromArray(value.data(), value.size());
                                 return parsed;
                               });
  if (!s.ok()) return s;
  if (!parsed) return absl::DataLossError("the backup catalog holds an unreadable drill record");
  return drills;
}

absl::StatusOr<std::unique_ptr<BackupManager::Snapshot>> BackupManager::TakeSnapshot(
    const std::string& actor) {
  auto snapshot = std::make_unique<Snapshot>();
  std::string base = options_.live_dir;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  snapshot->dir = base + ".checkpoint";
  if (absl::Status s = RemoveTree(snapshot->dir); !s.ok()) return s;
  if (absl::Status s = live_->Checkpoint(snapshot->dir); !s.ok()) return s;
  auto store = Store::Open(snapshot->dir, ScratchStoreOptions());
  if (!store.ok()) return store.status();
  snapshot->store = *std::move(store);
  auto summary = app_->Summarize(*snapshot->store);
  if (!summary.ok()) return summary.status();
  v1::BackupRecord& record = snapshot->record;
  *record.mutable_created_at() = ToProto(options_.now());
  record.set_sequence_number(snapshot->store->LatestSequenceNumber());
  record.set_audit_head(summary->audit_head);
  record.set_dossiers(summary->dossiers);
  record.set_software_version(options_.software_version);
  record.set_created_by(actor);
  return snapshot;
}

BackupManager::Snapshot::~Snapshot() {
  store.reset();
  if (!dir.empty()) RemoveTree(dir).IgnoreError();
}

absl::StatusOr<v1::BackupRecord> BackupManager::RunBackup(const std::string& actor,
                                                          const Progress& progress) {
  PublishWhenDone publish([this] { Publish(); });
  std::unique_lock<std::mutex> lock(operation_mu_, std::try_to_lock);
  if (!lock.owns_lock()) return Busy();
  return RunBackupLocked(actor, progress);
}

absl::StatusOr<v1::BackupRecord> BackupManager::RunBackupLocked(const std::string& actor,
                                                                const Progress& progress) {
  if (!GoOn(progress, "checkpoint", 0, 1)) return Stopped("the backup");
  auto snapshot = TakeSnapshot(actor);
  if (!snapshot.ok()) return snapshot.status();
  v1::BackupRecord* record = &(*snapshot)->record;
  record->set_kind(v1::BackupRecord::KIND_BACKUP);
  record->set_location(options_.policy.backup().path());
  auto repo = BackupRepository::Open(options_.policy.backup().path());
  if (!repo.ok()) return repo.status();
  int64_t ticks = 0;
  absl::StatusOr<uint32_t> id = (*repo)->Create(*(*snapshot)->store, ToJson(*record), [&] {
    return GoOn(progress, "copying files", ++ticks, 0);
  });
  if (!id.ok()) return id.status();
  record->set_id(std::to_string(*id));
  for (const auto& entry : (*repo)->List()) {
    if (entry.id == *id) record->set_size_bytes(static_cast<int64_t>(entry.size_bytes));
  }
  repo->reset();

  // Verify with a freshly opened repository, against the checksums recorded
  // on disk rather than those held in memory while copying.
  // Made: from here on it is kept, whatever progress says.
  GoOn(progress, "verifying checksums", 0, 1);
  auto fresh = BackupRepository::Open(options_.policy.backup().path());
  absl::Status verified = fresh.ok() ? (*fresh)->Verify(*id) : fresh.status();
  *record->mutable_verified_at() = ToProto(options_.now());
  record->set_verified_ok(verified.ok());
  record->set_verification_error(std::string(verified.message()));
  if (absl::Status s = Save(*record); !s.ok()) return s;
  if (verified.ok()) {
    if (absl::Status s = ApplyRetention(); !s.ok()) return s;
  }
  GoOn(progress, "done", 1, 1);
  return *record;
}

absl::Status BackupManager::ApplyRetention() {
  if (options_.policy.legal_hold()) return absl::OkStatus();
  auto records = LoadRecords();
  if (!records.ok()) return records.status();
  std::vector<v1::BackupRecord*> good;  // oldest first (catalog order)
  for (auto& r : *records) {
    if (r.kind() == v1::BackupRecord::KIND_BACKUP && !r.deleted() && r.verified_ok()) good.push_back(&r);
  }
  const size_t keep = static_cast<size_t>(options_.policy.backup().keep_last());
  if (good.size() <= keep) return absl::OkStatus();
  auto repo = BackupRepository::Open(options_.policy.backup().path());
  if (!repo.ok()) return repo.status();
  for (size_t i = 0; i + keep < good.size(); ++i) {
    uint32_t id = static_cast<uint32_t>(std::stoul(good[i]->id()));
    if (absl::Status s = (*repo)->Delete(id); !s.ok()) return s;
    good[i]->set_deleted(true);
    if (absl::Status s = Save(*good[i]); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::BackupRecord>> BackupManager::Verify(const std::string& offline_dir,
                                                                    const Progress& progress) {
  PublishWhenDone publish([this] { Publish(); });
  std::unique_lock<std::mutex> lock(operation_mu_, std::try_to_lock);
  if (!lock.owns_lock()) return Busy();
  auto records = LoadRecords();
  if (!records.ok()) return records.status();
  std::vector<v1::BackupRecord> checked;
  auto repo = BackupRepository::Open(options_.policy.backup().path());
  if (!repo.ok()) return repo.status();
  int64_t total = 0, done = 0;
  for (const auto& r : *records) total += r.kind() == v1::BackupRecord::KIND_BACKUP && !r.deleted();
  for (auto& r : *records) {
    if (r.kind() != v1::BackupRecord::KIND_BACKUP || r.deleted()) continue;
    absl::Status s = (*repo)->Verify(static_cast<uint32_t>(std::stoul(r.id())));
    *r.mutable_verified_at() = ToProto(options_.now());
    r.set_verified_ok(s.ok());
    r.set_verification_error(std::string(s.message()));
    if (absl::Status saved = Save(r); !saved.ok()) return saved;
    checked.push_back(r);
    if (!GoOn(progress, "verifying backups", ++done, total)) {
      return absl::CancelledError(absl::StrCat("verifying backups was cancelled after ", done,
                                               " of ", total, "; those checked are recorded"));
    }
  }
  if (!offline_dir.empty()) {
    auto manifest = ReadOfflineManifest(offline_dir, options_.check);
    std::string id = manifest.ok() ? manifest->id() : fs::path(offline_dir).filename().string();
    v1::BackupRecord* record = nullptr;
    for (auto& r : *records) {
      if (r.kind() == v1::BackupRecord::KIND_OFFLINE && r.id() == id) record = &r;
    }
    if (record == nullptr) {
      return absl::NotFoundError(absl::StrCat("offline copy ", id, " at ", offline_dir,
                                              " is not in this server's catalog"));
    }
    absl::Status s = manifest.ok() ? CheckOfflineFiles(offline_dir, *manifest, progress)
                                   : manifest.status();
    if (absl::IsCancelled(s)) return s;
    *record->mutable_verified_at() = ToProto(options_.now());
    record->set_verified_ok(s.ok());
    record->set_verification_error(std::string(s.message()));
    if (absl::Status saved = Save(*record); !saved.ok()) return saved;
    checked.push_back(*record);
  }
  return checked;
}

absl::StatusOr<v1::BackupRecord> BackupManager::ExportOffline(const std::string& actor,
                                                              const std::string& destination,
                                                              const Progress& progress) {
  PublishWhenDone publish([this] { Publish(); });
  std::unique_lock<std::mutex> lock(operation_mu_, std::try_to_lock);
  if (!lock.owns_lock()) return Busy();
  const std::string& key_file = options_.policy.offline().key_file();
  if (IsUnder(key_file, destination) || IsUnder(key_file, options_.live_dir) ||
      IsUnder(key_file, options_.policy.backup().path())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the offline-copy key ", key_file,
        " must not be stored beside the data or on the medium it protects"));
  }
  auto key = LoadOfflineKey(key_file);
  if (!key.ok()) return key.status();

  if (!GoOn(progress, "checkpoint", 0, 1)) return Stopped("the export");
  auto snapshot = TakeSnapshot(actor);
  if (!snapshot.ok()) return snapshot.status();
  // Closed, so the files on disk are complete and stay as they are.
  (*snapshot)->store.reset();
  v1::BackupRecord* record = &(*snapshot)->record;
  record->set_kind(v1::BackupRecord::KIND_OFFLINE);
  record->set_id(absl::StrCat(
      "motcua-offline-",
      absl::FormatTime("%Y%m%dT%H%M%SZ", FromProto(record->created_at()), absl::UTCTimeZone()),
      "-s", record->sequence_number()));
  v1::OfflineManifest manifest;
  manifest.set_id(record->id());
  *manifest.mutable_created_at() = record->created_at();
  manifest.set_created_by(actor);
  manifest.set_software_version(options_.software_version);
  manifest.set_sequence_number(record->sequence_number());
  manifest.set_audit_head(record->audit_head());
  manifest.set_dossiers(record->dossiers());
  auto written = WriteOfflineCopy((*snapshot)->dir, destination, *key, manifest, options_.seal, progress);
  if (!written.ok()) return written.status();

  const std::string copy_dir = (fs::path(destination) / record->id()).string();
  record->set_location(copy_dir);
  record->set_size_bytes(TreeSize(copy_dir));
  // Read back from the medium: what was written is what counts.
  auto reread = ReadOfflineManifest(copy_dir, options_.check);
  // Written: from here on it is kept, whatever progress says.
  const Progress no_stop = [&](absl::string_view stage, int64_t done, int64_t total) {
    GoOn(progress, stage, done, total);
    return true;
  };
  absl::Status verified =
      reread.ok() ? CheckOfflineFiles(copy_dir, *reread, no_stop) : reread.status();
  *record->mutable_verified_at() = ToProto(options_.now());
  record->set_verified_ok(verified.ok());
  record->set_verification_error(std::string(verified.message()));
  if (absl::Status s = Save(*record); !s.ok()) return s;
  GoOn(progress, "done", 1, 1);
  return *record;
}

absl::StatusOr<v1::BackupRecord> BackupManager::ConfirmDetached(const std::string& actor,
                                                                const std::string& copy_id,
                                                                const std::string& detached_by,
                                                                const std::string& kept_at) {
  if (detached_by.empty() || kept_at.empty()) {
    return absl::InvalidArgumentError("say who detached the copy (detached_by) and where it is kept (kept_at)");
  }
  PublishWhenDone publish([this] { Publish(); });
  std::lock_guard<std::mutex> lock(operation_mu_);
  auto records = LoadRecords();
  if (!records.ok()) return records.status();
  for (auto& r : *records) {
    if (r.kind() != v1::BackupRecord::KIND_OFFLINE || r.id() != copy_id) continue;
    if (r.custody().detached_by() == detached_by && r.custody().kept_at() == kept_at) {
      return r;  // a retry: recorded already
    }
    if (!r.custody().detached_by().empty()) {
      return absl::AlreadyExistsError(absl::StrCat("custody of ", copy_id, " was already recorded by ",
                                                   r.custody().recorded_by()));
    }
    auto* custody = r.mutable_custody();
    custody->set_detached_by(detached_by);
    custody->set_kept_at(kept_at);
    *custody->mutable_recorded_at() = ToProto(options_.now());
    custody->set_recorded_by(actor);
    if (absl::Status s = Save(r); !s.ok()) return s;
    return r;
  }
  return absl::NotFoundError(absl::StrCat("no offline copy ", copy_id, " in the catalog"));
}

absl::StatusOr<v1::DrillRecord> BackupManager::RunDrill(const std::string& actor,
                                                        const std::string& offline_dir,
                                                        const Progress& progress) {
  PublishWhenDone publish([this] { Publish(); });
  std::unique_lock<std::mutex> lock(operation_mu_, std::try_to_lock);
  if (!lock.owns_lock()) return Busy();
  v1::DrillRecord drill;
  drill.set_run_by(actor);
  const absl::Time started = options_.now();
  *drill.mutable_started_at() = ToProto(started);
  const std::string scratch =
      (fs::path(options_.policy.drill_path()) /
       absl::StrCat("drill-", absl::FormatTime("%Y%m%dT%H%M%SZ", started, absl::UTCTimeZone())))
          .string();
  std::error_code ec;
  fs::create_directories(options_.policy.drill_path(), ec);
  if (ec) return ErrnoStatus(ec.value(), "creating the drill directory", options_.policy.drill_path());

  absl::StatusOr<RestoreResult> restored = absl::NotFoundError("no verified backup to restore");
  const absl::Time clock_start = absl::Now();
  if (offline_dir.empty()) {
    auto records = LoadRecords();
    if (!records.ok()) return records.status();
    const v1::BackupRecord* newest = nullptr;
    for (const auto& r : *records) {
      if (r.kind() == v1::BackupRecord::KIND_BACKUP && !r.deleted() && r.verified_ok()) newest = &r;
    }
    if (newest != nullptr) {
      drill.set_source(absl::StrCat("backup ", newest->id()));
      restored = RestoreFromBackup(options_.policy.backup().path(),
                                   static_cast<uint32_t>(std::stoul(newest->id())), scratch, *app_,
                                   progress);
    }
  } else {
    drill.set_source(absl::StrCat("offline copy at ", offline_dir));
    auto key = LoadOfflineKey(options_.policy.offline().key_file());
    restored = key.ok() ? RestoreFromOffline(offline_dir, *key, scratch, options_.check, *app_, progress)
                        : absl::StatusOr<RestoreResult>(key.status());
  }
  *drill.mutable_took() = ToProto(absl::Now() - clock_start);
  RemoveTree(scratch).IgnoreError();
  if (absl::IsCancelled(restored.status())) return restored.status();  // no drill to record
  drill.set_ok(restored.ok());
  if (restored.ok()) {
    drill.set_source(absl::StrCat(drill.source(), " (", restored->source.id(), ")"));
    drill.set_sequence_number(restored->source.sequence_number());
    drill.set_audit_head(restored->found.audit_head);
    drill.set_dossiers(restored->found.dossiers);
    drill.set_documents(restored->found.documents);
  } else {
    drill.set_error(std::string(restored.status().message()));
  }
  if (absl::Status s = SaveDrill(drill); !s.ok()) return s;
  return drill;
}

absl::StatusOr<v1::BackupStatus> BackupManager::Status() {
  auto records = LoadRecords();
  if (!records.ok()) return records.status();
  auto drills = LoadDrills();
  if (!drills.ok()) return drills.status();
  return EvaluateBackupPolicy(options_.policy, *records, drills->empty() ? nullptr : &drills->back(),
                              options_.now(), options_.live_dir);
}

absl::StatusOr<v1::ListBackupsResponse> BackupManager::List() {
  auto records = LoadRecords();
  if (!records.ok()) return records.status();
  auto drills = LoadDrills();
  if (!drills.ok()) return drills.status();
  v1::ListBackupsResponse response;
  for (auto& r : *records) *response.add_records() = std::move(r);
  for (auto& d : *drills) *response.add_drills() = std::move(d);
  return response;
}

void BackupManager::StartSchedule(
    std::function<void(const v1::BackupStatus&)> on_status,
    std::function<void(const absl::StatusOr<v1::BackupRecord>&)> on_backup) {
  on_backup_ = std::move(on_backup);
  {
    std::lock_guard<std::mutex> lock(publish_mu_);
    on_status_ = std::move(on_status);
  }
  schedule_thread_ = std::thread([this] { ScheduleLoop(); });
}

void BackupManager::Publish() {
  auto status = Status();
  if (!status.ok()) return;
  std::lock_guard<std::mutex> lock(publish_mu_);
  if (on_status_) on_status_(*status);
}

void BackupManager::ScheduleLoop() {
  const absl::Duration every = FromProto(options_.policy.backup().every());
  constexpr absl::Duration kCheck = absl::Minutes(1);
  while (true) {
    if (every > absl::ZeroDuration()) {
      auto records = LoadRecords();
      absl::Time newest = absl::InfinitePast();
      if (records.ok()) {
        for (const auto& r : *records) {
          if (r.kind() == v1::BackupRecord::KIND_BACKUP) newest = std::max(newest, FromProto(r.created_at()));
        }
      }
      if (records.ok() && options_.now() - newest >= every) {
        std::unique_lock<std::mutex> op(operation_mu_, std::try_to_lock);
        if (op.owns_lock()) {
          auto made = RunBackupLocked("scheduler", nullptr);
          if (on_backup_) on_backup_(made);
        }
      }
    }
    Publish();
    std::unique_lock<std::mutex> lock(schedule_mu_);
    if (schedule_cv_.wait_for(lock, absl::ToChronoSeconds(kCheck), [this] { return stopping_; })) {
      return;
    }
  }
}

}  // namespace motcua::storage
