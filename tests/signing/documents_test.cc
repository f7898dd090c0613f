#include "signing/documents.h"

#include <openssl/evp.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "podofo/podofo.h"
#include "tests/signing/pdf_tools.h"

namespace motcua::signing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace testing_tools;

DiplomaRecord SampleRecord() {
  DiplomaRecord record;
  record.holder_name = "Nguyễn Thị Hồng Nhung";
  record.date_of_birth = "05/03/2008";
  record.place_of_birth = "Thành phố Hồ Chí Minh";
  record.school = "Trường THPT Chu Văn An";
  record.graduation_year = 2026;
  record.classification = "Khá";
  record.diploma_number = "A0123456";
  record.register_number = "2026/THPT-0042";
  return record;
}

DossierReceipt SampleReceipt() {
  DossierReceipt receipt;
  receipt.dossier_code = "HN-SGDDT-20261123-0001";
  receipt.document_id = "receipt";
  receipt.parent_unit = "Ủy ban nhân dân thành phố Hà Nội";
  receipt.issuing_unit = "Sở Giáo dục và Đào tạo Hà Nội";
  receipt.procedure_name = "Cấp bản sao văn bằng, chứng chỉ từ sổ gốc";
  receipt.applicant_name = "Nguyễn Thị Hồng Nhung";
  receipt.received_at = "23/11/2026 15:05";
  receipt.appointment_at = "26/11/2026 16:00";
  receipt.documents_received = {"Đơn đề nghị cấp bản sao văn bằng từ sổ gốc",
                                "Căn cước công dân (bản sao)"};
  receipt.receiving_officer = "Trần Văn Bình";
  return receipt;
}

RegisterCopy SampleCopy() {
  RegisterCopy copy;
  copy.dossier_code = "HN-SGDDT-20261123-0001";
  copy.document_id = "copy-1";
  copy.parent_unit = "Ủy ban nhân dân thành phố Hà Nội";
  copy.issuing_unit = "Sở Giáo dục và Đào tạo Hà Nội";
  copy.diploma_name = "Bằng tốt nghiệp trung học phổ thông";
  copy.record = SampleRecord();
  copy.signer_title = "Giám đốc";
  copy.place = "Hà Nội";
  copy.issued_on = absl::CivilDay(2026, 11, 23);
  return copy;
}

