#ifndef MOTCUA_SIGNING_QR_CODE_H_
#define MOTCUA_SIGNING_QR_CODE_H_

// QR codes on the documents we render. Internal to signing/.
//
// A symbol is encoded by libqrencode in 8-bit (byte) mode, so UTF-8 text is
// carried byte for byte, with error correction level M (about 15% of the
// symbol may be damaged), in the smallest version that fits.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "podofo/podofo.h"

namespace motcua::signing {

// Modules a reader needs free around the symbol (ISO/IEC 18004).
inline constexpr int kQrQuietZoneModules = 4;

// An encoded QR symbol: a square of size() x size() modules. Copyable.
class QrCode {
 public:
  // Encodes `text`. INVALID_ARGUMENT when it is empty or too long for the
  // largest version (40-M holds 2331 bytes); INTERNAL on other failures.
  static absl::StatusOr<QrCode> Encode(absl::string_view text);

  int version() const { return version_; }  // 1..40
  int size() const { return size_; }        // 17 + 4 * version
  // Whether the module in column `x`, row `y` (0-based, row 0 at the top)
  // is dark. Both must be in [0, size()).
  bool IsDark(int x, int y) const { return dark_[static_cast<size_t>(y) * size_ + x]; }

 private:
  QrCode(int version, int size, std::vector<bool> dark)
      : version_(version), size_(size), dark_(std::move(dark)) {}

  int version_;
  int size_;
  std::vector<bool> dark_;  // row-major
};

// Paints `code` as black filled rectangles in the square whose bottom-left
// corner is (`x`, `y`) and whose side is `side` PDF points, on the page
// `painter` draws on. The square includes a white quiet zone of
// kQrQuietZoneModules modules on every side, so one module measures
// side / (code.size() + 2 * kQrQuietZoneModules). The rectangles are a form
// XObject added to `document` in module units, so neighbouring modules meet
// without seams at any scale, and `painter` places it. PoDoFo errors
// propagate as PdfError.
void DrawQrCode(const QrCode& code, PoDoFo::PdfDocument& document, PoDoFo::PdfPainter& painter,
                double x, double y, double side);

}  // namespace motcua::signing

#endif  // MOTCUA_SIGNING_QR_CODE_H_
