#ifndef MOTCUA_SIGNING_DEV_DEV_PKI_H_
#define MOTCUA_SIGNING_DEV_DEV_PKI_H_

// A development PKI: one root CA, a server certificate for localhost and a
// client certificate per development identity, so the server and the CLI can
// speak mutual TLS on a laptop without any outside CA. Never for production.
//
// Layout under the directory:
//   ca.crt, ca.key                  "motcua dev root CA", valid 10 years
//   server.crt, server.key          CN=localhost, SAN DNS:localhost,
//                                   IP:127.0.0.1, IP:::1; serverAuth
//   clients/<name>.crt, .key        one per DevClients() entry; clientAuth
//   signers/<name>.crt, .key, .p12  one per DevSigners() entry: document
//                                   signing (digitalSignature,
//                                   nonRepudiation, no extended key usage);
//                                   the .p12 holds key, certificate and CA
//                                   certificate, password kDevPkcs12Password
//   images/<officer>-signature.png  a blue scribble on transparent, per officer
//   images/<unit>-seal.png          a red round seal (double ring, star)
//   ocsp.crt, ocsp.key              OCSP responder: EKU OCSPSigning, ocsp-nocheck
//   tsa.crt, tsa.key                time-stamping unit: EKU timeStamping (critical)
//   index.txt, index.txt.attr       an `openssl ca` database of the signing and
//                                   TSA certificates, so that
//                                     openssl ocsp -index index.txt -CA ca.crt
//                                       -rsigner ocsp.crt -rkey ocsp.key -port N
//                                   answers for them
//   ca.crl                          DER CRL of the CA from index.txt;
//                                   nextUpdate 7 days on, renewed within 2
// TLS, OCSP and TSA keys are ECDSA P-256, signing keys RSA-2048; PKCS#8 PEM,
// unencrypted, mode 0600.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "signing/revocation.h"

namespace motcua::signing {

// A development client identity. Its certificate subject carries what
// adapters/identity reads back as the caller's Principal.
struct DevClient {
  std::string name;      // file stem under clients/, e.g. "head"
  std::string subject;   // CN, e.g. "head.hn"
  std::string role;      // OU: portal | officer | clerk | auditor | admin
  std::string unit;      // O, e.g. "HN-SGDDT"; empty: no O in the subject
  std::string position;  // title (2.5.4.12), e.g. "head"; empty: none
};

// The fixed list of development clients (portals, officers of two units,
// a clerk, an auditor, an administrator), in a stable order.
const std::vector<DevClient>& DevClients();

// A development signing identity: an officer (file stem = the DevClient's
// name, same subject) or an organisation seal ("seal-<unit>", O=CN=<unit>).
struct DevSigner {
  std::string name;  // file stem under signers/
  std::string unit;  // e.g. "HN-SGDDT"
  bool seal;         // true: the organisation's seal, false: an officer
};

// The officers of DevClients(), then one seal per unit, in a stable order.
const std::vector<DevSigner>& DevSigners();

// A development unit: what its documents print. Production names its units
// in the server configuration (motcua.v1.UnitProfile) instead.
struct DevUnit {
  std::string code;        // as the clients' O, e.g. "HN-SGDDT"
  std::string name;        // e.g. "Sở Giáo dục và Đào tạo Hà Nội"
  std::string parent;      // e.g. "Ủy ban nhân dân thành phố Hà Nội"
  std::string place;       // e.g. "Hà Nội"
  std::string head_title;  // the title of its "head" officers, e.g. "Giám đốc"
};

// The units of DevClients(), in a stable order.
const std::vector<DevUnit>& DevUnits();

// Password of the development PKCS#12 files.
inline constexpr char kDevPkcs12Password[] = "motcua-dev";

// Creates, under `dir`, a development PKI if it is not there yet; reuses
// what exists (idempotent: a second call changes nothing; missing client
// certificates are added). A certificate that is missing, does not match its
// key, was not issued by the current CA, has a stale subject or expires
// within 30 days is re-issued; if the CA itself is missing, everything is.
// A .p12 is rewritten only when it no longer holds the current pair, an
// image only when its bytes differ from what would be drawn.
// Safe to call from concurrent processes on the same `dir` (file lock).
// Fails with the errno-derived code on I/O errors, INTERNAL on OpenSSL errors.
// The revocation URLs the signing certificates name (see DevPkiOptions) are
// kept as they are.
absl::Status EnsureDevPki(const std::string& dir);

struct DevPkiOptions {
  // Written into every signing certificate and the TSA certificate as its
  // Authority Information Access OCSP URL and CRL distribution point. Empty
  // (default): none. A certificate whose URLs differ is re-issued (same
  // key), so one directory serves one responder address at a time.
  std::string ocsp_url;
  std::string crl_url;
};

// EnsureDevPki, with signing certificates that point at revocation services.
absl::Status EnsureDevPki(const std::string& dir, const DevPkiOptions& options);

// RevokeDevSigner's name for the TSA certificate.
inline constexpr char kDevTsaName[] = "tsa";

// Revokes the current certificate of DevSigners() entry `name` (or of the
// TSA, kDevTsaName) as of `when`
// with RFC 5280 CRLReason `reason` (CRL_REASON_KEY_COMPROMISE, ... from
// <openssl/x509v3.h>): marks it in index.txt and re-issues ca.crl.
// EnsureDevPki does not replace a certificate for being revoked (delete its
// .crt to get a new one). NOT_FOUND for an unknown name or a PKI that does
// not exist; INVALID_ARGUMENT for an unknown reason.
absl::Status RevokeDevSigner(const std::string& dir, const std::string& name, int reason,
                             absl::Time when = absl::Now());

// The development CA as a CRL issuer in the process
// (RevocationCheckerOptions::crl_issuer): each request gets a CRL of
// index.txt issued then, so the evidence a document issued in development
// carries is issued after its time-stamps and passes the verifier's strict
// freshness policy, as a production OCSP responder's answer would. A
// revocation written by RevokeDevSigner counts from the next request.
// NOT_FOUND when there is no PKI in `dir`.
absl::StatusOr<std::shared_ptr<const CrlIssuer>> OpenDevCrlIssuer(const std::string& dir);

// A checker as `checker`, with the development CA in `dir` issuing CRLs on
// request (OpenDevCrlIssuer): what development mode and the tests sign with.
absl::StatusOr<std::unique_ptr<RevocationChecker>> WithDevCrlIssuer(
    const RevocationChecker& checker, const std::string& dir);

}  // namespace motcua::signing

#endif  // MOTCUA_SIGNING_DEV_DEV_PKI_H_
