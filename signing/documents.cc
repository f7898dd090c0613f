#include "signing/documents.h"

#include <openssl/evp.h>

#include <algorithm>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "podofo/podofo.h"
#include "signing/font_subset.h"
#include "signing/pdf_fonts.h"
#include "signing/pdf_stream.h"
#include "signing/qr_code.h"

namespace motcua::signing {
namespace {

constexpr char kMotto[] = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM";
constexpr char kMottoLine2[] = "Độc lập - Tự do - Hạnh phúc";
constexpr size_t kMaxFieldBytes = 400;
constexpr size_t kMaxCodeBytes = 64;
constexpr int kReferenceHexDigits = 16;

// ---- Text ------------------------------------------------------------------

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

// Upper case for the letters Vietnamese uses (Basic Latin, Latin-1, the
// Latin Extended-A/B letters ă đ ĩ ũ ơ ư and the U+1EA0 block). Headings are
// upper case by convention (Decree 30/2020) while callers give names as
// written; other characters pass through.
char32_t VietnameseUpper(char32_t c) {
  if (c >= 'a' && c <= 'z') return c - 0x20;
  if (c >= 0xE0 && c <= 0xFE && c != 0xF7) return c - 0x20;
  if (((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) && (c % 2 == 1)) return c - 1;
  if (c == 0x1A1 || c == 0x1B0) return c - 1;
  if (c >= 0x1EA0 && c <= 0x1EF9 && (c % 2 == 1)) return c - 1;
  return c;
}

std::string Upper(absl::string_view text) {
  std::u32string code_points;
  if (!DecodeUtf8(text, &code_points)) return std::string(text);  // checked before
  std::string out;
  for (char32_t c : code_points) AppendUtf8(VietnameseUpper(c), &out);
  return out;
}

bool IsBlank(absl::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c == ' '; });
}

// A single line of UTF-8 text; `required` ones must not be empty or blank.
absl::Status CheckText(absl::string_view field, absl::string_view value, bool required = true) {
  if (required && IsBlank(value)) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is empty"));
  }
  if (value.size() > kMaxFieldBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is longer than ", kMaxFieldBytes, " bytes"));
  }
  std::u32string code_points;
  if (!DecodeUtf8(value, &code_points)) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is not valid UTF-8"));
  }
  // A character the faces lack would print as an empty box while
  // pdftotext still read it back: refuse it. (If a face cannot be loaded,
  // rendering reports that.)
  absl::StatusOr<const TrueTypeFace*> regular = TrueTypeFace::Get(FontFace::kSerif);
  absl::StatusOr<const TrueTypeFace*> bold = TrueTypeFace::Get(FontFace::kSerifBold);
  for (char32_t c : code_points) {
    if (c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == 0x2028 || c == 0x2029) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, " holds a control character or line break"));
    }
    if ((regular.ok() && (*regular)->GlyphFor(c) == 0) ||
        (bold.ok() && (*bold)->GlyphFor(c) == 0)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s holds U+%04X, which the document font cannot show", field, static_cast<uint32_t>(c)));
    }
  }
  return absl::OkStatus();
}

