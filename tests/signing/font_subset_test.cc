#include "signing/font_subset.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "podofo/podofo.h"
#include "signing/pdf_fonts.h"
#include "tests/signing/pdf_tools.h"

namespace motcua::signing {
namespace {

using ::testing::HasSubstr;
using namespace testing_tools;

// Every Vietnamese letter, lower and upper case, with each tone mark, plus
// digits and punctuation the documents use.
const std::vector<std::string>& Lines() {
  static const std::vector<std::string> lines = {
      "aàáảãạ ăằắẳẵặ âầấẩẫậ eèéẻẽẹ êềếểễệ iìíỉĩị",
      "oòóỏõọ ôồốổỗộ ơờớởỡợ uùúủũụ ưừứửữự yỳýỷỹỵ đ",
      "AÀÁẢÃẠ ĂẰẮẲẴẶ ÂẦẤẨẪẬ EÈÉẺẼẸ ÊỀẾỂỄỆ IÌÍỈĨỊ",
      "OÒÓỎÕỌ ÔỒỐỔỖỘ ƠỜỚỞỠỢ UÙÚỦŨỤ ƯỪỨỬỮỰ YỲÝỶỸỴ Đ",
      "bcdfghjklmnpqrstvwxz BCDFGHJKLMNPQRSTVWXZ 0123456789 ,.:;-/()",
  };
  return lines;
}

constexpr double kSize = 14, kLeft = 40, kTop = 760, kLeading = 30;

// The lines drawn with PoDoFo's own font code: the reference rendering.
std::string DrawWithPodofo(const std::string& path) {
  QuietPodofo();
  PoDoFo::PdfMemDocument document;
  PoDoFo::PdfPainter painter;
  painter.SetPage(
      document.CreatePage(PoDoFo::PdfPage::CreateStandardPageSize(PoDoFo::ePdfPageSize_A4)));
  absl::StatusOr<PoDoFo::PdfFont*> font = VietnameseFont(document, FontFace::kSerif);
  EXPECT_TRUE(font.ok()) << font.status();
  (*font)->SetFontSize(kSize);
  painter.SetFont(*font);
  for (size_t i = 0; i < Lines().size(); ++i) {
    painter.DrawText(kLeft, kTop - kLeading * i, Utf8(Lines()[i]));
  }
  painter.FinishPage();
  document.Write(path.c_str());
  return path;
}

// The same lines drawn with SubsetFont.
std::string DrawWithSubset(const std::string& path) {
  absl::StatusOr<const TrueTypeFace*> face = TrueTypeFace::Get(FontFace::kSerif);
  EXPECT_TRUE(face.ok()) << face.status();
  SubsetFont font(**face);
  PoDoFo::PdfMemDocument document;
  PoDoFo::PdfPage* page =
      document.CreatePage(PoDoFo::PdfPage::CreateStandardPageSize(PoDoFo::ePdfPageSize_A4));
  std::string ops;
  for (size_t i = 0; i < Lines().size(); ++i) {
    absl::StrAppendFormat(&ops, "BT /F1 %.2f Tf %.2f %.2f Td %s Tj ET\n", kSize, kLeft,
                          kTop - kLeading * i, font.Encode(Lines()[i]));
  }
  PoDoFo::PdfDictionary fonts;
  fonts.AddKey("F1", font.Embed(document)->Reference());
  page->GetResources()->GetDictionary().AddKey("Font", fonts);
  page->GetContents()->GetStream()->Set(ops.data(), static_cast<PoDoFo::pdf_long>(ops.size()));
  document.Write(path.c_str());
  return path;
}

TEST(FontSubsetTest, PdftotextGivesBackEveryVietnameseLetter) {
  const std::string dir = FreshDir("font_subset");
  const std::string text = ExtractText(DrawWithSubset(dir + "/subset.pdf"));
  for (const std::string& line : Lines()) EXPECT_THAT(text, HasSubstr(line));
}

TEST(FontSubsetTest, PdffontsShowsAnEmbeddedSubsetWithUnicodeMap_QpdfClean) {
  const std::string dir = FreshDir("font_subset");
  const std::string path = DrawWithSubset(dir + "/subset.pdf");
  CommandResult fonts = RunTool("pdffonts '" + path + "'");
  EXPECT_THAT(fonts.output, testing::ContainsRegex("[A-Z]{6}\\+DejaVuSerif +CID TrueType +"
                                                   "Identity-H +yes +yes +yes"));
  CommandResult check = RunTool("qpdf --check '" + path + "'");
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_THAT(check.output, testing::Not(HasSubstr("WARNING")));
}

TEST(FontSubsetTest, RendersLikePodofosOwnFontCode) {
  const std::string dir = FreshDir("font_subset");
  const GrayImage ours = Rasterize(DrawWithSubset(dir + "/subset.pdf"), 100, dir + "/subset");
  const GrayImage reference = Rasterize(DrawWithPodofo(dir + "/podofo.pdf"), 100, dir + "/podofo");
  ASSERT_EQ(ours.pixels.size(), reference.pixels.size());
  int ink = 0, different = 0;
  for (size_t i = 0; i < ours.pixels.size(); ++i) {
    if (reference.pixels[i] < 128) ++ink;
    if (std::abs(ours.pixels[i] - reference.pixels[i]) > 64) ++different;
  }
  EXPECT_GT(ink, 5000) << "the reference shows the text";
  EXPECT_LT(different, ink / 100) << "glyphs or advances differ from PoDoFo's rendering";
}

TEST(FontSubsetTest, WidthMatchesPodofoMetrics) {
  QuietPodofo();
  PoDoFo::PdfMemDocument document;
  absl::StatusOr<PoDoFo::PdfFont*> font = VietnameseFont(document, FontFace::kSerifBold);
  ASSERT_TRUE(font.ok()) << font.status();
  (*font)->SetFontSize(12);
  absl::StatusOr<const TrueTypeFace*> face = TrueTypeFace::Get(FontFace::kSerifBold);
  ASSERT_TRUE(face.ok()) << face.status();
  for (const std::string& line : Lines()) {
    EXPECT_NEAR((*face)->Width(line, 12), (*font)->GetFontMetrics()->StringWidth(Utf8(line)), 0.01)
        << line;
  }
}

TEST(FontSubsetTest, SameGlyphsSameSubset_SubsetTagFollowsGlyphs) {
  absl::StatusOr<const TrueTypeFace*> face = TrueTypeFace::Get(FontFace::kSerif);
  ASSERT_TRUE(face.ok()) << face.status();
  std::vector<uint16_t> a = {0, (*face)->GlyphFor(U'Ằ'), (*face)->GlyphFor(U'b')};
  std::vector<uint16_t> b = a;
  EXPECT_EQ((*face)->Subset(a), (*face)->Subset(b));
  // Ằ is composed of other glyphs in DejaVu: the subset gains them.
  EXPECT_GT(a.size(), 3u);
  EXPECT_EQ((*face)->GlyphFor(U'\u4E00'), 0) << "DejaVu Serif has no CJK";
}

}  // namespace
}  // namespace motcua::signing
