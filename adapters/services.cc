#include "adapters/services.h"

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/proto_buffer_writer.h>

#include "absl/strings/str_cat.h"
#include "adapters/call.h"
#include "adapters/grpc_status.h"
#include "adapters/verify_report.h"
#include "motcua/v1/operations.grpc.pb.h"
#include "motcua/v1/service.grpc.pb.h"
#include "workflow/dossier_audit.h"

namespace motcua::adapters {
namespace {

using workflow::Engine;
using workflow::Principal;

// Reads answer at once on gRPC's callback threads.
#define MOTCUA_READ(Method)                                                                  \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* context,                     \
                                   const grpc::ByteBuffer* request,                          \
                                   grpc::ByteBuffer* response) override {                    \
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();                           \
    reactor->Finish(Serve<v1::Method##Request>(                                              \
        identity_, context, *request, response,                                              \
        [this](const Principal& caller, const v1::Method##Request& r) {                      \
          return engine_->Method(caller, r);                                                 \
        }));                                                                                 \
    return reactor;                                                                          \
  }

// Changes wait for a durable commit, so they run on the work pool; a full
// pool answers RESOURCE_EXHAUSTED at once rather than queueing without end.
#define MOTCUA_CHANGE(Method)                                                                \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* context,                     \
                                   const grpc::ByteBuffer* request,                          \
                                   grpc::ByteBuffer* response) override {                    \
    return ServeOnPool<v1::Method##Request>(                                                 \
        pool_, identity_, context, request, response,                                        \
        [this](const Principal& caller, const v1::Method##Request& r) {                      \
          return engine_->Method(caller, r);                                                 \
        });                                                                                  \
  }

// What every service holds.
struct Backend {
  Engine* engine_;
  PrincipalResolver* identity_;
  WorkPool* pool_;
  const signing::DocumentVerifier* verifier_;
};

using ps = v1::ProcedureService;
class ProcedureService final
    : public ps::WithRawCallbackMethod_DeployProcedure<
          ps::WithRawCallbackMethod_GetProcedure<ps::WithRawCallbackMethod_ListProcedures<
              ps::Service>>>,
      Backend {
 public:
  explicit ProcedureService(Backend backend) : Backend(backend) {}
  MOTCUA_CHANGE(DeployProcedure)
  MOTCUA_READ(GetProcedure)
  MOTCUA_READ(ListProcedures)
};

using ds = v1::DossierService;
class DossierService final
    : public ds::WithRawCallbackMethod_SubmitDossier<ds::WithRawCallbackMethod_GetDossier<
          ds::WithRawCallbackMethod_ListDossiers<ds::WithRawCallbackMethod_WithdrawDossier<
              ds::WithRawCallbackMethod_AddSupplement<ds::WithRawCallbackMethod_GetAttachment<
                  ds::WithRawCallbackMethod_GetDocument<ds::WithRawCallbackMethod_WatchEvents<
                      ds::WithRawCallbackMethod_TransitionDossiers<
                          ds::WithRawCallbackMethod_RenewDocuments<ds::Service>>>>>>>>>>,
      Backend {
 public:
  explicit DossierService(Backend backend) : Backend(backend) {}
  MOTCUA_CHANGE(SubmitDossier)
  MOTCUA_READ(GetDossier)
  MOTCUA_READ(ListDossiers)
  MOTCUA_CHANGE(WithdrawDossier)
  MOTCUA_CHANGE(TransitionDossiers)
  MOTCUA_CHANGE(RenewDocuments)
  MOTCUA_CHANGE(AddSupplement)
  MOTCUA_READ(GetAttachment)
  MOTCUA_READ(GetDocument)

  // A long-lived stream, one thread per watcher (bounded by the server's
  // thread quota), polling the feed to notice a caller who went away.
  grpc::ServerWriteReactor<grpc::ByteBuffer>* WatchEvents(grpc::CallbackServerContext* context,
                                                          const grpc::ByteBuffer* in) override {
    return BlockingStream::Start(context, [this, in](BlockingStream& stream) {
      auto caller = identity_->Resolve(*stream.context());
      if (!caller.ok()) return ToGrpcStatus(caller.status());
      v1::WatchEventsRequest request;
      if (absl::Status s = ParseRequest(*in, &request); !s.ok()) return ToGrpcStatus(s);
      auto feed = engine_->WatchEvents(*caller, request);
      if (!feed.ok()) return ToGrpcStatus(feed.status());
      constexpr absl::Duration kPoll = absl::Milliseconds(200);
      v1::HistoryEvent event;
      while (!stream.IsCancelled()) {
        absl::StatusOr<bool> got = (*feed)->Next(&event, kPoll);
        if (!got.ok()) return ToGrpcStatus(got.status());
        if (!*got) continue;
        if (!stream.Write(event)) break;
      }
      return grpc::Status::OK;
    });
  }
};