// Codes go into the reference unescaped, so they keep to a URL-safe alphabet.
absl::Status CheckCode(absl::string_view field, absl::string_view value) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(field, " is empty"));
  if (value.size() > kMaxCodeBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is longer than ", kMaxCodeBytes, " bytes"));
  }
  for (char c : value) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return absl::InvalidArgumentError(
          absl::StrCat(field, " may hold only letters A-Z a-z, digits, '-', '_' and '.'"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckDay(absl::string_view field, absl::CivilDay day) {
  if (day.year() < 1900 || day.year() > 9999) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is not a day in the years 1900..9999"));
  }
  return absl::OkStatus();
}

absl::Status FirstError(std::initializer_list<absl::Status> checks) {
  for (const absl::Status& status : checks) {
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status CheckRecord(const DiplomaRecord& r) {
  absl::Status year_ok = absl::OkStatus();
  if (r.graduation_year < 1900 || r.graduation_year > 9999) {
    year_ok = absl::InvalidArgumentError("record.graduation_year is not in 1900..9999");
  }
  return FirstError({CheckText("record.holder_name", r.holder_name),
                     CheckText("record.date_of_birth", r.date_of_birth),
                     CheckText("record.place_of_birth", r.place_of_birth),
                     CheckText("record.school", r.school), year_ok,
                     CheckText("record.classification", r.classification, false),
                     CheckText("record.diploma_number", r.diploma_number),
                     CheckText("record.register_number", r.register_number)});
}

absl::Status Check(const DossierReceipt& c) {
  absl::Status status = FirstError(
      {CheckCode("dossier_code", c.dossier_code), CheckCode("document_id", c.document_id),
       CheckText("parent_unit", c.parent_unit, false), CheckText("issuing_unit", c.issuing_unit),
       CheckText("procedure_name", c.procedure_name), CheckText("applicant_name", c.applicant_name),
       CheckText("received_at", c.received_at), CheckText("appointment_at", c.appointment_at)});
  if (!status.ok()) return status;
  if (c.documents_received.empty()) {
    return absl::InvalidArgumentError("documents_received is empty");
  }
  for (size_t i = 0; i < c.documents_received.size(); ++i) {
    status = CheckText(absl::StrCat("documents_received[", i, "]"), c.documents_received[i]);
    if (!status.ok()) return status;
  }
  return CheckText("receiving_officer", c.receiving_officer);
}

absl::Status Check(const RegisterCopy& c) {
  return FirstError(
      {CheckCode("dossier_code", c.dossier_code), CheckCode("document_id", c.document_id),
       CheckText("parent_unit", c.parent_unit, false), CheckText("issuing_unit", c.issuing_unit),
       CheckText("diploma_name", c.diploma_name), CheckRecord(c.record),
       CheckText("signer_title", c.signer_title), CheckText("place", c.place),
       CheckDay("issued_on", c.issued_on)});
}

absl::Status Check(const Diploma& c) {
  return FirstError({CheckCode("dossier_code", c.dossier_code),
                     CheckCode("document_id", c.document_id),
                     CheckText("issuing_unit", c.issuing_unit), CheckRecord(c.record),
                     CheckText("signer_title", c.signer_title), CheckText("place", c.place),
                     CheckDay("issued_on", c.issued_on)});
}

// ---- Canonical content and reference ------------------------------------

class Canonical {
 public:
  explicit Canonical(absl::string_view kind)
      : text_(absl::StrCat("motcua-document:v1 ", kind, "\n")) {}
  Canonical& Add(absl::string_view name, absl::string_view value) {
    absl::StrAppend(&text_, name, "=", value, "\n");
    return *this;
  }
  Canonical& Add(absl::string_view name, int value) { return Add(name, absl::StrCat(value)); }
  Canonical& Add(absl::string_view name, absl::CivilDay day) {
    return Add(name, absl::StrFormat("%04d-%02d-%02d", day.year(), day.month(), day.day()));
  }
  Canonical& Add(const DiplomaRecord& r) {
    return Add("holder_name", r.holder_name)
        .Add("date_of_birth", r.date_of_birth)
        .Add("place_of_birth", r.place_of_birth)
        .Add("school", r.school)
        .Add("graduation_year", r.graduation_year)
        .Add("classification", r.classification)
        .Add("diploma_number", r.diploma_number)
        .Add("register_number", r.register_number);
  }
  std::string Take() { return std::move(text_); }

 private:
  std::string text_;
};

std::string Reference(absl::string_view dossier_code, absl::string_view document_id,
                      const std::string& canonical) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(canonical.data(), canonical.size(), digest, &length, EVP_sha256(), nullptr);
  const std::string hex =
      absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), length));
  return absl::StrCat("motcua:v1/", dossier_code, "/", document_id, "/",
                      hex.substr(0, kReferenceHexDigits));
}

// "Hà Nội, ngày 05 tháng 11 năm 2026": Decree 30/2020 writes days below 10
// and the months 1 and 2 with a leading zero.
std::string PlaceAndDate(absl::string_view place, absl::CivilDay day) {
  const std::string month =
      day.month() <= 2 ? absl::StrFormat("%02d", day.month()) : absl::StrCat(day.month());
  return absl::StrFormat("%s, ngày %02d tháng %s năm %d", place, day.day(), month, day.year());
}

// ---- Page layout ----------------------------------------------------------

enum class Style { kRegular, kBold };

constexpr double kMinFontSize = 7.0;

// One page being drawn. Graphics go through a PoDoFo painter; text is
// written as content operators with our own subset fonts (font_subset.h),
// appended after the painter's content when the page is finished.
class Sheet {
 public:
  Sheet(const Sheet&) = delete;
  Sheet& operator=(const Sheet&) = delete;
  ~Sheet() {
    // PdfPainter's destructor complains if a page was left unfinished.
    if (painter_.GetPage() != nullptr) painter_.FinishPage();
  }

