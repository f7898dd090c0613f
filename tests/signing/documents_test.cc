#include "signing/documents.h"

#include <openssl/evp.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "podofo/podofo.h"
#include "tests/signing/pdf_tools.h"
#include "tests/signing/sample_documents.h"

namespace motcua::signing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace testing_tools;
using namespace samples;

std::shared_ptr<const DocumentLayout> Compiled(const v1::DocumentTemplate& t,
                                               const FieldCatalog& catalog) {
  absl::StatusOr<std::shared_ptr<const DocumentLayout>> layout =
      DocumentLayout::Compile(t, catalog);
  EXPECT_TRUE(layout.ok()) << layout.status();
  return layout.ok() ? *layout : nullptr;
}

v1::DocumentTemplate ParseTemplate(const std::string& text) {
  v1::DocumentTemplate t;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &t)) << text;
  return t;
}

// A small template for checks: one paragraph, the reference, one slot.
constexpr char kMinimal[] = R"pb(
  kind: "note"
  blocks {
    id: "body"
    paragraph { text: "{unit.name}" }
  }
  reference { x: 85 y: 150 side: 120 text_x: 85 text_y: 62 }
  slots {
    id: "head"
    signer: SIGNER_ACTOR
    title: "{unit.head_title|upper}"
    x: 330
    top: 280
    width: 200
    height: 90
  }
)pb";

absl::Status CompileError(const std::string& text,
                          const FieldCatalog& catalog = ProcedureCatalog()) {
  return DocumentLayout::Compile(ParseTemplate(text), catalog).status();
}

class DocumentsTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = FreshDir("documents"); }

  // Writes `document` to a file named `name` and returns its path.
  std::string Save(const RenderedDocument& document, const std::string& name) {
    const std::string path = dir_ + "/" + name + ".pdf";
    WriteFile(path, document.pdf);
    return path;
  }

  std::string dir_;
};

struct Sample {
  std::string name;
  RenderedDocument document;
};

// Every shipped template rendered with its sample data.
std::vector<Sample> RenderAll() {
  const std::pair<std::string, DocumentData> procedure[] = {
      {"receipt", ReceiptData()},
      {"certified_copy", CopyData()},
      {"refusal", RefusalData()},
      {"supplement_request", SupplementData()}};
  std::vector<Sample> all;
  for (const auto& [kind, data] : procedure) {
    auto layout = Compiled(ProcedureTemplate(kind), ProcedureCatalog());
    if (layout == nullptr) continue;
    absl::StatusOr<RenderedDocument> rendered = layout->Render(data);
    EXPECT_TRUE(rendered.ok()) << kind << ": " << rendered.status();
    if (rendered.ok()) all.push_back({kind, *rendered});
  }
  auto diploma = Compiled(DiplomaTemplate(), DiplomaCatalog());
  if (diploma != nullptr) {
    absl::StatusOr<RenderedDocument> rendered = diploma->Render(DiplomaData());
    EXPECT_TRUE(rendered.ok()) << rendered.status();
    if (rendered.ok()) all.push_back({"diploma", *rendered});
  }
  EXPECT_EQ(all.size(), 5u);
  return all;
}

RenderedDocument RenderOne(const v1::DocumentTemplate& t, const FieldCatalog& catalog,
                           const DocumentData& data) {
  auto layout = Compiled(t, catalog);
  if (layout == nullptr) return {};
  absl::StatusOr<RenderedDocument> rendered = layout->Render(data);
  EXPECT_TRUE(rendered.ok()) << rendered.status();
  return rendered.ok() ? *rendered : RenderedDocument{};
}

