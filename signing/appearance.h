#ifndef MOTCUA_SIGNING_APPEARANCE_H_
#define MOTCUA_SIGNING_APPEARANCE_H_

// Visible signature appearances per Decree 30/2020 Annex I (Nghị định
// 30/2020, Phụ lục I):
// - an officer's signature: the personal signature image (blue) below the
//   title the document already prints, with the signer's name below it;
// - the organisation's seal (con dấu, red) over about the left third of the
//   officer's signature image, as its own signature widget;
// - on attachments, the organisation's signature as text at the top right of
//   page 1: organisation, optional number and symbol, signing time.
// Text is Unicode in an embedded DejaVu subset, so `pdftotext` reads it back.

#include <memory>
#include <string>
#include <variant>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace PoDoFo {
class PdfMemDocument;
class PdfXObject;
}  // namespace PoDoFo

namespace motcua::signing {

// A rectangle in PDF points, origin at the page's lower-left corner.
struct PdfBox {
  double x = 0;
  double y = 0;
  double width = 0;
  double height = 0;
};

// A page index meaning the document's last page, whatever its length.
inline constexpr int kLastPage = -1;

// An officer's signature (chữ ký cá nhân) in `box` on `page` (0-based, or
// kLastPage): the image scaled to fit above a band for the name, centred.
struct OfficerAppearance {
  int page = 0;
  PdfBox box;
  std::string signature_png;  // PNG bytes, e.g. images/<officer>-signature.png
  std::string signer_name;    // UTF-8, drawn centred below the image
};

// The organisation's seal image in `box` on `page` (as above); SealBoxFor gives the box
// that overlaps an officer's signature as Annex I shows.
struct SealAppearance {
  int page = 0;
  PdfBox box;
  std::string seal_png;  // PNG bytes, e.g. images/<unit>-seal.png
};

// The organisation's signature on an attachment, at the top right of page 1.
struct AttachmentAppearance {
  std::string organisation;       // UTF-8, e.g. "Sở Giáo dục và Đào tạo Hà Nội"
  std::string number_and_symbol;  // optional, e.g. "Số: 12/QĐ-SGDĐT"
};

using Appearance = std::variant<OfficerAppearance, SealAppearance, AttachmentAppearance>;

// Where the seal goes for `officer`: a square as tall as the drawn signature
// image, vertically centred on it, covering its left third. INVALID_ARGUMENT
// when the signature image is not a PNG.
absl::StatusOr<PdfBox> SealBoxFor(const OfficerAppearance& officer);

// "dd/mm/yyyy hh:mm:ss +07:00" in Vietnam time, as Annex I prints it.
std::string VietnamDisplayTime(absl::Time time);

// --- Internal to signing/ ---------------------------------------------------

// An appearance stream drawn into `document`, and where its widget goes.
// Users include podofo/podofo.h (the XObject type must be complete).
struct PlacedAppearance {
  int page = 0;
  PdfBox rect;
  std::unique_ptr<PoDoFo::PdfXObject> xobject;  // the object itself belongs to the document
};

// Draws `appearance` as a form XObject in `document` (loaded for update).
// INVALID_ARGUMENT for a page that does not exist, an empty box or a bad
// PNG; FAILED_PRECONDITION when the font is missing.
absl::StatusOr<PlacedAppearance> DrawAppearance(PoDoFo::PdfMemDocument& document,
                                                const Appearance& appearance,
                                                absl::Time signing_time);

}  // namespace motcua::signing

#endif  // MOTCUA_SIGNING_APPEARANCE_H_