  static absl::StatusOr<std::unique_ptr<Sheet>> Create(absl::string_view title, bool landscape) {
    QuietPodofo();
    absl::StatusOr<const TrueTypeFace*> regular = TrueTypeFace::Get(FontFace::kSerif);
    if (!regular.ok()) return regular.status();
    absl::StatusOr<const TrueTypeFace*> bold = TrueTypeFace::Get(FontFace::kSerifBold);
    if (!bold.ok()) return bold.status();
    std::unique_ptr<Sheet> sheet(new Sheet(**regular, **bold));
    sheet->document_.SetPdfVersion(PoDoFo::ePdfVersion_1_7);
    sheet->document_.GetInfo()->SetTitle(Utf8(title));
    sheet->document_.GetInfo()->SetCreator(PoDoFo::PdfString("motcua"));
    const PoDoFo::PdfRect size =
        PoDoFo::PdfPage::CreateStandardPageSize(PoDoFo::ePdfPageSize_A4, landscape);
    sheet->width_ = size.GetWidth();
    sheet->height_ = size.GetHeight();
    sheet->page_ = sheet->document_.CreatePage(size);
    sheet->painter_.SetPage(sheet->page_);
    return sheet;
  }

  double width() const { return width_; }
  double height() const { return height_; }
  PoDoFo::PdfPainter& painter() { return painter_; }
  PoDoFo::PdfMemDocument& document() { return document_; }

  double Width(absl::string_view text, Style style, double size) {
    return Font(style).face().Width(text, size);
  }

  // Text drawn from now on is in this colour (RGB, 0..1).
  void SetTextColor(double r, double g, double b) {
    text_color_ = absl::StrFormat("%.3f %.3f %.3f rg", r, g, b);
  }

  void Draw(double x, double y, absl::string_view text, Style style, double size) {
    absl::StrAppendFormat(&text_, "BT %s /%s %.2f Tf %.2f %.2f Td %s Tj ET\n", text_color_,
                          style == Style::kBold ? "F2" : "F1", size, x, y,
                          Font(style).Encode(text));
  }

  void DrawCentered(double center, double y, absl::string_view text, Style style, double size) {
    Draw(center - Width(text, style, size) / 2, y, text, style, size);
  }

  // The largest size up to `size` at which `text` fits in `width` on one
  // line; INVALID_ARGUMENT naming `field` when even kMinFontSize does not.
  absl::StatusOr<double> Fit(absl::string_view field, absl::string_view text, Style style,
                             double size, double width) {
    const double natural = Width(text, style, size);
    if (natural <= width) return size;
    const double fitted = size * width / natural * 0.999;
    if (fitted < kMinFontSize) {
      return absl::InvalidArgumentError(absl::StrCat(field, " is too long to fit on the page"));
    }
    return fitted;
  }

  // Greedy word wrap of `text` into lines no wider than `width`; a word
  // wider than a line is INVALID_ARGUMENT naming `field`.
  absl::StatusOr<std::vector<std::string>> Wrap(absl::string_view field, absl::string_view text,
                                                Style style, double size, double width) {
    std::vector<std::string> lines;
    std::string line;
    for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
      std::string candidate = line.empty() ? std::string(word) : absl::StrCat(line, " ", word);
      if (Width(candidate, style, size) <= width) {
        line = std::move(candidate);
        continue;
      }
      if (line.empty() || Width(word, style, size) > width) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, " has a word too long to fit on the page"));
      }
      lines.push_back(std::move(line));
      line = std::string(word);
    }
    if (!line.empty()) lines.push_back(std::move(line));
    return lines;
  }

  void Line(double x1, double y1, double x2, double y2, double stroke) {
    painter_.SetStrokeWidth(stroke);
    painter_.DrawLine(x1, y1, x2, y2);
  }

  absl::StatusOr<std::string> Finish() {
    painter_.FinishPage();
    PoDoFo::PdfDictionary& resources = page_->GetResources()->GetDictionary();
    if (!resources.HasKey("Font")) resources.AddKey("Font", PoDoFo::PdfDictionary());
    PoDoFo::PdfDictionary& fonts = resources.GetKey("Font")->GetDictionary();
    if (regular_.used()) fonts.AddKey("F1", regular_.Embed(document_)->Reference());
    if (bold_.used()) fonts.AddKey("F2", bold_.Embed(document_)->Reference());
    // Text goes in a second content stream after the painter's.
    PoDoFo::PdfObject* text = document_.GetObjects().CreateObject();
    SetDeflatedStream(*text, absl::StrCat("q\n", text_, "Q\n"));
    PoDoFo::PdfArray contents;
    contents.push_back(page_->GetContents()->Reference());
    contents.push_back(text->Reference());
    page_->GetObject()->GetDictionary().AddKey("Contents", contents);
    PoDoFo::PdfRefCountedBuffer buffer(64 * 1024);
    PoDoFo::PdfOutputDevice device(&buffer);
    document_.Write(&device);
    return std::string(buffer.GetBuffer(), device.GetLength());
  }

 private:
  Sheet(const TrueTypeFace& regular, const TrueTypeFace& bold) : regular_(regular), bold_(bold) {}

  SubsetFont& Font(Style style) { return style == Style::kBold ? bold_ : regular_; }

  PoDoFo::PdfMemDocument document_;
  PoDoFo::PdfPage* page_ = nullptr;
  PoDoFo::PdfPainter painter_;
  SubsetFont regular_;
  SubsetFont bold_;
  std::string text_;  // content operators for all text, in drawing order
  std::string text_color_ = "0 g";
  double width_ = 0;
  double height_ = 0;
};