// The words the hand-written layouts drew before templates, and the new
// documents' own.
TEST_F(DocumentsTest, ShippedTemplates_PdftotextGivesBackTheVietnameseText) {
  const std::map<std::string, std::vector<std::string>> phrases = {
      {"receipt",
       {"ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI", "SỞ GIÁO DỤC VÀ ĐÀO TẠO HÀ NỘI",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
        "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", "Mã hồ sơ: HN-SGDDT-20261123-0001",
        // pdftotext reads the labels' column, then the values'.
        "Tiếp nhận hồ sơ của:", "Nguyễn Thị Hồng Nhung",
        "Thủ tục:", "Cấp bản sao văn bằng, chứng chỉ từ sổ gốc", "Thành phần hồ sơ:",
        "1. Đơn đề nghị cấp bản sao văn bằng từ sổ gốc", "2. Căn cước công dân (bản sao)",
        "Nhận hồ sơ lúc:", "23/11/2026 15:05", "Hẹn trả kết quả lúc:", "26/11/2026 16:00",
        "Cán bộ tiếp nhận:", "Trần Văn Bình", "NGƯỜI TIẾP NHẬN HỒ SƠ"}},
      {"certified_copy",
       {"ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI", "Hà Nội, ngày 23 tháng 11 năm 2026",
        "BẢN SAO BẰNG TỐT NGHIỆP TRUNG HỌC PHỔ THÔNG TỪ SỔ GỐC", "Họ và tên:",
        "Nguyễn Thị Hồng Nhung", "Ngày sinh:", "05/03/2008", "Nơi sinh:", "Thành phố Hồ Chí Minh",
        "Học sinh trường:", "Trường THPT Chu Văn An", "Năm tốt nghiệp:", "2026",
        "Số hiệu văn bằng:", "A0123456", "Số vào sổ cấp văn bằng:", "2026/THPT-0042",
        "Bản sao này có nội dung đầy đủ, chính xác như nội dung ghi trong sổ gốc cấp văn bằng "
        "của Sở Giáo dục và Đào tạo Hà Nội.",
        "GIÁM ĐỐC"}},
      {"refusal",
       {"PHIẾU TỪ CHỐI TIẾP NHẬN, GIẢI QUYẾT HỒ SƠ", "Kính gửi: Nguyễn Thị Hồng Nhung",
        "1. Không tìm thấy văn bằng trong sổ gốc với số hiệu đã khai.",
        "2. Năm tốt nghiệp không khớp với sổ gốc."}},
      {"supplement_request",
       {"PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ", "1. Bản sao căn cước công dân có chứng thực",
        "Ghi chú: Nộp trong 10 ngày làm việc."}},
      {"diploma",
       {"CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "BẰNG TỐT NGHIỆP TRUNG HỌC PHỔ THÔNG",
        "GIÁM ĐỐC SỞ GIÁO DỤC VÀ ĐÀO TẠO HÀ NỘI", "Họ và tên: Nguyễn Thị Hồng Nhung",
        "Ngày sinh: 05/03/2008", "Trường THPT Chu Văn An", "Năm tốt nghiệp: 2026",
        "Xếp loại tốt nghiệp: Khá", "Số hiệu: A0123456", "Số vào sổ cấp bằng: 2026/THPT-0042",
        "Hà Nội, ngày 23 tháng 11 năm 2026",
        "Bằng tốt nghiệp trung học phổ thông bản điện tử do Giám đốc Sở Giáo dục và Đào tạo Hà "
        "Nội cấp và ký số."}}};
  for (const Sample& sample : RenderAll()) {
    const std::string text = ExtractText(Save(sample.document, sample.name));
    for (const std::string& phrase : phrases.at(sample.name)) {
      EXPECT_THAT(text, HasSubstr(phrase)) << sample.name;
    }
    EXPECT_THAT(text, HasSubstr("Mã tra cứu: " + sample.document.reference)) << sample.name;
  }
}

TEST_F(DocumentsTest, OptionalRows_EmptyValuesAreLeftOutOrShownAsTheirDefault) {
  DocumentData diploma = DiplomaData();
  diploma.fields["graduate.classification"] = "";
  EXPECT_THAT(ExtractText(Save(RenderOne(DiplomaTemplate(), DiplomaCatalog(), diploma), "d")),
              Not(HasSubstr("Xếp loại")));
  DocumentData copy = CopyData();
  copy.fields.erase("form.register_number");
  const std::string text = ExtractText(
      Save(RenderOne(ProcedureTemplate("certified_copy"), ProcedureCatalog(), copy), "c"));
  EXPECT_THAT(text, HasSubstr("A0123456 —"));  // the values' column
}

