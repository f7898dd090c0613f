#include "adapters/cli/client.h"

#include <openssl/rand.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "adapters/cli/format.h"
#include "adapters/identity.h"
#include "adapters/tls.h"

namespace motcua::cli {
namespace {

// Runs one unary call and returns its response or its error.
template <typename Response, typename Call>
absl::StatusOr<Response> Unary(std::unique_ptr<grpc::ClientContext> context, Call call) {
  Response response;
  const grpc::Status status = call(context.get(), &response);
  if (!status.ok()) return FromGrpc(status);
  return response;
}

// Without TLS the server sees no certificate, so the caller states who it
// is in metadata; the words are read from the certificate it would present.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> InsecureIdentity(
    const std::string& cert_path) {
  std::ifstream in(cert_path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot read ", cert_path, " (--insecure takes the caller's name from it)"));
  }
  std::ostringstream pem;
  pem << in.rdbuf();
  absl::StatusOr<workflow::Principal> principal = adapters::PrincipalFromCertificatePem(pem.str());
  if (!principal.ok()) return principal.status();
  std::vector<std::pair<std::string, std::string>> metadata = {
      {"x-motcua-subject", principal->subject},
      {"x-motcua-role", RoleName(principal->role)},
  };
  if (!principal->unit.empty()) metadata.emplace_back("x-motcua-unit", principal->unit);
  if (!principal->position.empty()) {
    metadata.emplace_back("x-motcua-position", principal->position);
  }
  return metadata;
}

}  // namespace

std::string NewRequestId() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    // The OpenSSL RNG does not fail on a working system; if it ever does, a
    // request id still has to be unique, not secret.
    std::random_device device;
    for (auto& b : bytes) b = static_cast<unsigned char>(device());
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

absl::Status ApplyProfile(const std::string& path, ConnectionOptions* options) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read profile ", path));
  const std::filesystem::path dir = std::filesystem::absolute(path).parent_path();
  auto file = [&](const std::string& value) {
    std::filesystem::path p(value);
    return p.is_relative() ? (dir / p).string() : value;
  };
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty() || text.front() == '#') continue;
    const size_t eq = text.find('=');
    const std::string name(absl::StripAsciiWhitespace(text.substr(0, eq)));
    const std::string value(
        eq == absl::string_view::npos ? "" : absl::StripAsciiWhitespace(text.substr(eq + 1)));
    std::string* field = nullptr;
    if (name == "server") field = &options->server;
    else if (name == "ca") field = &options->ca;
    else if (name == "cert") field = &options->cert;
    else if (name == "key") field = &options->key;
    if (field == nullptr || value.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ":", number, ": expected \"server|ca|cert|key = value\""));
    }
    if (field->empty()) *field = name == "server" ? value : file(value);
  }
  if (options->cert.empty() != options->key.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": cert and key go together"));
  }
  return absl::OkStatus();
}

absl::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(const ConnectionOptions& options) {
  if (options.as.empty() && options.cert.empty()) {
    // Acting as somebody by default would put another person's name on
    // every change in the history.
    return absl::FailedPreconditionError(
        "who are you? Choose an identity: --cert FILE --key FILE [--ca FILE] (your own "
        "certificate), --profile FILE (a file naming server, ca, cert and key), or --as NAME (a "
        "development identity under --pki-dir); MOTCUA_PROFILE and MOTCUA_AS work too");
  }
  adapters::ClientIdentityFiles files = adapters::DevClientFiles(options.pki_dir, options.as);
  if (!options.cert.empty()) {
    files.cert = options.cert;
    files.key = options.key;
  }
  if (!options.ca.empty()) files.ca_cert = options.ca;

  std::shared_ptr<grpc::ChannelCredentials> credentials;
  Metadata metadata;
  if (options.insecure) {
    credentials = grpc::InsecureChannelCredentials();
    absl::StatusOr<Metadata> identity = InsecureIdentity(files.cert);
    if (!identity.ok()) return identity.status();
    metadata = *std::move(identity);
  } else {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> tls =
        adapters::ClientCredentials(files);
    if (!tls.ok()) return tls.status();
    credentials = *std::move(tls);
  }
  std::shared_ptr<grpc::Channel> channel = grpc::CreateChannel(options.server, credentials);
  return std::unique_ptr<Client>(
      new Client(std::move(channel), options.timeout, std::move(metadata)));
}

