#ifndef MOTCUA_SIGNING_VERIFIER_H_
#define MOTCUA_SIGNING_VERIFIER_H_

// Offline verification of the signatures in a PDF, in the spirit of ETSI EN
// 319 102-1: one report per signature with an indication (TOTAL_PASSED,
// INDETERMINATE, TOTAL_FAILED) and a sub-indication naming the first reason,
// plus what every later revision changed.
//
// Time model. The best signature time is the genTime of a verified RFC 3161
// signature timestamp when there is one, else the validation time (now). The
// claimed /M time is reported but proves nothing. Hence, for a signer
// certificate outside its validity period:
//   - no timestamp, expired now:                INDETERMINATE / OUT_OF_BOUNDS_NO_POE
//   - timestamp after notAfter (or before notBefore): TOTAL_FAILED / EXPIRED
//                                                (NOT_YET_VALID)
//   - timestamp within validity, expired now:   passes, with a note
// A certificate revoked at or before the best signature time gives
// TOTAL_FAILED / REVOKED; revoked later (proven by a timestamp): passes with a
// note. Revocation data is taken from the CMS and the /DSS (CRLs, OCSP
// responses); with none for a certificate of the chain, or none issued
// after the signature's time-stamp (VerifyOptions::max_revocation_age), the
// result is INDETERMINATE / TRY_LATER unless revocation checking is off.
// The signature timestamp's TSA chain is checked the same way: revoked
// before the timestamp's time, the timestamp proves nothing (the signature
// is judged as if it had none); no data for it gives only a warning.

#include <openssl/x509.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "signing/pdf_revisions.h"
#include "signing/revocation_evidence.h"
#include "signing/trust_store.h"

namespace motcua::signing {

enum class Indication { kTotalPassed, kIndeterminate, kTotalFailed };

// EN 319 102-1 sub-indications this verifier can give.
enum class SubIndication {
  kNone,
  kFormatFailure,
  kHashFailure,
  kSigCryptoFailure,
  kRevoked,
  kExpired,
  kNotYetValid,
  kNoSigningCertificateFound,
  kNoCertificateChainFound,
  kCertificateChainGeneralFailure,
  kOutOfBoundsNoPoe,
  kTryLater,
  kSignedDataNotFound,
};

// "TOTAL_PASSED", "HASH_FAILURE", ... ("" for kNone).
const char* IndicationName(Indication indication);
const char* SubIndicationName(SubIndication sub);

// Where revocation information comes from when the document has none.
// Verification stays offline unless VerifyOptions names one.
class RevocationFetcher {
 public:
  virtual ~RevocationFetcher() = default;
  // A DER OCSP response for `cert` issued by `issuer`, or an error whose
  // message the report shows (e.g. why the responder could not be asked).
  virtual absl::StatusOr<std::string> FetchOcsp(X509* cert, X509* issuer) = 0;
  // A DER CRL of `issuer` covering `cert`; asked when FetchOcsp gave no
  // usable answer. The default has none.
  virtual absl::StatusOr<std::string> FetchCrl(X509* /*cert*/, X509* /*issuer*/) {
    return absl::NotFoundError("no CRL source");
  }
};

struct VerifyOptions {
  // The time "now" for certificate validity; unset: the real clock.
  std::optional<absl::Time> validation_time;
  // Off: missing revocation data does not make a signature INDETERMINATE
  // (revocation data that is present is still honoured).
  bool check_revocation = true;
  // Not owned; nullptr keeps verification offline.
  RevocationFetcher* revocation_fetcher = nullptr;
  // EN 319 102-1 revocation freshness: a "good" status counts only from
  // evidence issued at or after the signature's time-stamp less this.
  // Zero, the strict default: issued after the time-stamp, as a document we
  // issue carries. Stale evidence makes the signature INDETERMINATE /
  // TRY_LATER (fresher evidence may come). Without a time-stamp the evidence
  // must be current at the validation time instead.
  absl::Duration max_revocation_age = absl::ZeroDuration();
  ParseLimits limits;
};

struct ByteRangeCoverage {
  bool well_formed = false;            // [0, a, b, c]; the gap [a, b) is exactly /Contents
  int revision = -1;                   // the revision it ends at; -1: not at a revision end
  bool covers_whole_document = false;  // false: later revisions (or bytes) follow
  int64_t signed_bytes = 0;
  std::string problem;  // why not well formed, if not
};

struct TimestampInfo {
  bool present = false;
  bool valid = false;
  std::optional<absl::Time> gen_time;
  std::string tsa_subject;
  std::string problem;
};

struct SignatureReport {
  std::string field_name;
  std::string type;  // "Sig" or "DocTimeStamp"
  std::string sub_filter;
  int revision = -1;  // the revision it signs (where its byte range ends)
  Indication indication = Indication::kIndeterminate;
  SubIndication sub_indication = SubIndication::kNone;
  std::string reason;          // one sentence: why this indication
  std::string signer_subject;  // RFC 2253, UTF-8
  std::string signer_common_name;
  std::string signer_sha256;         // lower-case hex of the DER certificate
  std::string claimed_signing_time;  // /M as written
  std::optional<absl::Time> claimed_signing_time_parsed;
  TimestampInfo timestamp;         // the signature timestamp (or, for a
                                   // document timestamp, the token itself)
  std::vector<std::string> chain;  // subjects, signer first, trust anchor last
  ByteRangeCoverage coverage;
  RevocationStatus revocation = RevocationStatus::kNotChecked;
  std::string revocation_detail;
  bool modified_after_signing = false;     // a later revision has flagged changes
  std::vector<std::string> later_changes;  // those flagged changes
  std::vector<std::string> warnings;
};

struct RevisionReport {
  int revision = 0;
  size_t end = 0;
  std::vector<PdfObjectChange> changes;  // relative to the previous revision
};

struct VerificationReport {
  size_t file_size = 0;
  absl::Time validation_time;
  std::vector<SignatureReport> signatures;  // in revision order
  std::vector<RevisionReport> revisions;
  std::vector<std::string> notes;
  // True when there is at least one signature and every one is TOTAL_PASSED
  // with no modification warning.
  bool AllPassed() const;
};

// Verifies every signature and document timestamp in `pdf`. INVALID_ARGUMENT
// when `pdf` is not a readable PDF (garbage, truncated before any complete
// revision, encrypted); a readable PDF always yields a report, whatever its
// signatures are like (a PDF without signatures gives an empty list).
absl::StatusOr<VerificationReport> VerifyPdf(absl::string_view pdf, const TrustStore& trust,
                                             const VerifyOptions& options = {});

// The report as JSON with stable snake_case field names, and as text for a
// person (one block per signature, then the revisions).
std::string ReportToJson(const VerificationReport& report);
std::string ReportToText(const VerificationReport& report);

}  // namespace motcua::signing

#endif  // MOTCUA_SIGNING_VERIFIER_H_