TEST_F(DocumentsTest, Render_FontsAreEmbeddedSubsetsWithUnicodeMaps) {
  for (const Sample& sample : RenderAll()) {
    CommandResult fonts = RunTool("pdffonts '" + Save(sample.document, sample.name) + "'");
    ASSERT_EQ(fonts.exit_code, 0) << fonts.output;
    std::vector<std::string> lines = absl::StrSplit(fonts.output, '\n', absl::SkipEmpty());
    ASSERT_GE(lines.size(), 4u) << sample.name << ":\n" << fonts.output;  // header, rule, faces
    for (size_t i = 2; i < lines.size(); ++i) {
      EXPECT_THAT(lines[i], testing::MatchesRegex(
                                "[A-Z]{6}\\+DejaVuSerif(-Bold|-Italic|-BoldItalic)? +CID TrueType "
                                "+Identity-H +yes +yes +yes .*"))
          << sample.name;
    }
  }
}

TEST_F(DocumentsTest, Render_Pdf17WithClassicXrefThatQpdfChecksClean) {
  for (const Sample& sample : RenderAll()) {
    const RenderedDocument& document = sample.document;
    EXPECT_EQ(document.pdf.rfind("%PDF-1.7", 0), 0u) << sample.name;
    EXPECT_THAT(document.pdf, HasSubstr("\nxref\n")) << sample.name;
    EXPECT_THAT(document.pdf, Not(HasSubstr("/XRef"))) << sample.name;
    CommandResult check = RunTool("qpdf --check '" + Save(document, sample.name) + "'");
    EXPECT_EQ(check.exit_code, 0) << sample.name << ":\n" << check.output;
    EXPECT_THAT(check.output, HasSubstr("No syntax or stream encoding errors")) << sample.name;
    EXPECT_THAT(check.output, Not(HasSubstr("WARNING"))) << sample.name;
  }
}

// The value after `label` on its line of pdfinfo's output.
std::string InfoField(const std::string& info, const std::string& label) {
  const size_t at = info.find("\n" + label);
  if (at == std::string::npos) return "";
  const size_t start = info.find_first_not_of(' ', at + 1 + label.size());
  return info.substr(start, info.find('\n', start) - start);
}

TEST_F(DocumentsTest, Render_OnePageA4PortraitOrLandscape) {
  for (const Sample& sample : RenderAll()) {
    CommandResult info = RunTool("pdfinfo '" + Save(sample.document, sample.name) + "'");
    ASSERT_EQ(info.exit_code, 0) << info.output;
    EXPECT_EQ(InfoField(info.output, "Pages:"), "1") << sample.name;
    EXPECT_EQ(InfoField(info.output, "Page size:"),
              sample.name == "diploma" ? "841.89 x 595.28 pts (A4)" : "595.28 x 841.89 pts (A4)")
        << sample.name;
  }
}

bool Intersects(const WordBox& word, const SignatureSlot& slot) {
  return word.x_min < slot.x + slot.width && word.x_max > slot.x &&
         word.y_min < slot.y + slot.height && word.y_max > slot.y;
}