// Portrait A4 margins (Decree 30/2020: left 30-35 mm, right 15-20 mm,
// top and bottom 20-25 mm).
constexpr double kLeft = 85.0;
constexpr double kRightMargin = 57.0;
constexpr double kTopMargin = 57.0;

// The national motto, centred on `center`, from baseline `y` down. Returns
// the baseline of the next line.
absl::StatusOr<double> DrawMotto(Sheet& sheet, double center, double y, double width) {
  absl::StatusOr<double> size = sheet.Fit("motto", kMotto, Style::kBold, 11.5, width);
  if (!size.ok()) return size.status();
  sheet.DrawCentered(center, y, kMotto, Style::kBold, *size);
  y -= *size + 5;
  const double line2 = *size + 1;
  sheet.DrawCentered(center, y, kMottoLine2, Style::kBold, line2);
  const double underline = sheet.Width(kMottoLine2, Style::kBold, line2);
  sheet.Line(center - underline / 2, y - 3, center + underline / 2, y - 3, 0.6);
  return y - line2 - 6;
}

// Draws `text` centred on `center` from baseline `y`: on one line, made
// smaller down to 85% if need be, else wrapped onto at most `max_lines`.
// Returns the next baseline.
absl::StatusOr<double> DrawCenteredLines(Sheet& sheet, absl::string_view field,
                                         absl::string_view text, Style style, double size,
                                         double center, double y, double width, size_t max_lines) {
  std::vector<std::string> lines;
  const double natural = sheet.Width(text, style, size);
  if (natural <= width / 0.85) {
    const double fitted = std::min(size, size * width / natural * 0.999);
    sheet.DrawCentered(center, y, text, style, fitted);
    return y - size - 4;
  }
  absl::StatusOr<std::vector<std::string>> wrapped = sheet.Wrap(field, text, style, size, width);
  if (!wrapped.ok()) return wrapped.status();
  if (wrapped->size() > max_lines) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is too long to fit on the page"));
  }
  for (const std::string& line : *wrapped) {
    sheet.DrawCentered(center, y, line, style, size);
    y -= size + 4;
  }
  return y;
}

// Units in upper case, centred in a column; the issuing unit bold with a
// short rule under it (Decree 30/2020 Annex I). Returns the next baseline.
absl::StatusOr<double> DrawUnits(Sheet& sheet, absl::string_view parent_unit,
                                 absl::string_view issuing_unit, double center, double y,
                                 double width) {
  constexpr double kSize = 11;
  if (!parent_unit.empty()) {
    absl::StatusOr<double> next = DrawCenteredLines(sheet, "parent_unit", Upper(parent_unit),
                                                    Style::kRegular, kSize, center, y, width, 2);
    if (!next.ok()) return next;
    y = *next;
  }
  absl::StatusOr<double> next = DrawCenteredLines(sheet, "issuing_unit", Upper(issuing_unit),
                                                  Style::kBold, kSize, center, y, width, 3);
  if (!next.ok()) return next;
  y = *next;
  sheet.Line(center - width / 6, y + kSize - 2, center + width / 6, y + kSize - 2, 0.6);
  return y - 6;
}

struct FieldStyle {
  double size;          // font size of label and value
  double leading;       // baseline to baseline
  double value_column;  // value's offset from the label, unless the label is wider
};

