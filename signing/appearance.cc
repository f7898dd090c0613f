#include "signing/appearance.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "podofo/podofo.h"
#include "signing/pdf_fonts.h"

namespace motcua::signing {
namespace {

// Height of the band under the signature image that holds the name.
constexpr double kNameBand = 16;
constexpr double kNameFontSize = 10;
constexpr double kStampWidth = 230;
constexpr double kStampMargin = 24;
constexpr double kStampFontSize = 8;
constexpr double kStampLine = 11;

struct PngSize {
  uint32_t width;
  uint32_t height;
};

// The pixel size from the IHDR chunk, which a PNG must start with.
absl::StatusOr<PngSize> ReadPngSize(const std::string& png) {
  static constexpr char kMagic[] = "\x89PNG\r\n\x1a\n";
  if (png.size() < 24 || png.compare(0, 8, kMagic, 8) != 0 || png.compare(12, 4, "IHDR") != 0) {
    return absl::InvalidArgumentError("the appearance image is not a PNG");
  }
  auto be32 = [&](size_t at) {
    return (uint32_t{static_cast<uint8_t>(png[at])} << 24) |
           (uint32_t{static_cast<uint8_t>(png[at + 1])} << 16) |
           (uint32_t{static_cast<uint8_t>(png[at + 2])} << 8) |
           uint32_t{static_cast<uint8_t>(png[at + 3])};
  };
  PngSize size{be32(16), be32(20)};
  if (size.width == 0 || size.height == 0) {
    return absl::InvalidArgumentError("the appearance image is empty");
  }
  return size;
}

// Where the signature image sits inside the officer's box, relative to the
// box: scaled to fit above the name band, centred.
absl::StatusOr<PdfBox> SignatureImageBox(const OfficerAppearance& officer) {
  absl::StatusOr<PngSize> size = ReadPngSize(officer.signature_png);
  if (!size.ok()) return size.status();
  const double area_w = officer.box.width;
  const double area_h = officer.box.height - kNameBand;
  if (area_w <= 0 || area_h <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the officer's signature box must be wider than 0 and taller than ", kNameBand, " points"));
  }
  const double scale = std::min(area_w / size->width, area_h / size->height);
  PdfBox box;
  box.width = size->width * scale;
  box.height = size->height * scale;
  box.x = (area_w - box.width) / 2;
  box.y = kNameBand + (area_h - box.height) / 2;
  return box;
}

absl::Status CheckBox(const PdfBox& box) {
  if (box.width <= 0 || box.height <= 0) {
    return absl::InvalidArgumentError("an appearance box needs a positive width and height");
  }
  return absl::OkStatus();
}

absl::StatusOr<PoDoFo::PdfPage*> PageAt(PoDoFo::PdfMemDocument& document, int index) {
  if (index < 0 || index >= document.GetPageCount()) {
    return absl::InvalidArgumentError(absl::StrCat("page ", index + 1, " does not exist; the ",
                                                   "document has ", document.GetPageCount()));
  }
  return document.GetPage(index);
}

// Draws `png` scaled into `box` (XObject coordinates).
void DrawPng(PoDoFo::PdfMemDocument& document, PoDoFo::PdfPainter& painter, const std::string& png,
             const PngSize& size, const PdfBox& box) {
  PoDoFo::PdfImage image(&document);
  image.LoadFromPngData(reinterpret_cast<const unsigned char*>(png.data()),
                        static_cast<PoDoFo::pdf_long>(png.size()));
  painter.DrawImage(box.x, box.y, &image, box.width / size.width, box.height / size.height);
}

absl::StatusOr<PlacedAppearance> NewCanvas(PoDoFo::PdfMemDocument& document, int page,
                                           const PdfBox& box) {
  PlacedAppearance placed;
  placed.page = page;
  placed.rect = box;
  placed.xobject =
      std::make_unique<PoDoFo::PdfXObject>(PoDoFo::PdfRect(0, 0, box.width, box.height), &document);
  return placed;
}

absl::StatusOr<PlacedAppearance> Draw(PoDoFo::PdfMemDocument& document,
                                      const OfficerAppearance& officer, absl::Time) {
  absl::StatusOr<PoDoFo::PdfPage*> page = PageAt(document, officer.page);
  if (!page.ok()) return page.status();
  absl::StatusOr<PdfBox> image_box = SignatureImageBox(officer);
  if (!image_box.ok()) return image_box.status();
  absl::StatusOr<PoDoFo::PdfFont*> font = VietnameseFont(document, FontFace::kSansBold);
  if (!font.ok()) return font.status();
  absl::StatusOr<PlacedAppearance> placed = NewCanvas(document, officer.page, officer.box);
  if (!placed.ok()) return placed.status();

  PoDoFo::PdfPainter painter;
  painter.SetPage(placed->xobject.get());
  painter.Save();
  DrawPng(document, painter, officer.signature_png, *ReadPngSize(officer.signature_png),
          *image_box);
  (*font)->SetFontSize(kNameFontSize);
  painter.SetFont(*font);
  painter.SetColor(0, 0, 0);
  painter.DrawTextAligned(0, kNameBand - kNameFontSize, officer.box.width,
                          Utf8(officer.signer_name), PoDoFo::ePdfAlignment_Center);
  painter.Restore();
  painter.FinishPage();
  return placed;
}

absl::StatusOr<PlacedAppearance> Draw(PoDoFo::PdfMemDocument& document, const SealAppearance& seal,
                                      absl::Time) {
  absl::StatusOr<PoDoFo::PdfPage*> page = PageAt(document, seal.page);
  if (!page.ok()) return page.status();
  if (absl::Status s = CheckBox(seal.box); !s.ok()) return s;
  absl::StatusOr<PngSize> size = ReadPngSize(seal.seal_png);
  if (!size.ok()) return size.status();
  absl::StatusOr<PlacedAppearance> placed = NewCanvas(document, seal.page, seal.box);
  if (!placed.ok()) return placed.status();

  PoDoFo::PdfPainter painter;
  painter.SetPage(placed->xobject.get());
  painter.Save();
  DrawPng(document, painter, seal.seal_png, *size, {0, 0, seal.box.width, seal.box.height});
  painter.Restore();
  painter.FinishPage();
  return placed;
}

absl::StatusOr<PlacedAppearance> Draw(PoDoFo::PdfMemDocument& document,
                                      const AttachmentAppearance& stamp, absl::Time time) {
  absl::StatusOr<PoDoFo::PdfPage*> page = PageAt(document, 0);
  if (!page.ok()) return page.status();
  absl::StatusOr<PoDoFo::PdfFont*> bold = VietnameseFont(document, FontFace::kSansBold);
  if (!bold.ok()) return bold.status();
  absl::StatusOr<PoDoFo::PdfFont*> regular = VietnameseFont(document, FontFace::kSans);
  if (!regular.ok()) return regular.status();

  std::vector<std::pair<PoDoFo::PdfFont*, std::string>> lines = {{*bold, stamp.organisation}};
  if (!stamp.number_and_symbol.empty()) lines.push_back({*regular, stamp.number_and_symbol});
  lines.push_back({*regular, "Thời gian ký: " + VietnamDisplayTime(time)});

  const PoDoFo::PdfRect media = (*page)->GetMediaBox();
  PdfBox box;
  box.width = kStampWidth;
  box.height = kStampLine * lines.size() + 8;
  box.x = media.GetLeft() + media.GetWidth() - kStampMargin - box.width;
  box.y = media.GetBottom() + media.GetHeight() - kStampMargin - box.height;
  absl::StatusOr<PlacedAppearance> placed = NewCanvas(document, 0, box);
  if (!placed.ok()) return placed.status();

  PoDoFo::PdfPainter painter;
  painter.SetPage(placed->xobject.get());
  painter.Save();
  painter.SetStrokingColor(0.8, 0.05, 0.1);
  painter.SetStrokeWidth(0.8);
  painter.Rectangle(0.5, 0.5, box.width - 1, box.height - 1);
  painter.Stroke();
  painter.SetColor(0.8, 0.05, 0.1);
  double y = box.height - 4 - kStampLine + 2;
  for (const auto& [font, text] : lines) {
    font->SetFontSize(kStampFontSize);
    painter.SetFont(font);
    painter.DrawText(5, y, Utf8(text));
    y -= kStampLine;
  }
  painter.Restore();
  painter.FinishPage();
  return placed;
}

}  // namespace

absl::StatusOr<PdfBox> SealBoxFor(const OfficerAppearance& officer) {
  absl::StatusOr<PdfBox> image = SignatureImageBox(officer);
  if (!image.ok()) return image.status();
  const double side = image->height;
  PdfBox seal;
  seal.width = side;
  seal.height = side;
  seal.x = officer.box.x + image->x + image->width / 3 - side;
  seal.y = officer.box.y + image->y;
  return seal;
}

std::string VietnamDisplayTime(absl::Time time) {
  return absl::FormatTime("%d/%m/%Y %H:%M:%S +07:00", time, absl::FixedTimeZone(7 * 3600));
}

absl::StatusOr<PlacedAppearance> DrawAppearance(PoDoFo::PdfMemDocument& document,
                                                const Appearance& appearance,
                                                absl::Time signing_time) {
  QuietPodofo();
  try {
    return std::visit([&](const auto& a) { return Draw(document, a, signing_time); }, appearance);
  } catch (const PoDoFo::PdfError& e) {
    return absl::InvalidArgumentError(absl::StrCat("PoDoFo could not draw the appearance: ",
                                                   PoDoFo::PdfError::ErrorMessage(e.GetError())));
  }
}

}  // namespace motcua::signing
