#include "signing/qr_code.h"

#include <cstdlib>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "podofo/podofo.h"
#include "signing/pdf_fonts.h"
#include "tests/signing/pdf_tools.h"

namespace motcua::signing {
namespace {

using ::testing::HasSubstr;
using namespace testing_tools;

// ISO/IEC 18004 finder pattern: dark 7x7 ring, light 5x5 ring, dark 3x3
// centre; `left`, `top` is its top-left module.
void ExpectFinderPattern(const QrCode& code, int left, int top) {
  for (int dy = 0; dy < 7; ++dy) {
    for (int dx = 0; dx < 7; ++dx) {
      const int ring = std::max(std::abs(dx - 3), std::abs(dy - 3));
      EXPECT_EQ(code.IsDark(left + dx, top + dy), ring != 2)
          << "finder at " << left << "," << top << " module " << dx << "," << dy;
    }
  }
}

// The separator: the light modules around a finder pattern, inside the symbol.
void ExpectSeparator(const QrCode& code, int left, int top) {
  for (int d = -1; d <= 7; ++d) {
    for (auto [x, y] : {std::pair{left + d, top - 1}, std::pair{left + d, top + 7},
                        std::pair{left - 1, top + d}, std::pair{left + 7, top + d}}) {
      if (x < 0 || y < 0 || x >= code.size() || y >= code.size()) continue;
      EXPECT_FALSE(code.IsDark(x, y)) << "separator module " << x << "," << y;
    }
  }
}

TEST(QrCodeTest, Encode_PicksSmallestVersionForLevelMInByteMode) {
  // Byte-mode capacity at level M: version 3 holds 42 bytes, version 4 62.
  absl::StatusOr<QrCode> v3 = QrCode::Encode(std::string(42, 'a'));
  ASSERT_TRUE(v3.ok()) << v3.status();
  EXPECT_EQ(v3->version(), 3);
  EXPECT_EQ(v3->size(), 29);
  absl::StatusOr<QrCode> v4 = QrCode::Encode(std::string(43, 'a'));
  ASSERT_TRUE(v4.ok()) << v4.status();
  EXPECT_EQ(v4->version(), 4);
  EXPECT_EQ(v4->size(), 33);
}

TEST(QrCodeTest, Encode_Utf8IsCountedInBytes) {
  // 14 bytes fill version 1-M; "Nguyễn Thị" is 10 characters but 14 bytes,
  // one more byte needs version 2.
  const std::string text = "Nguyễn Thị";
  ASSERT_EQ(text.size(), 14u);
  absl::StatusOr<QrCode> fits = QrCode::Encode(text);
  ASSERT_TRUE(fits.ok()) << fits.status();
  EXPECT_EQ(fits->version(), 1);
  absl::StatusOr<QrCode> grows = QrCode::Encode(text + "!");
  ASSERT_TRUE(grows.ok()) << grows.status();
  EXPECT_EQ(grows->version(), 2);
}

TEST(QrCodeTest, Encode_HasFinderSeparatorTimingAndDarkModule) {
  absl::StatusOr<QrCode> code =
      QrCode::Encode("motcua:v1/HN-SGDDT-20261123-0001/diploma-1/0123456789abcdef");
  ASSERT_TRUE(code.ok()) << code.status();
  const int n = code->size();
  ASSERT_EQ(n, 17 + 4 * code->version());
  ExpectFinderPattern(*code, 0, 0);
  ExpectFinderPattern(*code, n - 7, 0);
  ExpectFinderPattern(*code, 0, n - 7);
  ExpectSeparator(*code, 0, 0);
  ExpectSeparator(*code, n - 7, 0);
  ExpectSeparator(*code, 0, n - 7);
  for (int i = 8; i < n - 8; ++i) {
    EXPECT_EQ(code->IsDark(i, 6), i % 2 == 0) << "horizontal timing at " << i;
    EXPECT_EQ(code->IsDark(6, i), i % 2 == 0) << "vertical timing at " << i;
  }
  EXPECT_TRUE(code->IsDark(8, n - 8)) << "the dark module";
}

TEST(QrCodeTest, Encode_SameTextSameSymbol_OtherTextOtherSymbol) {
  const std::string text = "motcua:v1/HN-SGDDT-20261123-0001/receipt/6870039d358230a9";
  absl::StatusOr<QrCode> a = QrCode::Encode(text);
  absl::StatusOr<QrCode> b = QrCode::Encode(text);
  absl::StatusOr<QrCode> other = QrCode::Encode(text.substr(0, text.size() - 1) + "8");
  ASSERT_TRUE(a.ok() && b.ok() && other.ok());
  ASSERT_EQ(a->size(), other->size());
  int same = 0, differ = 0;
  for (int y = 0; y < a->size(); ++y) {
    for (int x = 0; x < a->size(); ++x) {
      EXPECT_EQ(a->IsDark(x, y), b->IsDark(x, y));
      (a->IsDark(x, y) == other->IsDark(x, y) ? same : differ)++;
    }
  }
  EXPECT_GT(differ, 0);
}

TEST(QrCodeTest, Encode_EmptyOrTooLong_InvalidArgument) {
  EXPECT_EQ(QrCode::Encode("").status().code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<QrCode> too_long = QrCode::Encode(std::string(2332, 'x'));
  EXPECT_EQ(too_long.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(too_long.status().message()), HasSubstr("too long"));
  EXPECT_TRUE(QrCode::Encode(std::string(2331, 'x')).ok()) << "40-M holds 2331 bytes";
}

TEST(QrCodeTest, DrawQrCode_RasterShowsEveryModuleAndQuietZone) {
  QuietPodofo();
  absl::StatusOr<QrCode> code =
      QrCode::Encode("motcua:v1/HN-SGDDT-20261123-0001/copy-1/f7617dc773038e7d");
  ASSERT_TRUE(code.ok()) << code.status();
  const int modules = code->size() + 2 * kQrQuietZoneModules;
  // 5 points a module, rendered at 144 dpi: 10 pixels a module.
  const double side = 5.0 * modules, x = 100, y = 400;
  const std::string dir = FreshDir("qr_draw");
  const std::string pdf_path = dir + "/qr.pdf";
  double page_height = 0;
  {
    PoDoFo::PdfMemDocument document;
    const PoDoFo::PdfRect a4 = PoDoFo::PdfPage::CreateStandardPageSize(PoDoFo::ePdfPageSize_A4);
    page_height = a4.GetHeight();
    PoDoFo::PdfPainter painter;
    painter.SetPage(document.CreatePage(a4));
    // A grey backdrop, so the white quiet zone is something drawn.
    painter.SetGray(0.5);
    painter.Rectangle(x - 20, y - 20, side + 40, side + 40);
    painter.Fill();
    DrawQrCode(*code, document, painter, x, y, side);
    painter.FinishPage();
    document.Write(pdf_path.c_str());
  }
  const GrayImage image = Rasterize(pdf_path, 144, dir + "/qr");
  ASSERT_GT(image.width, 0);
  const double scale = 2.0;  // pixels per point
  const double top_px = (page_height - (y + side)) * scale, left_px = x * scale;
  auto pixel = [&](int col, int row) {  // module coordinates incl. quiet zone
    return image.At(static_cast<int>(left_px + (col + 0.5) * 10),
                    static_cast<int>(top_px + (row + 0.5) * 10));
  };
  int wrong = 0;
  for (int row = 0; row < modules; ++row) {
    for (int col = 0; col < modules; ++col) {
      const int qx = col - kQrQuietZoneModules, qy = row - kQrQuietZoneModules;
      const bool inside = qx >= 0 && qy >= 0 && qx < code->size() && qy < code->size();
      const bool dark = inside && code->IsDark(qx, qy);
      const int value = pixel(col, row);
      if (dark ? value > 40 : value < 215) {
        ++wrong;
        ADD_FAILURE() << "module " << qx << "," << qy << (dark ? " dark" : " light")
                      << " rendered as " << value;
        if (wrong > 10) return;
      }
    }
  }
  // Just outside the square the grey backdrop shows: the square is where
  // we asked for it.
  EXPECT_NEAR(image.At(static_cast<int>(left_px - 10), static_cast<int>(top_px + 50)), 128, 10);
  EXPECT_NEAR(image.At(static_cast<int>(left_px + 50), static_cast<int>(top_px - 10)), 128, 10);
}

}  // namespace
}  // namespace motcua::signing
