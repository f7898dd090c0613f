#ifndef MOTCUA_SIGNING_DOCUMENT_VERIFIER_H_
#define MOTCUA_SIGNING_DOCUMENT_VERIFIER_H_

// VerifyPdf as a service offers it to callers who send a document: fixed
// trust anchors chosen by whoever runs the service, a size cap so one request
// cannot make the verifier hash and parse without bound, and a cap on
// verifications at once so a burst of large documents cannot take every
// worker thread and gigabytes of memory.
//
// Verify may be called from many threads.

#include <atomic>
#include <cstddef>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "signing/trust_store.h"
#include "signing/verifier.h"

namespace motcua::signing {

class DocumentVerifier {
 public:
  // Larger documents are refused: the API caps attachments at 20 MiB too.
  static constexpr size_t kMaxPdfBytes = 20u << 20;

  // At most `max_concurrent` (at least 1) verifications run at once;
  // revocation freshness as VerifyOptions::max_revocation_age.
  explicit DocumentVerifier(TrustStore trust, int max_concurrent = 4,
                            absl::Duration max_revocation_age = absl::ZeroDuration())
      : trust_(std::move(trust)),
        max_concurrent_(max_concurrent < 1 ? 1 : max_concurrent),
        max_revocation_age_(max_revocation_age) {}

  DocumentVerifier(const DocumentVerifier&) = delete;
  DocumentVerifier& operator=(const DocumentVerifier&) = delete;

  // VerifyPdf against the anchors. `check_revocation` as in VerifyOptions.
  // INVALID_ARGUMENT, with a reason a person can act on, when `pdf` is empty,
  // larger than kMaxPdfBytes or not a readable PDF. RESOURCE_EXHAUSTED at
  // once, without queueing, while max_concurrent others run: retry later.
  absl::StatusOr<VerificationReport> Verify(absl::string_view pdf, bool check_revocation) const;

  const TrustStore& trust() const { return trust_; }

 private:
  const TrustStore trust_;
  const int max_concurrent_;
  const absl::Duration max_revocation_age_;
  mutable std::atomic<int> running_{0};
};

}  // namespace motcua::signing

#endif  // MOTCUA_SIGNING_DOCUMENT_VERIFIER_H_
