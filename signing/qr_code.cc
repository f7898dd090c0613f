#include "signing/qr_code.h"

#include <qrencode.h>

#include <cerrno>
#include <memory>

#include "absl/strings/str_cat.h"

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

void DrawQrCode(const QrCode& code, PoDoFo::PdfPainter& painter, double x, double y, double side) {
  const int modules = code.size() + 2 * kQrQuietZoneModules;
  const double module = side / modules;
  painter.Save();
  painter.SetGray(1.0);
  painter.Rectangle(x, y, side, side);
  painter.Fill();
  painter.SetGray(0.0);
  // One rectangle per horizontal run of dark modules: fewer path operators
  // than one per module, and no hairline seams between neighbours.
  for (int row = 0; row < code.size(); ++row) {
    const double top = y + side - (kQrQuietZoneModules + row) * module;
    int col = 0;
    while (col < code.size()) {
      if (!code.IsDark(col, row)) {
        ++col;
        continue;
      }
      const int start = col;
      while (col < code.size() && code.IsDark(col, row)) ++col;
      painter.Rectangle(x + (kQrQuietZoneModules + start) * module, top - module,
                        (col - start) * module, module);
    }
  }
  painter.Fill();
  painter.Restore();
}

}  // namespace motcua::signing
