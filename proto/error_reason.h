#ifndef MOTCUA_PROTO_ERROR_REASON_H_
#define MOTCUA_PROTO_ERROR_REASON_H_

// Machine-readable reasons on absl::Status (motcua.v1.ErrorReason,
// proto/motcua/v1/errors.proto). The part that decides an error attaches its
// reason, and the field at fault, as a google.rpc.ErrorInfo payload;
// adapters/grpc_status.h sends it to the client beside the code and message.

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/rpc/status.pb.h"
#include "motcua/v1/errors.pb.h"

namespace motcua {

// The ErrorInfo.domain of every reason.
inline constexpr char kErrorDomain[] = "motcua.v1";

// `status` with `reason` and, when not empty, metadata "field" = `field`.
// An OK status is returned as it is.
absl::Status WithReason(absl::Status status, v1::ErrorReason reason, absl::string_view field = {});

// `status` with one more metadata entry on its ErrorInfo (which it must
// already have; otherwise `status` unchanged).
absl::Status WithMetadata(absl::Status status, absl::string_view key, absl::string_view value);

// The ErrorInfo attached to `status`, if any.
bool GetErrorInfo(const absl::Status& status, google::rpc::ErrorInfo* info);

// The reason a client sees for `status`: the attached one, or for an error
// that carries none, the reason that fits its code (SERVER_FAULT for
// INTERNAL, SERVER_BUSY for RESOURCE_EXHAUSTED, ...; FIELD_INVALID for an
// untagged INVALID_ARGUMENT).
google::rpc::ErrorInfo ErrorInfoOf(const absl::Status& status);

// `status` as clients see it: code, message and ErrorInfoOf(status) as its
// one detail. (Also what a batch answer carries per failed item.)
google::rpc::Status ToRpcStatus(const absl::Status& status);

}  // namespace motcua

#endif  // MOTCUA_PROTO_ERROR_REASON_H_