Client::Client(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout, Metadata metadata)
    : channel_(std::move(channel)),
      timeout_(timeout),
      metadata_(std::move(metadata)),
      dossiers_(v1::DossierService::NewStub(channel_)),
      tasks_(v1::TaskService::NewStub(channel_)),
      audit_(v1::AuditService::NewStub(channel_)),
      procedures_(v1::ProcedureService::NewStub(channel_)),
      backups_(v1::BackupService::NewStub(channel_)),
      operations_(v1::OperationService::NewStub(channel_)) {}

std::unique_ptr<grpc::ClientContext> Client::NewContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  for (const auto& [key, value] : metadata_) context->AddMetadata(key, value);
  return context;
}

absl::StatusOr<v1::Dossier> Client::SubmitDossier(const v1::SubmitDossierRequest& request) {
  return Unary<v1::Dossier>(NewContext(), [&](grpc::ClientContext* c, v1::Dossier* r) {
    return dossiers_->SubmitDossier(c, request, r);
  });
}

absl::StatusOr<v1::Dossier> Client::GetDossier(const std::string& code) {
  v1::GetDossierRequest request;
  request.set_code(code);
  return Unary<v1::Dossier>(NewContext(), [&](grpc::ClientContext* c, v1::Dossier* r) {
    return dossiers_->GetDossier(c, request, r);
  });
}

absl::StatusOr<v1::ListDossiersResponse> Client::ListDossiers(
    const v1::ListDossiersRequest& request) {
  return Unary<v1::ListDossiersResponse>(NewContext(),
                                         [&](grpc::ClientContext* c, v1::ListDossiersResponse* r) {
                                           return dossiers_->ListDossiers(c, request, r);
                                         });
}

absl::StatusOr<v1::Dossier> Client::WithdrawDossier(const v1::WithdrawDossierRequest& request) {
  return Unary<v1::Dossier>(NewContext(), [&](grpc::ClientContext* c, v1::Dossier* r) {
    return dossiers_->WithdrawDossier(c, request, r);
  });
}

absl::StatusOr<v1::Dossier> Client::AddSupplement(const v1::AddSupplementRequest& request) {
  return Unary<v1::Dossier>(NewContext(), [&](grpc::ClientContext* c, v1::Dossier* r) {
    return dossiers_->AddSupplement(c, request, r);
  });
}

absl::StatusOr<v1::ListMyTasksResponse> Client::ListMyTasks(const v1::ListMyTasksRequest& request) {
  return Unary<v1::ListMyTasksResponse>(NewContext(),
                                        [&](grpc::ClientContext* c, v1::ListMyTasksResponse* r) {
                                          return tasks_->ListMyTasks(c, request, r);
                                        });
}

absl::StatusOr<v1::Task> Client::ClaimTask(const v1::ClaimTaskRequest& request) {
  return Unary<v1::Task>(NewContext(), [&](grpc::ClientContext* c, v1::Task* r) {
    return tasks_->ClaimTask(c, request, r);
  });
}

absl::StatusOr<v1::Dossier> Client::CompleteTask(const v1::CompleteTaskRequest& request) {
  return Unary<v1::Dossier>(NewContext(), [&](grpc::ClientContext* c, v1::Dossier* r) {
    return tasks_->CompleteTask(c, request, r);
  });
}

absl::StatusOr<v1::SignatureChallenge> Client::PrepareSignature(
    const v1::PrepareSignatureRequest& request) {
  return Unary<v1::SignatureChallenge>(NewContext(),
                                       [&](grpc::ClientContext* c, v1::SignatureChallenge* r) {
                                         return tasks_->PrepareSignature(c, request, r);
                                       });
}

absl::StatusOr<v1::SignaturePreview> Client::GetSignaturePreview(
    const std::string& challenge_id) {
  v1::GetSignaturePreviewRequest request;
  request.set_challenge_id(challenge_id);
  return Unary<v1::SignaturePreview>(NewContext(),
                                     [&](grpc::ClientContext* c, v1::SignaturePreview* r) {
                                       return tasks_->GetSignaturePreview(c, request, r);
                                     });
}

absl::StatusOr<v1::PrepareSignaturesResponse> Client::PrepareSignatures(
    const v1::PrepareSignaturesRequest& request) {
  return Unary<v1::PrepareSignaturesResponse>(
      NewContext(), [&](grpc::ClientContext* c, v1::PrepareSignaturesResponse* r) {
        return tasks_->PrepareSignatures(c, request, r);
      });
}

absl::StatusOr<v1::CompleteTasksResponse> Client::CompleteTasks(
    const v1::CompleteTasksRequest& request) {
  return Unary<v1::CompleteTasksResponse>(
      NewContext(), [&](grpc::ClientContext* c, v1::CompleteTasksResponse* r) {
        return tasks_->CompleteTasks(c, request, r);
      });
}

