#include "signing/appearance.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "podofo/podofo.h"
#include "signing/font_subset.h"
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

// `page` as an index of an existing page (kLastPage resolved).
absl::StatusOr<int> PageIndex(PoDoFo::PdfMemDocument& document, int page) {
  const int count = document.GetPageCount();
  const int index = page == kLastPage ? count - 1 : page;
  if (index < 0 || index >= count) {
    return absl::InvalidArgumentError(
        absl::StrCat("page ", page + 1, " does not exist; the document has ", count));
  }
  return index;
}

// One image of a PNG as PoDoFo encodes it: a Flate stream and the few
// dictionary entries that describe it.
struct EncodedImage {
  unsigned width = 0;
  unsigned height = 0;
  unsigned bits = 0;
  std::string color_space;  // a name: DeviceRGB, DeviceGray
  std::string filter;       // a name: FlateDecode
  std::string data;         // the stream as stored
};

// A PNG decoded and deflated by PoDoFo: the image and its soft mask (alpha).
struct EncodedPng {
  EncodedImage image;
  std::optional<EncodedImage> mask;
};

// `object` as an EncodedImage; nothing when it has entries this file does
// not reproduce (then the caller decodes the PNG into each document).
std::optional<EncodedImage> Extract(const PoDoFo::PdfObject& object) {
  const PoDoFo::PdfDictionary& d = object.GetDictionary();
  for (const auto& entry : d.GetKeys()) {
    static const char* const kKnown[] = {"Type",   "Subtype",    "BBox",   "Width",
                                         "Height", "ColorSpace", "Filter", "BitsPerComponent",
                                         "Length", "SMask"};
    const std::string& name = entry.first.GetName();
    if (std::none_of(std::begin(kKnown), std::end(kKnown),
                     [&](const char* k) { return name == k; })) {
      return std::nullopt;
    }
  }
  const PoDoFo::PdfObject* color_space = d.GetKey("ColorSpace");
  const PoDoFo::PdfObject* filter = d.GetKey("Filter");
  if (color_space == nullptr || !color_space->IsName() || filter == nullptr || !filter->IsName() ||
      !object.HasStream()) {
    return std::nullopt;
  }
  EncodedImage image;
  image.width = static_cast<unsigned>(d.GetKey("Width")->GetNumber());
  image.height = static_cast<unsigned>(d.GetKey("Height")->GetNumber());
  image.bits = static_cast<unsigned>(d.GetKey("BitsPerComponent")->GetNumber());
  image.color_space = color_space->GetName().GetName();
  image.filter = filter->GetName().GetName();
  char* data = nullptr;
  PoDoFo::pdf_long length = 0;
  object.GetStream()->GetCopy(&data, &length);
  image.data.assign(data, static_cast<size_t>(length));
  PoDoFo::podofo_free(data);
  return image;
}

// Decodes `png` with PoDoFo in a scratch document; nothing when the result
// is not something Extract can reproduce.
std::shared_ptr<const EncodedPng> Encode(const std::string& png) {
  PoDoFo::PdfMemDocument scratch;
  PoDoFo::PdfImage decoded(&scratch);
  decoded.LoadFromPngData(reinterpret_cast<const unsigned char*>(png.data()),
                          static_cast<PoDoFo::pdf_long>(png.size()));
  auto encoded = std::make_shared<EncodedPng>();
  std::optional<EncodedImage> image = Extract(*decoded.GetObject());
  if (!image.has_value()) return nullptr;
  encoded->image = std::move(*image);
  if (const PoDoFo::PdfObject* smask = decoded.GetObject()->GetDictionary().GetKey("SMask")) {
    if (!smask->IsReference()) return nullptr;
    const PoDoFo::PdfObject* mask = scratch.GetObjects().GetObject(smask->GetReference());
    if (mask == nullptr || !(encoded->mask = Extract(*mask)).has_value()) return nullptr;
  }
  return encoded;
}

