#ifndef MOTCUA_ADAPTERS_SERVICES_H_
#define MOTCUA_ADAPTERS_SERVICES_H_

// The gRPC services of motcua.v1: each call resolves the caller's identity,
// hands the request to the engine and maps the answer back. No business
// rules live here (one exception: who may use VerifyDocument, which has no
// engine method; see services.cc).

#include <memory>
#include <vector>

#include <grpcpp/impl/codegen/service_type.h>

#include "adapters/identity.h"
#include "adapters/work_pool.h"
#include "signing/document_verifier.h"
#include "workflow/engine.h"

namespace motcua::adapters {

// Services over `engine`; reads answer on gRPC's threads, changes and
// document verification (by `verifier`) run on `pool`. All four must outlive
// the returned services.
std::vector<std::unique_ptr<grpc::Service>> MakeServices(
    workflow::Engine* engine, PrincipalResolver* identity, WorkPool* pool,
    const signing::DocumentVerifier* verifier);

}  // namespace motcua::adapters

#endif  // MOTCUA_ADAPTERS_SERVICES_H_
