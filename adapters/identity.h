#ifndef MOTCUA_ADAPTERS_IDENTITY_H_
#define MOTCUA_ADAPTERS_IDENTITY_H_

// Who is calling: the caller's workflow::Principal, read from its mutual-TLS
// client certificate. The subject DN carries it:
//   CN     subject   (required, exactly one)
//   OU     role      (required, exactly one: portal|officer|clerk|auditor|admin)
//   O      unit      (optional, at most one; e.g. "HN-SGDDT")
//   title  position  (optional, at most one; OID 2.5.4.12, e.g. "head")
// Deciding what the principal may do is the engine's job, not this file's.

#include <grpcpp/server_context.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "workflow/principal.h"

namespace motcua::adapters {

// Parses role (OU: portal|officer|clerk|auditor|admin), unit (O), subject (CN)
// and position (title) from a PEM certificate. INVALID_ARGUMENT when `pem` is
// not a certificate; PERMISSION_DENIED naming the problem when the subject
// lacks a CN or OU, has an unknown OU, or repeats one of the four entries.
// Does not verify the certificate: that is the TLS handshake's job.
absl::StatusOr<workflow::Principal> PrincipalFromCertificatePem(std::string_view pem);

// Resolves the Principal of a gRPC server call. Thread-safe; one instance is
// meant to be shared by all calls of a server. Not copyable or movable.
class PrincipalResolver {
 public:
  // `insecure`: the server runs without TLS (development only), and callers
  // state who they are in metadata instead of proving it.
  explicit PrincipalResolver(bool insecure);

  PrincipalResolver(const PrincipalResolver&) = delete;
  PrincipalResolver& operator=(const PrincipalResolver&) = delete;

  // Secure mode: parses the peer certificate gRPC verified during the
  // handshake (auth property "x509_pem_cert"); UNAUTHENTICATED if there is
  // none, otherwise as PrincipalFromCertificatePem. Successful results are
  // cached per certificate, because parsing on every call is wasted work.
  // Insecure mode: reads metadata x-motcua-subject (required), x-motcua-role
  // (required, same words as the OU), x-motcua-unit, x-motcua-position;
  // UNAUTHENTICATED when subject or role is missing, PERMISSION_DENIED for an
  // unknown role. Takes the common base so both sync/async ServerContext and
  // CallbackServerContext can be passed.
  absl::StatusOr<workflow::Principal> Resolve(const grpc::ServerContextBase& context);

 private:
  // Bounds the cache: only CA-issued certificates reach it, but a leaked CA
  // key or a long-running server must not grow it without limit.
  static constexpr size_t kMaxCachedCertificates = 4096;

  absl::StatusOr<workflow::Principal> FromCertificate(const grpc::ServerContextBase& context);

  const bool insecure_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, workflow::Principal> by_pem_ ABSL_GUARDED_BY(mu_);
};

}  // namespace motcua::adapters

#endif  // MOTCUA_ADAPTERS_IDENTITY_H_
