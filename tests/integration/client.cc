#include "tests/integration/client.h"

#include <grpcpp/client_context.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/slice.h>
#include <grpcpp/support/sync_stream.h>

#include <chrono>
#include <future>
#include <utility>

namespace motcua::itest {
namespace {

constexpr int kDeadlineSeconds = 30;

void SetDeadline(grpc::ClientContext& context, int seconds = kDeadlineSeconds) {
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
}

// Calls `method` of `stub` with a deadline and packs the outcome.
template <typename Response, typename Stub, typename Request, typename Method>
Reply<Response> Call(Stub& stub, Method method, const Request& request) {
  grpc::ClientContext context;
  SetDeadline(context);
  Reply<Response> reply;
  reply.status = (stub.*method)(&context, request, &reply.value);
  return reply;
}

// Decodes a varint at `pos`; false on truncation.
bool ReadVarint(const std::string& bytes, size_t& pos, uint64_t& value) {
  value = 0;
  for (int shift = 0; shift < 64 && pos < bytes.size(); shift += 7) {
    const auto byte = static_cast<uint8_t>(bytes[pos++]);
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

}  // namespace

std::string CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "CODE_" + std::to_string(static_cast<int>(code));
  }
}

std::string Describe(const grpc::Status& status) {
  return CodeName(status.error_code()) + ": " + status.error_message();
}

Client::Client(std::shared_ptr<grpc::Channel> channel)
    : channel_(std::move(channel)),
      dossiers_(v1::DossierService::NewStub(channel_)),
      tasks_(v1::TaskService::NewStub(channel_)),
      procedures_(v1::ProcedureService::NewStub(channel_)),
      audit_(v1::AuditService::NewStub(channel_)) {}

Reply<v1::Dossier> Client::Submit(const v1::SubmitDossierRequest& request) {
  return Call<v1::Dossier>(*dossiers_, &v1::DossierService::Stub::SubmitDossier, request);
}

Reply<v1::Dossier> Client::GetDossier(const std::string& code) {
  v1::GetDossierRequest request;
  request.set_code(code);
  return Call<v1::Dossier>(*dossiers_, &v1::DossierService::Stub::GetDossier, request);
}

Reply<v1::ListDossiersResponse> Client::ListDossiers(const v1::ListDossiersRequest& request) {
  return Call<v1::ListDossiersResponse>(*dossiers_, &v1::DossierService::Stub::ListDossiers,
                                        request);
}

Reply<v1::Dossier> Client::Withdraw(const v1::WithdrawDossierRequest& request) {
  return Call<v1::Dossier>(*dossiers_, &v1::DossierService::Stub::WithdrawDossier, request);
}

Reply<v1::Dossier> Client::AddSupplement(const v1::AddSupplementRequest& request) {
  return Call<v1::Dossier>(*dossiers_, &v1::DossierService::Stub::AddSupplement, request);
}

Reply<v1::AttachmentContent> Client::GetAttachment(const std::string& dossier_code,
                                                   const std::string& attachment_id) {
  v1::GetAttachmentRequest request;
  request.set_dossier_code(dossier_code);
  request.set_attachment_id(attachment_id);
  return Call<v1::AttachmentContent>(*dossiers_, &v1::DossierService::Stub::GetAttachment, request);
}

Reply<v1::ListMyTasksResponse> Client::ListMyTasks(const v1::ListMyTasksRequest& request) {
  return Call<v1::ListMyTasksResponse>(*tasks_, &v1::TaskService::Stub::ListMyTasks, request);
}

Reply<v1::Task> Client::ClaimTask(const v1::ClaimTaskRequest& request) {
  return Call<v1::Task>(*tasks_, &v1::TaskService::Stub::ClaimTask, request);
}

Reply<v1::Dossier> Client::CompleteTask(const v1::CompleteTaskRequest& request) {
  return Call<v1::Dossier>(*tasks_, &v1::TaskService::Stub::CompleteTask, request);
}

Reply<v1::SignatureChallenge> Client::PrepareSignature(const v1::PrepareSignatureRequest& request) {
  return Call<v1::SignatureChallenge>(*tasks_, &v1::TaskService::Stub::PrepareSignature, request);
}

Reply<v1::SignaturePreview> Client::GetSignaturePreview(const std::string& challenge_id) {
  v1::GetSignaturePreviewRequest request;
  request.set_challenge_id(challenge_id);
  return Call<v1::SignaturePreview>(*tasks_, &v1::TaskService::Stub::GetSignaturePreview, request);
}

Reply<v1::PrepareSignaturesResponse> Client::PrepareSignatures(
    const v1::PrepareSignaturesRequest& request) {
  return Call<v1::PrepareSignaturesResponse>(*tasks_, &v1::TaskService::Stub::PrepareSignatures,
                                             request);
}

Reply<v1::CompleteTasksResponse> Client::CompleteTasks(const v1::CompleteTasksRequest& request) {
  return Call<v1::CompleteTasksResponse>(*tasks_, &v1::TaskService::Stub::CompleteTasks, request);
}

Reply<v1::DocumentContent> Client::GetDocument(const std::string& dossier_code,
                                               const std::string& document_id) {
  v1::GetDocumentRequest request;
  request.set_dossier_code(dossier_code);
  request.set_document_id(document_id);
  return Call<v1::DocumentContent>(*dossiers_, &v1::DossierService::Stub::GetDocument, request);
}

Reply<v1::ProcedureDefinition> Client::Deploy(const v1::DeployProcedureRequest& request) {
  return Call<v1::ProcedureDefinition>(*procedures_, &v1::ProcedureService::Stub::DeployProcedure,
                                       request);
}

Reply<v1::ProcedureDefinition> Client::GetProcedure(const std::string& code, int version) {
  v1::GetProcedureRequest request;
  request.set_code(code);
  request.set_version(version);
  return Call<v1::ProcedureDefinition>(*procedures_, &v1::ProcedureService::Stub::GetProcedure,
                                       request);
}

Reply<v1::ListProceduresResponse> Client::ListProcedures(const v1::ListProceduresRequest& request) {
  return Call<v1::ListProceduresResponse>(*procedures_, &v1::ProcedureService::Stub::ListProcedures,
                                          request);
}

Reply<v1::GetDossierHistoryResponse> Client::History(const std::string& dossier_code) {
  v1::GetDossierHistoryRequest request;
  request.set_dossier_code(dossier_code);
  return Call<v1::GetDossierHistoryResponse>(*audit_, &v1::AuditService::Stub::GetDossierHistory,
                                             request);
}

Reply<v1::VerifyDossierHistoryResponse> Client::Verify(const std::string& dossier_code) {
  v1::VerifyDossierHistoryRequest request;
  request.set_dossier_code(dossier_code);
  return Call<v1::VerifyDossierHistoryResponse>(
      *audit_, &v1::AuditService::Stub::VerifyDossierHistory, request);
}

Reply<v1::ListLogEventsResponse> Client::ListLogEvents(const v1::ListLogEventsRequest& request) {
  return Call<v1::ListLogEventsResponse>(*audit_, &v1::AuditService::Stub::ListLogEvents, request);
}

Reply<v1::VerifyEventLogResponse> Client::VerifyEventLog(const v1::VerifyEventLogRequest& request) {
  return Call<v1::VerifyEventLogResponse>(*audit_, &v1::AuditService::Stub::VerifyEventLog,
                                          request);
}

Reply<v1::VerifyDossierResponse> Client::VerifyDossier(const std::string& dossier_code,
                                                       bool skip_revocation_check) {
  v1::VerifyDossierRequest request;
  request.set_dossier_code(dossier_code);
  request.set_skip_revocation_check(skip_revocation_check);
  return Call<v1::VerifyDossierResponse>(*audit_, &v1::AuditService::Stub::VerifyDossier,
                                         request);
}

Reply<std::vector<v1::Dossier>> Client::ListAllDossiers(v1::ListDossiersRequest request) {
  Reply<std::vector<v1::Dossier>> all;
  // A server that keeps returning a token would loop forever; no test needs
  // more than this many pages.
  for (int page = 0; page < 10000; ++page) {
    Reply<v1::ListDossiersResponse> reply = ListDossiers(request);
    if (!reply.ok()) {
      all.status = reply.status;
      return all;
    }
    for (const v1::Dossier& dossier : reply.value.dossiers()) all.value.push_back(dossier);
    if (reply.value.next_page_token().empty()) return all;
    request.set_page_token(reply.value.next_page_token());
  }
  all.status = grpc::Status(grpc::StatusCode::INTERNAL, "test: ListDossiers never ended");
  return all;
}

Reply<std::vector<v1::Task>> Client::AllMyTasks() {
  Reply<std::vector<v1::Task>> all;
  v1::ListMyTasksRequest request;
  for (int page = 0; page < 10000; ++page) {
    Reply<v1::ListMyTasksResponse> reply = ListMyTasks(request);
    if (!reply.ok()) {
      all.status = reply.status;
      return all;
    }
    for (const v1::Task& task : reply.value.tasks()) all.value.push_back(task);
    if (reply.value.next_page_token().empty()) return all;
    request.set_page_token(reply.value.next_page_token());
  }
  all.status = grpc::Status(grpc::StatusCode::INTERNAL, "test: ListMyTasks never ended");
  return all;
}

RawReply CallRaw(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                 const std::string& request_bytes, int deadline_seconds) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  SetDeadline(context, deadline_seconds);
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status status) { done.set_value(std::move(status)); });
  RawReply reply;
  reply.status = done.get_future().get();
  if (reply.status.ok()) {
    std::vector<grpc::Slice> slices;
    if (response.Dump(&slices).ok()) {
      for (const grpc::Slice& s : slices) {
        reply.bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
    }
  }
  return reply;
}

