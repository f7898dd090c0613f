// `motcua verify FILE.pdf`: checks the signatures of a PDF on this machine
// alone, with no server and no network, so an auditor can judge a document
// whatever state the service is in.

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "adapters/cli/commands.h"
#include "signing/trust_store.h"
#include "signing/verifier.h"

namespace motcua::cli {
namespace {

// Refused before reading: the verifier would refuse it anyway, after
// holding it all in memory.
constexpr uintmax_t kMaxPdfFile = 256u << 20;

}  // namespace

absl::StatusOr<std::string> ReadPdfFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  }
  if (std::filesystem::file_size(path, ec) > kMaxPdfFile) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": larger than 256 MiB, not verified"));
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  if (!in) return absl::UnavailableError(absl::StrCat("cannot read ", path));
  return content.str();
}

absl::StatusOr<signing::TrustStore> LoadTrustAnchors(const Context& context, const Args& args) {
  // Only the CA certificate by default: the PKI directory also holds the
  // server's TLS certificate, which must not be trusted to sign documents.
  const std::string path = args.trust.empty() ? context.pki_dir() + "/ca.crt" : args.trust;
  signing::TrustStore trust;
  if (absl::Status s = trust.AddAnchorsFrom(path); !s.ok()) {
    return absl::Status(
        s.code(),
        absl::StrCat(
            "trust anchors",
            args.trust.empty() ? " (default <pki-dir>/ca.crt; see --trust, --pki-dir)" : "", ": ",
            s.message()));
  }
  return trust;
}

namespace {

// Why the document does not pass, in a sentence, or "" when it does.
std::string Verdict(const signing::VerificationReport& report) {
  if (report.AllPassed()) return "";
  if (report.signatures.empty()) return "FAILED: the document holds no signature";
  int failed = 0;
  bool try_later = false;
  for (const signing::SignatureReport& s : report.signatures) {
    if (s.indication != signing::Indication::kTotalPassed || s.modified_after_signing) ++failed;
    try_later = try_later || s.sub_indication == signing::SubIndication::kTryLater;
  }
  std::string verdict = absl::StrCat("FAILED: ", failed, " of ", report.signatures.size(),
                                     " signature(s) did not pass");
  if (try_later) {
    absl::StrAppend(&verdict,
                    "\n  (TRY_LATER: the document carries no CRL or OCSP response for the "
                    "certificates issued after the signatures' time-stamps, and verify works "
                    "offline; --max-revocation-age accepts older evidence, --no-revocation "
                    "judges the signatures without revocation checking)");
  }
  return verdict;
}

}  // namespace

absl::StatusOr<int> Verify(Context& context, const Args& args) {
  const std::string& path = args.file;
  absl::StatusOr<signing::TrustStore> trust = LoadTrustAnchors(context, args);
  if (!trust.ok()) return trust.status();
  absl::StatusOr<std::string> pdf = ReadPdfFile(path);
  if (!pdf.ok()) return pdf.status();

  signing::VerifyOptions options;
  options.check_revocation = !args.no_revocation;
  options.max_revocation_age = absl::Seconds(args.max_revocation_age_seconds);
  absl::StatusOr<signing::VerificationReport> report = signing::VerifyPdf(*pdf, *trust, options);
  if (!report.ok()) {
    return absl::Status(report.status().code(),
                        absl::StrCat(path, ": ", report.status().message()));
  }

  const std::string verdict = Verdict(*report);
  if (context.json()) {
    std::cout << signing::ReportToJson(*report);
  } else {
    std::cout << signing::ReportToText(*report) << "\n"
              << (verdict.empty() ? "PASSED: every signature is TOTAL_PASSED and nothing was "
                                    "changed after signing"
                                  : verdict)
              << (options.check_revocation ? "" : "; revocation not checked (--no-revocation)")
              << "\n";
  }
  std::cout.flush();
  return report->AllPassed() ? kExitOk : kExitCheckFailed;
}

}  // namespace motcua::cli
