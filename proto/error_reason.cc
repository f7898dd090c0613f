#include "proto/error_reason.h"

#include <optional>
#include <utility>

#include "absl/strings/cord.h"

namespace motcua {
namespace {

constexpr char kPayloadUrl[] = "type.googleapis.com/google.rpc.ErrorInfo";

absl::Status WithInfo(absl::Status status, const google::rpc::ErrorInfo& info) {
  status.SetPayload(kPayloadUrl, absl::Cord(info.SerializeAsString()));
  return status;
}

// What an error that nobody tagged most likely means, by its code.
v1::ErrorReason DefaultReason(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return v1::FIELD_INVALID;
    case absl::StatusCode::kAborted:
      return v1::DOSSIER_VERSION_STALE;
    case absl::StatusCode::kPermissionDenied:
      return v1::ROLE_NOT_ALLOWED;
    case absl::StatusCode::kUnauthenticated:
      return v1::IDENTITY_MISSING;
    case absl::StatusCode::kResourceExhausted:
      return v1::SERVER_BUSY;
    case absl::StatusCode::kUnavailable:
      return v1::DEPENDENCY_UNAVAILABLE;
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kCancelled:
      return v1::DEADLINE_PASSED;
    case absl::StatusCode::kFailedPrecondition:
      return v1::STATE_NOT_ALLOWED;
    default:
      return v1::SERVER_FAULT;
  }
}

}  // namespace

absl::Status WithReason(absl::Status status, v1::ErrorReason reason, absl::string_view field) {
  if (status.ok()) return status;
  google::rpc::ErrorInfo info;
  info.set_reason(v1::ErrorReason_Name(reason));
  info.set_domain(kErrorDomain);
  if (!field.empty()) (*info.mutable_metadata())["field"] = std::string(field);
  return WithInfo(std::move(status), info);
}

absl::Status WithMetadata(absl::Status status, absl::string_view key, absl::string_view value) {
  google::rpc::ErrorInfo info;
  if (!GetErrorInfo(status, &info)) return status;
  (*info.mutable_metadata())[std::string(key)] = std::string(value);
  return WithInfo(std::move(status), info);
}

bool GetErrorInfo(const absl::Status& status, google::rpc::ErrorInfo* info) {
  auto payload = status.GetPayload(kPayloadUrl);
  return payload.has_value() && info->ParseFromString(std::string(*payload));
}

google::rpc::ErrorInfo ErrorInfoOf(const absl::Status& status) {
  google::rpc::ErrorInfo info;
  if (GetErrorInfo(status, &info)) return info;
  info.set_reason(v1::ErrorReason_Name(DefaultReason(status.code())));
  info.set_domain(kErrorDomain);
  return info;
}

google::rpc::Status ToRpcStatus(const absl::Status& status) {
  google::rpc::Status rpc;
  rpc.set_code(static_cast<int>(status.code()));
  rpc.set_message(std::string(status.message()));
  if (!status.ok()) rpc.add_details()->PackFrom(ErrorInfoOf(status));
  return rpc;
}

}  // namespace motcua