TEST_F(DocumentsTest, Render_SlotsAreBlankOnThePageWithTheTitleAbove) {
  for (const Sample& sample : RenderAll()) {
    const RenderedDocument& document = sample.document;
    const bool signed_by_person = sample.name == "certified_copy" || sample.name == "diploma";
    ASSERT_EQ(document.slots.size(), signed_by_person ? 2u : 1u) << sample.name;
    if (signed_by_person) {
      const SignatureSlot& person = document.slots[0];
      const SignatureSlot& seal = document.slots[1];
      EXPECT_EQ(person.signer, v1::SIGNER_ACTOR);
      EXPECT_EQ(seal.signer, v1::SIGNER_UNIT_SEAL);
      EXPECT_EQ(person.title, "GIÁM ĐỐC");
      // The seal covers about the left third of the signature.
      EXPECT_NEAR(seal.x + seal.width, person.x + person.width / 3, 1.0) << sample.name;
      EXPECT_LT(seal.x, person.x) << sample.name;
      EXPECT_DOUBLE_EQ(seal.width, seal.height);
    } else {
      EXPECT_EQ(document.slots[0].signer, v1::SIGNER_UNIT_SEAL);
    }
    double page_height = 0;
    const std::vector<WordBox> words = WordBoxes(Save(document, sample.name), &page_height);
    ASSERT_FALSE(words.empty()) << sample.name;
    const double page_width = sample.name == "diploma" ? 841.89 : 595.28;
    for (const SignatureSlot& slot : document.slots) {
      EXPECT_EQ(slot.page, 0);
      EXPECT_GE(slot.height, 80) << sample.name << " " << slot.id;
      EXPECT_GE(slot.x, 0);
      EXPECT_GE(slot.y, 0);
      EXPECT_LE(slot.x + slot.width, page_width);
      EXPECT_LE(slot.y + slot.height, page_height);
      for (const WordBox& word : words) {
        EXPECT_FALSE(Intersects(word, slot))
            << sample.name << ": '" << word.word << "' at " << word.x_min << "," << word.y_min
            << " overlaps the " << slot.id << " slot";
      }
    }
    // The first slot's title sits centred just above it.
    const SignatureSlot& first = document.slots[0];
    std::vector<std::string> title_words = absl::StrSplit(first.title, ' ');
    int found = 0;
    for (const WordBox& word : words) {
      if (word.y_min < first.y + first.height || word.y_min > first.y + first.height + 20 ||
          word.x_min < first.x - 60 || word.x_max > first.x + first.width + 60) {
        continue;
      }
      EXPECT_NE(std::find(title_words.begin(), title_words.end(), word.word), title_words.end())
          << sample.name << ": unexpected '" << word.word << "' above the slot";
      ++found;
    }
    EXPECT_EQ(found, static_cast<int>(title_words.size())) << sample.name;
  }
}

TEST_F(DocumentsTest, Render_PodofoCanLoadAndUpdateTheResultIncrementally) {
  // The signer loads our PDF with PoDoFo and appends an incremental update.
  for (const Sample& sample : RenderAll()) {
    const RenderedDocument& document = sample.document;
    PoDoFo::PdfMemDocument loaded;
    loaded.LoadFromBuffer(document.pdf.data(), static_cast<long>(document.pdf.size()),
                          /*bForUpdate=*/true);
    ASSERT_EQ(loaded.GetPageCount(), 1) << sample.name;
    // Like a signature, the update adds an object. (An update that only
    // changes existing objects gets a wrong /Size from PoDoFo 0.9.8, which
    // qpdf reports whatever PDF it started from.)
    PoDoFo::PdfObject* added = loaded.GetObjects().CreateObject("Annot");
    loaded.GetInfo()->GetObject()->GetDictionary().AddKey("MotcuaTest", added->Reference());
    const std::string path = dir_ + "/" + sample.name + "-updated.pdf";
    WriteFile(path, document.pdf);
    loaded.WriteUpdate(path.c_str());
    const std::string updated = ReadFile(path);
    EXPECT_EQ(updated.compare(0, document.pdf.size(), document.pdf), 0) << sample.name;
    EXPECT_GT(updated.size(), document.pdf.size()) << sample.name;
    CommandResult check = RunTool("qpdf --check '" + path + "'");
    EXPECT_EQ(check.exit_code, 0) << sample.name << ":\n" << check.output;
    EXPECT_THAT(ExtractText(path), HasSubstr("Nguyễn Thị Hồng Nhung")) << sample.name;
  }
}

