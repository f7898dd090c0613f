#ifndef MOTCUA_WORKFLOW_ENGINE_H_
#define MOTCUA_WORKFLOW_ENGINE_H_

// The engine: runs dossiers through their procedures' state machines and
// persists every change in the store. The face of workflow/ to adapters/.
//
// Every mutating call:
//  - is authorised against the caller's Principal (role, unit, position);
//  - is idempotent by (caller, request_id): a retry within the retention
//    window (EngineOptions, 7 days by default) returns the first answer;
//  - on an existing dossier, checks expected_version (stale: ABORTED);
//  - decides history events, and the engine's one writer applies them to the
//    dossier and commits state + events + event log entries + worklist +
//    indexes + idempotency record in one durable write before returning.
// Errors are absl::Status, each with its ErrorInfo reason; citizen-facing
// messages are Vietnamese.
//
// Thread safety: every method may be called from any number of threads at
// once. Commands on one dossier are serialised; reads that look at several
// records read one snapshot.

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "motcua/v1/operations.pb.h"
#include "motcua/v1/service.pb.h"
#include "storage/store.h"
#include "workflow/clock.h"
#include "workflow/principal.h"
#include "workflow/result_documents.h"
#include "workflow/work_calendar.h"

namespace motcua::workflow {

// How long the first answer to a request id is kept by default: a retry
// within the window gets it back; after it, compaction removes the record.
inline constexpr absl::Duration kDefaultIdempotencyRetention = absl::Hours(24 * 7);

// The rule to open the engine's store with (StoreOptions::
// idempotency_expired): records older than `window` by the system clock go.
std::function<bool(absl::string_view value)> IdempotencyRetention(absl::Duration window);

// A job: work an operation does that is not a transition of dossiers (a
// backup, an offline export, a restore drill). It runs in the background as
// one piece. One that a restart of the server interrupted is not run again:
// the next start ends its operation ABORTED, saying so, for a person to
// decide (the medium it wrote to may be gone, or the store restored from a
// copy taken while it ran).
struct Job {
  std::string operation;   // "operations/<id>"
  std::string started_by;  // the subject of the caller who started it
  std::string request;     // the request that started it, serialised
};

// How a running job shows its progress and learns it should stop.
class JobControl {
 public:
  virtual ~JobControl() = default;
  // Shows `stage` and its count in the operation's metadata. False once the
  // job should stop (cancelled, or the server stopping): it then returns
  // CANCELLED, having left nothing half-made.
  virtual bool Report(absl::string_view stage, int64_t done, int64_t total) = 0;
};

// Does a job; its result becomes the operation's response, its error the
// operation's error.
using JobRunner =
    std::function<absl::StatusOr<v1::OperationResult>(const Job& job, JobControl& control)>;

struct EngineOptions {
  // Largest attachment, and the most attachment bytes in one request.
  int64_t max_attachment_bytes = 10 << 20;
  int64_t max_request_attachment_bytes = 20 << 20;
  // Install or upgrade the procedures compiled into the binary at Open.
  bool install_builtin_procedures = true;
  // Makes and signs the documents transitions require signatures on; must
  // outlive the engine. nullptr: no document is made and signature
  // requirements are ignored (engine tests, offline integrity checks). A
  // server always sets it.
  ResultDocuments* documents = nullptr;
  // How long a PrepareSignature challenge stays usable.
  absl::Duration signature_challenge_ttl = absl::Minutes(10);
  // How often a background thread fires the timers that fell due. Zero: no
  // thread; the owner calls FireDueTimers (tests with a manual clock).
  absl::Duration timer_poll = absl::ZeroDuration();
  // Threads issuing the documents steps queue after they commit
  // (issue_after_commit). Zero: none; the owner calls IssuePendingDocuments.
  int document_workers = 0;
  // The jobs StartJob can start, by kind. Runners must be thread-safe and
  // outlive the engine.
  std::map<std::string, JobRunner> jobs;
};

// A live feed of history events for WatchEvents.
class EventSubscription {
 public:
  virtual ~EventSubscription() = default;
  // Waits up to `timeout` for the next event: true with an event, false on
  // timeout. RESOURCE_EXHAUSTED once the reader fell so far behind that
  // events were dropped; the message says where to resume.
  virtual absl::StatusOr<bool> Next(v1::HistoryEvent* event, absl::Duration timeout) = 0;
};

class Engine {
 public:
  // `store`, `clock` and `calendar` must outlive the engine.
  static absl::StatusOr<std::unique_ptr<Engine>> Open(storage::Store* store, Clock* clock,
                                                      const WorkCalendar* calendar,
                                                      const EngineOptions& options = {});
  virtual ~Engine() = default;

  // Procedures.
  virtual absl::StatusOr<v1::ProcedureDefinition> DeployProcedure(
      const Principal& caller, const v1::DeployProcedureRequest& request) = 0;
  virtual absl::StatusOr<v1::ProcedureDefinition> GetProcedure(
      const Principal& caller, const v1::GetProcedureRequest& request) = 0;
  virtual absl::StatusOr<v1::ListProceduresResponse> ListProcedures(
      const Principal& caller, const v1::ListProceduresRequest& request) = 0;

