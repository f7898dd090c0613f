#ifndef MOTCUA_WORKFLOW_OPERATIONS_H_
#define MOTCUA_WORKFLOW_OPERATIONS_H_

// Long-running operations (private to workflow/). Two kinds:
//  - one action applied to many dossiers (a system transition, renewing
//    documents' evidence): the operation first stores its plan (one item
//    per dossier), then does each item in its own commit, which also marks
//    the item done; so it resumes after a crash where it stopped and never
//    does an item twice. Cancelling stops it between items: each is done or
//    untouched.
//  - a job (engine.h), one piece of work done by a runner the owner
//    registered, cancelled through JobControl; one a restart interrupted is
//    ended ABORTED at the next start, not run again.

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "motcua/v1/service.pb.h"
#include "motcua/v1/store.pb.h"
#include "workflow/engine.h"
#include "workflow/engine_context.h"

namespace motcua::workflow {

class Operations {
 public:
  explicit Operations(EngineContext& ctx) : ctx_(ctx) {}
  // Pauses running operations (they resume at the next start).
  ~Operations();

  // Restarts every unfinished operation over dossiers and ends every
  // unfinished job as interrupted. Call once, at start.
  absl::Status Resume();

  absl::StatusOr<v1::Operation> StartTransition(const Principal& caller,
                                                const v1::TransitionDossiersRequest& request);
  absl::StatusOr<v1::Operation> StartRenewal(const Principal& caller,
                                             const v1::RenewDocumentsRequest& request);
  absl::StatusOr<v1::Operation> StartJob(const Principal& caller, absl::string_view kind,
                                         const std::string& description,
                                         const google::protobuf::Message& request,
                                         const std::string& request_id);
  absl::StatusOr<v1::Operation> Get(const Principal& caller,
                                    const v1::GetOperationRequest& request);
  absl::StatusOr<v1::ListOperationsResponse> List(const Principal& caller,
                                                  const v1::ListOperationsRequest& request);
  absl::StatusOr<v1::Operation> Cancel(const Principal& caller,
                                       const v1::CancelOperationRequest& request);
  absl::StatusOr<v1::Operation> Wait(const Principal& caller,
                                     const v1::WaitOperationRequest& request);
  // Operations running in this process.
  int RunningCount();

 private:
  // An operation running in this process: its progress and its stop flag.
  struct Running {
    std::atomic<bool> cancel{false};
    absl::Mutex mu;
    v1::OperationMetadata metadata ABSL_GUARDED_BY(mu);
    bool finished ABSL_GUARDED_BY(mu) = false;
  };
  class Control;

  // Stores a new operation and launches it after the commit; idempotent by
  // (caller, request_id).
  absl::StatusOr<v1::Operation> Start(const Principal& caller, absl::string_view method,
                                      const google::protobuf::Message& request,
                                      const std::string& request_id,
                                      const std::function<void(v1::OperationRecord&)>& fill);
  void Launch(const std::string& id);
  void Run(const std::string& id, const std::shared_ptr<Running>& running);
  absl::Status Plan(v1::OperationRecord& record, Running& running);
  absl::Status Execute(const v1::OperationRecord& record, Running& running);
  absl::Status Finish(v1::OperationRecord& record, Running& running);
  // Runs a job to its end and records the outcome; a job stopped by
  // shutdown stays unfinished (Resume ends it).
  absl::Status RunJob(v1::OperationRecord& record, Running& running);
  // Records the end of an operation: `set` fills its error or response.
  absl::Status End(v1::OperationRecord& record, Running& running,
                   const std::function<void(v1::Operation&)>& set);
  // Whether `dossier` is an item of the operation's plan.
  bool Chosen(const v1::OperationRecord& record, const v1::Dossier& dossier);
  // Does one item under its dossier's lock: DONE with its dossier change,
  // or SKIPPED/FAILED.
  absl::Status DoItem(const v1::OperationRecord& record, const std::string& code,
                      v1::OperationItem::Status* outcome);
  // The item's work, given `change` holding its dossier and procedure as
  // read under the lock: CommitDone with its events, or Settle.
  absl::Status DoTransition(const v1::OperationRecord& record, Change change,
                            v1::OperationItem::Status* outcome);
  // Renews every document of the dossier that is due, in one commit.
  absl::Status DoRenewal(const v1::OperationRecord& record, Change change,
                         v1::OperationItem::Status* outcome);
  // Commits an item's dossier change, marking the item done in it.
  absl::Status CommitDone(const std::string& id, const std::string& code, Change change,
                          v1::OperationItem::Status* outcome);
  // Marks an item skipped or failed, with why, changing nothing else.
  absl::Status Settle(const std::string& id, const std::string& code,
                      v1::OperationItem::Status status, absl::string_view reason,
                      v1::OperationItem::Status* outcome);

  absl::StatusOr<v1::OperationRecord> Load(absl::string_view id);
  // Reads, changes and writes back one record, serialised with every other
  // change to records, so a cancel is never overwritten by progress.
  absl::StatusOr<v1::OperationRecord> Update(
      absl::string_view id, const std::function<void(v1::OperationRecord&)>& change);
  // The record, readable by `caller`: NOT_FOUND, PERMISSION_DENIED.
  absl::StatusOr<v1::OperationRecord> LoadVisible(const Principal& caller,
                                                  absl::string_view name);
  // The stored operation with this process's live progress.
  v1::Operation View(const v1::OperationRecord& record);

  EngineContext& ctx_;
  std::atomic<bool> stopping_{false};
  absl::Mutex records_mu_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Running>> running_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
};

}  // namespace motcua::workflow

#endif  // MOTCUA_WORKFLOW_OPERATIONS_H_
