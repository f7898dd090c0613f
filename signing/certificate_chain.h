#ifndef MOTCUA_SIGNING_CERTIFICATE_CHAIN_H_
#define MOTCUA_SIGNING_CERTIFICATE_CHAIN_H_

// The one way signing/ and its callers find a certificate's path to a trust
// anchor: officers' certificates before they sign, seal keys at start-up,
// signers and time-stamp authorities when a document is verified or made
// long-term. Revocation is not its business (revocation.h).

#include <openssl/x509.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "signing/trust_store.h"

namespace motcua::signing {

struct ChainOptions {
  // When the certificates must be valid.
  absl::Time at = absl::Now();
  // Judge no validity period: the caller judges them against another time
  // (a signature's, when verifying).
  bool ignore_validity = false;
};

// A certificate path: the leaf first, a trust anchor last. Owns a reference
// to each certificate.
class CertificateChain {
 public:
  int size() const { return sk_X509_num(certs_.get()); }
  // 0 is the leaf; size() - 1 the anchor.
  X509* at(int i) const { return sk_X509_value(certs_.get(), i); }
  X509* leaf() const { return at(0); }

 private:
  friend absl::StatusOr<CertificateChain> BuildChain(X509*, const TrustStore&, STACK_OF(X509) *,
                                                     const ChainOptions&);
  struct Free {
    void operator()(STACK_OF(X509) * certs) const { sk_X509_pop_free(certs, X509_free); }
  };
  std::unique_ptr<STACK_OF(X509), Free> certs_;
};

// `leaf`'s path to one of `trust`'s anchors, through its intermediates and
// `untrusted` (may be null: certificates a document carries). An anchor may
// be an intermediate CA. FAILED_PRECONDITION when there is none, its message
// OpenSSL's reason ("unable to get local issuer certificate", "certificate
// has expired"...), which IsMissingPath tells apart.
absl::StatusOr<CertificateChain> BuildChain(X509* leaf, const TrustStore& trust,
                                            STACK_OF(X509) * untrusted,
                                            const ChainOptions& options);

// Whether BuildChain's error says no path to an anchor exists (an unknown
// issuer, a self-signed certificate that is not an anchor), rather than that
// the path found is not valid.
bool IsMissingPath(const absl::Status& error);

// The subject's common name, UTF-8; empty when it has none.
std::string CommonNameOf(const X509* cert);
// SHA-256 of the DER certificate, lower-case hex: how documents, histories
// and reports name a certificate.
std::string CertificateSha256(const X509* cert);

}  // namespace motcua::signing

#endif  // MOTCUA_SIGNING_CERTIFICATE_CHAIN_H_
