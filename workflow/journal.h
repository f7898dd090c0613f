#ifndef MOTCUA_WORKFLOW_JOURNAL_H_
#define MOTCUA_WORKFLOW_JOURNAL_H_

// The one writer of dossier changes (private to workflow/). Commands decide
// and hand the Journal their events; its thread applies them (applier.h),
// numbers them in the dossier's chain and in the global event log, takes
// gapless counter values, stages the worklist and indexes, and commits many
// changes in one durable write. Being the only writer is what makes the log
// and the counters gap-free: a number is taken only inside the write that
// uses it, and a refused or failed change takes none.

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "motcua/v1/dossier.pb.h"
#include "motcua/v1/store.pb.h"
#include "storage/store.h"
#include "workflow/event_bus.h"
#include "workflow/procedure.h"

namespace motcua::workflow {

// What one command decided, for the Journal to commit all together.
struct Change {
  // The dossier's procedure; null for a change with no dossier (a deploy).
  std::shared_ptr<const Procedure> procedure;
  // The dossier as the command read it (under its lock); empty for a new one.
  v1::Dossier dossier;
  // A new dossier's code: `code_prefix` and the next value of the counter
  // `code_counter` (kSequences), as four or more digits.
  std::string code_counter;
  std::string code_prefix;
  // Decided events, applied in order. The Journal sets dossier_code,
  // sequence, log_sequence, previous_hash, from/to state, national status,
  // dossier version and hash.
  std::vector<v1::HistoryEvent> events;
  // Attachment and document bytes, by id, stored under the dossier's code.
  std::vector<std::pair<std::string, std::string>> files;
  // Other records written in the same batch (a procedure definition).
  storage::WriteSet writes;
  // The first answer of the call (IdempotencyRecord at `idempotency_key`),
  // its response built by `respond` from the dossier as committed.
  std::string idempotency_key;
  v1::IdempotencyRecord idempotency;
  std::function<std::string(const v1::Dossier&)> respond;
  // In-memory effects, run on the Journal's thread once the write is durable.
  std::vector<std::function<void()>> after_commit;
};

struct Committed {
  v1::Dossier dossier;    // as committed; empty for a change with no dossier
  std::string response;   // what `respond` built
};

// Where the global event log stands.
struct LogHead {
  int64_t log_sequence = 0;  // of the last committed event; 0 when empty
  std::string chain_sha256;  // raw 32 bytes (zeros when empty)
};

class Journal {
 public:
  // Reads the log's head from `store`; both must outlive the Journal.
  static absl::StatusOr<std::unique_ptr<Journal>> Open(storage::Store* store, EventBus* bus);
  // Commits what is queued, then stops the thread.
  ~Journal();

  // Blocks until `change` is durable and its events are published. On error
  // nothing of it was written: INTERNAL when an event does not fit the
  // dossier, or the store's error. Thread-safe; callers serialise changes
  // to one dossier (its lock) so a change sees the state it was decided on.
  absl::StatusOr<Committed> Commit(Change change);

  LogHead Head() const;

 private:
  struct Pending;
  explicit Journal(storage::Store* store, EventBus* bus, LogHead head);
  void Run();
  // Stages `p` into `batch`; on error leaves the numbers as they were.
  absl::Status Stage(Pending& p, storage::WriteSet& batch);
  absl::StatusOr<uint64_t> NextCounterValue(const std::string& key);

  storage::Store* const store_;
  EventBus* const bus_;

  mutable absl::Mutex mu_;
  std::deque<Pending*> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  LogHead committed_head_ ABSL_GUARDED_BY(mu_);

  // Touched by the writer thread only.
  LogHead head_;
  absl::flat_hash_map<std::string, uint64_t> counters_;
  absl::flat_hash_map<std::string, uint64_t> counters_before_group_;

  std::thread thread_;
};

// The running log hash after `event_sha256` (raw bytes) follows `chain`.
std::string ChainLog(absl::string_view chain, absl::string_view event_sha256);

}  // namespace motcua::workflow

#endif  // MOTCUA_WORKFLOW_JOURNAL_H_
