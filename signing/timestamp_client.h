#ifndef MOTCUA_SIGNING_TIMESTAMP_CLIENT_H_
#define MOTCUA_SIGNING_TIMESTAMP_CLIENT_H_

// An RFC 3161 time-stamping client: what turns a B-B signature into B-T.
// The request is cades.h's BuildTimestampRequest (SHA-256 of the signature
// value, a random nonce, the TSA certificate asked for); the reply is
// checked before its token is used. Thread-safe.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "signing/http_client.h"
#include "signing/trust_store.h"

namespace motcua::signing {

// Where time-stamp replies come from: a TSA over HTTP (HttpTimestampAuthority)
// or one in this process (local_tsa.h). Implementations are thread-safe.
class TimestampAuthority {
 public:
  virtual ~TimestampAuthority() = default;
  // The DER TimeStampResp answering the DER TimeStampReq `request`, as the
  // TSA sent it (unchecked). UNAVAILABLE when the TSA cannot be reached.
  virtual absl::StatusOr<std::string> Answer(absl::string_view request) const = 0;
  // How messages name it, e.g. "TSA http://tsa.example/".
  virtual const std::string& name() const = 0;
};

// The RFC 3161 TSA at `url` ("http://...").
std::unique_ptr<TimestampAuthority> HttpTimestampAuthority(std::string url, HttpOptions http = {});

struct TimestampOptions {
  // When set (not owned), the token's signer must be a time-stamping
  // certificate chaining to one of its anchors now, so a misconfigured TSA
  // is caught while signing rather than by whoever verifies the document.
  // Null (default): the token's signature is checked, its chain is not.
  const TrustStore* trust = nullptr;
};

// Asks `tsa` for a token over `signature_value` and returns it (DER
// ContentInfo) for AddSignatureTimestamp. UNAVAILABLE when the TSA cannot be
// reached; FAILED_PRECONDITION when it refuses (status and text quoted) or
// its reply does not check out: not over this value, another nonce, a bad
// signature, or an untrusted TSA.
absl::StatusOr<std::string> RequestTimestamp(const TimestampAuthority& tsa,
                                             absl::string_view signature_value,
                                             const TimestampOptions& options = {});

// `cms_der` (a B-B CAdES signature) with a signature time-stamp from `tsa`
// added: SignatureValue, RequestTimestamp, AddSignatureTimestamp.
absl::StatusOr<std::string> TimestampSignature(absl::string_view cms_der,
                                               const TimestampAuthority& tsa,
                                               const TimestampOptions& options = {});

}  // namespace motcua::signing

#endif  // MOTCUA_SIGNING_TIMESTAMP_CLIENT_H_