// The same few signature and seal images come back for every signature, and
// decoding and deflating them was a third of a signature's CPU time: each
// PNG is encoded once per process. Bounded: a process that sees very many
// different images starts over.
std::shared_ptr<const EncodedPng> EncodedOnce(const std::string& png) {
  static std::mutex mutex;
  static auto* cache = new std::map<std::string, std::shared_ptr<const EncodedPng>>;
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (auto it = cache->find(png); it != cache->end()) return it->second;
  }
  std::shared_ptr<const EncodedPng> encoded = Encode(png);
  std::lock_guard<std::mutex> lock(mutex);
  if (cache->size() >= 256) cache->clear();
  cache->emplace(png, encoded);
  return encoded;
}

// A new image object in `document` holding `encoded` as it is.
PoDoFo::PdfObject* AddImage(PoDoFo::PdfMemDocument& document, const EncodedImage& encoded) {
  PoDoFo::PdfImage image(&document);
  PoDoFo::PdfDictionary& d = image.GetObject()->GetDictionary();
  d.AddKey("ColorSpace", PoDoFo::PdfName(encoded.color_space));
  d.AddKey("Filter", PoDoFo::PdfName(encoded.filter));
  PoDoFo::PdfMemoryInputStream data(encoded.data.data(),
                                    static_cast<PoDoFo::pdf_long>(encoded.data.size()));
  image.SetImageDataRaw(encoded.width, encoded.height, encoded.bits, &data);
  return image.GetObject();
}