TEST_F(DocumentsTest, Render_ConcurrentCallsGiveTheSameText) {
  auto layout = Compiled(DiplomaTemplate(), DiplomaCatalog());
  ASSERT_NE(layout, nullptr);
  const std::string expected = ExtractText(Save(*layout->Render(DiplomaData()), "single"));
  std::vector<std::string> pdfs(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < pdfs.size(); ++i) {
    threads.emplace_back([&pdfs, &layout, i] {
      for (int round = 0; round < 5; ++round) {
        absl::StatusOr<RenderedDocument> rendered = layout->Render(DiplomaData());
        if (rendered.ok()) pdfs[i] = rendered->pdf;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (size_t i = 0; i < pdfs.size(); ++i) {
    ASSERT_FALSE(pdfs[i].empty());
    const std::string path = absl::StrCat(dir_, "/thread", i, ".pdf");
    WriteFile(path, pdfs[i]);
    EXPECT_EQ(ExtractText(path), expected) << "thread " << i;
  }
}

// Every word of every page lies inside the page.
void ExpectWordsOnPages(const std::string& path, int pages, double width) {
  for (int page = 1; page <= pages; ++page) {
    double height = 0;
    for (const WordBox& word : WordBoxes(path, &height, page)) {
      EXPECT_GE(word.x_min, 0) << word.word;
      EXPECT_LE(word.x_max, width + 0.5) << word.word << " on page " << page;
      EXPECT_GE(word.y_min, 0) << word.word;
      EXPECT_LE(word.y_max, height + 0.5) << word.word;
    }
  }
}

TEST_F(DocumentsTest, LongData_WrapsAndContinuesOnTheNextPage) {
  DocumentData data = ReceiptData();
  data.lists["attachments"].assign(40, {{"name", "Bản sao giấy khai sinh có chứng thực"}});
  data.fields["applicant.full_name"] = std::string(120, 'W');  // one unbreakable word
  const RenderedDocument document =
      RenderOne(ProcedureTemplate("receipt"), ProcedureCatalog(), data);
  const std::string path = Save(document, "long");
  CommandResult info = RunTool("pdfinfo '" + path + "'");
  EXPECT_EQ(InfoField(info.output, "Pages:"), "2");
  const std::string text = ExtractText(path);
  EXPECT_THAT(text, HasSubstr("40. Bản sao giấy khai sinh có chứng thực"));
  EXPECT_THAT(text, HasSubstr("Cán bộ tiếp nhận:"));
  EXPECT_THAT(text, HasSubstr("Trần Văn Bình"));
  ASSERT_EQ(document.slots.size(), 1u);
  EXPECT_EQ(document.slots[0].page, 1);  // the seal goes on the last page
  ExpectWordsOnPages(path, 2, 595.28);
  CommandResult check = RunTool("qpdf --check '" + path + "'");
  EXPECT_EQ(check.exit_code, 0) << check.output;
}

TEST_F(DocumentsTest, Table_FlowsOverTwentyPagesWithTheHeaderOnEach) {
  const v1::DocumentTemplate t = ParseTemplate(R"pb(
    kind: "register"
    blocks {
      id: "heading"
      heading { parent: "{unit.parent}" issuer: "{unit.name}" }
    }
    blocks {
      id: "entries"
      table {
        each: "entries"
        columns { title: "STT" value: "{n}" weight: 0.5 align: ALIGN_RIGHT }
        columns { title: "Họ và tên" value: "{item.name}" weight: 2 }
        columns { title: "Ghi chú" value: "{item.note}" weight: 3 }
      }
    }
    reference { x: 85 y: 40 side: 60 text_x: 150 text_y: 45 }
  )pb");
  FieldCatalog catalog = ProcedureCatalog();
  catalog.lists["entries"] = {"name", "note"};
  DocumentData data = ReceiptData();
  for (int i = 0; i < 600; ++i) {
    data.lists["entries"].push_back(
        {{"name", absl::StrCat("Nguyễn Văn Học Sinh ", i + 1)},
         {"note", i % 7 == 0 ? "Được xét đặc cách tốt nghiệp theo quy định, ghi chú dài xuống "
                               "dòng để ô cao hơn các ô khác"
                             : "Đạt"}});
  }
  const std::string path = Save(RenderOne(t, catalog, data), "table");
  CommandResult info = RunTool("pdfinfo '" + path + "'");
  int pages = 0;
  ASSERT_TRUE(absl::SimpleAtoi(InfoField(info.output, "Pages:"), &pages)) << info.output;
  EXPECT_GE(pages, 20);
  for (int page = 1; page <= pages; ++page) {
    CommandResult text =
        RunTool(absl::StrCat("pdftotext -f ", page, " -l ", page, " '", path, "' -"));
    EXPECT_THAT(text.output, HasSubstr("Họ và tên")) << "page " << page;
    EXPECT_THAT(text.output, HasSubstr("Ghi chú")) << "page " << page;
  }
  const std::string all = ExtractText(path);
  EXPECT_THAT(all, HasSubstr("600 Nguyễn Văn Học Sinh 600"));
  EXPECT_THAT(all, HasSubstr("1 Nguyễn Văn Học Sinh 1 "));
  ExpectWordsOnPages(path, pages, 595.28);
  CommandResult check = RunTool("qpdf --check '" + path + "'");
  EXPECT_EQ(check.exit_code, 0) << check.output;
}

// An empty list shows one cell across the table; when that cell runs over
// the page, the next page starts with the table's own header again.
TEST_F(DocumentsTest, Table_EmptyListCellRunsOverThePageWithTheHeaderRepeated) {
  const v1::DocumentTemplate t = ParseTemplate(R"pb(
    kind: "register"
    blocks {
      id: "entries"
      width: 150
      table {
        each: "attachments"
        columns { title: "STT" value: "{n}" }
        columns { title: "Tên giấy tờ" value: "{item.name}" weight: 2 }
        empty_text: "{form.school}"
      }
    }
    reference { x: 85 y: 40 side: 60 text_x: 150 text_y: 45 }
  )pb");
  DocumentData data = ReceiptData();
  data.lists["attachments"].clear();
  std::string long_text;
  for (int i = 0; i < 120; ++i) absl::StrAppend(&long_text, "Không có giấy tờ ", i, " ");
  data.fields["form.school"] = long_text.substr(0, 3900);
  const std::string path = Save(RenderOne(t, ProcedureCatalog(), data), "empty-table");
  CommandResult info = RunTool("pdfinfo '" + path + "'");
  int pages = 0;
  ASSERT_TRUE(absl::SimpleAtoi(InfoField(info.output, "Pages:"), &pages)) << info.output;
  EXPECT_GE(pages, 2);
  for (int page = 1; page <= pages; ++page) {
    CommandResult text =
        RunTool(absl::StrCat("pdftotext -f ", page, " -l ", page, " '", path, "' -"));
    EXPECT_THAT(text.output, HasSubstr("Tên giấy tờ")) << "page " << page;
  }
  ExpectWordsOnPages(path, pages, 595.28);
}

TEST(DocumentReferenceTest, CanonicalContent_IsTheDocumentedText) {
  auto layout = Compiled(ProcedureTemplate("receipt"), ProcedureCatalog());
  ASSERT_NE(layout, nullptr);
  DocumentData data = ReceiptData();
  data.fields["unit.parent"] = "";
  EXPECT_EQ(layout->CanonicalContent(data),
            "motcua-document:v1 receipt\n"
            "applicant.full_name=Nguyễn Thị Hồng Nhung\n"
            "document.id=receipt\n"
            "dossier.code=HN-SGDDT-20261123-0001\n"
            "procedure.name=Cấp bản sao văn bằng, chứng chỉ từ sổ gốc\n"
            "receipt.appointment_at=26/11/2026 16:00\n"
            "receipt.received_at=23/11/2026 15:05\n"
            "receipt.received_by=Trần Văn Bình\n"
            "unit.name=Sở Giáo dục và Đào tạo Hà Nội\n"
            "unit.parent=\n"
            "attachments[1].name=Đơn đề nghị cấp bản sao văn bằng từ sổ gốc\n"
            "attachments[2].name=Căn cước công dân (bản sao)\n");
}

std::string Sha256Hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(digest), length));
}

TEST(DocumentReferenceTest, Reference_IsCodesAndSha256PrefixOfCanonicalContent) {
  auto layout = Compiled(DiplomaTemplate(), DiplomaCatalog());
  ASSERT_NE(layout, nullptr);
  const DocumentData data = DiplomaData();
  EXPECT_EQ(layout->Reference(data), "motcua:v1/HN-SGDDT-20261123-0002/diploma-1/" +
                                         Sha256Hex(layout->CanonicalContent(data)).substr(0, 16));
  absl::StatusOr<RenderedDocument> rendered = layout->Render(data);
  ASSERT_TRUE(rendered.ok()) << rendered.status();
  EXPECT_EQ(rendered->reference, layout->Reference(data));
}

TEST(DocumentReferenceTest, Reference_ChangesWithAnyShownFieldOnly) {
  auto diploma = Compiled(DiplomaTemplate(), DiplomaCatalog());
  ASSERT_NE(diploma, nullptr);
  const std::string original = diploma->Reference(DiplomaData());
  for (const char* field :
       {"graduate.full_name", "graduate.graduation_year", "document.date_long", "unit.name"}) {
    DocumentData changed = DiplomaData();
    changed.fields[field] += "x";
    EXPECT_NE(diploma->Reference(changed), original) << field;
  }
  DocumentData unshown = DiplomaData();
  unshown.fields["form.school"] = "not on the diploma";
  EXPECT_EQ(diploma->Reference(unshown), original);
  // Moving text between list elements is a different content too.
  auto receipt = Compiled(ProcedureTemplate("receipt"), ProcedureCatalog());
  ASSERT_NE(receipt, nullptr);
  DocumentData a = ReceiptData(), b = ReceiptData();
  a.lists["attachments"] = {{{"name", "x y"}}, {{"name", "z"}}};
  b.lists["attachments"] = {{{"name", "x"}}, {{"name", "y z"}}};
  EXPECT_NE(receipt->Reference(a), receipt->Reference(b));
}

TEST(TemplateCheckTest, ShippedTemplatesCompile) {
  const v1::ProcedureDefinition procedure = CopyProcedure();
  for (const v1::DocumentTemplate& t : procedure.templates()) {
    EXPECT_TRUE(DocumentLayout::Compile(t, ProcedureCatalog()).ok()) << t.kind();
  }
  EXPECT_EQ(procedure.templates_size(), 4);
  EXPECT_TRUE(DocumentLayout::Compile(DiplomaTemplate(), DiplomaCatalog()).ok());
}

void ExpectRefused(const absl::Status& status, const std::string& where, const std::string& why) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr(where)) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr(why)) << status;
}