  // Dossiers.
  virtual absl::StatusOr<v1::Dossier> SubmitDossier(const Principal& caller,
                                                    const v1::SubmitDossierRequest& request) = 0;
  virtual absl::StatusOr<v1::Dossier> GetDossier(const Principal& caller,
                                                 const v1::GetDossierRequest& request) = 0;
  virtual absl::StatusOr<v1::ListDossiersResponse> ListDossiers(
      const Principal& caller, const v1::ListDossiersRequest& request) = 0;
  virtual absl::StatusOr<v1::Dossier> WithdrawDossier(
      const Principal& caller, const v1::WithdrawDossierRequest& request) = 0;
  virtual absl::StatusOr<v1::Dossier> AddSupplement(const Principal& caller,
                                                    const v1::AddSupplementRequest& request) = 0;
  virtual absl::StatusOr<v1::AttachmentContent> GetAttachment(
      const Principal& caller, const v1::GetAttachmentRequest& request) = 0;
  virtual absl::StatusOr<v1::DocumentContent> GetDocument(
      const Principal& caller, const v1::GetDocumentRequest& request) = 0;
  // Authorises the watch and returns a feed that first replays stored
  // events after request.after_sequence (dossier watch), then live ones.
  virtual absl::StatusOr<std::unique_ptr<EventSubscription>> WatchEvents(
      const Principal& caller, const v1::WatchEventsRequest& request) = 0;

  // Tasks.
  virtual absl::StatusOr<v1::ListMyTasksResponse> ListMyTasks(
      const Principal& caller, const v1::ListMyTasksRequest& request) = 0;
  virtual absl::StatusOr<v1::Task> ClaimTask(const Principal& caller,
                                             const v1::ClaimTaskRequest& request) = 0;
  // A transition that needs the officer's signature completes only with a
  // valid signature of a challenge PrepareSignature gave the same caller
  // for the same task, decision and version; the signed document is stored
  // and recorded in the same write as the step.
  virtual absl::StatusOr<v1::Dossier> CompleteTask(const Principal& caller,
                                                   const v1::CompleteTaskRequest& request) = 0;
  // Renders the document the decision produces and returns what the
  // officer's key must sign. Challenges live in memory only: a restart
  // forgets them, and the officer prepares again.
  virtual absl::StatusOr<v1::SignatureChallenge> PrepareSignature(
      const Principal& caller, const v1::PrepareSignatureRequest& request) = 0;
  // The PDF a live challenge of the caller's covers.
  virtual absl::StatusOr<v1::SignaturePreview> GetSignaturePreview(
      const Principal& caller, const v1::GetSignaturePreviewRequest& request) = 0;
  // PrepareSignature and CompleteTask for up to 1,000 items, each on its
  // own; an item's error goes in its result (service.proto says how).
  virtual absl::StatusOr<v1::PrepareSignaturesResponse> PrepareSignatures(
      const Principal& caller, const v1::PrepareSignaturesRequest& request) = 0;
  virtual absl::StatusOr<v1::CompleteTasksResponse> CompleteTasks(
      const Principal& caller, const v1::CompleteTasksRequest& request) = 0;

  // Audit.
  virtual absl::StatusOr<v1::GetDossierHistoryResponse> GetDossierHistory(
      const Principal& caller, const v1::GetDossierHistoryRequest& request) = 0;
  virtual absl::StatusOr<v1::VerifyDossierHistoryResponse> VerifyDossierHistory(
      const Principal& caller, const v1::VerifyDossierHistoryRequest& request) = 0;
  // Long-running operations (operations.proto). TransitionDossiers starts
  // one and returns it at once; the work goes on in the background and
  // resumes after a restart.
  virtual absl::StatusOr<v1::Operation> TransitionDossiers(
      const Principal& caller, const v1::TransitionDossiersRequest& request) = 0;
  virtual absl::StatusOr<v1::Operation> RenewDocuments(
      const Principal& caller, const v1::RenewDocumentsRequest& request) = 0;
  virtual absl::StatusOr<v1::Operation> GetOperation(const Principal& caller,
                                                     const v1::GetOperationRequest& request) = 0;
  virtual absl::StatusOr<v1::ListOperationsResponse> ListOperations(
      const Principal& caller, const v1::ListOperationsRequest& request) = 0;
  // Starts a job of a kind registered in EngineOptions::jobs, for an
  // administrator, described to people by `description`; `request` is kept
  // with the operation and handed to the runner. Idempotent by request_id.
  virtual absl::StatusOr<v1::Operation> StartJob(const Principal& caller, absl::string_view kind,
                                                 const std::string& description,
                                                 const google::protobuf::Message& request,
                                                 const std::string& request_id) = 0;
  virtual absl::StatusOr<v1::Operation> CancelOperation(
      const Principal& caller, const v1::CancelOperationRequest& request) = 0;
  virtual absl::StatusOr<v1::Operation> WaitOperation(
      const Principal& caller, const v1::WaitOperationRequest& request) = 0;

  // Issues every document waiting after its step, on the calling thread;
  // returns how many. The first failure stops it.
  virtual absl::StatusOr<int> IssuePendingDocuments() = 0;
  // The engine's own work: log head, timers due, documents pending.
  virtual absl::StatusOr<v1::EngineStatus> GetEngineStatus(
      const Principal& caller, const v1::GetEngineStatusRequest& request) = 0;

  // Fires the timers due by now, each exactly once (a transition of
  // TRIGGER_TIMER, or marking a dossier overdue); returns how many.
  virtual absl::StatusOr<int> FireDueTimers() = 0;

  // The global event log (see service.proto).
  virtual absl::StatusOr<v1::ListLogEventsResponse> ListLogEvents(
      const Principal& caller, const v1::ListLogEventsRequest& request) = 0;
  virtual absl::StatusOr<v1::VerifyEventLogResponse> VerifyEventLog(
      const Principal& caller, const v1::VerifyEventLogRequest& request) = 0;
};

}  // namespace motcua::workflow

#endif  // MOTCUA_WORKFLOW_ENGINE_H_