absl::StatusOr<v1::DocumentContent> Client::GetDocument(const std::string& code,
                                                        const std::string& id) {
  v1::GetDocumentRequest request;
  request.set_dossier_code(code);
  request.set_document_id(id);
  return Unary<v1::DocumentContent>(NewContext(),
                                    [&](grpc::ClientContext* c, v1::DocumentContent* r) {
                                      return dossiers_->GetDocument(c, request, r);
                                    });
}

absl::StatusOr<v1::Operation> Client::TransitionDossiers(
    const v1::TransitionDossiersRequest& request) {
  return Unary<v1::Operation>(NewContext(), [&](grpc::ClientContext* c, v1::Operation* r) {
    return dossiers_->TransitionDossiers(c, request, r);
  });
}

absl::StatusOr<v1::Operation> Client::RenewDocuments(const v1::RenewDocumentsRequest& request) {
  return Unary<v1::Operation>(NewContext(), [&](grpc::ClientContext* c, v1::Operation* r) {
    return dossiers_->RenewDocuments(c, request, r);
  });
}

absl::StatusOr<v1::Operation> Client::GetOperation(const std::string& name) {
  v1::GetOperationRequest request;
  request.set_name(name);
  return Unary<v1::Operation>(NewContext(), [&](grpc::ClientContext* c, v1::Operation* r) {
    return operations_->GetOperation(c, request, r);
  });
}

absl::StatusOr<std::vector<v1::Operation>> Client::ListOperations() {
  std::vector<v1::Operation> all;
  v1::ListOperationsRequest request;
  request.set_page_size(200);
  for (;;) {
    auto page = Unary<v1::ListOperationsResponse>(
        NewContext(), [&](grpc::ClientContext* c, v1::ListOperationsResponse* r) {
          return operations_->ListOperations(c, request, r);
        });
    if (!page.ok()) return page.status();
    for (auto& op : *page->mutable_operations()) all.push_back(std::move(op));
    if (page->next_page_token().empty()) return all;
    request.set_page_token(page->next_page_token());
  }
}

absl::StatusOr<v1::Operation> Client::CancelOperation(const std::string& name) {
  v1::CancelOperationRequest request;
  request.set_name(name);
  return Unary<v1::Operation>(NewContext(), [&](grpc::ClientContext* c, v1::Operation* r) {
    return operations_->CancelOperation(c, request, r);
  });
}

absl::StatusOr<v1::Operation> Client::WaitOperation(const std::string& name, int timeout_seconds) {
  v1::WaitOperationRequest request;
  request.set_name(name);
  request.set_timeout_seconds(timeout_seconds);
  auto context = NewContext();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(timeout_seconds + 30));
  return Unary<v1::Operation>(std::move(context), [&](grpc::ClientContext* c, v1::Operation* r) {
    return operations_->WaitOperation(c, request, r);
  });
}

absl::StatusOr<v1::EngineStatus> Client::GetEngineStatus() {
  v1::GetEngineStatusRequest request;
  return Unary<v1::EngineStatus>(NewContext(), [&](grpc::ClientContext* c, v1::EngineStatus* r) {
    return operations_->GetEngineStatus(c, request, r);
  });
}

absl::StatusOr<v1::GetDossierHistoryResponse> Client::GetDossierHistory(const std::string& code) {
  v1::GetDossierHistoryRequest request;
  request.set_dossier_code(code);
  return Unary<v1::GetDossierHistoryResponse>(
      NewContext(), [&](grpc::ClientContext* c, v1::GetDossierHistoryResponse* r) {
        return audit_->GetDossierHistory(c, request, r);
      });
}

absl::StatusOr<v1::VerifyDossierHistoryResponse> Client::VerifyDossierHistory(
    const std::string& code) {
  v1::VerifyDossierHistoryRequest request;
  request.set_dossier_code(code);
  return Unary<v1::VerifyDossierHistoryResponse>(
      NewContext(), [&](grpc::ClientContext* c, v1::VerifyDossierHistoryResponse* r) {
        return audit_->VerifyDossierHistory(c, request, r);
      });
}

absl::StatusOr<v1::VerifyDossierResponse> Client::VerifyDossier(
    const v1::VerifyDossierRequest& request) {
  return Unary<v1::VerifyDossierResponse>(
      NewContext(), [&](grpc::ClientContext* c, v1::VerifyDossierResponse* r) {
        return audit_->VerifyDossier(c, request, r);
      });
}

