#ifndef MOTCUA_SIGNING_PAGE_WRITER_H_
#define MOTCUA_SIGNING_PAGE_WRITER_H_

// Draws pages of a new PDF (1.7, classic cross-reference table) with
// Vietnamese text in embedded DejaVu Serif subsets. Internal to signing/:
// the document templates draw through it.
//
// Lines, boxes and text are written as content operators (text with our own
// subset fonts, font_subset.h) in a second content stream of each page;
// images and QR codes go through the PoDoFo painter, in the first. Text must be valid UTF-8 the
// faces can show (the caller checks, see CheckDrawable). PoDoFo errors propagate as PdfError. Not
// thread-safe; one per document.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "podofo/podofo.h"
#include "signing/font_subset.h"

namespace motcua::signing {

enum class Style { kRegular = 0, kBold = 1, kItalic = 2, kBoldItalic = 3 };

struct Rgb {
  double r = 0, g = 0, b = 0;
};

class PageWriter {
 public:
  // FAILED_PRECONDITION when a font is not installed.
  static absl::StatusOr<std::unique_ptr<PageWriter>> Create(absl::string_view title, double width,
                                                            double height);
  PageWriter(const PageWriter&) = delete;
  PageWriter& operator=(const PageWriter&) = delete;
  ~PageWriter();

  double width() const { return width_; }
  double height() const { return height_; }
  int page_index() const { return static_cast<int>(pages_.size()) - 1; }
  PoDoFo::PdfPainter& painter() { return painter_; }
  PoDoFo::PdfMemDocument& document() { return document_; }

  // Ends the current page; drawing continues on a new one.
  void NewPage();

  double Width(absl::string_view text, Style style, double size) const;
  void Draw(double x, double y, absl::string_view text, Style style, double size, const Rgb& color);
  void Line(double x1, double y1, double x2, double y2, double stroke);
  void Rectangle(double x, double y, double width, double height, double stroke, const Rgb& color);

  // The whole file.
  std::string Finish();

 private:
  struct Page {
    std::string graphics;  // content operators for its lines and boxes
    std::string text;      // and for its text, in drawing order
  };
  PageWriter(std::vector<const TrueTypeFace*> faces, double width, double height);
  void StartPage();

  PoDoFo::PdfMemDocument document_;
  PoDoFo::PdfPainter painter_;
  std::vector<SubsetFont> fonts_;  // indexed by Style
  std::vector<Page> pages_;
  double width_ = 0;
  double height_ = 0;
};

// OK when every character of UTF-8 `text` can be drawn in every style: no
// control characters or line breaks, none the faces lack. INVALID_ARGUMENT
// naming `what` otherwise.
absl::Status CheckDrawable(absl::string_view what, absl::string_view text);

// Appends `code_point` to `out` as UTF-8.
void AppendUtf8(char32_t code_point, std::string* out);

// Vietnamese upper case of UTF-8 `text` (headings and titles are upper case
// by convention while names are given as written).
std::string VietnameseUpper(absl::string_view text);

}  // namespace motcua::signing

#endif  // MOTCUA_SIGNING_PAGE_WRITER_H_
