#include "workflow/dossier_audit.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "workflow/history.h"

namespace motcua::workflow {
namespace {

// The chain as the server stores it, rebuilt from served events: each
// event's bytes without its hash, sealed with the hash it was served with,
// so VerifyChain catches an event whose content no longer matches.
v1::VerifyDossierHistoryResponse CheckChain(const DossierEvidence& evidence) {
  std::vector<std::string> stored;
  stored.reserve(evidence.history.size());
  for (const v1::HistoryEvent& served : evidence.history) {
    v1::HistoryEvent event = served;
    event.clear_hash();
    v1::StoredEvent sealed;
    event.SerializeToString(sealed.mutable_event());
    sealed.set_sha256(absl::HexStringToBytes(served.hash()));
    stored.push_back(sealed.SerializeAsString());
  }
  v1::VerifyDossierHistoryResponse chain = VerifyChain(stored, evidence.dossier);
  if (chain.intact()) chain.set_head_hash(evidence.dossier.history_head());
  return chain;
}

// The signatures of `report` made by signers (document timestamps are not),
// in signing order.
std::vector<const signing::SignatureReport*> Signatures(const signing::VerificationReport& report) {
  std::vector<const signing::SignatureReport*> signatures;
  for (const auto& s : report.signatures) {
    if (s.type == "Sig") signatures.push_back(&s);
  }
  return signatures;
}

// Who signed, against what the event and the dossier record.
void CheckSigners(const v1::HistoryEvent& event, const v1::Document& listed,
                  const signing::VerificationReport& report, DocumentAudit* audit) {
  const std::vector<const signing::SignatureReport*> signatures = Signatures(report);
  std::vector<std::string> found;
  for (const auto* s : signatures) found.push_back(s->signer_sha256);
  const std::vector<std::string> recorded(event.signer_certificate_sha256().begin(),
                                          event.signer_certificate_sha256().end());
  if (found != recorded) {
    audit->problems.push_back(absl::StrCat(
        "signed by certificates [", absl::StrJoin(found, ", "), "], event ", event.sequence(),
        " records [", absl::StrJoin(recorded, ", "), "]"));
    return;
  }
  for (const v1::DocumentSigner& signer : listed.signers()) {
    if (signer.signer() != v1::SIGNER_ACTOR) continue;
    for (const auto* s : signatures) {
      if (s->signer_sha256 != signer.certificate_sha256()) continue;
      if (s->signer_common_name != event.actor()) {
        audit->problems.push_back(absl::StrCat("the officer's signature is by \"",
                                               s->signer_common_name, "\", event ",
                                               event.sequence(), " names \"", event.actor(),
                                               "\""));
      }
    }
  }
}

void CheckSignatures(const signing::VerificationReport& report, DocumentAudit* audit) {
  if (report.signatures.empty()) audit->problems.push_back("the document holds no signature");
  for (const auto& s : report.signatures) {
    if (s.indication != signing::Indication::kTotalPassed) {
      audit->problems.push_back(absl::StrCat("signature ", s.field_name, " by \"",
                                             s.signer_common_name, "\": ",
                                             signing::IndicationName(s.indication), " - ",
                                             s.reason));
    }
    if (s.modified_after_signing) {
      audit->problems.push_back(absl::StrCat("signature ", s.field_name,
                                             ": the document was changed after signing (",
                                             absl::StrJoin(s.later_changes, "; "), ")"));
    }
  }
}

}  // namespace

bool DossierAudit::Passed() const {
  if (!history.intact() || !problems.empty()) return false;
  for (const DocumentAudit& d : documents) {
    if (!d.problems.empty()) return false;
  }
  return true;
}

absl::StatusOr<DossierAudit> AuditDossier(const DossierEvidence& evidence,
                                          const signing::DocumentVerifier& verifier,
                                          bool check_revocation) {
  DossierAudit audit;
  audit.history = CheckChain(evidence);

  absl::flat_hash_map<std::string, const v1::HistoryEvent*> producers;
  for (const v1::HistoryEvent& event : evidence.history) {
    if (event.document_id().empty()) continue;
    if (!producers.emplace(event.document_id(), &event).second) {
      audit.problems.push_back(absl::StrCat("events name document ", event.document_id(),
                                            " more than once"));
    }
  }
  absl::flat_hash_map<std::string, bool> listed;
  for (const v1::Document& doc : evidence.dossier.documents()) listed[doc.id()] = true;
  for (const auto& [id, event] : producers) {
    if (!listed.contains(id)) {
      audit.problems.push_back(absl::StrCat("event ", event->sequence(), " records document ", id,
                                            ", which the dossier does not list"));
    }
  }

  for (const v1::Document& doc : evidence.dossier.documents()) {
    DocumentAudit& d = audit.documents.emplace_back();
    d.document_id = doc.id();
    d.kind = doc.kind();
    if (doc.pending()) {
      d.problems.push_back("still being issued after its step: verify again shortly");
      continue;
    }
    auto producer = producers.find(doc.id());
    const v1::HistoryEvent* event = producer == producers.end() ? nullptr : producer->second;
    if (event == nullptr) {
      d.recorded_sha256 = doc.sha256();
      d.problems.push_back("no history event records this document");
    } else {
      d.event_sequence = event->sequence();
      d.actor = event->actor();
      d.recorded_sha256 = event->document_sha256();
      if (doc.sha256() != event->document_sha256()) {
        d.problems.push_back(absl::StrCat("the dossier lists SHA-256 ", doc.sha256(), ", event ",
                                          event->sequence(), " records ",
                                          event->document_sha256()));
      }
    }
    auto bytes = evidence.documents.find(doc.id());
    if (bytes == evidence.documents.end()) {
      d.problems.push_back("the document itself is missing");
      continue;
    }
    d.actual_sha256 = Sha256Hex(bytes->second);
    if (d.actual_sha256 != d.recorded_sha256) {
      d.problems.push_back(absl::StrCat("its SHA-256 is ", d.actual_sha256, ", the history records ",
                                        d.recorded_sha256));
    }
    absl::StatusOr<signing::VerificationReport> report =
        verifier.Verify(bytes->second, check_revocation);
    if (absl::IsResourceExhausted(report.status())) return report.status();
    if (!report.ok()) {
      d.problems.push_back(std::string(report.status().message()));
      continue;
    }
    CheckSignatures(*report, &d);
    if (event != nullptr) CheckSigners(*event, doc, *report, &d);
    d.verification = *std::move(report);
  }
  return audit;
}

}  // namespace motcua::workflow
