// `motcua export CODE DIR` and `motcua verify-dossier`: the auditor's check
// of a whole dossier (workflow/dossier_audit.h), on the server or offline on
// an export, so a dossier can be judged whatever state the service is in.

#include <filesystem>
#include <fstream>
#include <iostream>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "adapters/cli/commands.h"
#include "adapters/cli/format.h"
#include "adapters/verify_report.h"
#include "signing/document_verifier.h"
#include "workflow/dossier_audit.h"

namespace motcua::cli {
namespace {

namespace fs = std::filesystem;

constexpr char kExportFile[] = "dossier.json";

std::string DocumentFile(const std::string& dir, const std::string& id) {
  return (fs::path(dir) / absl::StrCat(id, ".pdf")).string();
}

absl::Status WriteFile(const std::string& path, absl::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

std::string Outcome(bool passed) { return passed ? "PASSED" : "FAILED"; }

std::string FormatAudit(const v1::VerifyDossierResponse& audit, bool check_revocation) {
  std::string text = absl::StrCat("Dossier ", audit.dossier_code(), ": ",
                                  Outcome(audit.all_passed()), "\n");
  const v1::VerifyDossierHistoryResponse& history = audit.history();
  if (history.intact()) {
    absl::StrAppend(&text, "  history: intact, ", history.events_checked(), " events, head ",
                    history.head_hash(), "\n");
  } else {
    absl::StrAppend(&text, "  history: BROKEN at event ", history.first_broken_sequence(), ": ",
                    history.detail(), "\n");
  }
  for (const v1::DocumentAudit& d : audit.documents()) {
    absl::StrAppend(&text, "  document ", d.document_id(), " ", d.kind(), " (event ",
                    d.event_sequence(), ", ", d.actor(), "): ", Outcome(d.problems().empty()),
                    "\n    sha256 ", d.actual_sha256().empty() ? "-" : d.actual_sha256(), "\n");
    for (const v1::SignatureVerification& s : d.verification().signatures()) {
      absl::StrAppend(&text, "    ",
                      s.type() == v1::SignatureVerification::TYPE_DOCUMENT_TIMESTAMP
                          ? "timestamp by "
                          : "signed by ",
                      s.signer_common_name(), ": ", adapters::IndicationText(s), "\n");
    }
    for (const v1::SignerAudit& s : d.signers()) {
      absl::StrAppend(&text, "    slot ", s.signer().slot().empty() ? "-" : s.signer().slot(), ": ",
                      s.signer().common_name(), ", added by event ", s.event_sequence(), " (",
                      s.actor(), ")\n");
    }
    for (const std::string& problem : d.problems()) absl::StrAppend(&text, "    - ", problem, "\n");
  }
  for (const std::string& problem : audit.problems()) absl::StrAppend(&text, "  - ", problem, "\n");
  if (!check_revocation) absl::StrAppend(&text, "  revocation not checked (--no-revocation)\n");
  return text;
}

int Report(const Context& context, const v1::VerifyDossierResponse& audit,
           bool check_revocation) {
  std::cout << (context.json() ? ToJson(audit) : FormatAudit(audit, check_revocation));
  std::cout.flush();
  return audit.all_passed() ? kExitOk : kExitCheckFailed;
}

// The export in `dir`, judged here against `trust`.
absl::StatusOr<v1::VerifyDossierResponse> AuditExport(const std::string& dir,
                                                      signing::TrustStore trust,
                                                      bool check_revocation,
                                                      absl::Duration max_revocation_age) {
  v1::DossierExport exported;
  const std::string json = (fs::path(dir) / kExportFile).string();
  if (absl::Status s = ParseJsonFile(json, &exported); !s.ok()) return s;
  workflow::DossierEvidence evidence;
  evidence.dossier = exported.dossier();
  evidence.history.assign(exported.history().begin(), exported.history().end());
  for (const v1::Document& doc : exported.dossier().documents()) {
    const std::string path = DocumentFile(dir, doc.id());
    std::error_code ec;
    if (!fs::exists(path, ec)) continue;  // reported as missing by the audit
    absl::StatusOr<std::string> pdf = ReadPdfFile(path);
    if (!pdf.ok()) return pdf.status();
    evidence.documents[doc.id()] = *std::move(pdf);
  }
  const signing::DocumentVerifier verifier(std::move(trust), 1, max_revocation_age);
  absl::StatusOr<workflow::DossierAudit> audit =
      workflow::AuditDossier(evidence, verifier, check_revocation);
  if (!audit.ok()) return audit.status();
  v1::VerifyDossierResponse response = adapters::ToProto(*audit);
  response.set_dossier_code(exported.dossier().code());
  return response;
}

}  // namespace

absl::StatusOr<int> Export(Context& context, const Args& args) {
  const std::string& code = args.code;
  const std::string& dir = args.dir;
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
    return absl::AlreadyExistsError(absl::StrCat(dir, " is not empty; export into a new directory"));
  }
  absl::StatusOr<Client*> client = context.client();
  if (!client.ok()) return client.status();
  // The dossier first: events newer than it are left out, so the export is
  // consistent even while the dossier moves on.
  absl::StatusOr<v1::Dossier> dossier = (*client)->GetDossier(code);
  if (!dossier.ok()) return dossier.status();
  absl::StatusOr<v1::GetDossierHistoryResponse> history = (*client)->GetDossierHistory(code);
  if (!history.ok()) return history.status();
  v1::DossierExport exported;
  *exported.mutable_dossier() = *dossier;
  for (const v1::HistoryEvent& event : history->events()) {
    if (event.sequence() > dossier->history_length()) break;
    *exported.add_history() = event;
  }
  fs::create_directories(dir, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  for (const v1::Document& doc : dossier->documents()) {
    absl::StatusOr<v1::DocumentContent> content = (*client)->GetDocument(code, doc.id());
    if (!content.ok()) return content.status();
    if (auto s = WriteFile(DocumentFile(dir, doc.id()), content->content()); !s.ok()) return s;
  }
  const std::string json = (fs::path(dir) / kExportFile).string();
  if (auto s = WriteFile(json, ToJson(exported)); !s.ok()) return s;
  std::cout << (context.json() ? ToJson(exported.dossier())
                               : absl::StrCat(code, ": ", exported.history_size(), " events, ",
                                              dossier->documents_size(), " documents -> ", dir,
                                              "\n"));
  std::cout.flush();
  return kExitOk;
}

absl::StatusOr<int> VerifyDossier(Context& context, const Args& args) {
  const bool check_revocation = !args.no_revocation;
  if (!args.from.empty()) {
    if (!args.code.empty()) {
      return UsageError("verify-dossier --from DIR takes no CODE: the export names its dossier");
    }
    absl::StatusOr<signing::TrustStore> trust = LoadTrustAnchors(context, args);
    if (!trust.ok()) return trust.status();
    absl::StatusOr<v1::VerifyDossierResponse> audit =
        AuditExport(args.from, *std::move(trust), check_revocation,
                    absl::Seconds(args.max_revocation_age_seconds));
    if (!audit.ok()) return audit.status();
    return Report(context, *audit, check_revocation);
  }
  if (!args.trust.empty() || args.max_revocation_age_seconds != 0) {
    return UsageError(
        "--trust and --max-revocation-age are for --from DIR; the server judges with its own "
        "anchors and policy");
  }
  if (args.code.empty()) return UsageError("missing CODE (or --from DIR)");
  absl::StatusOr<Client*> client = context.client();
  if (!client.ok()) return client.status();
  v1::VerifyDossierRequest request;
  request.set_dossier_code(args.code);
  request.set_skip_revocation_check(!check_revocation);
  absl::StatusOr<v1::VerifyDossierResponse> audit = (*client)->VerifyDossier(request);
  if (!audit.ok()) return audit.status();
  return Report(context, *audit, check_revocation);
}

}  // namespace motcua::cli
