#ifndef MOTCUA_SIGNING_REVOCATION_EVIDENCE_H_
#define MOTCUA_SIGNING_REVOCATION_EVIDENCE_H_

// What one OCSP response or CRL says about one certificate: the single
// evaluator behind both the online checker (revocation.h), which asks "is
// it good now?", and the verifier (verifier.h), which asks "was it good
// when the signature was made, by evidence issued after that?" (EN 319 102-1
// 5.2.5, revocation freshness). Evaluating is separate from those two
// questions so both judge exactly the same answer.
//
// Evidence is believed only when signed by the certificate's issuer, or (OCSP)
// by a responder the issuer certified for OCSPSigning (RFC 6960 4.2.2.2).
// The issuer is trusted as given: the caller has already built the chain.
//
// Pure functions; thread-safe.

#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include <optional>
#include <string>

#include "absl/time/time.h"

namespace motcua::signing {

enum class RevocationStatus { kNotChecked, kGood, kRevoked, kUnknown };
const char* RevocationStatusName(RevocationStatus status);

struct RevocationEvidence {
  // kGood or kRevoked when the evidence speaks for the certificate;
  // kUnknown otherwise, with `problem` saying why.
  RevocationStatus status = RevocationStatus::kUnknown;
  std::optional<absl::Time> revoked_at;
  int reason = -1;  // RFC 5280 CRLReason (CRL_REASON_*); -1: none given
  // thisUpdate: when the status was known to be correct. The freshness
  // tests below compare it, at the one-second precision it is written in.
  absl::Time this_update;
  std::optional<absl::Time> next_update;
  std::string source;   // "OCSP response of 2026-12-07T10:00:00Z", "CRL of ..."
  std::string problem;  // why kUnknown, for a person
};

// `response` about `cert` issued by `issuer`. `extra_certs` (may be null)
// helps find a delegated responder's certificate the response leaves out.
RevocationEvidence EvaluateOcsp(OCSP_RESPONSE* response, X509* cert, X509* issuer,
                                STACK_OF(X509) * extra_certs);
// `crl` about `cert`; kUnknown when `crl` is not `issuer`'s.
RevocationEvidence EvaluateCrl(X509_CRL* crl, X509* cert, X509* issuer);

// How long evidence without a nextUpdate is taken as current after its
// thisUpdate: what CAs commonly pre-produce OCSP answers for.
inline constexpr absl::Duration kLifetimeWithoutNextUpdate = absl::Hours(24);

// The online question: may `evidence` be taken as the status at `now`?
// Issued no later than now + skew, and not expired before now - skew
// (without nextUpdate: `lifetime` after its thisUpdate). Empty when it
// may; otherwise why not.
std::string WhyNotCurrent(const RevocationEvidence& evidence, absl::Time now, absl::Duration skew,
                          absl::Duration lifetime = kLifetimeWithoutNextUpdate);

// The verifier's question, EN 319 102-1 revocation freshness. With a
// proof of existence at `signed_by` (a verified signature time-stamp),
// the evidence must be issued at or after signed_by - max_age (max_age
// zero: after the time-stamp, the strict default). Without one (nullopt),
// the signature time is the validation time `now` and the evidence must be
// current then (WhyNotCurrent with five minutes' clock skew). Empty when fresh; otherwise why
// not.
std::string WhyNotFresh(const RevocationEvidence& evidence, std::optional<absl::Time> signed_by,
                        absl::Time now, absl::Duration max_age);

}  // namespace motcua::signing

#endif  // MOTCUA_SIGNING_REVOCATION_EVIDENCE_H_
