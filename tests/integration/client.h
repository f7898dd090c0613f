#ifndef MOTCUA_TESTS_INTEGRATION_CLIENT_H_
#define MOTCUA_TESTS_INTEGRATION_CLIENT_H_

// A blocking client over one channel for every motcua service, returning the
// gRPC status together with the response so tests can assert on either.
// Every call has a deadline (30 s), so a hung server fails a test instead of
// hanging it.

#include <grpcpp/channel.h>
#include <grpcpp/support/status.h>

#include <memory>
#include <string>
#include <vector>

#include "motcua/v1/service.grpc.pb.h"

namespace motcua::itest {

// A call's outcome: the status and, when it is OK, the response.
template <typename T>
struct Reply {
  grpc::Status status;
  T value;
  bool ok() const { return status.ok(); }
};

// "NOT_FOUND: message" — for failure output.
std::string Describe(const grpc::Status& status);
std::string CodeName(grpc::StatusCode code);

class Client {
 public:
  explicit Client(std::shared_ptr<grpc::Channel> channel);

  Reply<v1::Dossier> Submit(const v1::SubmitDossierRequest& request);
  Reply<v1::Dossier> GetDossier(const std::string& code);
  Reply<v1::ListDossiersResponse> ListDossiers(const v1::ListDossiersRequest& request);
  Reply<v1::Dossier> Withdraw(const v1::WithdrawDossierRequest& request);
  Reply<v1::Dossier> AddSupplement(const v1::AddSupplementRequest& request);
  Reply<v1::AttachmentContent> GetAttachment(const std::string& dossier_code,
                                             const std::string& attachment_id);

  Reply<v1::ListMyTasksResponse> ListMyTasks(const v1::ListMyTasksRequest& request);
  Reply<v1::Task> ClaimTask(const v1::ClaimTaskRequest& request);
  Reply<v1::Dossier> CompleteTask(const v1::CompleteTaskRequest& request);
  Reply<v1::SignatureChallenge> PrepareSignature(const v1::PrepareSignatureRequest& request);
  Reply<v1::SignaturePreview> GetSignaturePreview(const std::string& challenge_id);
  Reply<v1::PrepareSignaturesResponse> PrepareSignatures(
      const v1::PrepareSignaturesRequest& request);
  Reply<v1::CompleteTasksResponse> CompleteTasks(const v1::CompleteTasksRequest& request);
  Reply<v1::DocumentContent> GetDocument(const std::string& dossier_code,
                                         const std::string& document_id);

  Reply<v1::ProcedureDefinition> Deploy(const v1::DeployProcedureRequest& request);
  Reply<v1::ProcedureDefinition> GetProcedure(const std::string& code, int version = 0);
  Reply<v1::ListProceduresResponse> ListProcedures(const v1::ListProceduresRequest& request = {});

  Reply<v1::GetDossierHistoryResponse> History(const std::string& dossier_code);
  Reply<v1::VerifyDossierHistoryResponse> Verify(const std::string& dossier_code);
  Reply<v1::ListLogEventsResponse> ListLogEvents(const v1::ListLogEventsRequest& request);
  Reply<v1::VerifyEventLogResponse> VerifyEventLog(const v1::VerifyEventLogRequest& request);
  Reply<v1::VerifyDossierResponse> VerifyDossier(const std::string& dossier_code,
                                                 bool skip_revocation_check);

  // Every dossier matching `request`, following next_page_token to the end.
  Reply<std::vector<v1::Dossier>> ListAllDossiers(v1::ListDossiersRequest request);
  // The caller's whole worklist, all pages.
  Reply<std::vector<v1::Task>> AllMyTasks();

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  v1::DossierService::Stub& dossiers() { return *dossiers_; }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::DossierService::Stub> dossiers_;
  std::unique_ptr<v1::TaskService::Stub> tasks_;
  std::unique_ptr<v1::ProcedureService::Stub> procedures_;
  std::unique_ptr<v1::AuditService::Stub> audit_;
};

// Raw bytes to and from a method by full name ("/pkg.Service/Method"),
// bypassing the typed stubs: for health checks without generated health
// code, and for sending bytes that are not a valid message.
struct RawReply {
  grpc::Status status;
  std::string bytes;
};
RawReply CallRaw(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                 const std::string& request_bytes, int deadline_seconds = 30);

// Opens a bidirectional stream on `method`, sends `request_bytes`, returns
// the first response message (and the stream's status if none came).
RawReply CallRawStreamFirst(const std::shared_ptr<grpc::Channel>& channel,
                            const std::string& method, const std::string& request_bytes);

// grpc.health.v1.Health/Check for `service` ("" for the whole server).
// Returns the ServingStatus number (1 = SERVING) or the failed status.
Reply<int> HealthCheck(const std::shared_ptr<grpc::Channel>& channel,
                       const std::string& service = "");

}  // namespace motcua::itest

#endif  // MOTCUA_TESTS_INTEGRATION_CLIENT_H_
