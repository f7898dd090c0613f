#include "adapters/grpc_status.h"

#include "google/rpc/status.pb.h"
#include "proto/error_reason.h"

namespace motcua::adapters {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()),
                      ToRpcStatus(status).SerializeAsString());
}

}  // namespace motcua::adapters
