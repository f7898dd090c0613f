#include "workflow/engine.h"

#include <thread>

#include "absl/synchronization/notification.h"
#include "workflow/access.h"
#include "workflow/dossier_commands.h"
#include "workflow/engine_context.h"
#include "workflow/event_log.h"
#include "workflow/operations.h"
#include "workflow/outbox.h"
#include "workflow/procedure_commands.h"
#include "workflow/queries.h"
#include "workflow/task_commands.h"
#include "workflow/timers.h"

namespace motcua::workflow {
namespace {

// Routes each call to the part that handles it: commands decide and commit
// through the Journal, queries read.
class EngineImpl : public Engine {
 public:
  EngineImpl(storage::Store* store, Clock* clock, const WorkCalendar* calendar,
             EngineOptions options, PageTokens page_tokens)
      : ctx_(store, clock, calendar, std::move(options), std::move(page_tokens)),
        procedures_(ctx_),
        dossiers_(ctx_),
        tasks_(ctx_),
        log_(ctx_),
        queries_(ctx_, log_),
        timers_(ctx_),
        operations_(ctx_),
        outbox_(ctx_) {}

  ~EngineImpl() override {
    if (timer_thread_.joinable()) {
      stop_.Notify();
      timer_thread_.join();
    }
  }

  absl::Status Start(bool install_builtins) {
    if (absl::Status s = ctx_.catalog.Load(*ctx_.store); !s.ok()) return s;
    auto journal = Journal::Open(ctx_.store, &ctx_.bus);
    if (!journal.ok()) return journal.status();
    ctx_.journal = *std::move(journal);
    ctx_.runner = std::make_unique<CommandRunner>(ctx_.store, ctx_.journal.get(), ctx_.clock);
    if (install_builtins) {
      if (absl::Status s = procedures_.InstallBuiltins(); !s.ok()) return s;
      // Only a serving engine carries on with unfinished operations.
      if (absl::Status s = operations_.Resume(); !s.ok()) return s;
    }
    ctx_.outbox_ready = [this] { outbox_.Wake(); };
    if (ctx_.options.documents != nullptr && ctx_.options.document_workers > 0) {
      outbox_.Start(ctx_.options.document_workers);
    }
    if (ctx_.options.timer_poll > absl::ZeroDuration()) {
      timer_thread_ = std::thread([this] { RunTimers(); });
    }
    return absl::OkStatus();
  }

  absl::StatusOr<v1::ProcedureDefinition> DeployProcedure(
      const Principal& caller, const v1::DeployProcedureRequest& request) override {
    return procedures_.Deploy(caller, request);
  }
  absl::StatusOr<v1::ProcedureDefinition> GetProcedure(
      const Principal&, const v1::GetProcedureRequest& request) override {
    return procedures_.Get(request);
  }
  absl::StatusOr<v1::ListProceduresResponse> ListProcedures(
      const Principal& caller, const v1::ListProceduresRequest& request) override {
    return procedures_.List(caller, request);
  }
  absl::StatusOr<v1::Dossier> SubmitDossier(const Principal& caller,
                                            const v1::SubmitDossierRequest& request) override {
    return dossiers_.Submit(caller, request);
  }
  absl::StatusOr<v1::Dossier> GetDossier(const Principal& caller,
                                         const v1::GetDossierRequest& request) override {
    return queries_.GetDossier(caller, request);
  }
  absl::StatusOr<v1::ListDossiersResponse> ListDossiers(
      const Principal& caller, const v1::ListDossiersRequest& request) override {
    return queries_.ListDossiers(caller, request);
  }
  absl::StatusOr<v1::Dossier> WithdrawDossier(const Principal& caller,
                                              const v1::WithdrawDossierRequest& request) override {
    return dossiers_.Withdraw(caller, request);
  }
  absl::StatusOr<v1::Dossier> AddSupplement(const Principal& caller,
                                            const v1::AddSupplementRequest& request) override {
    return dossiers_.AddSupplement(caller, request);
  }
  absl::StatusOr<v1::AttachmentContent> GetAttachment(
      const Principal& caller, const v1::GetAttachmentRequest& request) override {
    return queries_.GetAttachment(caller, request);
  }
  absl::StatusOr<v1::DocumentContent> GetDocument(
      const Principal& caller, const v1::GetDocumentRequest& request) override {
    return queries_.GetDocument(caller, request);
  }
  absl::StatusOr<std::unique_ptr<EventSubscription>> WatchEvents(
      const Principal& caller, const v1::WatchEventsRequest& request) override {
    return queries_.Watch(caller, request);
  }
  absl::StatusOr<v1::ListMyTasksResponse> ListMyTasks(
      const Principal& caller, const v1::ListMyTasksRequest& request) override {
    return queries_.ListMyTasks(caller, request);
  }
  absl::StatusOr<v1::Task> ClaimTask(const Principal& caller,
                                     const v1::ClaimTaskRequest& request) override {
    return tasks_.Claim(caller, request);
  }
  absl::StatusOr<v1::Dossier> CompleteTask(const Principal& caller,
                                           const v1::CompleteTaskRequest& request) override {
    return tasks_.Complete(caller, request);
  }
  absl::StatusOr<v1::SignatureChallenge> PrepareSignature(
      const Principal& caller, const v1::PrepareSignatureRequest& request) override {
    return tasks_.PrepareSignature(caller, request);
  }
  absl::StatusOr<v1::SignaturePreview> GetSignaturePreview(
      const Principal& caller, const v1::GetSignaturePreviewRequest& request) override {
    return tasks_.GetSignaturePreview(caller, request);
  }
  absl::StatusOr<v1::PrepareSignaturesResponse> PrepareSignatures(
      const Principal& caller, const v1::PrepareSignaturesRequest& request) override {
    return tasks_.PrepareSignatures(caller, request);
  }
  absl::StatusOr<v1::CompleteTasksResponse> CompleteTasks(
      const Principal& caller, const v1::CompleteTasksRequest& request) override {
    return tasks_.CompleteTasks(caller, request);
  }
  absl::StatusOr<v1::GetDossierHistoryResponse> GetDossierHistory(
      const Principal& caller, const v1::GetDossierHistoryRequest& request) override {
    return queries_.History(caller, request);
  }
  absl::StatusOr<v1::VerifyDossierHistoryResponse> VerifyDossierHistory(
      const Principal& caller, const v1::VerifyDossierHistoryRequest& request) override {
    return queries_.VerifyHistory(caller, request);
  }
  absl::StatusOr<v1::Operation> TransitionDossiers(
      const Principal& caller, const v1::TransitionDossiersRequest& request) override {
    return operations_.StartTransition(caller, request);
  }
  absl::StatusOr<v1::Operation> RenewDocuments(
      const Principal& caller, const v1::RenewDocumentsRequest& request) override {
    return operations_.StartRenewal(caller, request);
  }
  absl::StatusOr<v1::Operation> GetOperation(const Principal& caller,
                                             const v1::GetOperationRequest& request) override {
    return operations_.Get(caller, request);
  }
  absl::StatusOr<v1::ListOperationsResponse> ListOperations(
      const Principal& caller, const v1::ListOperationsRequest& request) override {
    return operations_.List(caller, request);
  }
  absl::StatusOr<v1::Operation> StartJob(const Principal& caller, absl::string_view kind,
                                         const std::string& description,
                                         const google::protobuf::Message& request,
                                         const std::string& request_id) override {
    return operations_.StartJob(caller, kind, description, request, request_id);
  }
  absl::StatusOr<v1::Operation> CancelOperation(
      const Principal& caller, const v1::CancelOperationRequest& request) override {
    return operations_.Cancel(caller, request);
  }
  absl::StatusOr<v1::Operation> WaitOperation(const Principal& caller,
                                              const v1::WaitOperationRequest& request) override {
    return operations_.Wait(caller, request);
  }

