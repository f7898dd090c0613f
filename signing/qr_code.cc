#include "signing/qr_code.h"

#include <qrencode.h>

#include <cerrno>
#include <memory>

#include "absl/strings/str_cat.h"
#include "signing/pdf_stream.h"

namespace motcua::signing {

absl::StatusOr<QrCode> QrCode::Encode(absl::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("QR code text is empty");
  // QRcode_encodeData takes a length, so text needs no terminating NUL and
  // may hold any byte.
  errno = 0;
  std::unique_ptr<QRcode, decltype(&QRcode_free)> symbol(
      QRcode_encodeData(static_cast<int>(text.size()),
                        reinterpret_cast<const unsigned char*>(text.data()), /*version=*/0,
                        QR_ECLEVEL_M),
      &QRcode_free);
  if (symbol == nullptr) {
    if (errno == ERANGE) {
      return absl::InvalidArgumentError(
          absl::StrCat("QR code text of ", text.size(), " bytes is too long"));
    }
    return absl::InternalError(absl::StrCat("libqrencode failed: errno ", errno));
  }
  const int size = symbol->width;
  std::vector<bool> dark(static_cast<size_t>(size) * size);
  for (size_t i = 0; i < dark.size(); ++i) dark[i] = (symbol->data[i] & 1) != 0;
  return QrCode(symbol->version, size, std::move(dark));
}

void DrawQrCode(const QrCode& code, PoDoFo::PdfDocument& document, PoDoFo::PdfPainter& painter,
                double x, double y, double side) {
  const int modules = code.size() + 2 * kQrQuietZoneModules;
  // Module units, origin at the bottom-left of the quiet zone: white square,
  // then one rectangle per horizontal run of dark modules.
  std::string ops = absl::StrCat("1 g 0 0 ", modules, " ", modules, " re f 0 g\n");
  for (int row = 0; row < code.size(); ++row) {
    const int bottom = modules - kQrQuietZoneModules - row - 1;
    int col = 0;
    while (col < code.size()) {
      if (!code.IsDark(col, row)) {
        ++col;
        continue;
      }
      const int start = col;
      while (col < code.size() && code.IsDark(col, row)) ++col;
      absl::StrAppend(&ops, kQrQuietZoneModules + start, " ", bottom, " ", col - start, " 1 re\n");
    }
  }
  ops += "f\n";
  PoDoFo::PdfXObject form(PoDoFo::PdfRect(0, 0, modules, modules), &document);
  SetDeflatedStream(*form.GetContentsForAppending(), ops);
  const double scale = side / modules;
  painter.DrawXObject(x, y, &form, scale, scale);
}

}  // namespace motcua::signing
