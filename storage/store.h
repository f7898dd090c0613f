#ifndef MOTCUA_STORAGE_STORE_H_
#define MOTCUA_STORAGE_STORE_H_

// The bytes on disk: a RocksDB database with one column family per concern.
// Knows nothing of procedures or signatures; callers own the key layouts.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace motcua::storage {

// One column family per concern, so each can be tuned (blob files for
// documents, bloom filters for point lookups) and scanned on its own.
enum class Family : int {
  kDefinitions = 0,  // procedure definitions, by code and version
  kDossiers,         // current state of each dossier
  kHistory,          // hash-chained history events
  kWorklist,         // open tasks, keyed for worklist scans
  kIndexes,          // secondary indexes for search
  kIdempotency,      // first answers of mutating calls, by request id
  kSequences,        // monotonic counters (dossier codes)
  kDocuments,        // attachment and document bytes (blob files)
  kBackups,          // catalog of backups, offline copies and restore drills
  kEventLog,         // every committed history event, by global log sequence
  kTimers,           // timers armed on dossiers, by due time
  kOperations,       // long-running operations and their plans
  kOutbox,           // documents to issue after their step committed
  kCount,
};

struct StoreOptions {
  // Fsync the write-ahead log before Commit returns. Must stay true in
  // production: an acknowledged change has to survive power loss.
  bool sync = true;
  // Shared block cache for all families, index and filter blocks included,
  // so memory stays bounded as the data grows.
  size_t block_cache_bytes = 256u << 20;
  // Total memtable budget across families. It is also about the most log a
  // restart after a crash has to replay (~1 s per 30 MiB here).
  size_t write_buffer_bytes = 64u << 20;
  // Entries of kIdempotency that compaction may drop (a retention window).
  // Runs on RocksDB's background threads: must be thread-safe and cheap.
  // Unset: kept forever.
  std::function<bool(absl::string_view value)> idempotency_expired;
};

// A set of changes that Store::Commit applies all together or not at all.
class WriteSet {
 public:
  void Put(Family family, absl::string_view key, absl::string_view value);
  void Delete(Family family, absl::string_view key);
  // Raises the counter at `key` to at least `value`. Counters only grow, even
  // when commits race, so a value once committed is never handed out again.
  void RaiseCounter(Family family, absl::string_view key, uint64_t value);
  // Moves every change of `other` to the end of this set.
  void Append(WriteSet&& other);
  // Bytes of keys and values staged so far.
  size_t bytes() const { return bytes_; }

  enum class Kind { kPut, kDelete, kRaise };
  struct Op {
    Kind kind;
    Family family;
    std::string key;
    std::string value;
  };
  // The staged changes, in order, for the Store to apply.
  const std::vector<Op>& ops() const { return ops_; }

 private:
  std::vector<Op> ops_;
  size_t bytes_ = 0;
};

// What the database has done since it was opened, for monitoring.
struct StoreStats {
  uint64_t commits = 0;          // Commit calls that returned OK
  uint64_t failed_commits = 0;   // and those that did not
  uint64_t write_groups = 0;     // group commits: one log write (and fsync) each
  uint64_t grouped_writes = 0;   // commits they carried (grouped_writes / write_groups:
                                 // the mean group size)
  uint64_t wal_syncs = 0;        // fsyncs of the write-ahead log
  double wal_sync_seconds = 0;   // time spent in them
  double wal_sync_p99_seconds = 0;
  double stall_seconds = 0;      // writers held back by RocksDB (too many files, memtables)
  uint64_t compaction_read_bytes = 0;
  uint64_t compaction_write_bytes = 0;
  uint64_t running_compactions = 0;
  uint64_t pending_compaction_bytes = 0;
  bool write_stopped = false;
};

// Calls (key, value) for each entry; return false to stop.
using ScanVisitor = std::function<bool(absl::string_view key, absl::string_view value)>;

// Reads. Errors: NOT_FOUND (Get of an absent key), DATA_LOSS (corruption),
// INTERNAL (I/O); a read never changes anything.
class StoreReader {
 public:
  virtual ~StoreReader() = default;

  // The value at `key`; NOT_FOUND when absent.
  virtual absl::StatusOr<std::string> Get(Family family, absl::string_view key) const = 0;

  // Visits entries whose key starts with `prefix`, in key order (or reverse
  // order), beginning at `start` inclusive (empty: the first, or with
  // `reverse` the last, key of the prefix).
  virtual absl::Status Scan(Family family, absl::string_view prefix, absl::string_view start,
                            bool reverse, const ScanVisitor& visit) const = 0;
};

// Every method is thread-safe. Reads through the Store itself see the
// latest commit at the moment of each call; a caller that reads several
// keys and needs them to agree takes a Snapshot.
class Store : public StoreReader {
 public:
  // Opens or creates the database at `path`. INTERNAL when the directory
  // cannot be used, UNAVAILABLE when another process holds it, DATA_LOSS
  // when it is corrupt.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& path,
                                                     const StoreOptions& options = {});
  virtual ~Store() = default;

  // Applies `changes` atomically. When OK is returned the changes are durable
  // (with options.sync) and visible to every later read. On error nothing
  // was applied: RESOURCE_EXHAUSTED (disk full), UNAVAILABLE (busy),
  // INTERNAL (I/O).
  virtual absl::Status Commit(const WriteSet& changes) = 0;

  // A read-only view of the database as of now, unchanged by later commits.
  // Valid while the Store lives.
  virtual std::unique_ptr<StoreReader> Snapshot() const = 0;

  // Compacts `family` now, applying retention (options.idempotency_expired)
  // to everything in it. Blocks until done.
  virtual absl::Status Compact(Family family) = 0;

  // Sequence number of the last committed write.
  virtual uint64_t LatestSequenceNumber() const = 0;

  // Counters of commits, group commits, fsyncs, stalls and compactions.
  // Cheap enough to read on every metrics scrape. Thread-safe.
  virtual StoreStats Stats() const = 0;

  // A RocksDB property of the whole database, e.g. "rocksdb.estimate-num-keys".
  virtual std::string Property(absl::string_view name) const = 0;

  // Writes a consistent copy of the whole database, exactly as of one
  // sequence number, into `dir` (which must not exist yet), hard-linking
  // files where the file system allows. Writers are not blocked. The copy
  // opens with Store::Open.
  virtual absl::Status Checkpoint(const std::string& dir) = 0;
};

// Counter values are stored as 8-byte big-endian integers.
uint64_t DecodeCounter(absl::string_view value);

// Key building: parts joined by '\0', so a prefix scan over the leading
// parts never matches a longer sibling ("HN" vs "HN2").
std::string JoinKey(std::initializer_list<absl::string_view> parts);
// 8-byte big-endian, so numeric order is key order.
std::string OrderedUint64(uint64_t value);

}  // namespace motcua::storage

#endif  // MOTCUA_STORAGE_STORE_H_