  absl::StatusOr<int> IssuePendingDocuments() override {
    if (ctx_.options.documents == nullptr) return 0;
    return outbox_.IssueAll();
  }

  absl::StatusOr<v1::EngineStatus> GetEngineStatus(const Principal& caller,
                                                   const v1::GetEngineStatusRequest&) override {
    if (absl::Status s = RequireRole(caller, {v1::ROLE_ADMIN, v1::ROLE_AUDITOR},
                                     "read the engine's status");
        !s.ok()) {
      return s;
    }
    v1::EngineStatus status;
    status.set_log_head(ctx_.journal->Head().log_sequence);
    status.set_timers_due(timers_.CountDue(1000000));
    const Outbox::Status documents = outbox_.GetStatus();
    status.set_documents_pending(documents.backlog);
    if (documents.backlog > 0) {
      status.set_oldest_pending_seconds(
          absl::ToDoubleSeconds(ctx_.clock->Now() - documents.oldest));
    }
    status.set_documents_issued(documents.issued);
    status.set_document_failures(documents.failures);
    status.set_document_last_error(documents.last_error);
    status.set_operations_running(operations_.RunningCount());
    return status;
  }

  absl::StatusOr<int> FireDueTimers() override {
    int fired = 0;
    for (;;) {
      auto batch = timers_.FireDue(kTimerBatch);
      if (!batch.ok()) return batch.status();
      fired += *batch;
      if (*batch < kTimerBatch) return fired;
    }
  }

  absl::StatusOr<v1::ListLogEventsResponse> ListLogEvents(
      const Principal& caller, const v1::ListLogEventsRequest& request) override {
    return log_.List(caller, request);
  }
  absl::StatusOr<v1::VerifyEventLogResponse> VerifyEventLog(
      const Principal& caller, const v1::VerifyEventLogRequest& request) override {
    return log_.Verify(caller, request);
  }

 private:
  EngineContext ctx_;
  ProcedureCommands procedures_;
  DossierCommands dossiers_;
  TaskCommands tasks_;
  EventLog log_;
  DossierQueries queries_;
  TimerService timers_;
  Operations operations_;
  Outbox outbox_;

  // Fires due timers every options.timer_poll until the engine closes. A
  // failed firing leaves its timer armed, so the next round retries it.
  void RunTimers() {
    while (!stop_.WaitForNotificationWithTimeout(ctx_.options.timer_poll)) {
      FireDueTimers().IgnoreError();
    }
  }
  static constexpr int kTimerBatch = 5000;
  absl::Notification stop_;
  std::thread timer_thread_;
};

}  // namespace

std::function<bool(absl::string_view value)> IdempotencyRetention(absl::Duration window) {
  return [window](absl::string_view value) {
    v1::IdempotencyRecord record;
    if (!record.ParseFromArray(value.data(), static_cast<int>(value.size()))) return false;
    return absl::FromUnixSeconds(record.recorded_at_unix_seconds()) + window < absl::Now();
  };
}

absl::StatusOr<std::unique_ptr<Engine>> Engine::Open(storage::Store* store, Clock* clock,
                                                     const WorkCalendar* calendar,
                                                     const EngineOptions& options) {
  // Only a serving engine (one that installs its procedures) writes at Open.
  auto tokens = PageTokens::Open(store, options.install_builtin_procedures);
  if (!tokens.ok()) return tokens.status();
  auto engine = std::make_unique<EngineImpl>(store, clock, calendar, options, *std::move(tokens));
  if (absl::Status s = engine->Start(options.install_builtin_procedures); !s.ok()) return s;
  return std::unique_ptr<Engine>(std::move(engine));
}

}  // namespace motcua::workflow
