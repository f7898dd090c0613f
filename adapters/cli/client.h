// The CLI's connection to motcuad: credentials, stubs, deadlines, and gRPC
// errors turned into absl::Status so commands handle one error type.
#ifndef MOTCUA_ADAPTERS_CLI_CLIENT_H_
#define MOTCUA_ADAPTERS_CLI_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "motcua/v1/backup_service.grpc.pb.h"
#include "motcua/v1/operations.grpc.pb.h"
#include "motcua/v1/service.grpc.pb.h"

namespace motcua::cli {

// How to reach the server and who to be. Filled from flags and environment.
struct ConnectionOptions {
  // "host:port". Default: $MOTCUA_SERVER, else 127.0.0.1:50051.
  std::string server;
  // Dev PKI directory for --as. Default: $MOTCUA_PKI_DIR, else ./var/pki.
  std::string pki_dir;
  // Dev PKI client name. Default: $MOTCUA_AS. With neither it nor cert,
  // Connect refuses: the CLI acts as nobody by default.
  std::string as;
  // Explicit identity files; when cert and key are set they replace --as.
  // ca defaults to <pki_dir>/ca.crt.
  std::string cert;
  std::string key;
  std::string ca;
  // Plain-text connection, for a server started with --insecure. The caller
  // then names itself in metadata, taken from the same certificate file.
  bool insecure = false;
  // Deadline of each unary call. Watch streams have none.
  absl::Duration timeout = absl::Seconds(30);
};

// Reads a connection profile: lines "server = host:port", "ca = FILE",
// "cert = FILE", "key = FILE" (relative paths from the profile's directory;
// blank lines and '#' comments skipped). Fills only what `options` leaves
// empty. NOT_FOUND when the file cannot be read; INVALID_ARGUMENT naming the
// line for anything else.
absl::Status ApplyProfile(const std::string& path, ConnectionOptions* options);

// A random 128-bit value as 32 lowercase hex digits, for request_id.
std::string NewRequestId();

// The status of a finished gRPC call; the codes share their numbers.
absl::Status FromGrpc(const grpc::Status& status);

// One channel to the server with a stub per service. Not copyable; calls
// may be made from one thread at a time.
class Client {
 public:
  // Builds the channel credentials. FAILED_PRECONDITION saying how to choose
  // when no identity is given; NOT_FOUND when an identity file cannot be read. Does not connect; the first call does.
  static absl::StatusOr<std::unique_ptr<Client>> Connect(const ConnectionOptions& options);

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  absl::StatusOr<v1::Dossier> SubmitDossier(const v1::SubmitDossierRequest& request);
  absl::StatusOr<v1::Dossier> GetDossier(const std::string& code);
  absl::StatusOr<v1::ListDossiersResponse> ListDossiers(const v1::ListDossiersRequest& request);
  absl::StatusOr<v1::Dossier> WithdrawDossier(const v1::WithdrawDossierRequest& request);
  absl::StatusOr<v1::Dossier> AddSupplement(const v1::AddSupplementRequest& request);
  absl::StatusOr<v1::ListMyTasksResponse> ListMyTasks(const v1::ListMyTasksRequest& request);
  absl::StatusOr<v1::Task> ClaimTask(const v1::ClaimTaskRequest& request);
  absl::StatusOr<v1::Dossier> CompleteTask(const v1::CompleteTaskRequest& request);
  absl::StatusOr<v1::SignatureChallenge> PrepareSignature(
      const v1::PrepareSignatureRequest& request);
  absl::StatusOr<v1::SignaturePreview> GetSignaturePreview(const std::string& challenge_id);
  absl::StatusOr<v1::PrepareSignaturesResponse> PrepareSignatures(
      const v1::PrepareSignaturesRequest& request);
  absl::StatusOr<v1::CompleteTasksResponse> CompleteTasks(const v1::CompleteTasksRequest& request);
  absl::StatusOr<v1::DocumentContent> GetDocument(const std::string& code, const std::string& id);
  absl::StatusOr<v1::GetDossierHistoryResponse> GetDossierHistory(const std::string& code);
  absl::StatusOr<v1::VerifyDossierHistoryResponse> VerifyDossierHistory(const std::string& code);
  absl::StatusOr<v1::VerifyDossierResponse> VerifyDossier(const v1::VerifyDossierRequest& request);
  // Every page, followed to the end.
  absl::StatusOr<v1::ListProceduresResponse> ListProcedures();
  absl::StatusOr<v1::ProcedureDefinition> GetProcedure(const std::string& code, int32_t version);
  absl::StatusOr<v1::ProcedureDefinition> DeployProcedure(
      const v1::DeployProcedureRequest& request);

  // Calls `on_event` for each streamed event until the server ends the
  // stream, `on_event` returns false, or the call fails. OK when the
  // stream ended normally.
  absl::Status WatchEvents(const v1::WatchEventsRequest& request,
                           const std::function<bool(const v1::HistoryEvent&)>& on_event);

  // Operations and the engine's own work.
  absl::StatusOr<v1::Operation> TransitionDossiers(const v1::TransitionDossiersRequest& request);
  absl::StatusOr<v1::Operation> RenewDocuments(const v1::RenewDocumentsRequest& request);
  absl::StatusOr<v1::Operation> GetOperation(const std::string& name);
  // Every page, followed to the end.
  absl::StatusOr<std::vector<v1::Operation>> ListOperations();
  absl::StatusOr<v1::Operation> CancelOperation(const std::string& name);
  // Returns when done or after `timeout_seconds` (1..60).
  absl::StatusOr<v1::Operation> WaitOperation(const std::string& name, int timeout_seconds);
  absl::StatusOr<v1::EngineStatus> GetEngineStatus();

  // Backups.
  absl::StatusOr<v1::BackupStatus> GetBackupStatus();
  // Every page, followed to the end.
  absl::StatusOr<v1::ListBackupsResponse> ListBackups();
  absl::StatusOr<v1::BackupRecord> ConfirmDetached(const v1::ConfirmDetachedRequest& request);
  // Each starts an operation and returns it at once; WaitOperation follows it.
  absl::StatusOr<v1::Operation> RunBackup(const v1::RunBackupRequest& request);
  absl::StatusOr<v1::Operation> VerifyBackups(const v1::VerifyBackupsRequest& request);
  absl::StatusOr<v1::Operation> ExportOffline(const v1::ExportOfflineRequest& request);
  absl::StatusOr<v1::Operation> RunRestoreDrill(const v1::RunRestoreDrillRequest& request);

 private:
  using Metadata = std::vector<std::pair<std::string, std::string>>;

  Client(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout, Metadata metadata);

  // A context with this client's deadline and metadata.
  std::unique_ptr<grpc::ClientContext> NewContext() const;

  std::shared_ptr<grpc::Channel> channel_;
  absl::Duration timeout_;
  // Sent with every call; the identity headers in insecure mode.
  Metadata metadata_;
  std::unique_ptr<v1::DossierService::Stub> dossiers_;
  std::unique_ptr<v1::TaskService::Stub> tasks_;
  std::unique_ptr<v1::AuditService::Stub> audit_;
  std::unique_ptr<v1::ProcedureService::Stub> procedures_;
  std::unique_ptr<v1::BackupService::Stub> backups_;
  std::unique_ptr<v1::OperationService::Stub> operations_;
};

}  // namespace motcua::cli

#endif  // MOTCUA_ADAPTERS_CLI_CLIENT_H_
