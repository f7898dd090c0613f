#ifndef MOTCUA_SIGNING_PDF_FONTS_H_
#define MOTCUA_SIGNING_PDF_FONTS_H_

// Fonts for Vietnamese text in PDFs we write. Internal to signing/.
//
// Every font is a subset of a DejaVu TrueType face (Debian fonts-dejavu-core)
// embedded as a CID font with Identity-H encoding and a ToUnicode map, so
// diacritics render everywhere and `pdftotext` gives back the UTF-8 we drew.
// Text is passed to PoDoFo as UTF-8: PdfString(Utf8(text)).

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "podofo/podofo.h"

namespace motcua::signing {

// Sans and Serif come with fonts-dejavu-core, the italics with
// fonts-dejavu-extra.
enum class FontFace { kSans, kSansBold, kSerif, kSerifBold, kSerifItalic, kSerifBoldItalic };

// Path of the TrueType file for `face`.
std::string FontFile(FontFace face);

// FAILED_PRECONDITION naming the missing file of `face` and its package.
absl::Status MissingFontError(FontFace face);

// A font for `face` embedded in `document` (created once per document and
// face; PoDoFo owns it). FAILED_PRECONDITION naming the missing file and the
// package when the font is not installed.
absl::StatusOr<PoDoFo::PdfFont*> VietnameseFont(PoDoFo::PdfDocument& document, FontFace face);

// A PoDoFo string holding UTF-8 text.
PoDoFo::PdfString Utf8(absl::string_view text);

// PoDoFo stamps a loaded document's Info dictionary with a new /ModDate,
// which an incremental update would then rewrite. A signature or /DSS
// update must change nothing it does not need to: call this after loading
// for update, and Info stays as it was.
void LeaveInfoAlone(PoDoFo::PdfMemDocument& document);

// Turns PoDoFo's stderr chatter off. Idempotent; call before using PoDoFo.
void QuietPodofo();

}  // namespace motcua::signing

#endif  // MOTCUA_SIGNING_PDF_FONTS_H_
