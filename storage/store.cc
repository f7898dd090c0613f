#include "storage/store.h"

#include <array>
#include <atomic>

#include "absl/strings/str_cat.h"
#include "storage/rocks_internal.h"
#include "rocksdb/cache.h"
#include "rocksdb/compaction_filter.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/merge_operator.h"
#include "rocksdb/statistics.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/write_buffer_manager.h"

namespace motcua::storage {
namespace {

constexpr std::array<const char*, static_cast<int>(Family::kCount)> kFamilyNames = {
    "definitions", "dossiers", "history", "worklist",
    "indexes",     "idempotency", "sequences", "documents", "backups", "event_log", "timers", "operations", "outbox"};

// Large values (attachments, signed PDFs) go to blob files so the LSM tree
// stays small and compaction cheap.
constexpr uint64_t kMinBlobBytes = 4096;

absl::string_view AsView(const rocksdb::Slice& s) { return absl::string_view(s.data(), s.size()); }
rocksdb::Slice AsSlice(absl::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

class MaxCounterOperator : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice& /*key*/, const rocksdb::Slice* existing,
             const rocksdb::Slice& value, std::string* new_value,
             rocksdb::Logger* /*logger*/) const override {
    uint64_t current = existing ? DecodeCounter(AsView(*existing)) : 0;
    uint64_t raised = DecodeCounter(AsView(value));
    *new_value = OrderedUint64(std::max(current, raised));
    return true;
  }
  const char* Name() const override { return "motcua.MaxCounter"; }
};

// Drops entries a retention rule says have expired.
class RetentionFilter : public rocksdb::CompactionFilter {
 public:
  explicit RetentionFilter(std::function<bool(absl::string_view)> expired)
      : expired_(std::move(expired)) {}
  bool Filter(int /*level*/, const rocksdb::Slice& /*key*/, const rocksdb::Slice& value,
              std::string* /*new_value*/, bool* /*value_changed*/) const override {
    return expired_(AsView(value));
  }
  const char* Name() const override { return "motcua.Retention"; }

 private:
  std::function<bool(absl::string_view)> expired_;
};

}  // namespace

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string message = absl::StrCat(what, ": ", s.ToString());
  if (s.IsNotFound()) return absl::NotFoundError(message);
  if (s.IsCorruption()) return absl::DataLossError(message);
  if (s.IsIOError() && s.subcode() == rocksdb::Status::kNoSpace) {
    return absl::ResourceExhaustedError(message);
  }
  if (s.IsBusy() || s.IsTryAgain()) return absl::UnavailableError(message);
  return absl::InternalError(message);
}

namespace {

std::string PrefixSuccessor(absl::string_view prefix) {
  std::string succ(prefix);
  while (!succ.empty()) {
    unsigned char last = static_cast<unsigned char>(succ.back());
    if (last != 0xff) {
      succ.back() = static_cast<char>(last + 1);
      return succ;
    }
    succ.pop_back();
  }
  return succ;  // empty: no successor, scan to the end
}

absl::StatusOr<std::string> ReadValue(rocksdb::DB* db, const rocksdb::ReadOptions& options,
                                      rocksdb::ColumnFamilyHandle* family, absl::string_view key) {
  std::string value;
  rocksdb::Status s = db->Get(options, family, AsSlice(key), &value);
  if (s.IsNotFound()) return absl::NotFoundError("not found");
  if (!s.ok()) return FromRocks(s, "reading");
  return value;
}

absl::Status ScanRange(rocksdb::DB* db, const rocksdb::ReadOptions& options,
                       rocksdb::ColumnFamilyHandle* family, absl::string_view prefix,
                       absl::string_view start, bool reverse, const ScanVisitor& visit) {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(options, family));
  if (!reverse) {
    it->Seek(AsSlice(start.empty() ? prefix : start));
  } else if (!start.empty()) {
    it->SeekForPrev(AsSlice(start));
  } else {
    std::string succ = PrefixSuccessor(prefix);
    if (succ.empty()) {
      it->SeekToLast();
    } else {
      it->Seek(succ);
      if (it->Valid()) {
        it->Prev();
      } else {
        it->SeekToLast();
      }
    }
  }
  for (; it->Valid(); reverse ? it->Prev() : it->Next()) {
    absl::string_view key = AsView(it->key());
    if (key.substr(0, prefix.size()) != prefix) break;
    if (!visit(key, AsView(it->value()))) break;
  }
  return FromRocks(it->status(), "scanning");
}

