#ifndef MOTCUA_SIGNING_DOCUMENT_SIGNER_H_
#define MOTCUA_SIGNING_DOCUMENT_SIGNER_H_

// The signing pipeline the engine calls: each signature a document gets, in
// the order PAdES wants it, and what makes the document last. An officer's
// signature is made in two phases (the server prepares, the officer's token
// signs what it is shown, the server completes); a seal in one. Each
// signature gets a signature time-stamp (B-T); Finish adds the validation
// data (B-LT), a document time-stamp over the whole file (B-LTA) and the
// check every signature must pass, with revocation judged from the document
// alone, as an auditor offline will judge it. The engine decides which
// document, which slots and who; this class knows no procedure.
//
// Thread-safe: every method is const and the services it holds are.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "signing/certificate_chain.h"
#include "signing/pades.h"
#include "signing/revocation.h"
#include "signing/signing_key.h"
#include "signing/timestamp_client.h"
#include "signing/trust_store.h"
#include "signing/verifier.h"

namespace motcua::signing {

struct DocumentSignerOptions {
  // Required, not owned: the anchors every signer must chain to, and where
  // revocation status comes from.
  const TrustStore* trust = nullptr;
  const RevocationChecker* revocation = nullptr;
  // Not owned; null: no time-stamps (B-B, still with the /DSS).
  const TimestampAuthority* timestamps = nullptr;
  // VerifyOptions::max_revocation_age, for the evidence gathered and every
  // check (zero: strict).
  absl::Duration max_revocation_age = absl::ZeroDuration();
};

// An officer's signature reserved in a document, waiting for its value.
struct OfficerSignature {
  PreparedSignature prepared;
  std::string to_be_signed;  // DER SET of the signed attributes
  CertificateChain chain;    // the officer's certificate first
};

class DocumentSigner {
 public:
  explicit DocumentSigner(DocumentSignerOptions options) : options_(options) {}

  // The officer's certificate's chain to an anchor, valid at `at`, and its
  // status now. PERMISSION_DENIED when untrusted or revoked (the reason
  // quoted); UNAVAILABLE when no source can say now (try later).
  absl::StatusOr<CertificateChain> CheckSigner(X509* cert, absl::Time at) const;

  // Phase 1: `pdf` with the signature reserved as `request` says, and the
  // attributes the officer's key must sign. PrepareSignature's errors.
  absl::StatusOr<OfficerSignature> Prepare(absl::string_view pdf, CertificateChain chain,
                                           const SignatureRequest& request) const;
  // Phase 2: INVALID_ARGUMENT when `value` is not the officer's signature of
  // to_be_signed; else the document with the signature, time-stamped.
  // FAILED_PRECONDITION when the time-stamp cannot be had.
  absl::StatusOr<std::string> Complete(const OfficerSignature& signature,
                                       absl::string_view value) const;
  // A signature by a key the server holds (a unit's seal), time-stamped.
  absl::StatusOr<std::string> SignWithKey(absl::string_view pdf, const SigningKey& key,
                                          const SignatureRequest& request) const;

  // The document as issued: B-LT, B-LTA, then every signature verified.
  // `max_revisions` bounds the final check's parse (0: the parser's
  // default). MakeLongTerm's errors (UNAVAILABLE while fresh evidence cannot
  // be had); FAILED_PRECONDITION when the document time-stamp cannot be had;
  // INTERNAL, naming the first failure, when the result does not verify or
  // holds other than `signatures` signatures.
  absl::StatusOr<std::string> Finish(absl::string_view pdf, int signatures,
                                     int max_revisions) const;

  // An issued document with its evidence renewed (RenewDocumentTimestamp),
  // verified as Finish verifies. FAILED_PRECONDITION without a TSA or when
  // the result does not verify; otherwise RenewDocumentTimestamp's errors.
  absl::StatusOr<std::string> Renew(absl::string_view pdf) const;

  // Before `pdf` is signed further: every signature and time-stamp passes
  // and nothing but signature, validation-data and time-stamp updates came
  // after any of them. The signers' certificate SHA-256s (hex) in order;
  // FAILED_PRECONDITION naming the first problem.
  absl::StatusOr<std::vector<std::string>> SignersSoFar(absl::string_view pdf,
                                                        int max_revisions) const;

  // Signatures (not time-stamps) in `pdf` once every one passes; INTERNAL
  // naming the first failure.
  absl::StatusOr<int> CheckVerifies(absl::string_view pdf, int max_revisions) const;

 private:
  absl::StatusOr<std::string> Timestamp(std::string cms) const;
  // VerifyPdf with revocation from the document itself, under the policy.
  absl::StatusOr<VerificationReport> Verify(absl::string_view pdf, int max_revisions) const;

  const DocumentSignerOptions options_;
};

}  // namespace motcua::signing

#endif  // MOTCUA_SIGNING_DOCUMENT_SIGNER_H_