using ts = v1::TaskService;
class TaskService final
    : public ts::WithRawCallbackMethod_ListMyTasks<ts::WithRawCallbackMethod_ClaimTask<
          ts::WithRawCallbackMethod_CompleteTask<ts::WithRawCallbackMethod_PrepareSignature<
              ts::WithRawCallbackMethod_GetSignaturePreview<
                  ts::WithRawCallbackMethod_PrepareSignatures<
                      ts::WithRawCallbackMethod_CompleteTasks<ts::Service>>>>>>>,
      Backend {
 public:
  explicit TaskService(Backend backend) : Backend(backend) {}
  MOTCUA_READ(ListMyTasks)
  MOTCUA_CHANGE(ClaimTask)
  MOTCUA_CHANGE(CompleteTask)
  // Changes nothing durable, but renders and signs: kept off gRPC's threads.
  MOTCUA_CHANGE(PrepareSignature)
  MOTCUA_READ(GetSignaturePreview)
  MOTCUA_CHANGE(PrepareSignatures)
  MOTCUA_CHANGE(CompleteTasks)
};

// Document verification is the signing library's, not the engine's, so
// VerifyDocument and VerifyDossier have no engine method. The one rule they
// need is here: the
// people of the service may check a document; portals, which act for
// citizens, may not use the server as a verification oracle.
absl::Status MayVerifyDocuments(const Principal& caller) {
  switch (caller.role) {
    case v1::ROLE_OFFICER:
    case v1::ROLE_CLERK:
    case v1::ROLE_AUDITOR:
    case v1::ROLE_ADMIN:
      return absl::OkStatus();
    default:
      return absl::PermissionDeniedError(
          absl::StrCat("role ", v1::Role_Name(caller.role),
                       " may not verify documents (allowed: officer, clerk, auditor, admin)"));
  }
}

