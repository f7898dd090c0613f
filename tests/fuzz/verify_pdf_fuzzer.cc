// libFuzzer target for the verifier's hostile-input surface: the PDF
// revision parser (PoDoFo underneath), the /DSS reader and the CMS and
// timestamp decoding of every signature it finds. With an empty trust store
// no chain is ever built, but everything before chain building runs.
//
// Built with clang by -DMOTCUA_FUZZ=ON (scripts/fuzz.sh), and with any
// compiler as verify_pdf_corpus_replay, which feeds it the committed corpus.

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "signing/pdf_revisions.h"
#include "signing/trust_store.h"
#include "signing/verifier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace motcua::signing;  // NOLINT: one function
  static const TrustStore* const trust = new TrustStore();
  const absl::string_view pdf(reinterpret_cast<const char*>(data), size);

  (void)ParsePdfRevisions(pdf);

  VerifyOptions options;
  // A fixed "now", so a finding replays the same way tomorrow.
  options.validation_time = absl::FromUnixSeconds(1795000000);
  absl::StatusOr<VerificationReport> report = VerifyPdf(pdf, *trust, options);
  if (report.ok()) {
    (void)ReportToJson(*report);
    (void)ReportToText(*report);
  }
  return 0;
}