Diploma SampleDiploma() {
  Diploma diploma;
  diploma.dossier_code = "HN-SGDDT-20261123-0002";
  diploma.document_id = "diploma-1";
  diploma.issuing_unit = "Sở Giáo dục và Đào tạo Hà Nội";
  diploma.record = SampleRecord();
  diploma.signer_title = "Giám đốc";
  diploma.place = "Hà Nội";
  diploma.issued_on = absl::CivilDay(2026, 11, 23);
  return diploma;
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

std::vector<std::pair<std::string, RenderedDocument>> RenderAll() {
  std::vector<std::pair<std::string, RenderedDocument>> all;
  absl::StatusOr<RenderedDocument> receipt = RenderReceipt(SampleReceipt());
  absl::StatusOr<RenderedDocument> copy = RenderRegisterCopy(SampleCopy());
  absl::StatusOr<RenderedDocument> diploma = RenderDiploma(SampleDiploma());
  EXPECT_TRUE(receipt.ok()) << receipt.status();
  EXPECT_TRUE(copy.ok()) << copy.status();
  EXPECT_TRUE(diploma.ok()) << diploma.status();
  if (receipt.ok()) all.emplace_back("receipt", *receipt);
  if (copy.ok()) all.emplace_back("copy", *copy);
  if (diploma.ok()) all.emplace_back("diploma", *diploma);
  return all;
}

TEST_F(DocumentsTest, RenderReceipt_PdftotextGivesBackTheVietnameseText) {
  absl::StatusOr<RenderedDocument> receipt = RenderReceipt(SampleReceipt());
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  const std::string text = ExtractText(Save(*receipt, "receipt"));
  for (const char* phrase :
       {"CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
        "ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI", "SỞ GIÁO DỤC VÀ ĐÀO TẠO HÀ NỘI",
        "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", "Mã hồ sơ: HN-SGDDT-20261123-0001",
        "Nguyễn Thị Hồng Nhung", "Cấp bản sao văn bằng, chứng chỉ từ sổ gốc",
        "1. Đơn đề nghị cấp bản sao văn bằng từ sổ gốc", "2. Căn cước công dân (bản sao)",
        "23/11/2026 15:05", "26/11/2026 16:00", "Trần Văn Bình", "NGƯỜI TIẾP NHẬN HỒ SƠ"}) {
    EXPECT_THAT(text, HasSubstr(phrase));
  }
  EXPECT_THAT(text, HasSubstr("Mã tra cứu: " + receipt->reference));
}

TEST_F(DocumentsTest, RenderRegisterCopy_PdftotextGivesBackTheVietnameseText) {
  absl::StatusOr<RenderedDocument> copy = RenderRegisterCopy(SampleCopy());
  ASSERT_TRUE(copy.ok()) << copy.status();
  const std::string text = ExtractText(Save(*copy, "copy"));
  for (const char* phrase :
       {"CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Hà Nội, ngày 23 tháng 11 năm 2026",
        "BẢN SAO BẰNG TỐT NGHIỆP TRUNG HỌC PHỔ THÔNG TỪ SỔ GỐC", "Nguyễn Thị Hồng Nhung",
        "05/03/2008", "Thành phố Hồ Chí Minh", "Trường THPT Chu Văn An", "2026", "Khá", "A0123456",
        "2026/THPT-0042", "sổ gốc cấp văn bằng của Sở Giáo dục và Đào tạo Hà Nội", "GIÁM ĐỐC"}) {
    EXPECT_THAT(text, HasSubstr(phrase));
  }
  EXPECT_THAT(text, HasSubstr("Mã tra cứu: " + copy->reference));
}

TEST_F(DocumentsTest, RenderDiploma_PdftotextGivesBackTheVietnameseText) {
  absl::StatusOr<RenderedDocument> diploma = RenderDiploma(SampleDiploma());
  ASSERT_TRUE(diploma.ok()) << diploma.status();
  const std::string text = ExtractText(Save(*diploma, "diploma"));
  for (const char* phrase :
       {"CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "BẰNG TỐT NGHIỆP TRUNG HỌC PHỔ THÔNG",
        "Bằng tốt nghiệp trung học phổ thông", "Giám đốc", "GIÁM ĐỐC SỞ GIÁO DỤC VÀ ĐÀO TẠO HÀ NỘI",
        "Nguyễn Thị Hồng Nhung", "05/03/2008", "Trường THPT Chu Văn An", "Năm tốt nghiệp: 2026",
        "Xếp loại tốt nghiệp: Khá", "Số hiệu: A0123456", "Số vào sổ cấp bằng: 2026/THPT-0042",
        "Hà Nội, ngày 23 tháng 11 năm 2026"}) {
    EXPECT_THAT(text, HasSubstr(phrase));
  }
  EXPECT_THAT(text, HasSubstr("Mã tra cứu: " + diploma->reference));
}

TEST_F(DocumentsTest, Render_EmptyClassificationIsLeftOut) {
  Diploma diploma = SampleDiploma();
  diploma.record.classification = "";
  absl::StatusOr<RenderedDocument> rendered = RenderDiploma(diploma);
  ASSERT_TRUE(rendered.ok()) << rendered.status();
  EXPECT_THAT(ExtractText(Save(*rendered, "diploma")), Not(HasSubstr("Xếp loại")));
}

TEST_F(DocumentsTest, Render_PlaceAndDateUseLeadingZerosOfDecree30) {
  RegisterCopy copy = SampleCopy();
  copy.issued_on = absl::CivilDay(2027, 2, 5);
  absl::StatusOr<RenderedDocument> rendered = RenderRegisterCopy(copy);
  ASSERT_TRUE(rendered.ok()) << rendered.status();
  EXPECT_THAT(ExtractText(Save(*rendered, "feb")), HasSubstr("Hà Nội, ngày 05 tháng 02 năm 2027"));
  copy.issued_on = absl::CivilDay(2027, 3, 9);
  rendered = RenderRegisterCopy(copy);
  ASSERT_TRUE(rendered.ok()) << rendered.status();
  EXPECT_THAT(ExtractText(Save(*rendered, "mar")), HasSubstr("Hà Nội, ngày 09 tháng 3 năm 2027"));
}

TEST_F(DocumentsTest, Render_FontsAreEmbeddedSubsetsWithUnicodeMaps) {
  for (const auto& [name, document] : RenderAll()) {
    CommandResult fonts = RunTool("pdffonts '" + Save(document, name) + "'");
    ASSERT_EQ(fonts.exit_code, 0) << fonts.output;
    std::vector<std::string> lines = absl::StrSplit(fonts.output, '\n', absl::SkipEmpty());
    ASSERT_EQ(lines.size(), 4u) << name << ":\n" << fonts.output;  // header, rule, 2 faces
    for (size_t i = 2; i < lines.size(); ++i) {
      EXPECT_THAT(lines[i],
                  testing::MatchesRegex("[A-Z]{6}\\+DejaVuSerif(-Bold)? +CID TrueType +Identity-H +"
                                        "yes +yes +yes .*"))
          << name;
    }
  }
}

TEST_F(DocumentsTest, Render_Pdf17WithClassicXrefThatQpdfChecksClean) {
  for (const auto& [name, document] : RenderAll()) {
    EXPECT_EQ(document.pdf.rfind("%PDF-1.7", 0), 0u) << name;
    EXPECT_THAT(document.pdf, HasSubstr("\nxref\n")) << name;
    EXPECT_THAT(document.pdf, Not(HasSubstr("/XRef"))) << name;
    CommandResult check = RunTool("qpdf --check '" + Save(document, name) + "'");
    EXPECT_EQ(check.exit_code, 0) << name << ":\n" << check.output;
    EXPECT_THAT(check.output, HasSubstr("No syntax or stream encoding errors")) << name;
    EXPECT_THAT(check.output, Not(HasSubstr("WARNING"))) << name;
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
  for (const auto& [name, document] : RenderAll()) {
    CommandResult info = RunTool("pdfinfo '" + Save(document, name) + "'");
    ASSERT_EQ(info.exit_code, 0) << info.output;
    EXPECT_EQ(InfoField(info.output, "Pages:"), "1") << name;
    EXPECT_EQ(InfoField(info.output, "Page size:"),
              name == "diploma" ? "842 x 595 pts (A4)" : "595 x 842 pts (A4)")
        << name;
  }
}

bool Intersects(const WordBox& word, const SignatureSlot& slot) {
  return word.x_min < slot.x + slot.width && word.x_max > slot.x &&
         word.y_min < slot.y + slot.height && word.y_max > slot.y;
}

TEST_F(DocumentsTest, Render_SlotsAreBlankOnThePageWithTheTitleAbove) {
  for (const auto& [name, document] : RenderAll()) {
    ASSERT_EQ(document.slots.size(), 2u) << name;
    const SignatureSlot& signer = document.slots[0];
    const SignatureSlot& seal = document.slots[1];
    EXPECT_EQ(signer.role, "signer");
    EXPECT_EQ(seal.role, "seal");
    EXPECT_EQ(signer.title, name == "receipt" ? "NGƯỜI TIẾP NHẬN HỒ SƠ" : "GIÁM ĐỐC");
    // The seal covers about the left third of the signature.
    EXPECT_NEAR(seal.x + seal.width, signer.x + signer.width / 3, 1.0) << name;
    EXPECT_LT(seal.x, signer.x) << name;
    EXPECT_DOUBLE_EQ(seal.width, seal.height);

    double page_height = 0;
    const std::vector<WordBox> words = WordBoxes(Save(document, name), &page_height);
    ASSERT_FALSE(words.empty()) << name;
    const double page_width = name == "diploma" ? 842 : 595;
    ASSERT_NEAR(page_height, name == "diploma" ? 595 : 842, 1) << name;
    for (const SignatureSlot& slot : document.slots) {
      EXPECT_EQ(slot.page, 0);
      EXPECT_GE(slot.width, slot.role == "signer" ? 180 : 80) << name << " " << slot.role;
      EXPECT_GE(slot.height, 80) << name << " " << slot.role;
      EXPECT_GE(slot.x, 0);
      EXPECT_GE(slot.y, 0);
      EXPECT_LE(slot.x + slot.width, page_width);
      EXPECT_LE(slot.y + slot.height, page_height);
      for (const WordBox& word : words) {
        EXPECT_FALSE(Intersects(word, slot))
            << name << ": '" << word.word << "' at " << word.x_min << "," << word.y_min
            << " overlaps the " << slot.role << " slot";
      }
    }
    // The title's words sit centred just above the signer slot.
    std::vector<std::string> title_words = absl::StrSplit(signer.title, ' ');
    int found = 0;
    for (const WordBox& word : words) {
      if (word.y_min < signer.y + signer.height || word.y_min > signer.y + signer.height + 20 ||
          word.x_min < signer.x || word.x_max > signer.x + signer.width) {
        continue;
      }
      EXPECT_NE(std::find(title_words.begin(), title_words.end(), word.word), title_words.end())
          << name << ": unexpected '" << word.word << "' above the slot";
      ++found;
    }
    EXPECT_EQ(found, static_cast<int>(title_words.size())) << name;
  }
}

TEST_F(DocumentsTest, Render_PodofoCanLoadAndUpdateTheResultIncrementally) {
  // The signer loads our PDF with PoDoFo and appends an incremental update.
  for (const auto& [name, document] : RenderAll()) {
    PoDoFo::PdfMemDocument loaded;
    loaded.LoadFromBuffer(document.pdf.data(), static_cast<long>(document.pdf.size()),
                          /*bForUpdate=*/true);
    ASSERT_EQ(loaded.GetPageCount(), 1) << name;
    // Like a signature, the update adds an object. (An update that only
    // changes existing objects gets a wrong /Size from PoDoFo 0.9.8, which
    // qpdf reports whatever PDF it started from.)
    PoDoFo::PdfObject* added = loaded.GetObjects().CreateObject("Annot");
    loaded.GetInfo()->GetObject()->GetDictionary().AddKey("MotcuaTest", added->Reference());
    const std::string path = dir_ + "/" + name + "-updated.pdf";
    WriteFile(path, document.pdf);
    loaded.WriteUpdate(path.c_str());
    const std::string updated = ReadFile(path);
    EXPECT_EQ(updated.compare(0, document.pdf.size(), document.pdf), 0) << name;
    EXPECT_GT(updated.size(), document.pdf.size()) << name;
    CommandResult check = RunTool("qpdf --check '" + path + "'");
    EXPECT_EQ(check.exit_code, 0) << name << ":\n" << check.output;
    EXPECT_THAT(ExtractText(path), HasSubstr("Nguyễn Thị Hồng Nhung")) << name;
  }
}

TEST_F(DocumentsTest, Render_ConcurrentCallsGiveTheSameText) {
  const std::string expected = ExtractText(Save(*RenderDiploma(SampleDiploma()), "single"));
  std::vector<std::string> pdfs(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < pdfs.size(); ++i) {
    threads.emplace_back([&pdfs, i] {
      for (int round = 0; round < 5; ++round) {
        absl::StatusOr<RenderedDocument> rendered = RenderDiploma(SampleDiploma());
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

TEST(DocumentReferenceTest, CanonicalContent_IsTheDocumentedText) {
  DossierReceipt receipt = SampleReceipt();
  receipt.parent_unit = "";
  EXPECT_EQ(CanonicalContent(receipt),
            "motcua-document:v1 receipt\n"
            "dossier_code=HN-SGDDT-20261123-0001\n"
            "document_id=receipt\n"
            "parent_unit=\n"
            "issuing_unit=Sở Giáo dục và Đào tạo Hà Nội\n"
            "procedure_name=Cấp bản sao văn bằng, chứng chỉ từ sổ gốc\n"
            "applicant_name=Nguyễn Thị Hồng Nhung\n"
            "received_at=23/11/2026 15:05\n"
            "appointment_at=26/11/2026 16:00\n"
            "documents_received=Đơn đề nghị cấp bản sao văn bằng từ sổ gốc\n"
            "documents_received=Căn cước công dân (bản sao)\n"
            "receiving_officer=Trần Văn Bình\n");
  EXPECT_EQ(CanonicalContent(SampleDiploma()),
            "motcua-document:v1 diploma\n"
            "dossier_code=HN-SGDDT-20261123-0002\n"
            "document_id=diploma-1\n"
            "issuing_unit=Sở Giáo dục và Đào tạo Hà Nội\n"
            "holder_name=Nguyễn Thị Hồng Nhung\n"
            "date_of_birth=05/03/2008\n"
            "place_of_birth=Thành phố Hồ Chí Minh\n"
            "school=Trường THPT Chu Văn An\n"
            "graduation_year=2026\n"
            "classification=Khá\n"
            "diploma_number=A0123456\n"
            "register_number=2026/THPT-0042\n"
            "signer_title=Giám đốc\n"
            "place=Hà Nội\n"
            "issued_on=2026-11-23\n");
  EXPECT_THAT(CanonicalContent(SampleCopy()),
              testing::StartsWith("motcua-document:v1 register-copy\n"
                                  "dossier_code=HN-SGDDT-20261123-0001\n"
                                  "document_id=copy-1\n"
                                  "parent_unit=Ủy ban nhân dân thành phố Hà Nội\n"
                                  "issuing_unit=Sở Giáo dục và Đào tạo Hà Nội\n"
                                  "diploma_name=Bằng tốt nghiệp trung học phổ thông\n"
                                  "holder_name=Nguyễn Thị Hồng Nhung\n"));
}

std::string Sha256Hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(digest), length));
}

TEST(DocumentReferenceTest, Reference_IsCodesAndSha256PrefixOfCanonicalContent) {
  const Diploma diploma = SampleDiploma();
  EXPECT_EQ(DocumentReference(diploma), "motcua:v1/HN-SGDDT-20261123-0002/diploma-1/" +
                                            Sha256Hex(CanonicalContent(diploma)).substr(0, 16));
  absl::StatusOr<RenderedDocument> rendered = RenderDiploma(diploma);
  ASSERT_TRUE(rendered.ok()) << rendered.status();
  EXPECT_EQ(rendered->reference, DocumentReference(diploma));
  const DossierReceipt receipt = SampleReceipt();
  EXPECT_THAT(DocumentReference(receipt),
              testing::MatchesRegex("motcua:v1/HN-SGDDT-20261123-0001/receipt/[0-9a-f]{16}"));
  EXPECT_EQ(RenderReceipt(receipt)->reference, DocumentReference(receipt));
  EXPECT_EQ(RenderRegisterCopy(SampleCopy())->reference, DocumentReference(SampleCopy()));
}

TEST(DocumentReferenceTest, Reference_ChangesWithAnyShownField) {
  const std::string original = DocumentReference(SampleDiploma());
  Diploma changed = SampleDiploma();
  changed.record.holder_name = "Nguyễn Thị Hồng Nhụng";
  EXPECT_NE(DocumentReference(changed), original);
  changed = SampleDiploma();
  changed.record.graduation_year = 2025;
  EXPECT_NE(DocumentReference(changed), original);
  changed = SampleDiploma();
  changed.issued_on = absl::CivilDay(2026, 11, 24);
  EXPECT_NE(DocumentReference(changed), original);
  // Moving text between list items is a different content too.
  DossierReceipt a = SampleReceipt(), b = SampleReceipt();
  a.documents_received = {"x y", "z"};
  b.documents_received = {"x", "y z"};
  EXPECT_NE(DocumentReference(a), DocumentReference(b));
}

TEST(DocumentValidationTest, EmptyRequiredField_InvalidArgumentNamingIt) {
  DossierReceipt receipt = SampleReceipt();
  receipt.applicant_name = "  ";
  absl::Status status = RenderReceipt(receipt).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("applicant_name"));

  receipt = SampleReceipt();
  receipt.documents_received.clear();
  status = RenderReceipt(receipt).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("documents_received"));

  Diploma diploma = SampleDiploma();
  diploma.record.diploma_number = "";
  status = RenderDiploma(diploma).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("record.diploma_number"));

  RegisterCopy copy = SampleCopy();
  copy.signer_title = "";
  status = RenderRegisterCopy(copy).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("signer_title"));

  copy = SampleCopy();
  copy.record.graduation_year = 0;
  status = RenderRegisterCopy(copy).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("record.graduation_year"));
}

