#ifndef MOTCUA_SIGNING_DOCUMENTS_H_
#define MOTCUA_SIGNING_DOCUMENTS_H_

// The documents a dossier produces, rendered from templates
// (motcua/v1/template.proto) and data as unsigned PDFs (PDF 1.7, classic
// cross-reference table, Vietnamese text in embedded DejaVu Serif subsets so
// `pdftotext` gives back the words drawn).
//
// signing/ knows nothing of procedures: a template names fields, the caller
// says which exist (FieldCatalog) and gives their values (DocumentData).
//
// Reference (mã tra cứu). Every document carries, as text and as a QR code,
//   motcua:v1/<dossier.code>/<document.id>/<h>
// where <h> is the first 16 lowercase hex digits of the SHA-256 of
// CanonicalContent(), so an auditor who holds the data can recompute it.
// The canonical content is UTF-8 text: a first line
// "motcua-document:v1 <kind>\n"; then "name=value\n" for dossier.code,
// document.id and every other field the template binds, sorted by name,
// values as given (before filters); then, for each list the template
// iterates, sorted by name, and each element i (from 1), one line
// "list[i].field=value\n" per element field it binds, sorted by field.

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "motcua/v1/template.pb.h"

namespace motcua::signing {

// The values a document shows. Fields missing here show as empty.
struct DocumentData {
  using Element = std::map<std::string, std::string, std::less<>>;
  Element fields;                                                  // e.g. "form.school"
  std::map<std::string, std::vector<Element>, std::less<>> lists;  // e.g. "attachments"
};

// The fields and lists a caller can supply, to check templates against.
struct FieldCatalog {
  std::set<std::string> fields;
  std::map<std::string, std::set<std::string>> lists;  // list -> element fields
};

// A rectangle left blank on a rendered page for a visible signature.
struct SignatureSlot {
  std::string id;  // the template's slot id, e.g. "head"
  v1::Signer signer = v1::SIGNER_UNSPECIFIED;
  int page = 0;  // 0-based page index
  double x = 0;  // PDF points, origin at the page's bottom-left corner
  double y = 0;
  double width = 0;
  double height = 0;
  std::string title;  // drawn above the slot, e.g. "GIÁM ĐỐC"
  std::string over;   // a seal's: the id of the slot it covers a third of
};

struct RenderedDocument {
  std::string pdf;                   // the PDF file's bytes
  std::string reference;             // also the QR code's text; see the header comment
  std::vector<SignatureSlot> slots;  // in the template's order
};

// A checked template, ready to render. Immutable and thread-safe.
class DocumentLayout {
 public:
  // INVALID_ARGUMENT naming the template's kind and the block when the
  // template is malformed (no kind, a table with no columns, a slot or text
  // outside the page, a seal over a slot that does not exist...), binds a
  // field or list `catalog` lacks, holds text the font cannot draw, or does
  // not fit its pages when rendered with sample data for every field.
  static absl::StatusOr<std::shared_ptr<const DocumentLayout>> Compile(
      const v1::DocumentTemplate& document_template, const FieldCatalog& catalog);

  const v1::DocumentTemplate& document_template() const { return template_; }
  // Every field the template binds, lists as "list" and elements as
  // "list.field".
  const std::set<std::string>& bound_fields() const { return bound_; }

  // The document for `data`. INVALID_ARGUMENT naming the field when
  // dossier.code or document.id is not a code ([A-Za-z0-9._-], 1..64
  // bytes), or a value is not UTF-8 the font can draw on one line; text too
  // long for its place wraps or continues on a new page instead.
  // FAILED_PRECONDITION when a font is not installed; INTERNAL when PoDoFo
  // fails.
  absl::StatusOr<RenderedDocument> Render(const DocumentData& data) const;

  // The slots' boxes on `page` (0-based; appearance.h's kLastPage for the
  // last), without titles: where a later step signs a document rendered
  // earlier, whose slots sit on its last page.
  std::vector<SignatureSlot> Slots(int page) const;

  // The text hashed into the reference (see the header comment).
  std::string CanonicalContent(const DocumentData& data) const;
  std::string Reference(const DocumentData& data) const;

  struct Compiled;  // the parsed texts and resolved geometry (documents.cc)
  ~DocumentLayout();

 private:
  DocumentLayout(v1::DocumentTemplate document_template, std::unique_ptr<const Compiled> compiled,
                 std::set<std::string> bound);

  const v1::DocumentTemplate template_;
  std::unique_ptr<const Compiled> compiled_;
  const std::set<std::string> bound_;
};

// `time` in Vietnam time (UTC+07:00, no daylight saving) as
// "dd/mm/yyyy hh:mm".
std::string FormatVietnamTime(absl::Time time);

// "ngày 05 tháng 11 năm 2026": Decree 30/2020 writes days below 10 and the
// months 1 and 2 with a leading zero.
std::string LongVietnameseDate(absl::CivilDay day);

}  // namespace motcua::signing

#endif  // MOTCUA_SIGNING_DOCUMENTS_H_
