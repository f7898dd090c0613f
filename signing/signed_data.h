#ifndef MOTCUA_SIGNING_SIGNED_DATA_H_
#define MOTCUA_SIGNING_SIGNED_DATA_H_

// Reading a CMS SignedData and its certificates, fast. Internal to signing/.
//
// OpenSSL 3.0 builds a new provider decoder for every public key it parses,
// about 0.1 ms each (3.1 caches them): decoding a PAdES signature's CMS with
// its signer and CA certificates costs more than checking it. A verifier
// sees the same few certificates in document after document, so
// ReadSignedData decodes the CMS without its certificate set and takes the
// certificates from a process-wide cache keyed by their exact DER bytes.
// The result is what d2i_CMS_ContentInfo and CMS_get1_certs would give,
// except that the CMS object itself holds no certificates.

#include <optional>
#include <vector>

#include "absl/strings/string_view.h"
#include "signing/openssl_util.h"

namespace motcua::signing {

struct SignedDataParts {
  CmsPtr cms;                         // the ContentInfo, certificate set removed
  std::vector<X509Ptr> certificates;  // the certificate set, in order
};

// Nothing when `der` is not a CMS ContentInfo (of any content type) whose
// certificates all decode. Not DER (BER lengths, say): decoded the slow way.
std::optional<SignedDataParts> ReadSignedData(absl::string_view der);

// The whole ContentInfo `der`, certificates included, the slow way: for a
// CMS that will be changed and re-encoded. Null when `der` is not one.
CmsPtr DecodeCms(absl::string_view der);

// `der` decoded as an X.509 certificate (a new reference), from the cache
// when these exact bytes were decoded before; null when it is not exactly
// one certificate.
X509Ptr DecodeCertificate(absl::string_view der);

}  // namespace motcua::signing

#endif  // MOTCUA_SIGNING_SIGNED_DATA_H_