// Reads pinned to one RocksDB snapshot, released with the view.
class SnapshotReader : public StoreReader {
 public:
  SnapshotReader(rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>* handles)
      : db_(db), handles_(handles), snapshot_(db->GetSnapshot()) {
    options_.snapshot = snapshot_;
  }
  ~SnapshotReader() override { db_->ReleaseSnapshot(snapshot_); }
  absl::StatusOr<std::string> Get(Family family, absl::string_view key) const override {
    return ReadValue(db_, options_, (*handles_)[static_cast<int>(family)], key);
  }
  absl::Status Scan(Family family, absl::string_view prefix, absl::string_view start,
                    bool reverse, const ScanVisitor& visit) const override {
    return ScanRange(db_, options_, (*handles_)[static_cast<int>(family)], prefix, start,
                     reverse, visit);
  }

 private:
  rocksdb::DB* db_;
  const std::vector<rocksdb::ColumnFamilyHandle*>* handles_;
  const rocksdb::Snapshot* snapshot_;
  rocksdb::ReadOptions options_;
};

class RocksStore : public Store {
 public:
  RocksStore(std::unique_ptr<rocksdb::DB> db, std::vector<rocksdb::ColumnFamilyHandle*> handles,
             bool sync, std::unique_ptr<RetentionFilter> retention)
      : retention_(std::move(retention)), db_(std::move(db)), handles_(std::move(handles)) {
    write_options_.sync = sync;
  }

  ~RocksStore() override {
    // Persist memtables on a clean stop, so the next start has no log to
    // replay. Best effort: the WAL still holds everything if it fails.
    db_->Flush(rocksdb::FlushOptions(), handles_).PermitUncheckedError();
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    db_->Close().PermitUncheckedError();
  }

  absl::Status Commit(const WriteSet& changes) override;
  absl::StatusOr<std::string> Get(Family family, absl::string_view key) const override;
  absl::Status Scan(Family family, absl::string_view prefix, absl::string_view start, bool reverse,
                    const ScanVisitor& visit) const override;
  std::unique_ptr<StoreReader> Snapshot() const override {
    return std::make_unique<SnapshotReader>(db_.get(), &handles_);
  }
  absl::Status Compact(Family family) override {
    rocksdb::CompactRangeOptions options;
    options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    return FromRocks(db_->CompactRange(options, handle(family), nullptr, nullptr), "compacting");
  }
  uint64_t LatestSequenceNumber() const override { return db_->GetLatestSequenceNumber(); }
  absl::Status Checkpoint(const std::string& dir) override {
    rocksdb::Checkpoint* raw = nullptr;
    rocksdb::Status s = rocksdb::Checkpoint::Create(db_.get(), &raw);
    if (!s.ok()) return FromRocks(s, "preparing a checkpoint");
    std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
    // Flush first (log_size_for_flush 0): the copy then needs no log replay
    // and its sequence number is exactly that of its files.
    return FromRocks(checkpoint->CreateCheckpoint(dir, /*log_size_for_flush=*/0),
                     absl::StrCat("writing a checkpoint to ", dir));
  }
  rocksdb::DB* db() const { return db_.get(); }

