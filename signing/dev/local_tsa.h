#ifndef MOTCUA_SIGNING_DEV_LOCAL_TSA_H_
#define MOTCUA_SIGNING_DEV_LOCAL_TSA_H_

// An RFC 3161 time-stamping authority inside the process, with a key the
// server holds: the development PKI's tsa.crt / tsa.key, so documents made
// in development are PAdES B-T like production ones, with no TSA to run.
// Production points at a real TSA (HttpTimestampAuthority) instead: a
// time-stamp is worth what the TSA's independence is worth.
//
// Replies carry status, a SHA-256 ESSCertIDv2 of the TSA certificate, the
// certificate itself when asked for, the request's nonce, a random 64-bit
// serial and the policy 1.2.3.4.1 (openssl's example: it promises nothing).

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "signing/timestamp_client.h"

namespace motcua::signing {

// A TSA signing with the PEM certificate and (unencrypted PEM) key at
// `cert_path` and `key_path`. The certificate's extended key usage must be
// timeStamping alone, marked critical (RFC 3161 §2.3). NOT_FOUND when a file is missing; INVALID_ARGUMENT when
// they do not hold a matching pair fit for time-stamping.
absl::StatusOr<std::unique_ptr<TimestampAuthority>> OpenLocalTimestampAuthority(
    const std::string& cert_path, const std::string& key_path);

}  // namespace motcua::signing

#endif  // MOTCUA_SIGNING_DEV_LOCAL_TSA_H_