TEST(DocumentValidationTest, BadText_InvalidArgumentNamingTheField) {
  Diploma diploma = SampleDiploma();
  diploma.record.school = "Tr\xC6\xB0\xE1\xBB";  // truncated UTF-8 sequence
  absl::Status status = RenderDiploma(diploma).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("record.school is not valid UTF-8"));

  diploma = SampleDiploma();
  diploma.record.holder_name = "Nguy\xC3\xA1\xC0\x80n";  // overlong encoding of NUL
  EXPECT_EQ(RenderDiploma(diploma).status().code(), absl::StatusCode::kInvalidArgument);

  diploma = SampleDiploma();
  diploma.record.holder_name = "Nguyễn 李";
  status = RenderDiploma(diploma).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("record.holder_name holds U+674E"));

  diploma = SampleDiploma();
  diploma.place = "Hà\nNội";
  status = RenderDiploma(diploma).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("place"));

  diploma = SampleDiploma();
  diploma.dossier_code = "HN/../x";
  status = RenderDiploma(diploma).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("dossier_code"));
}

TEST(DocumentValidationTest, ContentThatOverflowsThePage_InvalidArgumentNamingIt) {
  DossierReceipt receipt = SampleReceipt();
  receipt.documents_received.assign(40, "Bản sao giấy khai sinh có chứng thực");
  absl::Status status = RenderReceipt(receipt).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("documents_received["));

  Diploma diploma = SampleDiploma();
  diploma.record.holder_name = std::string(120, 'W');  // one unbreakable word
  status = RenderDiploma(diploma).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("record.holder_name"));
}

TEST(FormatVietnamTimeTest, ShowsUtcPlusSeven) {
  EXPECT_EQ(FormatVietnamTime(
                absl::FromCivil(absl::CivilSecond(2026, 11, 23, 8, 5, 59), absl::UTCTimeZone())),
            "23/11/2026 15:05");
  EXPECT_EQ(FormatVietnamTime(
                absl::FromCivil(absl::CivilSecond(2026, 12, 31, 17, 0, 0), absl::UTCTimeZone())),
            "01/01/2027 00:00");
}

}  // namespace
}  // namespace motcua::signing