  StoreStats Stats() const override {
    StoreStats stats;
    stats.commits = commits_.load(std::memory_order_relaxed);
    stats.failed_commits = failed_commits_.load(std::memory_order_relaxed);
    const rocksdb::Statistics* s = db_->GetDBOptions().statistics.get();
    if (s != nullptr) {
      stats.write_groups = s->getTickerCount(rocksdb::WRITE_DONE_BY_SELF);
      stats.grouped_writes = stats.write_groups + s->getTickerCount(rocksdb::WRITE_DONE_BY_OTHER);
      stats.wal_syncs = s->getTickerCount(rocksdb::WAL_FILE_SYNCED);
      stats.stall_seconds = s->getTickerCount(rocksdb::STALL_MICROS) / 1e6;
      stats.compaction_read_bytes = s->getTickerCount(rocksdb::COMPACT_READ_BYTES);
      stats.compaction_write_bytes = s->getTickerCount(rocksdb::COMPACT_WRITE_BYTES);
      rocksdb::HistogramData sync;
      s->histogramData(rocksdb::WAL_FILE_SYNC_MICROS, &sync);
      stats.wal_sync_seconds = sync.sum / 1e6;
      stats.wal_sync_p99_seconds = sync.percentile99 / 1e6;
    }
    uint64_t value = 0;
    if (db_->GetIntProperty(rocksdb::DB::Properties::kNumRunningCompactions, &value)) {
      stats.running_compactions = value;
    }
    if (db_->GetAggregatedIntProperty(rocksdb::DB::Properties::kEstimatePendingCompactionBytes,
                                      &value)) {
      stats.pending_compaction_bytes = value;
    }
    if (db_->GetIntProperty(rocksdb::DB::Properties::kIsWriteStopped, &value)) {
      stats.write_stopped = value != 0;
    }
    return stats;
  }

  std::string Property(absl::string_view name) const override {
    uint64_t value = 0;
    if (db_->GetAggregatedIntProperty(AsSlice(name), &value)) {
      return std::to_string(value);
    }
    std::string text;
    db_->GetProperty(AsSlice(name), &text);
    return text;
  }

 private:
  rocksdb::ColumnFamilyHandle* handle(Family f) const { return handles_[static_cast<int>(f)]; }

  // Outlives db_, which calls it during compactions.
  std::unique_ptr<RetentionFilter> retention_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::WriteOptions write_options_;
  std::atomic<uint64_t> commits_{0};
  std::atomic<uint64_t> failed_commits_{0};
};

absl::Status RocksStore::Commit(const WriteSet& changes) {
  rocksdb::WriteBatch batch;
  for (const auto& op : changes.ops()) {
    rocksdb::Status s;
    switch (op.kind) {
      case WriteSet::Kind::kPut:
        s = batch.Put(handle(op.family), op.key, op.value);
        break;
      case WriteSet::Kind::kDelete:
        s = batch.Delete(handle(op.family), op.key);
        break;
      case WriteSet::Kind::kRaise:
        s = batch.Merge(handle(op.family), op.key, op.value);
        break;
    }
    if (!s.ok()) return FromRocks(s, "building write batch");
  }
  absl::Status status = FromRocks(db_->Write(write_options_, &batch), "committing");
  (status.ok() ? commits_ : failed_commits_).fetch_add(1, std::memory_order_relaxed);
  return status;
}

absl::StatusOr<std::string> RocksStore::Get(Family family, absl::string_view key) const {
  return ReadValue(db_.get(), rocksdb::ReadOptions(), handle(family), key);
}

absl::Status RocksStore::Scan(Family family, absl::string_view prefix, absl::string_view start,
                              bool reverse, const ScanVisitor& visit) const {
  return ScanRange(db_.get(), rocksdb::ReadOptions(), handle(family), prefix, start, reverse,
                   visit);
}

}  // namespace

rocksdb::DB* RocksDbOf(Store& store) { return static_cast<RocksStore&>(store).db(); }

