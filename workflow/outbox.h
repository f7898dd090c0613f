#ifndef MOTCUA_WORKFLOW_OUTBOX_H_
#define MOTCUA_WORKFLOW_OUTBOX_H_

// The document workers (private to workflow/): issue the documents steps
// queued after they committed (TransitionDefinition.issue_after_commit).
// Each renders the document from the dossier as its step left it (rebuilt
// from the history), has it sealed, time-stamped, given its validation data
// and verified (ResultDocuments::SignByServer), then stores it and records a
// "document_issued" event in one commit that also removes the queue entry.
// A crash before that commit leaves the entry (the document is made again,
// and only one is ever stored); a failure (seal token unplugged, TSA down)
// is retried with backoff, and nothing unstored is ever marked issued.

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "workflow/engine_context.h"
#include "workflow/keys.h"

namespace motcua::workflow {

class Outbox {
 public:
  explicit Outbox(EngineContext& ctx) : ctx_(ctx) {}
  // Stops the workers; what is queued stays for the next start.
  ~Outbox();

  // Starts `workers` threads. Once.
  void Start(int workers);
  // A commit queued a document: wake a worker.
  void Wake();
  // Issues what is queued now on the calling thread, ignoring backoff;
  // returns how many were issued (for tests and tools).
  absl::StatusOr<int> IssueAll();

  // Backlog and failures, for health and `motcua status`.
  struct Status {
    int64_t backlog = 0;
    absl::Time oldest;  // of the backlog; InfinitePast when empty
    int64_t issued = 0;
    int64_t failures = 0;
    std::string last_error;  // of the last failed attempt, while one is failing
  };
  Status GetStatus() const;

 private:
  void Work();
  // The next entry to issue, claimed; false when none is ready.
  bool Claim(std::string* key, TimedRef* ref);
  absl::Status Issue(const std::string& key, const TimedRef& ref);
  void Done(const std::string& key, const absl::Status& result);

  EngineContext& ctx_;
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int wakeups_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_set<std::string> in_flight_ ABSL_GUARDED_BY(mu_);
  struct Backoff {
    int attempts = 0;
    absl::Time next;
  };
  absl::flat_hash_map<std::string, Backoff> backoff_ ABSL_GUARDED_BY(mu_);
  int64_t issued_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t failures_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> workers_;
};

}  // namespace motcua::workflow

#endif  // MOTCUA_WORKFLOW_OUTBOX_H_
