#include "adapters/verify_report.h"

#include <string>
#include <vector>

#include "proto/proto_time.h"

namespace motcua::adapters {
namespace {

// Length of the well-formed UTF-8 sequence at s[i], or 0 (RFC 3629: no
// overlongs, no surrogates, nothing above U+10FFFF).
size_t Utf8SequenceAt(const std::string& s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // bounds of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return n;
}

// proto3 strings must be UTF-8, or the client cannot parse the response.
std::string Utf8(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const size_t n = Utf8SequenceAt(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s, i, n);
      i += n;
    }
  }
  return out;
}

template <typename Repeated>
void AddAll(const std::vector<std::string>& from, Repeated* to) {
  for (const std::string& s : from) to->Add(Utf8(s));
}

void ToProto(const signing::SignatureReport& s, v1::SignatureVerification* out) {
  out->set_field_name(Utf8(s.field_name));
  out->set_type(Utf8(s.type));
  out->set_sub_filter(Utf8(s.sub_filter));
  out->set_revision(s.revision);
  out->set_indication(signing::IndicationName(s.indication));
  out->set_sub_indication(signing::SubIndicationName(s.sub_indication));
  out->set_reason(Utf8(s.reason));
  out->set_signer_subject(Utf8(s.signer_subject));
  out->set_signer_common_name(Utf8(s.signer_common_name));
  out->set_signer_certificate_sha256(s.signer_sha256);
  out->set_claimed_signing_time(Utf8(s.claimed_signing_time));
  if (s.claimed_signing_time_parsed) {
    *out->mutable_claimed_signing_time_parsed() = ::motcua::ToProto(*s.claimed_signing_time_parsed);
  }
  v1::SignatureTimestamp* timestamp = out->mutable_timestamp();
  timestamp->set_present(s.timestamp.present);
  timestamp->set_valid(s.timestamp.valid);
  if (s.timestamp.gen_time) *timestamp->mutable_gen_time() = ::motcua::ToProto(*s.timestamp.gen_time);
  timestamp->set_tsa_subject(Utf8(s.timestamp.tsa_subject));
  timestamp->set_problem(Utf8(s.timestamp.problem));
  AddAll(s.chain, out->mutable_chain());
  v1::SignedRange* coverage = out->mutable_coverage();
  coverage->set_well_formed(s.coverage.well_formed);
  coverage->set_revision(s.coverage.revision);
  coverage->set_covers_whole_document(s.coverage.covers_whole_document);
  coverage->set_signed_bytes(s.coverage.signed_bytes);
  coverage->set_problem(Utf8(s.coverage.problem));
  out->set_revocation(signing::RevocationStatusName(s.revocation));
  out->set_revocation_detail(Utf8(s.revocation_detail));
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
      change->set_description(Utf8(c.description));
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
    doc->set_actor(Utf8(d.actor));
    doc->set_recorded_sha256(d.recorded_sha256);
    doc->set_actual_sha256(d.actual_sha256);
    if (d.verification) *doc->mutable_verification() = ToProto(*d.verification);
    AddAll(d.problems, doc->mutable_problems());
  }
  AddAll(audit.problems, out.mutable_problems());
  return out;
}

}  // namespace motcua::adapters