// Draws `label` and, after it, `value` in bold wrapped within `width`, from
// baseline `y`; fails naming `field` when a line would fall below `floor`.
// Returns the next baseline.
absl::StatusOr<double> DrawField(Sheet& sheet, absl::string_view field, double x, double y,
                                 double width, absl::string_view label, absl::string_view value,
                                 double floor, const FieldStyle& style) {
  const double offset =
      std::max(style.value_column, sheet.Width(label, Style::kRegular, style.size) + 4);
  absl::StatusOr<std::vector<std::string>> lines =
      sheet.Wrap(field, value, Style::kBold, style.size, width - offset);
  if (!lines.ok()) return lines.status();
  if (y - style.leading * (std::max<size_t>(lines->size(), 1) - 1) < floor) {
    return absl::InvalidArgumentError(absl::StrCat(field, " does not fit on the page"));
  }
  sheet.Draw(x, y, label, Style::kRegular, style.size);
  for (const std::string& line : *lines) {
    sheet.Draw(x + offset, y, line, Style::kBold, style.size);
    y -= style.leading;
  }
  return lines->empty() ? y - style.leading : y;
}

// The signature block: `title` centred over the signer slot whose top-left
// corner is (x, top), and the seal slot over its left third.
std::vector<SignatureSlot> DrawSignatureBlock(Sheet& sheet, absl::string_view title, double x,
                                              double top, double width, double height) {
  constexpr double kTitleSize = 12;
  sheet.DrawCentered(x + width / 2, top + 8, title, Style::kBold, kTitleSize);
  SignatureSlot signer{"signer", 0, x, top - height, width, height, std::string(title)};
  SignatureSlot seal{"seal", 0,      x + width / 3 - height, top - height,
                     height, height, std::string(title)};
  return {std::move(signer), std::move(seal)};
}

// The QR code with the reference, bottom-left of the page, and the
// reference as text along the bottom.
absl::Status DrawReference(Sheet& sheet, const std::string& reference, double x, double y,
                           double side, double text_x, double text_y) {
  absl::StatusOr<QrCode> code = QrCode::Encode(reference);
  if (!code.ok()) return code.status();
  DrawQrCode(*code, sheet.document(), sheet.painter(), x, y, side);
  sheet.Draw(text_x, text_y, absl::StrCat("Mã tra cứu: ", reference), Style::kRegular, 8.5);
  return absl::OkStatus();
}

template <typename Layout>
absl::StatusOr<RenderedDocument> Render(absl::Status valid, Layout layout) {
  if (!valid.ok()) return valid;
  try {
    return layout();
  } catch (const PoDoFo::PdfError& e) {
    return absl::InternalError(
        absl::StrCat("PoDoFo failed: ", PoDoFo::PdfError::ErrorMessage(e.GetError())));
  }
}

// Portrait pages: the units on the left, the motto on the right and,
// under it, the optional place and date. Returns the baseline below both.
absl::StatusOr<double> DrawPortraitHeader(Sheet& sheet, absl::string_view parent_unit,
                                          absl::string_view issuing_unit,
                                          absl::string_view place_and_date) {
  // The unit block may start left of the text margin: unit names are long.
  constexpr double kUnitsLeft = 62, kSplit = 290;
  const double right = sheet.width() - kRightMargin + 10;
  const double top = sheet.height() - kTopMargin - 11;
  constexpr double kGutter = 16;
  absl::StatusOr<double> left_end =
      DrawUnits(sheet, parent_unit, issuing_unit, (kUnitsLeft + kSplit - kGutter) / 2, top,
                kSplit - kGutter - kUnitsLeft);
  if (!left_end.ok()) return left_end;
  absl::StatusOr<double> right_end = DrawMotto(sheet, (kSplit + right) / 2, top, right - kSplit);
  if (!right_end.ok()) return right_end;
  double y = std::min(*left_end, *right_end);
  if (!place_and_date.empty()) {
    absl::StatusOr<double> size =
        sheet.Fit("place", place_and_date, Style::kRegular, 12, right - kSplit);
    if (!size.ok()) return size.status();
    sheet.DrawCentered((kSplit + right) / 2, std::min(y, *right_end - 4), place_and_date,
                       Style::kRegular, *size);
    y = std::min(y, *right_end - 4 - 12);
  }
  return y - 22;
}

// A bold title centred over the text width, wrapped to at most two lines.
absl::StatusOr<double> DrawTitle(Sheet& sheet, absl::string_view field, absl::string_view title,
                                 double y) {
  constexpr double kSize = 14;
  const double width = sheet.width() - kRightMargin - kLeft;
  absl::StatusOr<std::vector<std::string>> lines =
      sheet.Wrap(field, title, Style::kBold, kSize, width);
  if (!lines.ok()) return lines.status();
  if (lines->size() > 2) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is too long for the title"));
  }
  for (const std::string& line : *lines) {
    sheet.DrawCentered(kLeft + width / 2, y, line, Style::kBold, kSize);
    y -= kSize + 6;
  }
  return y;
}

