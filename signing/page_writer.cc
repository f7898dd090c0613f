#include "signing/page_writer.h"

#include <algorithm>
#include <array>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "signing/pdf_fonts.h"
#include "signing/pdf_stream.h"

namespace motcua::signing {
namespace {

constexpr FontFace kFaces[] = {FontFace::kSerif, FontFace::kSerifBold, FontFace::kSerifItalic,
                               FontFace::kSerifBoldItalic};
constexpr const char* kFontNames[] = {"F1", "F2", "F3", "F4"};

}  // namespace

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

namespace {

// Upper case for the letters Vietnamese uses (Basic Latin, Latin-1, the
// Latin Extended-A/B letters ă đ ĩ ũ ơ ư and the U+1EA0 block); other
// characters pass through.
char32_t UpperLetter(char32_t c) {
  if (c >= 'a' && c <= 'z') return c - 0x20;
  if (c >= 0xE0 && c <= 0xFE && c != 0xF7) return c - 0x20;
  if (((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) && (c % 2 == 1)) return c - 1;
  if (c == 0x1A1 || c == 0x1B0) return c - 1;
  if (c >= 0x1EA0 && c <= 0x1EF9 && (c % 2 == 1)) return c - 1;
  return c;
}

}  // namespace

std::string VietnameseUpper(absl::string_view text) {
  std::u32string code_points;
  if (!DecodeUtf8(text, &code_points)) return std::string(text);
  std::string out;
  out.reserve(text.size());
  for (char32_t c : code_points) AppendUtf8(UpperLetter(c), &out);
  return out;
}

absl::Status CheckDrawable(absl::string_view what, absl::string_view text) {
  std::u32string code_points;
  if (!DecodeUtf8(text, &code_points)) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not valid UTF-8"));
  }
  // Looked up once: the faces live as long as the process.
  static const absl::StatusOr<std::array<const TrueTypeFace*, 4>>* const kLoaded = [] {
    std::array<const TrueTypeFace*, 4> loaded{};
    for (int i = 0; i < 4; ++i) {
      absl::StatusOr<const TrueTypeFace*> face = TrueTypeFace::Get(kFaces[i]);
      if (!face.ok()) return new absl::StatusOr<std::array<const TrueTypeFace*, 4>>(face.status());
      loaded[i] = *face;
    }
    return new absl::StatusOr<std::array<const TrueTypeFace*, 4>>(loaded);
  }();
  if (!kLoaded->ok()) return kLoaded->status();
  const std::array<const TrueTypeFace*, 4>& faces = **kLoaded;
  // Printable ASCII is in every face.
  if (std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7F; })) {
    return absl::OkStatus();
  }
  for (char32_t c : code_points) {
    if (c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == 0x2028 || c == 0x2029) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " holds a control character or line break"));
    }
    // A character a face lacks would print as an empty box while pdftotext
    // still read it back.
    for (const TrueTypeFace* face : faces) {
      if (face->GlyphFor(c) == 0) {
        return absl::InvalidArgumentError(
            absl::StrFormat("%s holds U+%04X, which the document font cannot show", what,
                            static_cast<uint32_t>(c)));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<PageWriter>> PageWriter::Create(absl::string_view title,
                                                               double width, double height) {
  QuietPodofo();
  std::vector<const TrueTypeFace*> faces;
  for (FontFace face : kFaces) {
    absl::StatusOr<const TrueTypeFace*> loaded = TrueTypeFace::Get(face);
    if (!loaded.ok()) return loaded.status();
    faces.push_back(*loaded);
  }
  std::unique_ptr<PageWriter> writer(new PageWriter(std::move(faces), width, height));
  writer->document_.SetPdfVersion(PoDoFo::ePdfVersion_1_7);
  writer->document_.GetInfo()->SetTitle(Utf8(title));
  writer->document_.GetInfo()->SetCreator(PoDoFo::PdfString("motcua"));
  writer->StartPage();
  return writer;
}

PageWriter::PageWriter(std::vector<const TrueTypeFace*> faces, double width, double height)
    : width_(width), height_(height) {
  for (const TrueTypeFace* face : faces) fonts_.emplace_back(*face);
}

PageWriter::~PageWriter() {
  // PdfPainter's destructor complains if a page was left unfinished.
  if (painter_.GetPage() != nullptr) painter_.FinishPage();
}

void PageWriter::StartPage() {
  painter_.SetPage(document_.CreatePage(PoDoFo::PdfRect(0, 0, width_, height_)));
  pages_.emplace_back();
}

void PageWriter::NewPage() {
  painter_.FinishPage();
  StartPage();
}

double PageWriter::Width(absl::string_view text, Style style, double size) const {
  return fonts_[static_cast<int>(style)].face().Width(text, size);
}

void PageWriter::Draw(double x, double y, absl::string_view text, Style style, double size,
                      const Rgb& color) {
  const int font = static_cast<int>(style);
  absl::StrAppendFormat(&pages_.back().text,
                        "BT %.3f %.3f %.3f rg /%s %.2f Tf %.2f %.2f Td %s Tj ET\n", color.r,
                        color.g, color.b, kFontNames[font], size, x, y, fonts_[font].Encode(text));
}

// Lines and boxes are content operators of our own, like text: PoDoFo's
// painter formats each through an ostringstream, which a table of a few
// hundred cells turns into milliseconds.
void PageWriter::Line(double x1, double y1, double x2, double y2, double stroke) {
  absl::StrAppendFormat(&pages_.back().graphics, "%.2f w %.2f %.2f m %.2f %.2f l S\n", stroke, x1,
                        y1, x2, y2);
}

void PageWriter::Rectangle(double x, double y, double width, double height, double stroke,
                           const Rgb& color) {
  absl::StrAppendFormat(&pages_.back().graphics,
                        "q %.3f %.3f %.3f RG %.2f w %.2f %.2f %.2f %.2f re S Q\n", color.r, color.g,
                        color.b, stroke, x, y, width, height);
}

std::string PageWriter::Finish() {
  painter_.FinishPage();
  // Each face used is embedded once and named on every page.
  PoDoFo::PdfDictionary fonts;
  for (size_t i = 0; i < fonts_.size(); ++i) {
    if (fonts_[i].used()) fonts.AddKey(kFontNames[i], fonts_[i].Embed(document_)->Reference());
  }
  for (size_t i = 0; i < pages_.size(); ++i) {
    // PoDoFo's page cache may replace the objects CreatePage returned.
    PoDoFo::PdfPage* pdf_page = document_.GetPage(static_cast<int>(i));
    PoDoFo::PdfDictionary& resources = pdf_page->GetResources()->GetDictionary();
    if (!resources.HasKey("Font")) resources.AddKey("Font", PoDoFo::PdfDictionary());
    PoDoFo::PdfDictionary& page_fonts = resources.GetKey("Font")->GetDictionary();
    for (const auto& [name, reference] : fonts.GetKeys()) page_fonts.AddKey(name, *reference);
    // Text goes in a second content stream after the painter's.
    PoDoFo::PdfObject* text = document_.GetObjects().CreateObject();
    SetDeflatedStream(
        *text, absl::StrCat("q\n0 G\n", pages_[i].graphics, "Q\nq\n", pages_[i].text, "Q\n"));
    PoDoFo::PdfArray contents;
    contents.push_back(pdf_page->GetContents()->Reference());
    contents.push_back(text->Reference());
    pdf_page->GetObject()->GetDictionary().AddKey("Contents", contents);
  }
  PoDoFo::PdfRefCountedBuffer buffer(64 * 1024);
  PoDoFo::PdfOutputDevice device(&buffer);
  document_.Write(&device);
  return std::string(buffer.GetBuffer(), device.GetLength());
}

}  // namespace motcua::signing
