#include "adapters/services.h"

#include <iostream>

#include "adapters/grpc_status.h"
#include "motcua/v1/service.grpc.pb.h"

namespace motcua::adapters {
namespace {

using workflow::Engine;
using workflow::Principal;

// Resolves the caller, runs the engine method and copies its answer out.
// Faults of the server itself (not the caller's) are logged, one line each.
template <typename Request, typename Response, typename Method>
grpc::Status Handle(PrincipalResolver* identity, grpc::ServerContext* context,
                    const Request* request, Response* response, Method method) {
  auto caller = identity->Resolve(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  // A call that waited in the queue past its deadline is not worth doing:
  // its client has given up, and under overload the work only delays others.
  if (context->IsCancelled() || context->deadline() < std::chrono::system_clock::now()) {
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "deadline passed before processing");
  }
  auto result = method(*caller, *request);
  if (!result.ok()) {
    absl::StatusCode code = result.status().code();
    if (code == absl::StatusCode::kInternal || code == absl::StatusCode::kDataLoss ||
        code == absl::StatusCode::kUnknown) {
      std::cerr << "event=server_fault code=" << absl::StatusCodeToString(code)
                << " method=" << Request::descriptor()->name() << " caller=" << caller->subject
                << " message=\"" << result.status().message() << "\"\n";
    }
    return ToGrpcStatus(result.status());
  }
  *response = *std::move(result);
  return grpc::Status::OK;
}

#define MOTCUA_UNARY(Method)                                                                \
  grpc::Status Method(grpc::ServerContext* context, const v1::Method##Request* request,      \
                      Response_##Method* response) override {                               \
    return Handle(identity_, context, request, response,                                    \
                  [this](const Principal& p, const v1::Method##Request& r) {                \
                    return engine_->Method(p, r);                                           \
                  });                                                                       \
  }

class ProcedureService final : public v1::ProcedureService::Service {
 public:
  ProcedureService(Engine* engine, PrincipalResolver* identity)
      : engine_(engine), identity_(identity) {}
  using Response_DeployProcedure = v1::ProcedureDefinition;
  using Response_GetProcedure = v1::ProcedureDefinition;
  using Response_ListProcedures = v1::ListProceduresResponse;
  MOTCUA_UNARY(DeployProcedure)
  MOTCUA_UNARY(GetProcedure)
  MOTCUA_UNARY(ListProcedures)

 private:
  Engine* engine_;
  PrincipalResolver* identity_;
};

class DossierService final : public v1::DossierService::Service {
 public:
  DossierService(Engine* engine, PrincipalResolver* identity)
      : engine_(engine), identity_(identity) {}
  using Response_SubmitDossier = v1::Dossier;
  using Response_GetDossier = v1::Dossier;
  using Response_ListDossiers = v1::ListDossiersResponse;
  using Response_WithdrawDossier = v1::Dossier;
  using Response_AddSupplement = v1::Dossier;
  using Response_GetAttachment = v1::AttachmentContent;
  MOTCUA_UNARY(SubmitDossier)
  MOTCUA_UNARY(GetDossier)
  MOTCUA_UNARY(ListDossiers)
  MOTCUA_UNARY(WithdrawDossier)
  MOTCUA_UNARY(AddSupplement)
  MOTCUA_UNARY(GetAttachment)

  grpc::Status WatchEvents(grpc::ServerContext* context, const v1::WatchEventsRequest* request,
                           grpc::ServerWriter<v1::HistoryEvent>* writer) override {
    auto caller = identity_->Resolve(*context);
    if (!caller.ok()) return ToGrpcStatus(caller.status());
    auto feed = engine_->WatchEvents(*caller, *request);
    if (!feed.ok()) return ToGrpcStatus(feed.status());
    // Wake up regularly to notice a caller who went away or a shutdown.
    constexpr absl::Duration kPoll = absl::Milliseconds(200);
    v1::HistoryEvent event;
    while (!context->IsCancelled()) {
      if (!(*feed)->Next(&event, kPoll)) continue;
      if (!writer->Write(event)) break;
    }
    return grpc::Status::OK;
  }

 private:
  Engine* engine_;
  PrincipalResolver* identity_;
};

class TaskService final : public v1::TaskService::Service {
 public:
  TaskService(Engine* engine, PrincipalResolver* identity) : engine_(engine), identity_(identity) {}
  using Response_ListMyTasks = v1::ListMyTasksResponse;
  using Response_ClaimTask = v1::Task;
  using Response_CompleteTask = v1::Dossier;
  MOTCUA_UNARY(ListMyTasks)
  MOTCUA_UNARY(ClaimTask)
  MOTCUA_UNARY(CompleteTask)

 private:
  Engine* engine_;
  PrincipalResolver* identity_;
};

class AuditService final : public v1::AuditService::Service {
 public:
  AuditService(Engine* engine, PrincipalResolver* identity)
      : engine_(engine), identity_(identity) {}
  using Response_GetDossierHistory = v1::GetDossierHistoryResponse;
  using Response_VerifyDossierHistory = v1::VerifyDossierHistoryResponse;
  MOTCUA_UNARY(GetDossierHistory)
  MOTCUA_UNARY(VerifyDossierHistory)

 private:
  Engine* engine_;
  PrincipalResolver* identity_;
};

#undef MOTCUA_UNARY

}  // namespace

std::vector<std::unique_ptr<grpc::Service>> MakeServices(Engine* engine,
                                                         PrincipalResolver* identity) {
  std::vector<std::unique_ptr<grpc::Service>> services;
  services.push_back(std::make_unique<ProcedureService>(engine, identity));
  services.push_back(std::make_unique<DossierService>(engine, identity));
  services.push_back(std::make_unique<TaskService>(engine, identity));
  services.push_back(std::make_unique<AuditService>(engine, identity));
  return services;
}

}  // namespace motcua::adapters
