#ifndef MOTCUA_SIGNING_MANIFEST_SEAL_H_
#define MOTCUA_SIGNING_MANIFEST_SEAL_H_

// Plain signatures over bytes by the server's own key (SHA-256 with its
// ECDSA or RSA key), used to seal backup manifests, and their check against
// a trusted CA. Not PAdES: nothing here is a document signature.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace motcua::signing {

// Signs `data` with the PEM private key in `key_file`.
absl::StatusOr<std::string> SignBytes(const std::string& key_file, absl::string_view data);

// OK if `signature` over `data` verifies with the certificate in
// `certificate_pem` and that certificate was issued by the CA in
// `ca_certificate_pem`. INVALID_ARGUMENT for unreadable input,
// PERMISSION_DENIED for an untrusted certificate, DATA_LOSS for a signature
// that does not match.
absl::Status VerifySignedBytes(absl::string_view certificate_pem,
                               absl::string_view ca_certificate_pem, absl::string_view data,
                               absl::string_view signature);

}  // namespace motcua::signing

#endif  // MOTCUA_SIGNING_MANIFEST_SEAL_H_
