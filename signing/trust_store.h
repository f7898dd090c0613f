#ifndef MOTCUA_SIGNING_TRUST_STORE_H_
#define MOTCUA_SIGNING_TRUST_STORE_H_

// The certificates a verifier trusts: anchors (every certificate in the
// configured directory, self-signed or not: trusting an intermediate CA is a
// deliberate choice of whoever put it there) and extra intermediates that may
// help build chains but are trusted for nothing.
//
// Immutable after loading; share one instance between verifications.
// Move-only: it owns OpenSSL objects.

#include <openssl/x509.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace motcua::signing {

class TrustStore {
 public:
  struct CertFree {
    void operator()(X509* cert) const { X509_free(cert); }
  };
  using Cert = std::unique_ptr<X509, CertFree>;

  // Certificates in `data`: one DER certificate, or any number of PEM
  // "CERTIFICATE" blocks. INVALID_ARGUMENT when none can be read.
  static absl::StatusOr<std::vector<Cert>> ParseCertificates(absl::string_view data);

  TrustStore() = default;
  TrustStore(TrustStore&&) = default;
  TrustStore& operator=(TrustStore&&) = default;
  TrustStore(const TrustStore&) = delete;
  TrustStore& operator=(const TrustStore&) = delete;

  // Every regular file in `dir` holding certificates (PEM or DER; other
  // files are skipped) becomes an anchor. NOT_FOUND when `dir` is missing;
  // INVALID_ARGUMENT when it holds no certificate at all.
  static absl::StatusOr<TrustStore> FromDirectory(const std::string& dir);

  // Adds the certificates in `data` (see ParseCertificates).
  absl::Status AddAnchors(absl::string_view data);
  // Adds the anchors of `path`: a directory (as FromDirectory) or one file of
  // certificates. NOT_FOUND when it does not exist; INVALID_ARGUMENT naming
  // `path` when it holds no certificate.
  absl::Status AddAnchorsFrom(const std::string& path);
  absl::Status AddIntermediates(absl::string_view data);

  const std::vector<Cert>& anchors() const { return anchors_; }
  const std::vector<Cert>& intermediates() const { return intermediates_; }

 private:
  std::vector<Cert> anchors_;
  std::vector<Cert> intermediates_;
};

}  // namespace motcua::signing

#endif  // MOTCUA_SIGNING_TRUST_STORE_H_