// Portrait pages keep the lower part for the QR code and the signature.
constexpr double kPortraitBodyFloor = 320;
constexpr FieldStyle kPortraitField = {12, 18, 165};

absl::StatusOr<RenderedDocument> FinishPortrait(Sheet& sheet, const std::string& reference,
                                                absl::string_view signer_title) {
  absl::Status drawn = DrawReference(sheet, reference, kLeft, 150, 120, kLeft, 62);
  if (!drawn.ok()) return drawn;
  RenderedDocument result;
  result.slots = DrawSignatureBlock(sheet, signer_title, 330, 280, 200, 90);
  absl::StatusOr<std::string> pdf = sheet.Finish();
  if (!pdf.ok()) return pdf.status();
  result.pdf = *std::move(pdf);
  result.reference = reference;
  return result;
}

absl::StatusOr<double> DrawRecordFields(Sheet& sheet, const DiplomaRecord& r, double x, double y,
                                        double width, double floor, const FieldStyle& style) {
  struct Row {
    const char* field;
    const char* label;
    std::string value;
  };
  std::vector<Row> rows = {
      {"record.holder_name", "Họ và tên:", r.holder_name},
      {"record.date_of_birth", "Ngày sinh:", r.date_of_birth},
      {"record.place_of_birth", "Nơi sinh:", r.place_of_birth},
      {"record.school", "Học sinh trường:", r.school},
      {"record.graduation_year", "Năm tốt nghiệp:", absl::StrCat(r.graduation_year)},
  };
  if (!r.classification.empty()) {
    rows.push_back({"record.classification", "Xếp loại tốt nghiệp:", r.classification});
  }
  for (const Row& row : rows) {
    absl::StatusOr<double> next =
        DrawField(sheet, row.field, x, y, width, row.label, row.value, floor, style);
    if (!next.ok()) return next;
    y = *next;
  }
  return y;
}

}  // namespace

absl::StatusOr<RenderedDocument> RenderReceipt(const DossierReceipt& c) {
  return Render(Check(c), [&]() -> absl::StatusOr<RenderedDocument> {
    absl::StatusOr<std::unique_ptr<Sheet>> created =
        Sheet::Create("Giấy tiếp nhận hồ sơ và hẹn trả kết quả", /*landscape=*/false);
    if (!created.ok()) return created.status();
    Sheet& sheet = **created;
    absl::StatusOr<double> y = DrawPortraitHeader(sheet, c.parent_unit, c.issuing_unit, "");
    if (!y.ok()) return y.status();
    y = DrawTitle(sheet, "title", "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", *y);
    if (!y.ok()) return y.status();
    const double width = sheet.width() - kRightMargin - kLeft;
    sheet.DrawCentered(kLeft + width / 2, *y, absl::StrCat("Mã hồ sơ: ", c.dossier_code),
                       Style::kRegular, 12);
    *y -= 32;
    struct Row {
      std::string field;
      std::string label;
      std::string value;
    };
    std::vector<Row> rows = {
        {"applicant_name", "Tiếp nhận hồ sơ của:", c.applicant_name},
        {"procedure_name", "Thủ tục:", c.procedure_name},
    };
    for (size_t i = 0; i < c.documents_received.size(); ++i) {
      rows.push_back({absl::StrCat("documents_received[", i, "]"),
                      i == 0 ? "Thành phần hồ sơ:" : "",
                      absl::StrCat(i + 1, ". ", c.documents_received[i])});
    }
    rows.push_back({"received_at", "Nhận hồ sơ lúc:", c.received_at});
    rows.push_back({"appointment_at", "Hẹn trả kết quả lúc:", c.appointment_at});
    rows.push_back({"receiving_officer", "Cán bộ tiếp nhận:", c.receiving_officer});
    for (const Row& row : rows) {
      y = DrawField(sheet, row.field, kLeft, *y, width, row.label, row.value, kPortraitBodyFloor,
                    kPortraitField);
      if (!y.ok()) return y.status();
    }
    return FinishPortrait(sheet, DocumentReference(c), "NGƯỜI TIẾP NHẬN HỒ SƠ");
  });
}