void WriteSet::Put(Family family, absl::string_view key, absl::string_view value) {
  ops_.push_back({Kind::kPut, family, std::string(key), std::string(value)});
  bytes_ += key.size() + value.size();
}

void WriteSet::Delete(Family family, absl::string_view key) {
  ops_.push_back({Kind::kDelete, family, std::string(key), {}});
  bytes_ += key.size();
}

void WriteSet::RaiseCounter(Family family, absl::string_view key, uint64_t value) {
  ops_.push_back({Kind::kRaise, family, std::string(key), OrderedUint64(value)});
  bytes_ += key.size() + 8;
}

void WriteSet::Append(WriteSet&& other) {
  ops_.insert(ops_.end(), std::make_move_iterator(other.ops_.begin()),
              std::make_move_iterator(other.ops_.end()));
  bytes_ += other.bytes_;
  other.ops_.clear();
  other.bytes_ = 0;
}

uint64_t DecodeCounter(absl::string_view value) {
  uint64_t result = 0;
  for (size_t i = 0; i < value.size() && i < 8; ++i) {
    result = (result << 8) | static_cast<unsigned char>(value[i]);
  }
  return result;
}

std::string OrderedUint64(uint64_t value) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return out;
}

std::string JoinKey(std::initializer_list<absl::string_view> parts) {
  std::string key;
  bool first = true;
  for (absl::string_view part : parts) {
    if (!first) key.push_back('\0');
    key.append(part.data(), part.size());
    first = false;
  }
  return key;
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& path,
                                                   const StoreOptions& options) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  // Tickers and histograms for Stats(): group commits, fsync time, stalls.
  db_options.statistics = rocksdb::CreateDBStatistics();
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.enable_pipelined_write = false;
  // Writers waiting for a group commit's fsync would otherwise spin-yield;
  // with many concurrent callers on two cores that burns the CPU the
  // callers need.
  db_options.enable_write_thread_adaptive_yield = false;
  db_options.write_buffer_manager =
      std::make_shared<rocksdb::WriteBufferManager>(options.write_buffer_bytes);
  db_options.keep_log_file_num = 5;
  // Families flush together: a small family (sequences, definitions) would
  // otherwise never fill its memtable and keep every WAL alive, and a
  // restart would replay them all. With the memtable budget below this
  // bounds the log a crash leaves to replay. The WAL cap is a backstop only:
  // forcing flushes by it costs many small files and compactions.
  db_options.atomic_flush = true;
  db_options.max_total_wal_size = 256u << 20;

  std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  auto merge = std::make_shared<MaxCounterOperator>();
  std::unique_ptr<RetentionFilter> retention;
  if (options.idempotency_expired) {
    retention = std::make_unique<RetentionFilter>(options.idempotency_expired);
  }

  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  families.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  for (const char* name : kFamilyNames) {
    rocksdb::ColumnFamilyOptions cf;
    cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    cf.write_buffer_size = 32u << 20;
    cf.compression = rocksdb::kNoCompression;
    if (absl::string_view(name) == "sequences") cf.merge_operator = merge;
    if (absl::string_view(name) == "idempotency") cf.compaction_filter = retention.get();
    if (absl::string_view(name) == "documents") {
      cf.enable_blob_files = true;
      cf.min_blob_size = kMinBlobBytes;
      cf.enable_blob_garbage_collection = true;
    }
    families.emplace_back(name, cf);
  }

  rocksdb::DB* raw = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status s = rocksdb::DB::Open(db_options, path, families, &handles, &raw);
  if (!s.ok()) return FromRocks(s, absl::StrCat("opening database at ", path));
  std::unique_ptr<rocksdb::DB> db(raw);
  // handles[0] is the default family, which we do not use.
  db->DestroyColumnFamilyHandle(handles[0]);
  handles.erase(handles.begin());
  return std::unique_ptr<Store>(
      new RocksStore(std::move(db), std::move(handles), options.sync, std::move(retention)));
}

}  // namespace motcua::storage