TEST(TemplateCheckTest, BadTemplates_InvalidArgumentNamingTheBlock) {
  EXPECT_TRUE(CompileError(kMinimal).ok()) << CompileError(kMinimal);
  auto with = [](const std::string& from, const std::string& to) {
    std::string text = kMinimal;
    const size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return at == std::string::npos ? text : text.replace(at, from.size(), to);
  };
  ExpectRefused(CompileError(with("{unit.name}", "{form.nickname}")), "block \"body\"",
                "unknown field \"form.nickname\"");
  ExpectRefused(CompileError(with("{unit.name}", "{unit.name")), "block \"body\"", "left open");
  ExpectRefused(CompileError(with("{unit.name}", "{unit.name|lower}")), "block \"body\"",
                "unknown filter \"lower\"");
  ExpectRefused(CompileError(with("{unit.name}", "Nguyễn 李")), "block \"body\"", "U+674E");
  ExpectRefused(
      CompileError(with("paragraph { text: \"{unit.name}\" }", "table { each: \"attachments\" }")),
      "block \"body\"", "a table with no columns");
  ExpectRefused(CompileError(with("paragraph { text: \"{unit.name}\" }",
                                  "table { each: \"grades\" columns { value: \"{n}\" } }")),
                "block \"body\"", "unknown list \"grades\"");
  ExpectRefused(
      CompileError(with("paragraph { text: \"{unit.name}\" }",
                        "table { each: \"attachments\" columns { value: \"{item.size}\" } }")),
      "block \"body\" columns[0]", "have no field \"size\"");
  ExpectRefused(CompileError(with("id: \"body\"", "id: \"body\" indent: 400 width: 200")),
                "block \"body\"", "beyond the page's margins");
  ExpectRefused(CompileError(with("paragraph { text: \"{unit.name}\" }",
                                  "paragraph { text: \"x\" style { color: \"red\" } }")),
                "block \"body\"", "color \"red\" is not #rrggbb");
  ExpectRefused(CompileError(with("x: 330", "x: 500")), "slots[0] \"head\"",
                "on the page");
  ExpectRefused(CompileError(with("signer: SIGNER_ACTOR", "signer: SIGNER_UNSPECIFIED")),
                "slots[0] \"head\"", "names no signer");
  ExpectRefused(CompileError(absl::StrCat(kMinimal,
                                          "slots { id: \"seal\" signer: "
                                          "SIGNER_UNIT_SEAL over: \"principal\" }")),
                "slots[1] \"seal\"", "that slot must come first");
  ExpectRefused(CompileError(with("side: 120", "side: 10")), "reference", "at least 40 points");
  // A placed text that cannot fit even at the smallest size, with names as
  // long as real ones.
  ExpectRefused(CompileError(absl::StrCat(kMinimal,
                                          "placed { id: \"issuer\" text: "
                                          "\"{unit.name} {unit.name} {unit.name} "
                                          "{unit.name} {unit.name} {unit.name}\" "
                                          "x: 85 y: 5 width: 60 }")),
                "placed \"issuer\"", "does not fit on the page");
  ExpectRefused(CompileError(with("kind: \"note\"", "kind: \"Note!\"")), "template",
                "is not [a-z0-9_]+");
}