absl::StatusOr<RenderedDocument> RenderRegisterCopy(const RegisterCopy& c) {
  return Render(Check(c), [&]() -> absl::StatusOr<RenderedDocument> {
    absl::StatusOr<std::unique_ptr<Sheet>> created =
        Sheet::Create(absl::StrCat("Bản sao ", c.diploma_name, " từ sổ gốc"), false);
    if (!created.ok()) return created.status();
    Sheet& sheet = **created;
    absl::StatusOr<double> y = DrawPortraitHeader(sheet, c.parent_unit, c.issuing_unit,
                                                  PlaceAndDate(c.place, c.issued_on));
    if (!y.ok()) return y.status();
    y = DrawTitle(sheet, "diploma_name",
                  absl::StrCat("BẢN SAO ", Upper(c.diploma_name), " TỪ SỔ GỐC"), *y);
    if (!y.ok()) return y.status();
    *y -= 16;
    const double width = sheet.width() - kRightMargin - kLeft;
    y = DrawRecordFields(sheet, c.record, kLeft, *y, width, kPortraitBodyFloor, kPortraitField);
    if (!y.ok()) return y.status();
    y = DrawField(sheet, "record.diploma_number", kLeft, *y, width,
                  "Số hiệu văn bằng:", c.record.diploma_number, kPortraitBodyFloor, kPortraitField);
    if (!y.ok()) return y.status();
    y = DrawField(sheet, "record.register_number", kLeft, *y, width,
                  "Số vào sổ cấp văn bằng:", c.record.register_number, kPortraitBodyFloor,
                  kPortraitField);
    if (!y.ok()) return y.status();
    *y -= 8;
    absl::StatusOr<std::vector<std::string>> note = sheet.Wrap(
        "issuing_unit",
        absl::StrCat("Bản sao này có nội dung đầy đủ, chính xác như nội dung ghi trong sổ gốc "
                     "cấp văn bằng của ",
                     c.issuing_unit, "."),
        Style::kRegular, 12, width);
    if (!note.ok()) return note.status();
    for (const std::string& line : *note) {
      if (*y < kPortraitBodyFloor) {
        return absl::InvalidArgumentError("issuing_unit does not fit on the page");
      }
      sheet.Draw(kLeft, *y, line, Style::kRegular, 12);
      *y -= 18;
    }
    return FinishPortrait(sheet, DocumentReference(c), Upper(c.signer_title));
  });
}

absl::StatusOr<RenderedDocument> RenderDiploma(const Diploma& c) {
  return Render(Check(c), [&]() -> absl::StatusOr<RenderedDocument> {
    absl::StatusOr<std::unique_ptr<Sheet>> created =
        Sheet::Create("Bằng tốt nghiệp trung học phổ thông", /*landscape=*/true);
    if (!created.ok()) return created.status();
    Sheet& sheet = **created;
    PoDoFo::PdfPainter& painter = sheet.painter();
    const double w = sheet.width(), h = sheet.height(), center = w / 2;

    painter.Save();
    painter.SetStrokingColor(0.55, 0.08, 0.08);
    painter.SetStrokeWidth(2.5);
    painter.Rectangle(22, 22, w - 44, h - 44);
    painter.Stroke();
    painter.SetStrokeWidth(0.8);
    painter.Rectangle(28, 28, w - 56, h - 56);
    painter.Stroke();
    painter.Restore();

    absl::StatusOr<double> y = DrawMotto(sheet, center, h - 47, 420);
    if (!y.ok()) return y.status();
    sheet.SetTextColor(0.65, 0.05, 0.05);
    *y -= 28;
    sheet.DrawCentered(center, *y, "BẰNG TỐT NGHIỆP", Style::kBold, 28);
    *y -= 30;
    sheet.DrawCentered(center, *y, "TRUNG HỌC PHỔ THÔNG", Style::kBold, 22);
    sheet.SetTextColor(0, 0, 0);
    *y -= 32;
    const std::string issuer = Upper(absl::StrCat(c.signer_title, " ", c.issuing_unit));
    absl::StatusOr<double> size = sheet.Fit("issuing_unit", issuer, Style::kBold, 13, 640);
    if (!size.ok()) return size.status();
    sheet.DrawCentered(center, *y, issuer, Style::kBold, *size);
    *y -= 34;

    constexpr double kFieldsLeft = 200, kFloor = 262;
    y = DrawRecordFields(sheet, c.record, kFieldsLeft, *y, w - 70 - kFieldsLeft, kFloor,
                         {12.5, 22, 150});
    if (!y.ok()) return y.status();

    // Bottom right: place and date, title, signature. Bottom left: QR code,
    // numbers and reference. Bottom centre: what this document is.
    const double slot_x = 560, slot_width = 200;
    absl::StatusOr<double> date_size = sheet.Fit("place", PlaceAndDate(c.place, c.issued_on),
                                                 Style::kRegular, 12, w - 40 - slot_x + 40);
    if (!date_size.ok()) return date_size.status();
    sheet.DrawCentered(slot_x + slot_width / 2, 244, PlaceAndDate(c.place, c.issued_on),
                       Style::kRegular, *date_size);
    RenderedDocument result;
    result.reference = DocumentReference(c);
    result.slots = DrawSignatureBlock(sheet, Upper(c.signer_title), slot_x, 218, slot_width, 96);

    constexpr double kQrX = 62, kQrY = 52, kQrSide = 110, kTextX = kQrX + kQrSide + 10;
    const double text_width = result.slots[1].x - 10 - kTextX;
    absl::StatusOr<QrCode> code = QrCode::Encode(result.reference);
    if (!code.ok()) return code.status();
    DrawQrCode(*code, sheet.document(), painter, kQrX, kQrY, kQrSide);
    const std::pair<std::string, std::string> numbers[] = {
        {"record.diploma_number", absl::StrCat("Số hiệu: ", c.record.diploma_number)},
        {"record.register_number", absl::StrCat("Số vào sổ cấp bằng: ", c.record.register_number)}};
    double line_y = kQrY + kQrSide - 20;
    for (const auto& [field, text] : numbers) {
      absl::StatusOr<double> fitted = sheet.Fit(field, text, Style::kRegular, 11, text_width);
      if (!fitted.ok()) return fitted.status();
      sheet.Draw(kTextX, line_y, text, Style::kRegular, *fitted);
      line_y -= 16;
    }
    sheet.Draw(kTextX, line_y, absl::StrCat("Mã tra cứu: ", result.reference), Style::kRegular,
               8.5);
    const std::string note = absl::StrCat("Bằng tốt nghiệp trung học phổ thông bản điện tử do ",
                                          c.signer_title, " ", c.issuing_unit, " cấp và ký số.");
    absl::StatusOr<double> note_size = sheet.Fit("issuing_unit", note, Style::kRegular, 8.5, 700);
    if (!note_size.ok()) return note_size.status();
    sheet.DrawCentered(center, 37, note, Style::kRegular, *note_size);

    absl::StatusOr<std::string> pdf = sheet.Finish();
    if (!pdf.ok()) return pdf.status();
    result.pdf = *std::move(pdf);
    return result;
  });
}

