#ifndef MOTCUA_SIGNING_LONG_TERM_H_
#define MOTCUA_SIGNING_LONG_TERM_H_

// PAdES B-LT in one call for the server: for every signature in a signed
// PDF, the certificate chain and the revocation evidence a verifier needs
// years later, offline, added to the document's /DSS.
//
// Three pieces with one job each: revocation.h asks OCSP responders and CRL
// distribution points, dss.h writes the /DSS update, and this file decides
// what to gather. Gathering is separate from writing so the server can
// record (or show) the evidence, and so a document whose signer turns out
// revoked is refused before anything is written.
//
// The server's flow for a key it holds: PrepareSignature, SignDetached,
// TimestampSignature (timestamp_client.h: B-T), EmbedSignature, then
// MakeLongTerm (B-LT). For an officer's token, RequestTimestamp goes between
// receiving the signature value and AssembleSignedData.
//
// Thread-safe if the checker is (RevocationChecker is).

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "signing/dss.h"
#include "signing/revocation.h"
#include "signing/timestamp_client.h"
#include "signing/trust_store.h"

namespace motcua::signing {

struct LongTermOptions {
  // Both required, not owned. Chains are built to `trust`'s anchors (its
  // intermediates and the certificates in the signatures help).
  const TrustStore* trust = nullptr;
  const RevocationChecker* checker = nullptr;
  // Certificates must be valid, and are asked about, at this time.
  absl::Time now = absl::Now();
  // The evidence gathered for a signer must pass the verifier's freshness
  // test with this VerifyOptions::max_revocation_age (strict by default):
  // issued after the signature's time-stamp, so the document verifies
  // under the strict policy years later.
  absl::Duration max_revocation_age = absl::ZeroDuration();
};

struct GatheredValidationData {
  ValidationData data;
  // What could not be gathered without making the result wrong, e.g. no
  // revocation status for a TSA certificate (the verifier does not need it).
  std::vector<std::string> notes;
};

// The validation data for every signature and signature time-stamp in
// `pdf`: each signer's chain up to and including its anchor, an OCSP
// response or CRL for every certificate below the anchor, the OCSP
// responders' certificates, and the same for time-stamping authorities as
// far as they can be had (best effort: recorded in `notes`).
// FAILED_PRECONDITION naming the signature field when a signer has no chain
// to an anchor, a certificate of its chain (or of its TSA's) is revoked, or
// a signer certificate's status cannot be had (the checker's reason quoted:
// unreachable responder, ...). UNAVAILABLE when the only evidence to be had
// was issued before the signature's time-stamp (a CRL published earlier):
// try again once the CA has published a newer one.
// INVALID_ARGUMENT when `pdf` does not parse or holds no signature.
absl::StatusOr<GatheredValidationData> GatherValidationData(absl::string_view pdf,
                                                            const LongTermOptions& options);

// GatherValidationData, then AddValidationData: `pdf` as B-LT. Errors as
// those two.
absl::StatusOr<std::string> MakeLongTerm(absl::string_view pdf, const LongTermOptions& options);

// When the evidence in a B-LTA `pdf` must be renewed by: the notAfter of the
// certificate of its last document time-stamp's TSA, after which that
// time-stamp proves nothing new. NOT_FOUND when it ends with no document
// time-stamp (not B-LTA); INVALID_ARGUMENT when it does not parse.
absl::StatusOr<absl::Time> RenewBy(absl::string_view pdf);

// B-LTA renewal, as DSS extends a signature: the last document time-stamp's
// TSA chain, with revocation evidence issued now, goes into the /DSS, then a
// new document time-stamp from `tsa` covers the whole file. Signers' chains
// are not gathered again: their certificates may have expired since, and the
// earlier time-stamps prove the evidence existed while they were valid.
// FAILED_PRECONDITION when the TSA certificate has expired already (renewal
// came too late), is revoked or its status cannot be had; NOT_FOUND without
// a document time-stamp; otherwise AddDocumentTimestamp's errors.
absl::StatusOr<std::string> RenewDocumentTimestamp(absl::string_view pdf,
                                                   const TimestampAuthority& tsa,
                                                   const LongTermOptions& options,
                                                   const TimestampOptions& stamp = {});

}  // namespace motcua::signing

#endif  // MOTCUA_SIGNING_LONG_TERM_H_
