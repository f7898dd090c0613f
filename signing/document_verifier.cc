#include "signing/document_verifier.h"

#include "absl/strings/str_cat.h"

namespace motcua::signing {

absl::StatusOr<VerificationReport> DocumentVerifier::Verify(absl::string_view pdf,
                                                            bool check_revocation) const {
  if (pdf.empty()) return absl::InvalidArgumentError("no document given (the PDF is empty)");
  if (pdf.size() > kMaxPdfBytes) {
    return absl::InvalidArgumentError(absl::StrCat("the document is ", pdf.size(),
                                                   " bytes; at most ", kMaxPdfBytes,
                                                   " bytes (20 MiB) can be verified"));
  }
  if (running_.fetch_add(1) >= max_concurrent_) {
    running_.fetch_sub(1);
    return absl::ResourceExhaustedError(absl::StrCat(
        "already verifying ", max_concurrent_, " other document(s); retry in a moment"));
  }
  struct Release {
    std::atomic<int>* running;
    ~Release() { running->fetch_sub(1); }
  } release{&running_};
  VerifyOptions options;
  options.check_revocation = check_revocation;
  options.max_revocation_age = max_revocation_age_;
  options.limits.max_file_bytes = kMaxPdfBytes;
  return VerifyPdf(pdf, trust_, options);
}

}  // namespace motcua::signing
