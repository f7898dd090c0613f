#include "adapters/call.h"

#include <atomic>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "adapters/log.h"
#include "motcua/v1/service.pb.h"
#include "proto/error_reason.h"

namespace motcua::adapters {

grpc::Status Overloaded() {
  return ToGrpcStatus(WithReason(
      absl::ResourceExhaustedError(
          "Hệ thống đang quá tải, vui lòng thử lại sau giây lát "
          "(server busy: retry with the same request_id after a short backoff)"),
      v1::SERVER_BUSY));
}

void LogServerFault(const absl::Status& status, const std::string& method,
                    const workflow::Principal& caller) {
  const absl::StatusCode code = status.code();
  if (code != absl::StatusCode::kInternal && code != absl::StatusCode::kDataLoss &&
      code != absl::StatusCode::kUnknown) {
    return;
  }
  Log(LogLevel::kError, "server_fault",
      {{"code", absl::StatusCodeToString(code)}, {"method", method},
       {"caller_role", v1::Role_Name(caller.role)}, {"caller_unit", caller.unit},
       {"message", status.message()}});
}

size_t MaxRequestBytes(const google::protobuf::Descriptor* request_type) {
  // Attachments (20 MiB in all) and PDFs to verify (20 MiB), with room for
  // the rest of the message.
  constexpr size_t kUpload = 24u << 20;
  static const auto* const kLarger = new absl::flat_hash_map<std::string, size_t>{
      {v1::SubmitDossierRequest::descriptor()->full_name(), kUpload},
      {v1::AddSupplementRequest::descriptor()->full_name(), kUpload},
      {v1::VerifyDocumentRequest::descriptor()->full_name(), kUpload},
      {v1::DeployProcedureRequest::descriptor()->full_name(), 1u << 20},
      // A signer's certificate chain in PEM.
      {v1::PrepareSignatureRequest::descriptor()->full_name(), 256u << 10},
      // The same and 1,000 items; 1,000 completions with their signatures.
      {v1::PrepareSignaturesRequest::descriptor()->full_name(), 512u << 10},
      {v1::CompleteTasksRequest::descriptor()->full_name(), 8u << 20},
  };
  auto it = kLarger->find(request_type->full_name());
  return it == kLarger->end() ? 64u << 10 : it->second;
}

absl::Status ParseRequest(const grpc::ByteBuffer& bytes, google::protobuf::Message* request) {
  if (const size_t limit = MaxRequestBytes(request->GetDescriptor()); bytes.Length() > limit) {
    return WithMetadata(
        WithReason(absl::ResourceExhaustedError(absl::StrCat(
                       "a ", request->GetDescriptor()->name(), " of ", bytes.Length(),
                       " bytes is larger than this method accepts (", limit, " bytes)")),
                   v1::REQUEST_TOO_LARGE),
        "limit_bytes", absl::StrCat(limit));
  }
  std::vector<grpc::Slice> slices;
  std::string joined;
  if (bytes.Dump(&slices).ok()) {
    for (const auto& s : slices) joined.append(reinterpret_cast<const char*>(s.begin()), s.size());
    if (request->ParseFromString(joined)) return absl::OkStatus();
  }
  return WithReason(
      absl::InvalidArgumentError(absl::StrCat(
          "request is not a valid ", request->GetDescriptor()->full_name(),
          " (malformed protobuf, or a string that is not UTF-8)")),
      v1::REQUEST_MALFORMED);
}

bool StartWaitingCall(std::function<void()> body) {
  static std::atomic<int> waiting{0};
  if (waiting.fetch_add(1) >= kMaxWaitingCalls) {
    waiting.fetch_sub(1);
    return false;
  }
  std::thread([body = std::move(body)] {
    body();
    waiting.fetch_sub(1);
  }).detach();
  return true;
}

BlockingStream* BlockingStream::Start(grpc::CallbackServerContext* context, Body body) {
  auto* stream = new BlockingStream(context);
  // Finish is the body thread's last touch of the stream: OnDone, which
  // deletes it, can only follow.
  std::thread([stream, body = std::move(body)] { stream->Finish(body(*stream)); }).detach();
  return stream;
}

bool BlockingStream::Write(const google::protobuf::Message& message) {
  grpc::Slice slice(message.SerializeAsString());
  grpc::ByteBuffer buffer(&slice, 1);
  {
    absl::MutexLock lock(&mu_);
    if (cancelled_ || !write_ok_) return false;
    writing_ = true;
  }
  StartWrite(&buffer);
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](bool* writing) { return !*writing; }, &writing_));
  return write_ok_;
}

bool BlockingStream::IsCancelled() const {
  absl::MutexLock lock(&mu_);
  return cancelled_;
}

void BlockingStream::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mu_);
  writing_ = false;
  write_ok_ = ok;
}

void BlockingStream::OnCancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
}

}  // namespace motcua::adapters