// Draws `png` scaled into `box` (XObject coordinates).
void DrawPng(PoDoFo::PdfMemDocument& document, PoDoFo::PdfPainter& painter, const std::string& png,
             const PngSize& size, const PdfBox& box) {
  std::shared_ptr<const EncodedPng> encoded = EncodedOnce(png);
  if (encoded == nullptr) {
    PoDoFo::PdfImage image(&document);
    image.LoadFromPngData(reinterpret_cast<const unsigned char*>(png.data()),
                          static_cast<PoDoFo::pdf_long>(png.size()));
    painter.DrawImage(box.x, box.y, &image, box.width / size.width, box.height / size.height);
    return;
  }
  PoDoFo::PdfImage image(AddImage(document, encoded->image));
  if (encoded->mask.has_value()) {
    image.GetObject()->GetDictionary().AddKey("SMask",
                                              AddImage(document, *encoded->mask)->Reference());
  }
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

// Text of an appearance in subsets of DejaVu Sans and Sans Bold, added to
// the XObject after what PdfPainter drew. The faces are parsed once per
// process: PoDoFo's own fonts (VietnameseFont) re-read and copy the whole
// font file for every signature, most of a signature's CPU time.
class AppearanceText {
 public:
  // FAILED_PRECONDITION when a font is not installed.
  static absl::StatusOr<AppearanceText> Create() {
    absl::StatusOr<const TrueTypeFace*> regular = TrueTypeFace::Get(FontFace::kSans);
    if (!regular.ok()) return regular.status();
    absl::StatusOr<const TrueTypeFace*> bold = TrueTypeFace::Get(FontFace::kSansBold);
    if (!bold.ok()) return bold.status();
    return AppearanceText(**regular, **bold);
  }

  double Width(absl::string_view text, bool bold, double size) const {
    return (bold ? bold_ : regular_).face().Width(text, size);
  }

  // UTF-8 `text` with its baseline starting at (x, y), in RGB colour (0..1).
  void Draw(double x, double y, absl::string_view text, bool bold, double size, double r, double g,
            double b) {
    absl::StrAppendFormat(&operators_, "BT %.3f %.3f %.3f rg /%s %.2f Tf %.2f %.2f Td %s Tj ET\n",
                          r, g, b, bold ? "MotcuaB" : "MotcuaR", size, x, y,
                          (bold ? bold_ : regular_).Encode(text));
  }

  // Appends the text to `xobject`'s stream (after PdfPainter::FinishPage)
  // and its fonts to the XObject's resources.
  void AddTo(PoDoFo::PdfMemDocument& document, PoDoFo::PdfXObject& xobject) {
    PoDoFo::PdfDictionary& resources = xobject.GetResources()->GetDictionary();
    if (!resources.HasKey("Font")) resources.AddKey("Font", PoDoFo::PdfDictionary());
    PoDoFo::PdfDictionary& fonts = resources.GetKey("Font")->GetDictionary();
    if (regular_.used()) fonts.AddKey("MotcuaR", regular_.Embed(document)->Reference());
    if (bold_.used()) fonts.AddKey("MotcuaB", bold_.Embed(document)->Reference());
    const std::string text = absl::StrCat("q\n", operators_, "Q\n");
    PoDoFo::PdfStream* stream = xobject.GetContentsForAppending()->GetStream();
    stream->BeginAppend(/*bClearExisting=*/false);
    stream->Append(text.data(), text.size());
    stream->EndAppend();
  }

 private:
  AppearanceText(const TrueTypeFace& regular, const TrueTypeFace& bold)
      : regular_(regular), bold_(bold) {}

  SubsetFont regular_;
  SubsetFont bold_;
  std::string operators_;
};

absl::StatusOr<PlacedAppearance> Draw(PoDoFo::PdfMemDocument& document,
                                      const OfficerAppearance& officer, absl::Time) {
  absl::StatusOr<int> page = PageIndex(document, officer.page);
  if (!page.ok()) return page.status();
  absl::StatusOr<PdfBox> image_box = SignatureImageBox(officer);
  if (!image_box.ok()) return image_box.status();
  absl::StatusOr<AppearanceText> text = AppearanceText::Create();
  if (!text.ok()) return text.status();
  absl::StatusOr<PlacedAppearance> placed = NewCanvas(document, *page, officer.box);
  if (!placed.ok()) return placed.status();

  PoDoFo::PdfPainter painter;
  painter.SetPage(placed->xobject.get());
  painter.Save();
  DrawPng(document, painter, officer.signature_png, *ReadPngSize(officer.signature_png),
          *image_box);
  painter.Restore();
  painter.FinishPage();
  const double name_width = text->Width(officer.signer_name, /*bold=*/true, kNameFontSize);
  text->Draw((officer.box.width - name_width) / 2, kNameBand - kNameFontSize, officer.signer_name,
             /*bold=*/true, kNameFontSize, 0, 0, 0);
  text->AddTo(document, *placed->xobject);
  return placed;
}

absl::StatusOr<PlacedAppearance> Draw(PoDoFo::PdfMemDocument& document, const SealAppearance& seal,
                                      absl::Time) {
  absl::StatusOr<int> page = PageIndex(document, seal.page);
  if (!page.ok()) return page.status();
  if (absl::Status s = CheckBox(seal.box); !s.ok()) return s;
  absl::StatusOr<PngSize> size = ReadPngSize(seal.seal_png);
  if (!size.ok()) return size.status();
  absl::StatusOr<PlacedAppearance> placed = NewCanvas(document, *page, seal.box);
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
  absl::StatusOr<int> index = PageIndex(document, 0);
  if (!index.ok()) return index.status();
  PoDoFo::PdfPage* page = document.GetPage(*index);
  absl::StatusOr<AppearanceText> text = AppearanceText::Create();
  if (!text.ok()) return text.status();

  std::vector<std::pair<bool, std::string>> lines = {{true, stamp.organisation}};  // bold, text
  if (!stamp.number_and_symbol.empty()) lines.push_back({false, stamp.number_and_symbol});
  lines.push_back({false, "Thời gian ký: " + VietnamDisplayTime(time)});

  const PoDoFo::PdfRect media = page->GetMediaBox();
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
  painter.Restore();
  painter.FinishPage();
  double y = box.height - 4 - kStampLine + 2;
  for (const auto& [bold, line] : lines) {
    text->Draw(5, y, line, bold, kStampFontSize, 0.8, 0.05, 0.1);
    y -= kStampLine;
  }
  text->AddTo(document, *placed->xobject);
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
