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

// Who signed, against what the events that signed the document and the
// dossier record: the certificates in the file are those the last event
// lists, each event's list extends the one before, and each officer's
// signature is by the officer its event names.
void CheckSigners(const std::vector<const v1::HistoryEvent*>& events, const v1::Document& listed,
                  const signing::VerificationReport& report, DocumentAudit* audit) {
  const std::vector<const signing::SignatureReport*> signatures = Signatures(report);
  std::vector<std::string> found;
  for (const auto* s : signatures) found.push_back(s->signer_sha256);
  const v1::HistoryEvent& last = *events.back();
  const std::vector<std::string> recorded(last.signer_certificate_sha256().begin(),
                                          last.signer_certificate_sha256().end());
  if (found != recorded) {
    audit->problems.push_back(absl::StrCat(
        "signed by certificates [", absl::StrJoin(found, ", "), "], event ", last.sequence(),
        " records [", absl::StrJoin(recorded, ", "), "]"));
    return;
  }
  // Which event added each signer.
  std::vector<const v1::HistoryEvent*> added_by;
  for (const v1::HistoryEvent* event : events) {
    const auto& list = event->signer_certificate_sha256();
    for (int i = 0; i < list.size(); ++i) {
      if (i < static_cast<int>(added_by.size())) {
        if (list[i] != recorded[i]) {
          audit->problems.push_back(absl::StrCat(
              "event ", event->sequence(), " records other earlier signers than the document has"));
          return;
        }
      } else {
        added_by.push_back(event);
      }
    }
  }
  for (int i = 0; i < listed.signers_size(); ++i) {
    SignerAudit& signer = audit->signers.emplace_back();
    signer.signer = listed.signers(i);
    if (i >= static_cast<int>(added_by.size())) continue;
    signer.event_sequence = added_by[i]->sequence();
    signer.actor = added_by[i]->actor();
    if (signer.signer.signer() != v1::SIGNER_ACTOR) continue;
    for (const auto* s : signatures) {
      if (s->signer_sha256 != signer.signer.certificate_sha256()) continue;
      if (s->signer_common_name != signer.actor) {
        audit->problems.push_back(absl::StrCat("the officer's signature is by \"",
                                               s->signer_common_name, "\", event ",
                                               signer.event_sequence, " names \"", signer.actor,
                                               "\""));
      }
    }
  }
}

// Each earlier event that signed the document recorded a prefix of the
// bytes held: the file as it was after that step.
void CheckEarlierSteps(const std::vector<const v1::HistoryEvent*>& events,
                       absl::string_view bytes, DocumentAudit* audit) {
  int64_t size = 0;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    const v1::HistoryEvent& event = *events[i];
    const int64_t end = event.document().size_bytes();
    if (end <= size || end > static_cast<int64_t>(bytes.size()) ||
        Sha256Hex(bytes.substr(0, static_cast<size_t>(end))) != event.document_sha256()) {
      audit->problems.push_back(absl::StrCat(
          "the document does not begin with what event ", event.sequence(),
          " signed (its first ", end, " bytes should have SHA-256 ", event.document_sha256(),
          "): it was changed after that step"));
    }
    size = end;
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

  // The events that produced or signed each document, in order.
  absl::flat_hash_map<std::string, std::vector<const v1::HistoryEvent*>> signers_of;
  for (const v1::HistoryEvent& event : evidence.history) {
    if (!event.document_id().empty()) signers_of[event.document_id()].push_back(&event);
  }
  absl::flat_hash_map<std::string, bool> listed;
  for (const v1::Document& doc : evidence.dossier.documents()) listed[doc.id()] = true;
  for (const auto& [id, events] : signers_of) {
    if (!listed.contains(id)) {
      audit.problems.push_back(absl::StrCat("event ", events.front()->sequence(),
                                            " records document ", id,
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
    auto found = signers_of.find(doc.id());
    const std::vector<const v1::HistoryEvent*> events =
        found == signers_of.end() ? std::vector<const v1::HistoryEvent*>{} : found->second;
    const v1::HistoryEvent* event = events.empty() ? nullptr : events.back();
    if (event == nullptr) {
      d.recorded_sha256 = doc.sha256();
      d.problems.push_back("no history event records this document");
    } else {
      d.event_sequence = events.front()->sequence();
      d.actor = events.front()->actor();
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
    if (event != nullptr) {
      CheckEarlierSteps(events, bytes->second, &d);
      CheckSigners(events, doc, *report, &d);
    }
    d.verification = *std::move(report);
  }
  return audit;
}

}  // namespace motcua::workflow
