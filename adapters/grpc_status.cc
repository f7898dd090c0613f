#include "adapters/grpc_status.h"

#include "google/protobuf/any.pb.h"
#include "google/rpc/status.pb.h"
#include "proto/error_reason.h"

namespace motcua::adapters {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  google::rpc::Status details;
  details.set_code(static_cast<int>(status.code()));
  details.set_message(std::string(status.message()));
  details.add_details()->PackFrom(ErrorInfoOf(status));
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()),
                      details.SerializeAsString());
}

}  // namespace motcua::adapters
