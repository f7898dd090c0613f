#ifndef MOTCUA_SIGNING_PDF_REVISIONS_H_
#define MOTCUA_SIGNING_PDF_REVISIONS_H_

// The incremental-update structure of a PDF, as a verifier needs it: where
// each revision ends, which signature dictionaries each revision brought, what
// every later revision changed, and the validation data in the last /DSS.
// Internal to signing/; the verifier is its client.
//
// ParsePdfRevisions is a pure function of its input bytes. It never throws,
// never reads outside `pdf`, and bounds its work by ParseLimits, so it may be
// fed hostile files (and a fuzzer).
//
// Revisions are found by scanning for "startxref <n> %%EOF", not by following
// /Prev: some writers (PoDoFo on xref-stream files) omit /Prev. Objects are
// compared between consecutive revisions by value, because such writers also
// re-emit unchanged objects; an object both revisions parse from the same
// bytes (one an update did not redefine) is equal without being compared.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace motcua::signing {

struct ParseLimits {
  // Files above this size are refused (INVALID_ARGUMENT).
  size_t max_file_bytes = 256u << 20;
  // Only the last this-many revisions are examined; earlier ones are merged
  // into the first examined one (a note says so).
  int max_revisions = 32;
  // Decoded size cap of one /DSS stream (certificate, CRL, OCSP response).
  size_t max_dss_stream_bytes = 4u << 20;
  // Cap on /DSS entries per kind.
  int max_dss_entries = 256;
  // Signatures reported; each costs a hash over (up to) the whole file.
  int max_signatures = 100;
};

// One revision: the original file or one incremental update. Revision i is
// the prefix pdf[0, end).
struct PdfRevisionInfo {
  size_t end = 0;        // just past "%%EOF" and its end-of-line marker
  size_t startxref = 0;  // the value written after "startxref"
};

// A signature dictionary (/Type /Sig or /DocTimeStamp) as the last revision
// holds it.
struct PdfSignatureInfo {
  int object_number = 0;
  int generation = 0;
  std::string type;                 // "Sig" or "DocTimeStamp"
  std::string field_name;           // /T of the signature field whose /V it is
  std::string sub_filter;           // e.g. "ETSI.CAdES.detached"
  std::vector<int64_t> byte_range;  // as written; validity is the verifier's call
  std::string contents;             // /Contents as bytes (DER, usually zero-padded)
  std::string signing_time;         // /M, as written ("D:20260101120000+07'00'")
  std::string name;                 // /Name
  std::string reason;               // /Reason
  std::string location;             // /Location
  // Index of the first revision from which every revision holds this value
  // as a signature.
  int revision = -1;
};

// One object a revision added, changed or removed relative to the previous one.
// Allowed (not flagged): new signature dictionaries, document timestamps,
// signature fields and widgets; a page gaining signature widgets in /Annots;
// the AcroForm gaining signature fields (/Fields, /SigFlags, /DR, /DA); the
// catalog changing only /AcroForm, /DSS, /Metadata, /Extensions; /Info; XMP
// metadata; /DSS content; an empty signature field getting its value; any new
// object that is not an annotation or page (appearance streams, fonts, ...).
// Flagged: everything else, notably changed content streams, pages, fonts or
// other resources, new non-signature annotations, changed signature
// dictionaries and removed objects.
struct PdfObjectChange {
  int object_number = 0;
  int generation = 0;
  bool flagged = false;     // true: may change what the signed document shows
  std::string description;  // e.g. "content stream of page 1 changed"
};

struct PdfRevisionChanges {
  int revision = 0;  // changes of revisions[revision] relative to revision - 1
  std::vector<PdfObjectChange> changes;
  bool HasFlagged() const;
};

struct PdfStructure {
  std::vector<PdfRevisionInfo> revisions;
  size_t file_size = 0;
  std::vector<PdfSignatureInfo> signatures;  // in object-number order
  std::vector<PdfRevisionChanges> changes;   // one per revision after the first
  // DER blobs from the last revision's /DSS (/Certs, /CRLs, /OCSPs).
  std::vector<std::string> dss_certificates;
  std::vector<std::string> dss_crls;
  std::vector<std::string> dss_ocsp_responses;
  size_t trailing_bytes = 0;       // non-blank bytes after the last revision (unsigned, unread)
  std::vector<std::string> notes;  // things a reader of the report should know
};

// Parses `pdf`. INVALID_ARGUMENT when it is not a readable, unencrypted PDF
// (no "%%EOF" revision loads, too large, encrypted), with the reason.
absl::StatusOr<PdfStructure> ParsePdfRevisions(absl::string_view pdf,
                                               const ParseLimits& limits = {});

}  // namespace motcua::signing

#endif  // MOTCUA_SIGNING_PDF_REVISIONS_H_
