#ifndef MOTCUA_WORKFLOW_DOSSIER_AUDIT_H_
#define MOTCUA_WORKFLOW_DOSSIER_AUDIT_H_

// The auditor's check of one whole dossier: its history chain is intact,
// every signed document it holds is the one its last event records (same
// SHA-256) and begins with what each earlier event that signed it recorded
// (a document signed over several steps grows by incremental updates),
// every signature in it verifies, and the signatures are those of the
// certificates the events record, each officer's made by the officer the
// event that added it names. The same check runs on the server (AuditService.VerifyDossier)
// and offline on an export (`motcua verify-dossier --from DIR`): it needs
// only the evidence, not the store.

#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "motcua/v1/dossier.pb.h"
#include "motcua/v1/service.pb.h"
#include "signing/document_verifier.h"
#include "signing/verifier.h"

namespace motcua::workflow {

struct DossierEvidence {
  v1::Dossier dossier;
  // In sequence order, each with the hash it was served with.
  std::vector<v1::HistoryEvent> history;
  // PDF bytes by document id; a document the dossier lists may be missing.
  absl::flat_hash_map<std::string, std::string> documents;
};

// One signer of a document, against the history event that added it.
struct SignerAudit {
  v1::DocumentSigner signer;   // as the dossier lists it
  int64_t event_sequence = 0;  // 0 when no event records it
  std::string actor;           // who that event names
};

struct DocumentAudit {
  std::string document_id;
  std::string kind;
  int64_t event_sequence = 0;  // the event that produced it; 0 when none does
  std::string actor;           // who that event names
  std::vector<SignerAudit> signers;  // in signing order
  std::string recorded_sha256;
  std::string actual_sha256;   // empty when the bytes are missing
  // Absent when the bytes are missing or do not parse as a PDF.
  std::optional<signing::VerificationReport> verification;
  // One sentence each; empty when the document passes.
  std::vector<std::string> problems;
};

struct DossierAudit {
  v1::VerifyDossierHistoryResponse history;
  std::vector<DocumentAudit> documents;  // in the dossier's order
  // Problems not tied to one document (e.g. an event naming a document the
  // dossier does not list).
  std::vector<std::string> problems;

  bool Passed() const;
};

// Judges `evidence` against `verifier`'s trust anchors. Mismatches are
// reported in the audit, not as errors; RESOURCE_EXHAUSTED only when the
// verifier is busy (retry later).
absl::StatusOr<DossierAudit> AuditDossier(const DossierEvidence& evidence,
                                          const signing::DocumentVerifier& verifier,
                                          bool check_revocation);

}  // namespace motcua::workflow

#endif  // MOTCUA_WORKFLOW_DOSSIER_AUDIT_H_
