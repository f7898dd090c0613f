#ifndef MOTCUA_SIGNING_DOCUMENTS_H_
#define MOTCUA_SIGNING_DOCUMENTS_H_

// The documents a dossier produces, rendered as unsigned A4 PDFs (PDF 1.7,
// classic cross-reference table, Vietnamese text in embedded DejaVu Serif
// subsets so `pdftotext` gives back the words drawn).
//
// Contents are plain structs: signing/ knows nothing of procedures. Text
// fields are UTF-8 shown as given (single lines, no control characters);
// an empty required field, invalid UTF-8, a character the font cannot show,
// or content that does not fit on its page is INVALID_ARGUMENT naming the
// field. PoDoFo failures are
// INTERNAL; a missing font is FAILED_PRECONDITION. The renderers are
// thread-safe.
//
// Reference (mã tra cứu). Every document carries, as text and as a QR code,
//   motcua:v1/<dossier_code>/<document_id>/<h>
// where <h> is the first 16 lowercase hex digits of the SHA-256 of
// CanonicalContent(content), so an auditor who holds the content can
// recompute it with DocumentReference() and compare. CanonicalContent is
// UTF-8 text: a first line "motcua-document:v1 <kind>\n" (kind: receipt,
// register-copy, diploma), then one line "name=value\n" per field in the
// order the struct declares them (nested DiplomaRecord fields inline where
// the record is declared), with name as in the struct; list fields give one
// line per element (none when empty); optional fields give "name=\n" when
// empty; integers in decimal; dates as YYYY-MM-DD.
//
// Signature slots: each result names rectangles left blank for the visible
// signature, per Decree 30/2020 Annex I. The renderer draws the title (e.g.
// "GIÁM ĐỐC") just above the "signer" slot; the signer's appearance draws
// in the slot the signature image and, at its bottom, the signer's name.
// The "seal" slot is a square of the slot's height over the left third of
// the "signer" slot, for the organisation seal. Nothing else is drawn in
// either slot.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace motcua::signing {

// A rectangle left blank on a rendered page for a visible signature.
struct SignatureSlot {
  std::string role;  // "signer" (the officer) or "seal" (the organisation)
  int page = 0;      // 0-based page index
  double x = 0;      // PDF points, origin at the page's bottom-left corner
  double y = 0;
  double width = 0;
  double height = 0;
  std::string title;  // drawn above the signer slot, e.g. "GIÁM ĐỐC"
};

struct RenderedDocument {
  std::string pdf;                   // the PDF file's bytes
  std::string reference;             // also the QR code's text; see the header comment
  std::vector<SignatureSlot> slots;  // "signer" first, then "seal"
};

// Giấy tiếp nhận hồ sơ và hẹn trả kết quả: the receipt of a dossier and the
// appointment for its result. Portrait A4; signed by the receiving officer.
struct DossierReceipt {
  std::string dossier_code;  // [A-Za-z0-9._-], at most 64 bytes
  std::string document_id;   // same alphabet; unique within the dossier
  std::string parent_unit;   // optional, e.g. "Ủy ban nhân dân thành phố Hà Nội"
  std::string issuing_unit;  // e.g. "Sở Giáo dục và Đào tạo Hà Nội"
  std::string procedure_name;
  std::string applicant_name;
  std::string received_at;                      // as shown, e.g. FormatVietnamTime(t)
  std::string appointment_at;                   // as shown
  std::vector<std::string> documents_received;  // at least one
  std::string receiving_officer;
};

// A diploma entry as kept in the register of issued diplomas (sổ gốc cấp
// văn bằng).
struct DiplomaRecord {
  std::string holder_name;     // e.g. "Nguyễn Thị Hồng Nhung"
  std::string date_of_birth;   // as shown, e.g. "05/03/2008"
  std::string place_of_birth;  // e.g. "Hà Nội"
  std::string school;          // e.g. "Trường THPT Chu Văn An"
  int graduation_year = 0;
  std::string classification;   // optional (xếp loại), e.g. "Khá"
  std::string diploma_number;   // số hiệu văn bằng
  std::string register_number;  // số vào sổ cấp bằng
};

// Bản sao bằng tốt nghiệp từ sổ gốc: a copy of a diploma issued from the
// register, certified by the unit that keeps it. Portrait A4.
struct RegisterCopy {
  std::string dossier_code;
  std::string document_id;
  std::string parent_unit;   // optional
  std::string issuing_unit;  // the unit keeping the register
  std::string diploma_name;  // e.g. "Bằng tốt nghiệp trung học phổ thông"
  DiplomaRecord record;
  std::string signer_title;  // as written, e.g. "Giám đốc"; shown upper-case
  std::string place;         // e.g. "Hà Nội"
  absl::CivilDay issued_on;  // date of the copy
};

// Bằng tốt nghiệp trung học phổ thông, digital original. Landscape A4.
struct Diploma {
  std::string dossier_code;
  std::string document_id;
  std::string issuing_unit;  // e.g. "Sở Giáo dục và Đào tạo Hà Nội"
  DiplomaRecord record;
  std::string signer_title;  // e.g. "Giám đốc"
  std::string place;
  absl::CivilDay issued_on;
};

absl::StatusOr<RenderedDocument> RenderReceipt(const DossierReceipt& content);
absl::StatusOr<RenderedDocument> RenderRegisterCopy(const RegisterCopy& content);
absl::StatusOr<RenderedDocument> RenderDiploma(const Diploma& content);

// The text hashed into the reference (see the header comment).
std::string CanonicalContent(const DossierReceipt& content);
std::string CanonicalContent(const RegisterCopy& content);
std::string CanonicalContent(const Diploma& content);

// "motcua:v1/<dossier_code>/<document_id>/<16 hex digits>", the reference a
// renderer prints for the same content.
std::string DocumentReference(const DossierReceipt& content);
std::string DocumentReference(const RegisterCopy& content);
std::string DocumentReference(const Diploma& content);

// `time` in Vietnam time (UTC+07:00, no daylight saving) as
// "dd/mm/yyyy hh:mm".
std::string FormatVietnamTime(absl::Time time);

}  // namespace motcua::signing

#endif  // MOTCUA_SIGNING_DOCUMENTS_H_