using as = v1::AuditService;
class AuditService final
    : public as::WithRawCallbackMethod_GetDossierHistory<
          as::WithRawCallbackMethod_VerifyDossierHistory<as::WithRawCallbackMethod_VerifyDocument<
              as::WithRawCallbackMethod_VerifyDossier<as::WithRawCallbackMethod_ListLogEvents<
                  as::WithRawCallbackMethod_VerifyEventLog<as::Service>>>>>>,
      Backend {
 public:
  explicit AuditService(Backend backend) : Backend(backend) {}
  MOTCUA_READ(GetDossierHistory)
  MOTCUA_READ(VerifyDossierHistory)
  MOTCUA_READ(ListLogEvents)
  // Reads up to a million entries: on the pool.
  MOTCUA_CHANGE(VerifyEventLog)

  // Parsing and hashing PDFs is slow work: it runs on the pool, not on
  // gRPC's callback threads.
  grpc::ServerUnaryReactor* VerifyDocument(grpc::CallbackServerContext* context,
                                           const grpc::ByteBuffer* request,
                                           grpc::ByteBuffer* response) override {
    return ServeOnPool<v1::VerifyDocumentRequest>(
        pool_, identity_, context, request, response,
        [this](const Principal& caller, const v1::VerifyDocumentRequest& r) {
          return CheckDocument(caller, r);
        });
  }

  grpc::ServerUnaryReactor* VerifyDossier(grpc::CallbackServerContext* context,
                                          const grpc::ByteBuffer* request,
                                          grpc::ByteBuffer* response) override {
    return ServeOnPool<v1::VerifyDossierRequest>(
        pool_, identity_, context, request, response,
        [this](const Principal& caller, const v1::VerifyDossierRequest& r) {
          return CheckDossier(caller, r);
        });
  }

 private:
  absl::StatusOr<v1::VerifyDocumentResponse> CheckDocument(
      const Principal& caller, const v1::VerifyDocumentRequest& request) {
    if (absl::Status s = MayVerifyDocuments(caller); !s.ok()) return s;
    absl::StatusOr<signing::VerificationReport> report =
        verifier_->Verify(request.pdf(), !request.skip_revocation_check());
    if (!report.ok()) return report.status();
    return ToProto(*report);
  }

  // The evidence is read as the caller (who must be allowed to read the
  // dossier), the dossier first: events newer than it are left out, so the
  // check is consistent while the dossier moves on.
  absl::StatusOr<v1::VerifyDossierResponse> CheckDossier(const Principal& caller,
                                                         const v1::VerifyDossierRequest& request) {
    if (absl::Status s = MayVerifyDocuments(caller); !s.ok()) return s;
    workflow::DossierEvidence evidence;
    v1::GetDossierRequest get;
    get.set_code(request.dossier_code());
    absl::StatusOr<v1::Dossier> dossier = engine_->GetDossier(caller, get);
    if (!dossier.ok()) return dossier.status();
    evidence.dossier = *std::move(dossier);
    v1::GetDossierHistoryRequest get_history;
    get_history.set_dossier_code(request.dossier_code());
    auto history = engine_->GetDossierHistory(caller, get_history);
    if (!history.ok()) return history.status();
    for (v1::HistoryEvent& event : *history->mutable_events()) {
      if (event.sequence() > evidence.dossier.history_length()) break;
      evidence.history.push_back(std::move(event));
    }
    for (const v1::Document& doc : evidence.dossier.documents()) {
      if (doc.pending()) continue;  // the audit reports it pending
      v1::GetDocumentRequest get_document;
      get_document.set_dossier_code(request.dossier_code());
      get_document.set_document_id(doc.id());
      absl::StatusOr<v1::DocumentContent> content = engine_->GetDocument(caller, get_document);
      if (absl::IsNotFound(content.status())) continue;  // the audit reports it missing
      if (!content.ok()) return content.status();
      evidence.documents[doc.id()] = std::move(*content->mutable_content());
    }
    absl::StatusOr<workflow::DossierAudit> audit =
        workflow::AuditDossier(evidence, *verifier_, !request.skip_revocation_check());
    if (!audit.ok()) return audit.status();
    v1::VerifyDossierResponse response = ToProto(*audit);
    response.set_dossier_code(evidence.dossier.code());
    return response;
  }
};

using os = v1::OperationService;
class OperationService final
    : public os::WithRawCallbackMethod_GetOperation<os::WithRawCallbackMethod_ListOperations<
          os::WithRawCallbackMethod_CancelOperation<os::WithRawCallbackMethod_WaitOperation<
              os::WithRawCallbackMethod_GetEngineStatus<os::Service>>>>>,
      Backend {
 public:
  explicit OperationService(Backend backend) : Backend(backend) {}
  MOTCUA_READ(GetOperation)
  MOTCUA_READ(ListOperations)
  MOTCUA_CHANGE(CancelOperation)
  MOTCUA_READ(GetEngineStatus)

  // Waits up to a minute: on a thread of its own, not the pool's.
  grpc::ServerUnaryReactor* WaitOperation(grpc::CallbackServerContext* context,
                                          const grpc::ByteBuffer* request,
                                          grpc::ByteBuffer* response) override {
    return ServeOnThread<v1::WaitOperationRequest>(
        identity_, context, request, response,
        [this](const Principal& caller, const v1::WaitOperationRequest& r) {
          return engine_->WaitOperation(caller, r);
        });
  }
};

#undef MOTCUA_READ
#undef MOTCUA_CHANGE

}  // namespace

std::vector<std::unique_ptr<grpc::Service>> MakeServices(
    Engine* engine, PrincipalResolver* identity, WorkPool* pool,
    const signing::DocumentVerifier* verifier) {
  const Backend backend{engine, identity, pool, verifier};
  std::vector<std::unique_ptr<grpc::Service>> services;
  services.push_back(std::make_unique<ProcedureService>(backend));
  services.push_back(std::make_unique<DossierService>(backend));
  services.push_back(std::make_unique<TaskService>(backend));
  services.push_back(std::make_unique<AuditService>(backend));
  services.push_back(std::make_unique<OperationService>(backend));
  return services;
}

}  // namespace motcua::adapters
