#ifndef MOTCUA_ADAPTERS_GRPC_STATUS_H_
#define MOTCUA_ADAPTERS_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace motcua::adapters {

// The one place engine errors become gRPC statuses. absl and gRPC share the
// canonical code numbering, so the code carries over unchanged; the details
// ("grpc-status-details-bin") are a google.rpc.Status holding the error's
// google.rpc.ErrorInfo (proto/error_reason.h), so every error a client sees
// has a machine-readable reason.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace motcua::adapters

#endif  // MOTCUA_ADAPTERS_GRPC_STATUS_H_
