#include "signing/pdf_fonts.h"

#include <unistd.h>

#include <mutex>

#include "absl/strings/str_cat.h"

namespace motcua::signing {
namespace {

constexpr char kFontDir[] = "/usr/share/fonts/truetype/dejavu/";

struct FaceInfo {
  const char* family;
  const char* file;
  bool bold;
  bool italic;
};

FaceInfo Info(FontFace face) {
  switch (face) {
    case FontFace::kSans:
      return {"DejaVu Sans", "DejaVuSans.ttf", false, false};
    case FontFace::kSansBold:
      return {"DejaVu Sans", "DejaVuSans-Bold.ttf", true, false};
    case FontFace::kSerif:
      return {"DejaVu Serif", "DejaVuSerif.ttf", false, false};
    case FontFace::kSerifBold:
      return {"DejaVu Serif", "DejaVuSerif-Bold.ttf", true, false};
    case FontFace::kSerifItalic:
      return {"DejaVu Serif", "DejaVuSerif-Italic.ttf", false, true};
    case FontFace::kSerifBoldItalic:
      return {"DejaVu Serif", "DejaVuSerif-BoldItalic.ttf", true, true};
  }
  return {"DejaVu Sans", "DejaVuSans.ttf", false, false};
}

}  // namespace

std::string FontFile(FontFace face) { return absl::StrCat(kFontDir, Info(face).file); }

absl::Status MissingFontError(FontFace face) {
  return absl::FailedPreconditionError(
      absl::StrCat("font ", FontFile(face), " is missing: install the Debian package ",
                   Info(face).italic ? "fonts-dejavu-extra" : "fonts-dejavu-core"));
}

absl::StatusOr<PoDoFo::PdfFont*> VietnameseFont(PoDoFo::PdfDocument& document, FontFace face) {
  const FaceInfo info = Info(face);
  const std::string path = FontFile(face);
  if (access(path.c_str(), R_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("font ", path, " is missing: install the Debian package fonts-dejavu-core"));
  }
  try {
    // PoDoFo's font cache returns the same subset font on later calls with
    // the same family, style and encoding.
    PoDoFo::PdfFont* font = document.CreateFontSubset(
        info.family, info.bold, info.italic, /*bSymbolCharset=*/false,
        PoDoFo::PdfEncodingFactory::GlobalIdentityEncodingInstance(), path.c_str());
    if (font == nullptr) {
      return absl::InternalError(absl::StrCat("PoDoFo could not load the font ", path));
    }
    return font;
  } catch (const PoDoFo::PdfError& e) {
    return absl::InternalError(absl::StrCat("PoDoFo could not load the font ", path, ": ",
                                            PoDoFo::PdfError::ErrorMessage(e.GetError())));
  }
}

PoDoFo::PdfString Utf8(absl::string_view text) {
  return PoDoFo::PdfString(reinterpret_cast<const PoDoFo::pdf_utf8*>(text.data()),
                           static_cast<PoDoFo::pdf_long>(text.size()));
}

void LeaveInfoAlone(PoDoFo::PdfMemDocument& document) {
  PoDoFo::PdfInfo* info = document.GetInfo();
  if (info == nullptr || info->GetObject() == nullptr || !info->GetObject()->IsDictionary()) {
    return;
  }
  // Not written, the stamp stays in memory only: the file keeps its Info.
  info->GetObject()->GetDictionary().SetDirty(false);
}

void QuietPodofo() {
  static std::once_flag once;
  std::call_once(once, [] {
    PoDoFo::PdfError::EnableDebug(false);
    PoDoFo::PdfError::EnableLogging(false);
  });
}

}  // namespace motcua::signing