RawReply CallRawStreamFirst(const std::shared_ptr<grpc::Channel>& channel,
                            const std::string& method, const std::string& request_bytes) {
  grpc::ClientContext context;
  SetDeadline(context, 10);
  std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>> stream(
      grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer, grpc::ByteBuffer>::Create(
          channel.get(),
          grpc::internal::RpcMethod(method.c_str(), grpc::internal::RpcMethod::BIDI_STREAMING),
          &context));
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer request(&slice, 1);
  RawReply reply;
  grpc::ByteBuffer response;
  if (stream->Write(request) && stream->Read(&response)) {
    std::vector<grpc::Slice> slices;
    if (response.Dump(&slices).ok()) {
      for (const grpc::Slice& s : slices) {
        reply.bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
    }
    stream->WritesDone();
    context.TryCancel();
    stream->Finish();
    reply.status = grpc::Status::OK;
    return reply;
  }
  stream->WritesDone();
  reply.status = stream->Finish();
  if (reply.status.ok()) {
    reply.status = grpc::Status(grpc::StatusCode::INTERNAL, "test: stream ended without reply");
  }
  return reply;
}

Reply<int> HealthCheck(const std::shared_ptr<grpc::Channel>& channel, const std::string& service) {
  // HealthCheckRequest { string service = 1; }: field 1, wire type 2.
  std::string request;
  if (!service.empty()) {
    request.push_back(0x0a);
    request.push_back(static_cast<char>(service.size()));  // short names only
    request += service;
  }
  RawReply raw = CallRaw(channel, "/grpc.health.v1.Health/Check", request, 10);
  Reply<int> reply;
  reply.status = raw.status;
  if (!raw.status.ok()) return reply;
  // HealthCheckResponse { ServingStatus status = 1; }: field 1, varint. An
  // absent field is 0 (UNKNOWN).
  size_t pos = 0;
  while (pos < raw.bytes.size()) {
    uint64_t tag = 0;
    uint64_t value = 0;
    if (!ReadVarint(raw.bytes, pos, tag)) break;
    if ((tag & 7) != 0) {
      reply.status = grpc::Status(grpc::StatusCode::INTERNAL, "test: unexpected health field");
      return reply;
    }
    if (!ReadVarint(raw.bytes, pos, value)) break;
    if ((tag >> 3) == 1) reply.value = static_cast<int>(value);
  }
  return reply;
}

}  // namespace motcua::itest
