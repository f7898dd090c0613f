#include "adapters/verify_report.h"

#include <string>
#include <vector>

#include "adapters/utf8.h"
#include "proto/proto_time.h"

namespace motcua::adapters {
namespace {

// proto3 strings must be UTF-8, or the client cannot parse the response:
// every text taken from a document goes through RepairUtf8.
template <typename Repeated>
void AddAll(const std::vector<std::string>& from, Repeated* to) {
  for (const std::string& s : from) to->Add(RepairUtf8(s));
}

using Sv = v1::SignatureVerification;

Sv::Indication ToProto(signing::Indication indication) {
  switch (indication) {
    case signing::Indication::kTotalPassed: return Sv::INDICATION_TOTAL_PASSED;
    case signing::Indication::kIndeterminate: return Sv::INDICATION_INDETERMINATE;
    case signing::Indication::kTotalFailed: return Sv::INDICATION_TOTAL_FAILED;
  }
  return Sv::INDICATION_UNSPECIFIED;
}

Sv::SubIndication ToProto(signing::SubIndication sub) {
  using S = signing::SubIndication;
  switch (sub) {
    case S::kNone: return Sv::SUB_INDICATION_UNSPECIFIED;
    case S::kFormatFailure: return Sv::SUB_INDICATION_FORMAT_FAILURE;
    case S::kHashFailure: return Sv::SUB_INDICATION_HASH_FAILURE;
    case S::kSigCryptoFailure: return Sv::SUB_INDICATION_SIG_CRYPTO_FAILURE;
    case S::kRevoked: return Sv::SUB_INDICATION_REVOKED;
    case S::kExpired: return Sv::SUB_INDICATION_EXPIRED;
    case S::kNotYetValid: return Sv::SUB_INDICATION_NOT_YET_VALID;
    case S::kNoSigningCertificateFound: return Sv::SUB_INDICATION_NO_SIGNING_CERTIFICATE_FOUND;
    case S::kNoCertificateChainFound: return Sv::SUB_INDICATION_NO_CERTIFICATE_CHAIN_FOUND;
    case S::kCertificateChainGeneralFailure:
      return Sv::SUB_INDICATION_CERTIFICATE_CHAIN_GENERAL_FAILURE;
    case S::kOutOfBoundsNoPoe: return Sv::SUB_INDICATION_OUT_OF_BOUNDS_NO_POE;
    case S::kTryLater: return Sv::SUB_INDICATION_TRY_LATER;
    case S::kSignedDataNotFound: return Sv::SUB_INDICATION_SIGNED_DATA_NOT_FOUND;
  }
  return Sv::SUB_INDICATION_UNSPECIFIED;
}

Sv::Revocation ToProto(signing::RevocationStatus status) {
  switch (status) {
    case signing::RevocationStatus::kNotChecked: return Sv::REVOCATION_NOT_CHECKED;
    case signing::RevocationStatus::kGood: return Sv::REVOCATION_GOOD;
    case signing::RevocationStatus::kRevoked: return Sv::REVOCATION_REVOKED;
    case signing::RevocationStatus::kUnknown: return Sv::REVOCATION_UNKNOWN;
  }
  return Sv::REVOCATION_UNSPECIFIED;
}

void ToProto(const signing::SignatureReport& s, v1::SignatureVerification* out) {
  out->set_field_name(RepairUtf8(s.field_name));
  out->set_type(s.type == "DocTimeStamp" ? v1::SignatureVerification::TYPE_DOCUMENT_TIMESTAMP
                                         : v1::SignatureVerification::TYPE_SIGNATURE);
  out->set_sub_filter(RepairUtf8(s.sub_filter));
  out->set_revision(s.revision);
  out->set_indication(ToProto(s.indication));
  out->set_sub_indication(ToProto(s.sub_indication));
  out->set_reason(RepairUtf8(s.reason));
  out->set_signer_subject(RepairUtf8(s.signer_subject));
  out->set_signer_common_name(RepairUtf8(s.signer_common_name));
  out->set_signer_certificate_sha256(s.signer_sha256);
  out->set_claimed_signing_time(RepairUtf8(s.claimed_signing_time));
  if (s.claimed_signing_time_parsed) {
    *out->mutable_claimed_signing_time_parsed() = ::motcua::ToProto(*s.claimed_signing_time_parsed);
  }
  v1::SignatureTimestamp* timestamp = out->mutable_timestamp();
  timestamp->set_present(s.timestamp.present);
  timestamp->set_valid(s.timestamp.valid);
  if (s.timestamp.gen_time) *timestamp->mutable_gen_time() = ::motcua::ToProto(*s.timestamp.gen_time);
  timestamp->set_tsa_subject(RepairUtf8(s.timestamp.tsa_subject));
  timestamp->set_problem(RepairUtf8(s.timestamp.problem));
  AddAll(s.chain, out->mutable_chain());
  v1::SignedRange* coverage = out->mutable_coverage();
  coverage->set_well_formed(s.coverage.well_formed);
  coverage->set_revision(s.coverage.revision);
  coverage->set_covers_whole_document(s.coverage.covers_whole_document);
  coverage->set_signed_bytes(s.coverage.signed_bytes);
  coverage->set_problem(RepairUtf8(s.coverage.problem));
  out->set_revocation(ToProto(s.revocation));
  out->set_revocation_detail(RepairUtf8(s.revocation_detail));
  out->set_modified_after_signing(s.modified_after_signing);
  AddAll(s.later_changes, out->mutable_later_changes());
  AddAll(s.warnings, out->mutable_warnings());
}

}  // namespace

v1::VerifyDocumentResponse ToProto(const signing::VerificationReport& report) {
  v1::VerifyDocumentResponse out;
  out.set_all_passed(report.AllPassed());
  out.set_file_size(static_cast<int64_t>(report.file_size));
  *out.mutable_validation_time() = ::motcua::ToProto(report.validation_time);
  for (const signing::SignatureReport& s : report.signatures) ToProto(s, out.add_signatures());
  for (const signing::RevisionReport& r : report.revisions) {
    v1::RevisionChanges* revision = out.add_revisions();
    revision->set_revision(r.revision);
    revision->set_end(static_cast<int64_t>(r.end));
    for (const signing::PdfObjectChange& c : r.changes) {
      v1::ObjectChange* change = revision->add_changes();
      change->set_object_number(c.object_number);
      change->set_generation(c.generation);
      change->set_flagged(c.flagged);
      change->set_description(RepairUtf8(c.description));
    }
  }
  AddAll(report.notes, out.mutable_notes());
  return out;
}

v1::VerifyDossierResponse ToProto(const workflow::DossierAudit& audit) {
  v1::VerifyDossierResponse out;
  out.set_all_passed(audit.Passed());
  *out.mutable_history() = audit.history;
  for (const workflow::DocumentAudit& d : audit.documents) {
    v1::DocumentAudit* doc = out.add_documents();
    doc->set_document_id(d.document_id);
    doc->set_kind(d.kind);
    doc->set_event_sequence(d.event_sequence);
    doc->set_actor(RepairUtf8(d.actor));
    doc->set_recorded_sha256(d.recorded_sha256);
    doc->set_actual_sha256(d.actual_sha256);
    if (d.verification) *doc->mutable_verification() = ToProto(*d.verification);
    AddAll(d.problems, doc->mutable_problems());
    for (const workflow::SignerAudit& s : d.signers) {
      v1::SignerAudit* signer = doc->add_signers();
      *signer->mutable_signer() = s.signer;
      signer->set_event_sequence(s.event_sequence);
      signer->set_actor(RepairUtf8(s.actor));
    }
  }
  AddAll(audit.problems, out.mutable_problems());
  return out;
}

std::string IndicationText(const v1::SignatureVerification& s) {
  std::string text = Sv::Indication_Name(s.indication()).substr(sizeof("INDICATION_") - 1);
  if (s.sub_indication() != Sv::SUB_INDICATION_UNSPECIFIED) {
    text += "/" + Sv::SubIndication_Name(s.sub_indication()).substr(sizeof("SUB_INDICATION_") - 1);
  }
  return text;
}

}  // namespace motcua::adapters
