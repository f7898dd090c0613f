#ifndef MOTCUA_SIGNING_REVOCATION_H_
#define MOTCUA_SIGNING_REVOCATION_H_

// Online revocation checking of one certificate: asks the OCSP responder its
// Authority Information Access names, else fetches the CRL its distribution
// point names, else asks a CRL issuer in the process (the development PKI),
// else looks in CRL files the caller configured (the offline fallback).
// Every answer is judged by revocation_evidence.h (signed by the issuer or
// a responder the issuer delegated to, about this certificate, current) and
// returned with its DER so a B-LT update can embed it in the /DSS.
//
// RevocationChecker is thread-safe; its local CRL files are read again when
// they change. It is also
// the verifier's way online: RevocationCheckerFetcher adapts it to
// VerifyOptions::revocation_fetcher.

#include <openssl/x509.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "signing/http_client.h"
#include "signing/revocation_evidence.h"
#include "signing/verifier.h"

namespace motcua::signing {

// A CA's CRL service inside the process: the development PKI holds its CA
// key and issues a CRL on request, so the evidence a document carries is
// issued after its signatures' time-stamps, as a production OCSP responder's
// would be. Thread-safe.
class CrlIssuer {
 public:
  virtual ~CrlIssuer() = default;
  // A DER CRL by `issuer` issued now; NOT_FOUND when this source does not
  // speak for `issuer`.
  virtual absl::StatusOr<std::string> IssueCrl(X509* issuer) const = 0;
};

struct RevocationCheckerOptions {
  HttpOptions http;
  // Asked after the distribution point and before `crl_files`; may be null.
  std::shared_ptr<const CrlIssuer> crl_issuer;
  // CRL files (DER or PEM, any number of CRLs each), consulted when neither
  // the OCSP responder nor the distribution point gives an answer.
  std::vector<std::string> crl_files;
  // Send a nonce and require the responder to echo it when it answers with
  // one (responders that pre-produce answers never echo; theirs are then
  // judged by thisUpdate alone).
  bool ocsp_nonce = true;
  // An OCSP response without nextUpdate is current for this long after its
  // thisUpdate.
  absl::Duration max_ocsp_age = kLifetimeWithoutNextUpdate;
  // Tolerated difference between our clock and the responder's.
  absl::Duration clock_skew = absl::Minutes(5);
};

// The answer about one certificate.
struct RevocationCheck {
  // The evidence the answer rests on, as judged: its status (kGood, kRevoked,
  // or kUnknown when no source answered), revocation time and reason, and
  // the thisUpdate that decides whether it is fresh for a signature.
  RevocationEvidence evidence;
  std::string detail;  // for a person: which source said what, or why unknown
  // That evidence, DER, for a /DSS.
  std::vector<std::string> ocsp_responses;
  std::vector<std::string> crls;
};

class RevocationChecker {
 public:
  // NOT_FOUND when a CRL file is missing, INVALID_ARGUMENT when one holds no CRL.
  static absl::StatusOr<std::unique_ptr<RevocationChecker>> Create(
      RevocationCheckerOptions options);

  RevocationChecker(const RevocationChecker&) = delete;
  RevocationChecker& operator=(const RevocationChecker&) = delete;
  ~RevocationChecker();

  // OCSP, then the CRL distribution point, then the local CRLs; the first
  // good or revoked answer wins. kUnknown's detail names every source tried
  // and why it failed ("OCSP responder http://... unreachable: ...").
  RevocationCheck Check(X509* cert, X509* issuer, absl::Time now = absl::Now()) const;

  const RevocationCheckerOptions& options() const { return options_; }

  // Only the OCSP responder named in `cert`.
  RevocationCheck CheckOcsp(X509* cert, X509* issuer, absl::Time now = absl::Now()) const;
  // Only CRLs: the distribution point named in `cert`, the CRL issuer, then
  // the local files.
  RevocationCheck CheckCrl(X509* cert, X509* issuer, absl::Time now = absl::Now()) const;

 private:
  struct Crls;
  RevocationChecker(RevocationCheckerOptions options, std::shared_ptr<const Crls> local);
  // The local CRLs, read again when a file changed on disk (a CA re-issues
  // its CRL; a long-running server must see it without a restart).
  std::shared_ptr<const Crls> LocalCrls() const;
  static absl::StatusOr<std::shared_ptr<const Crls>> ReadCrlFiles(
      const std::vector<std::string>& paths);

  RevocationCheckerOptions options_;
  mutable absl::Mutex local_mutex_;
  mutable std::shared_ptr<const Crls> local_ ABSL_GUARDED_BY(local_mutex_);
};

// The verifier's RevocationFetcher backed by a RevocationChecker (not owned).
class RevocationCheckerFetcher : public RevocationFetcher {
 public:
  explicit RevocationCheckerFetcher(const RevocationChecker* checker) : checker_(checker) {}
  absl::StatusOr<std::string> FetchOcsp(X509* cert, X509* issuer) override;
  absl::StatusOr<std::string> FetchCrl(X509* cert, X509* issuer) override;

 private:
  const RevocationChecker* checker_;
};

}  // namespace motcua::signing

#endif  // MOTCUA_SIGNING_REVOCATION_H_