std::string FormatVietnamTime(absl::Time time) {
  return absl::FormatTime("%d/%m/%Y %H:%M", time, absl::FixedTimeZone(7 * 60 * 60));
}

std::string CanonicalContent(const DossierReceipt& c) {
  Canonical canonical("receipt");
  canonical.Add("dossier_code", c.dossier_code)
      .Add("document_id", c.document_id)
      .Add("parent_unit", c.parent_unit)
      .Add("issuing_unit", c.issuing_unit)
      .Add("procedure_name", c.procedure_name)
      .Add("applicant_name", c.applicant_name)
      .Add("received_at", c.received_at)
      .Add("appointment_at", c.appointment_at);
  for (const std::string& document : c.documents_received) {
    canonical.Add("documents_received", document);
  }
  return canonical.Add("receiving_officer", c.receiving_officer).Take();
}

std::string CanonicalContent(const RegisterCopy& c) {
  return Canonical("register-copy")
      .Add("dossier_code", c.dossier_code)
      .Add("document_id", c.document_id)
      .Add("parent_unit", c.parent_unit)
      .Add("issuing_unit", c.issuing_unit)
      .Add("diploma_name", c.diploma_name)
      .Add(c.record)
      .Add("signer_title", c.signer_title)
      .Add("place", c.place)
      .Add("issued_on", c.issued_on)
      .Take();
}

std::string CanonicalContent(const Diploma& c) {
  return Canonical("diploma")
      .Add("dossier_code", c.dossier_code)
      .Add("document_id", c.document_id)
      .Add("issuing_unit", c.issuing_unit)
      .Add(c.record)
      .Add("signer_title", c.signer_title)
      .Add("place", c.place)
      .Add("issued_on", c.issued_on)
      .Take();
}

std::string DocumentReference(const DossierReceipt& c) {
  return Reference(c.dossier_code, c.document_id, CanonicalContent(c));
}
std::string DocumentReference(const RegisterCopy& c) {
  return Reference(c.dossier_code, c.document_id, CanonicalContent(c));
}
std::string DocumentReference(const Diploma& c) {
  return Reference(c.dossier_code, c.document_id, CanonicalContent(c));
}

}  // namespace motcua::signing
