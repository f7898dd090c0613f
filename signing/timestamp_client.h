#ifndef MOTCUA_SIGNING_TIMESTAMP_CLIENT_H_
#define MOTCUA_SIGNING_TIMESTAMP_CLIENT_H_

// An RFC 3161 time-stamping client: what turns a B-B signature into B-T.
// The request is cades.h's BuildTimestampRequest (SHA-256 of the signature
// value, a random nonce, the TSA certificate asked for); the reply is
// checked before its token is used. Thread-safe.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "signing/http_client.h"
#include "signing/trust_store.h"

namespace motcua::signing {

struct TimestampOptions {
  HttpOptions http;
  // When set (not owned), the token's signer must be a time-stamping
  // certificate chaining to one of its anchors now, so a misconfigured TSA
  // is caught while signing rather than by whoever verifies the document.
  // Null (default): the token's signature is checked, its chain is not.
  const TrustStore* trust = nullptr;
};

// POSTs a request over `signature_value` to the TSA at `url` and returns the
// token (DER ContentInfo) for AddSignatureTimestamp. UNAVAILABLE when the TSA
// cannot be reached; FAILED_PRECONDITION when it refuses (status and text
// quoted) or its reply does not check out: not over this value, another
// nonce, a bad signature, or an untrusted TSA.
absl::StatusOr<std::string> RequestTimestamp(absl::string_view url,
                                             absl::string_view signature_value,
                                             const TimestampOptions& options = {});

// `cms_der` (a B-B CAdES signature) with a signature time-stamp from the TSA
// at `url` added: SignatureValue, RequestTimestamp, AddSignatureTimestamp.
absl::StatusOr<std::string> TimestampSignature(absl::string_view cms_der, absl::string_view url,
                                               const TimestampOptions& options = {});

}  // namespace motcua::signing

#endif  // MOTCUA_SIGNING_TIMESTAMP_CLIENT_H_
