#ifndef MOTCUA_ADAPTERS_CALL_H_
#define MOTCUA_ADAPTERS_CALL_H_

// How every RPC of motcua.v1 is served: the request arrives as raw bytes
// and is parsed here (a malformed one is INVALID_ARGUMENT naming the
// message, on every method alike, not gRPC's bare INTERNAL), the caller is
// resolved from its certificate, and the answer or the error (with its
// google.rpc.ErrorInfo, adapters/grpc_status.h) goes back. Faults of the
// server itself are logged, one line each.

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/proto_buffer_writer.h>

#include <chrono>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "adapters/grpc_status.h"
#include "adapters/identity.h"
#include "adapters/work_pool.h"
#include "workflow/principal.h"

namespace motcua::adapters {

// RESOURCE_EXHAUSTED for a full work pool: retry with the same request_id.
grpc::Status Overloaded();

// Logs a fault of the server (INTERNAL, DATA_LOSS, UNKNOWN), not the caller's.
// Names the caller by role and unit only: subjects may be people's names.
void LogServerFault(const absl::Status& status, const std::string& method,
                    const workflow::Principal& caller);

// The largest request each method accepts. gRPC's own limit is the
// server's (it must admit 20 MiB uploads); every other request is refused
// here long before parsing: a few kilobytes is all they ever need.
size_t MaxRequestBytes(const google::protobuf::Descriptor* request_type);

// Parses `bytes` as `request`; RESOURCE_EXHAUSTED (REQUEST_TOO_LARGE) when
// they exceed MaxRequestBytes, INVALID_ARGUMENT (REQUEST_MALFORMED) naming
// the message type when they are not one.
absl::Status ParseRequest(const grpc::ByteBuffer& bytes, google::protobuf::Message* request);

// Resolves the caller, parses the request, runs `handler(caller, request)`
// (returning absl::StatusOr<Response>) and serializes its answer to `out`.
template <typename Request, typename Handler>
grpc::Status Serve(PrincipalResolver* identity, grpc::CallbackServerContext* context,
                   const grpc::ByteBuffer& in, grpc::ByteBuffer* out, const Handler& handler) {
  auto caller = identity->Resolve(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  // A call that waited in the queue past its deadline is not worth doing:
  // its client has given up, and under overload the work only delays others.
  if (context->IsCancelled() || context->deadline() < std::chrono::system_clock::now()) {
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "deadline passed before processing");
  }
  Request request;
  if (absl::Status s = ParseRequest(in, &request); !s.ok()) return ToGrpcStatus(s);
  auto result = handler(*caller, request);
  if (!result.ok()) {
    LogServerFault(result.status(), Request::descriptor()->name(), *caller);
    return ToGrpcStatus(result.status());
  }
  bool own_buffer = false;
  using Response = typename std::decay_t<decltype(result)>::value_type;
  return grpc::SerializationTraits<Response>::Serialize(*result, out, &own_buffer);
}

// Serve on `pool`, off gRPC's callback threads (for calls that wait on a
// durable commit or do slow work); a full pool answers Overloaded() at once.
template <typename Request, typename Handler>
grpc::ServerUnaryReactor* ServeOnPool(WorkPool* pool, PrincipalResolver* identity,
                                      grpc::CallbackServerContext* context,
                                      const grpc::ByteBuffer* in, grpc::ByteBuffer* out,
                                      Handler handler) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!pool->TrySchedule([=] {
        reactor->Finish(Serve<Request>(identity, context, *in, out, handler));
      })) {
    reactor->Finish(Overloaded());
  }
  return reactor;
}

// Serve on a thread of its own, for calls that mostly wait (WaitOperation):
// they must not hold the work pool. At most kMaxWaitingCalls at once; more
// answer Overloaded().
inline constexpr int kMaxWaitingCalls = 256;
bool StartWaitingCall(std::function<void()> body);
template <typename Request, typename Handler>
grpc::ServerUnaryReactor* ServeOnThread(PrincipalResolver* identity,
                                        grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* in, grpc::ByteBuffer* out,
                                        Handler handler) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!StartWaitingCall([=] {
        reactor->Finish(Serve<Request>(identity, context, *in, out, handler));
      })) {
    reactor->Finish(Overloaded());
  }
  return reactor;
}

// A server-streaming call served like a synchronous one: `body` runs on a
// thread of its own and writes with blocking Write() calls, which return
// false once the client is gone. The reactor deletes itself when done.
class BlockingStream : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  using Body = std::function<grpc::Status(BlockingStream& stream)>;

  // Starts `body` at once. The request and context stay valid until done.
  static BlockingStream* Start(grpc::CallbackServerContext* context, Body body);

  // Sends `message` and waits until it is on its way. False when the call
  // was cancelled or the client went away.
  bool Write(const google::protobuf::Message& message);
  bool IsCancelled() const;
  grpc::CallbackServerContext* context() const { return context_; }

 private:
  explicit BlockingStream(grpc::CallbackServerContext* context) : context_(context) {}
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override { delete this; }

  grpc::CallbackServerContext* const context_;
  mutable absl::Mutex mu_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool write_ok_ ABSL_GUARDED_BY(mu_) = true;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace motcua::adapters

#endif  // MOTCUA_ADAPTERS_CALL_H_