TEST(TemplateRenderTest, BadValues_InvalidArgumentNamingTheField) {
  auto layout = Compiled(DiplomaTemplate(), DiplomaCatalog());
  ASSERT_NE(layout, nullptr);
  DocumentData data = DiplomaData();
  data.fields["graduate.school"] = "Tr\xC6\xB0\xE1\xBB";  // truncated UTF-8 sequence
  ExpectRefused(layout->Render(data).status(), "graduate.school", "is not valid UTF-8");
  data = DiplomaData();
  data.fields["graduate.full_name"] = "Nguyễn 李";
  ExpectRefused(layout->Render(data).status(), "graduate.full_name", "holds U+674E");
  data = DiplomaData();
  data.fields["unit.place"] = "Hà\nNội";
  ExpectRefused(layout->Render(data).status(), "unit.place", "control character");
  data = DiplomaData();
  data.fields["dossier.code"] = "HN/../x";
  ExpectRefused(layout->Render(data).status(), "dossier.code", "may hold only");
  data = DiplomaData();
  data.fields["graduate.full_name"] = std::string(5000, 'a');
  ExpectRefused(layout->Render(data).status(), "graduate.full_name", "longer than");
  // A field the template does not show is not its business.
  data = DiplomaData();
  data.fields["form.unused"] = "Tr\xC6\xB0\xE1\xBB";
  EXPECT_TRUE(layout->Render(data).ok());
}

TEST(FormatVietnamTimeTest, ShowsUtcPlusSeven) {
  EXPECT_EQ(FormatVietnamTime(
                absl::FromCivil(absl::CivilSecond(2026, 11, 23, 8, 5, 59), absl::UTCTimeZone())),
            "23/11/2026 15:05");
  EXPECT_EQ(FormatVietnamTime(
                absl::FromCivil(absl::CivilSecond(2026, 12, 31, 17, 0, 0), absl::UTCTimeZone())),
            "01/01/2027 00:00");
}

TEST(LongVietnameseDateTest, UsesTheLeadingZerosOfDecree30) {
  EXPECT_EQ(LongVietnameseDate(absl::CivilDay(2027, 2, 5)), "ngày 05 tháng 02 năm 2027");
  EXPECT_EQ(LongVietnameseDate(absl::CivilDay(2027, 3, 9)), "ngày 09 tháng 3 năm 2027");
  EXPECT_EQ(LongVietnameseDate(absl::CivilDay(2026, 11, 23)), "ngày 23 tháng 11 năm 2026");
}

}  // namespace
}  // namespace motcua::signing