absl::StatusOr<v1::ListProceduresResponse> Client::ListProcedures() {
  v1::ListProceduresRequest request;
  v1::ListProceduresResponse all;
  do {
    auto page = Unary<v1::ListProceduresResponse>(
        NewContext(), [&](grpc::ClientContext* c, v1::ListProceduresResponse* r) {
          return procedures_->ListProcedures(c, request, r);
        });
    if (!page.ok()) return page.status();
    all.mutable_procedures()->MergeFrom(page->procedures());
    request.set_page_token(page->next_page_token());
  } while (!request.page_token().empty());
  return all;
}

absl::StatusOr<v1::ProcedureDefinition> Client::GetProcedure(const std::string& code,
                                                             int32_t version) {
  v1::GetProcedureRequest request;
  request.set_code(code);
  request.set_version(version);
  return Unary<v1::ProcedureDefinition>(NewContext(),
                                        [&](grpc::ClientContext* c, v1::ProcedureDefinition* r) {
                                          return procedures_->GetProcedure(c, request, r);
                                        });
}

absl::StatusOr<v1::ProcedureDefinition> Client::DeployProcedure(
    const v1::DeployProcedureRequest& request) {
  return Unary<v1::ProcedureDefinition>(NewContext(),
                                        [&](grpc::ClientContext* c, v1::ProcedureDefinition* r) {
                                          return procedures_->DeployProcedure(c, request, r);
                                        });
}

absl::Status Client::WatchEvents(const v1::WatchEventsRequest& request,
                                 const std::function<bool(const v1::HistoryEvent&)>& on_event) {
  grpc::ClientContext context;  // no deadline: a watch runs until cancelled
  for (const auto& [key, value] : metadata_) context.AddMetadata(key, value);
  std::unique_ptr<grpc::ClientReader<v1::HistoryEvent>> reader =
      dossiers_->WatchEvents(&context, request);
  v1::HistoryEvent event;
  while (reader->Read(&event)) {
    if (!on_event(event)) {
      context.TryCancel();
      // Finish must still be called; its CANCELLED status is expected.
      reader->Finish().IgnoreError();
      return absl::OkStatus();
    }
  }
  return FromGrpc(reader->Finish());
}

absl::StatusOr<v1::BackupStatus> Client::GetBackupStatus() {
  return Unary<v1::BackupStatus>(NewContext(), [&](grpc::ClientContext* c, v1::BackupStatus* r) {
    return backups_->GetBackupStatus(c, v1::GetBackupStatusRequest(), r);
  });
}

absl::StatusOr<v1::ListBackupsResponse> Client::ListBackups() {
  v1::ListBackupsRequest request;
  v1::ListBackupsResponse all;
  do {
    auto page = Unary<v1::ListBackupsResponse>(
        NewContext(), [&](grpc::ClientContext* c, v1::ListBackupsResponse* r) {
          return backups_->ListBackups(c, request, r);
        });
    if (!page.ok()) return page.status();
    all.mutable_records()->MergeFrom(page->records());
    all.mutable_drills()->MergeFrom(page->drills());
    request.set_page_token(page->next_page_token());
  } while (!request.page_token().empty());
  return all;
}

absl::StatusOr<v1::BackupRecord> Client::ConfirmDetached(const v1::ConfirmDetachedRequest& request) {
  return Unary<v1::BackupRecord>(NewContext(), [&](grpc::ClientContext* c, v1::BackupRecord* r) {
    return backups_->ConfirmDetached(c, request, r);
  });
}

absl::StatusOr<v1::Operation> Client::RunBackup(const v1::RunBackupRequest& request) {
  return Unary<v1::Operation>(NewContext(), [&](grpc::ClientContext* c, v1::Operation* r) {
    return backups_->RunBackup(c, request, r);
  });
}

absl::StatusOr<v1::Operation> Client::VerifyBackups(const v1::VerifyBackupsRequest& request) {
  return Unary<v1::Operation>(NewContext(), [&](grpc::ClientContext* c, v1::Operation* r) {
    return backups_->VerifyBackups(c, request, r);
  });
}

absl::StatusOr<v1::Operation> Client::ExportOffline(const v1::ExportOfflineRequest& request) {
  return Unary<v1::Operation>(NewContext(), [&](grpc::ClientContext* c, v1::Operation* r) {
    return backups_->ExportOffline(c, request, r);
  });
}

absl::StatusOr<v1::Operation> Client::RunRestoreDrill(const v1::RunRestoreDrillRequest& request) {
  return Unary<v1::Operation>(NewContext(), [&](grpc::ClientContext* c, v1::Operation* r) {
    return backups_->RunRestoreDrill(c, request, r);
  });
}

}  // namespace motcua::cli
