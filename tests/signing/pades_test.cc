#include "signing/pades.h"

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "podofo/podofo.h"
#include "signing/appearance.h"
#include "signing/cades.h"
#include "signing/dev/dev_pki.h"
#include "signing/pdf_fonts.h"
#include "signing/signing_key.h"
#include "tests/signing/pdf_tools.h"
#include "tests/signing/signing_test_util.h"

namespace motcua::signing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing_util::CommandResult;
using testing_util::Quote;
using testing_util::ReadFileOrDie;
using testing_util::RunCommand;
using testing_util::SharedDevPki;
using testing_util::WriteFileOrDie;
using testing_util::fs::path;

const absl::Time kSigningTime =
    absl::FromCivil(absl::CivilSecond(2026, 11, 23, 14, 15, 0), absl::UTCTimeZone());

// The officer's box: under the title "GIÁM ĐỐC" that the document prints.
constexpr PdfBox kOfficerBox = {330, 520, 200, 90};

// A one-page A4 decision with Vietnamese text and the signer's title, written
// by PoDoFo (classic cross-reference table).
std::string MakeDecisionPdf() {
  QuietPodofo();
  PoDoFo::PdfMemDocument doc;
  PoDoFo::PdfPage* page =
      doc.CreatePage(PoDoFo::PdfPage::CreateStandardPageSize(PoDoFo::ePdfPageSize_A4));
  PoDoFo::PdfPainter painter;
  painter.SetPage(page);
  absl::StatusOr<PoDoFo::PdfFont*> font = VietnameseFont(doc, FontFace::kSerif);
  absl::StatusOr<PoDoFo::PdfFont*> bold = VietnameseFont(doc, FontFace::kSerifBold);
  EXPECT_TRUE(font.ok() && bold.ok());
  (*bold)->SetFontSize(14);
  painter.SetFont(*bold);
  painter.DrawText(200, 760, Utf8("QUYẾT ĐỊNH"));
  (*font)->SetFontSize(11);
  painter.SetFont(*font);
  painter.DrawText(60, 720, Utf8("Về việc công nhận tốt nghiệp trung học phổ thông"));
  (*bold)->SetFontSize(12);
  painter.SetFont(*bold);
  painter.DrawText(390, 620, Utf8("GIÁM ĐỐC"));
  painter.FinishPage();
  PoDoFo::PdfRefCountedBuffer buffer;
  PoDoFo::PdfOutputDevice device(&buffer);
  doc.Write(&device);
  return std::string(buffer.GetBuffer(), device.GetLength());
}

using testing_tools::EmbeddedSignature;
using testing_tools::FindSignatures;

class PadesTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = scratch_.path(); }

  std::unique_ptr<SigningKey> Load(const std::string& name) {
    absl::StatusOr<std::unique_ptr<SigningKey>> key = SigningKey::LoadPkcs12(
        (SharedDevPki() / "signers" / (name + ".p12")).string(), kDevPkcs12Password);
    EXPECT_TRUE(key.ok()) << key.status();
    return key.ok() ? std::move(*key) : nullptr;
  }

  OfficerAppearance Officer() {
    OfficerAppearance officer;
    officer.box = kOfficerBox;
    officer.signature_png = ReadFileOrDie(SharedDevPki() / "images/head-signature.png");
    officer.signer_name = "Nguyễn Văn Đức";
    return officer;
  }

  SignatureRequest OfficerRequest() {
    SignatureRequest request;
    request.field_name = "Officer";
    request.signing_time = kSigningTime;
    request.reason = "Phê duyệt kết quả";
    request.location = "Hà Nội";
    request.appearance = Officer();
    return request;
  }

  SignatureRequest SealRequest() {
    absl::StatusOr<PdfBox> box = SealBoxFor(Officer());
    EXPECT_TRUE(box.ok()) << box.status();
    SealAppearance seal;
    seal.box = *box;
    seal.seal_png = ReadFileOrDie(SharedDevPki() / "images/HN-SGDDT-seal.png");
    SignatureRequest request;
    request.field_name = "Seal";
    request.signing_time = kSigningTime + absl::Minutes(5);
    request.reason = "Đóng dấu";
    request.appearance = seal;
    return request;
  }

  // The officer signs, then the unit's seal; both with PKCS#12 keys.
  std::string SignOfficerThenSeal(const std::string& pdf) {
    std::unique_ptr<SigningKey> head = Load("head");
    std::unique_ptr<SigningKey> seal = Load("seal-HN-SGDDT");
    EXPECT_TRUE(head != nullptr && seal != nullptr);
    absl::StatusOr<std::string> once = SignPdf(pdf, OfficerRequest(), *head);
    EXPECT_TRUE(once.ok()) << once.status();
    absl::StatusOr<std::string> twice = SignPdf(*once, SealRequest(), *seal);
    EXPECT_TRUE(twice.ok()) << twice.status();
    return twice.ok() ? *twice : "";
  }

  path Write(const std::string& name, const std::string& contents) {
    WriteFileOrDie(dir_ / name, contents);
    return dir_ / name;
  }

  // pdfsig's report split per signature ("Signature #1:" ...).
  std::vector<std::string> PdfsigReports(const path& pdf) {
    CommandResult r = testing_util::Pdfsig(pdf);
    std::vector<std::string> parts = absl::StrSplit(r.output, "Signature #");
    parts.erase(parts.begin());
    return parts;
  }

  // `openssl cms -verify` of one embedded signature against its signed bytes.
  std::string OpensslVerify(const EmbeddedSignature& sig) {
    path cms = Write("sig.der", sig.cms);
    path content = Write("signed.bin", sig.signed_bytes);
    return RunCommand("openssl cms -verify -binary -inform DER -in " + Quote(cms.string()) +
                      " -content " + Quote(content.string()) + " -CAfile " +
                      Quote((SharedDevPki() / "ca.crt").string()) + " -purpose any -out /dev/null")
        .output;
  }

  void ExpectOfficerThenSealValid(const std::string& signed_pdf) {
    path file = Write("signed.pdf", signed_pdf);
    std::vector<std::string> reports = PdfsigReports(file);
    ASSERT_EQ(reports.size(), 2u) << testing_util::Pdfsig(file).output;
    for (const std::string& report : reports) {
      EXPECT_THAT(report, HasSubstr("Signature is Valid")) << report;
      EXPECT_THAT(report, HasSubstr("Signature Type: ETSI.CAdES.detached")) << report;
    }
    // Later signatures: pdfsig 22.12 reads a stale NSS error for the chain
    // (SIGNING_NOTES.md); openssl below checks every chain.
    EXPECT_THAT(reports[0], HasSubstr("Certificate is Trusted")) << reports[0];
    EXPECT_THAT(reports[0], HasSubstr("Common Name: head.hn"));
    EXPECT_THAT(reports[1], HasSubstr("Common Name: HN-SGDDT"));
    EXPECT_THAT(reports[0], HasSubstr("Not total document signed"));
    EXPECT_THAT(reports[1], HasSubstr("Total document signed"));

    CommandResult check = RunCommand("qpdf --check " + Quote(file.string()));
    EXPECT_EQ(check.exit_code, 0) << check.output;
    EXPECT_THAT(check.output, HasSubstr("No syntax or stream encoding errors"));

    std::vector<EmbeddedSignature> sigs = FindSignatures(signed_pdf);
    ASSERT_EQ(sigs.size(), 2u);
    EXPECT_LT(sigs[0].byte_range[2] + sigs[0].byte_range[3],
              static_cast<int64_t>(signed_pdf.size()))
        << "the first signature covers its own revision only";
    EXPECT_EQ(sigs[1].byte_range[2] + sigs[1].byte_range[3],
              static_cast<int64_t>(signed_pdf.size()));
    for (const EmbeddedSignature& sig : sigs) {
      EXPECT_THAT(OpensslVerify(sig), HasSubstr("Verification successful"));
    }
  }

  testing_util::ScopedTempDir scratch_{"pades"};
  path dir_;
};

TEST_F(PadesTest, OfficerThenSeal_BothValidForPdfsigQpdfAndOpenssl) {
  ExpectOfficerThenSealValid(SignOfficerThenSeal(MakeDecisionPdf()));
}

TEST_F(PadesTest, OfficerThenSeal_OnCrossReferenceStreamSource_BothValid) {
  path plain = Write("plain.pdf", MakeDecisionPdf());
  path streams = dir_ / "streams.pdf";
  CommandResult r = RunCommand("qpdf --object-streams=generate " + Quote(plain.string()) + " " +
                               Quote(streams.string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string source = ReadFileOrDie(streams);
  ASSERT_THAT(source, HasSubstr("/XRef")) << "the source must use a cross-reference stream";
  ExpectOfficerThenSealValid(SignOfficerThenSeal(source));
}

TEST_F(PadesTest, VisibleAppearance_TextIsExtractableUnicode) {
  path file = Write("signed.pdf", SignOfficerThenSeal(MakeDecisionPdf()));
  CommandResult text = RunCommand("pdftotext " + Quote(file.string()) + " -");
  ASSERT_EQ(text.exit_code, 0) << text.output;
  EXPECT_THAT(text.output, HasSubstr("QUYẾT ĐỊNH"));
  EXPECT_THAT(text.output, HasSubstr("Nguyễn Văn Đức")) << "the signer's name under the image";
  CommandResult fonts = RunCommand("pdffonts " + Quote(file.string()));
  EXPECT_THAT(fonts.output, HasSubstr("DejaVu"));
  EXPECT_THAT(fonts.output, Not(HasSubstr(" no  "))) << "every font embedded: " << fonts.output;
}

// The officer's image and the seal, each with its alpha as a soft mask, in
// every document: the images are encoded once per process and reused.
TEST_F(PadesTest, VisibleAppearance_ImagesWithSoftMaskInEveryDocument) {
  for (const char* name : {"first.pdf", "second.pdf"}) {
    path file = Write(name, SignOfficerThenSeal(MakeDecisionPdf()));
    CommandResult list = RunCommand("pdfimages -list " + Quote(file.string()));
    ASSERT_EQ(list.exit_code, 0) << list.output;
    std::vector<std::string> images;  // "type width height color", one per image
    std::vector<std::string> lines = absl::StrSplit(list.output, '\n', absl::SkipEmpty());
    for (size_t i = 2; i < lines.size(); ++i) {  // after the two header lines
      std::vector<std::string> f = absl::StrSplit(lines[i], ' ', absl::SkipEmpty());
      if (f.size() > 5) images.push_back(absl::StrJoin({f[2], f[3], f[4], f[5]}, " "));
    }
    EXPECT_THAT(images, ::testing::ElementsAre("image 360 140 rgb", "smask 360 140 gray",
                                               "image 240 240 rgb", "smask 240 240 gray"))
        << name << ":\n"
        << list.output;
  }
}

TEST_F(PadesTest, SignatureDictionary_HasVietnamTimeAndCadesSubFilter) {
  std::unique_ptr<SigningKey> head = Load("head");
  ASSERT_NE(head, nullptr);
  absl::StatusOr<PreparedSignature> prepared =
      PrepareSignature(MakeDecisionPdf(), OfficerRequest());
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  // PoDoFo writes compactly ("/SubFilter/ETSI..."); the PDF is too big to print.
  const std::string& pdf = prepared->pdf;
  EXPECT_NE(pdf.find("/M(D:20261123211500+07'00')"), std::string::npos);
  EXPECT_NE(pdf.find("/SubFilter/ETSI.CAdES.detached"), std::string::npos);
  EXPECT_EQ(pdf.find("adbe.pkcs7.detached"), std::string::npos);
  EXPECT_EQ(pdf.find("HERE_WILL_BE_SIGNATURE"), std::string::npos) << "placeholder zeroed";
  const int64_t* br = prepared->byte_range;
  EXPECT_EQ(pdf.substr(br[1] + 1, br[2] - br[1] - 2), std::string(br[2] - br[1] - 2, '0'));
  EXPECT_EQ(br[2] - br[1] - 2, 2 * 16 * 1024) << "16 KiB reserved, hex";
  EXPECT_EQ(prepared->document_sha256.size(), 32u);
}

TEST_F(PadesTest, ConcurrentSignatures_OnSeparateDocuments_AllValid) {
  const std::string source = MakeDecisionPdf();
  const std::vector<std::string> signers = {"head", "receiver", "head-hp", "seal-HP-SGDDT"};
  std::vector<std::unique_ptr<SigningKey>> keys;
  for (const std::string& name : signers) keys.push_back(Load(name));
  std::vector<absl::StatusOr<std::string>> results(signers.size(), absl::UnknownError("unset"));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < signers.size(); ++i) {
    threads.emplace_back([&, i] {
      if (keys[i] != nullptr) results[i] = SignPdf(source, OfficerRequest(), *keys[i]);
    });
  }
  for (std::thread& t : threads) t.join();
  for (size_t i = 0; i < signers.size(); ++i) {
    ASSERT_TRUE(results[i].ok()) << signers[i] << ": " << results[i].status();
    std::vector<EmbeddedSignature> sigs = FindSignatures(*results[i]);
    ASSERT_EQ(sigs.size(), 1u) << signers[i];
    EXPECT_THAT(OpensslVerify(sigs[0]), HasSubstr("Verification successful")) << signers[i];
  }
}

TEST_F(PadesTest, ChangedByteInSignedRange_PdfsigReportsInvalid) {
  std::unique_ptr<SigningKey> head = Load("head");
  ASSERT_NE(head, nullptr);
  absl::StatusOr<std::string> signed_pdf = SignPdf(MakeDecisionPdf(), OfficerRequest(), *head);
  ASSERT_TRUE(signed_pdf.ok()) << signed_pdf.status();
  ASSERT_THAT(PdfsigReports(Write("good.pdf", *signed_pdf)),
              ::testing::ElementsAre(HasSubstr("Signature is Valid")));

  // A byte of the binary comment on the second line: the file still parses,
  // but its bytes are no longer those signed.
  std::string tampered = *signed_pdf;
  size_t comment = tampered.find('\n') + 2;
  ASSERT_LT(comment, static_cast<size_t>(FindSignatures(tampered)[0].byte_range[1]));
  tampered[comment] ^= 0x01;
  std::vector<std::string> reports = PdfsigReports(Write("bad.pdf", tampered));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_THAT(reports[0], Not(HasSubstr("Signature is Valid")));
  EXPECT_THAT(reports[0], HasSubstr("Digest Mismatch"));
}

TEST_F(PadesTest, TwoPhase_WithSoftHsmKey_PdfsigValid) {
  testing_util::SoftHsmToken token;
  absl::StatusOr<std::unique_ptr<SigningKey>> key = SigningKey::OpenPkcs11Key(
      {testing_util::kSoftHsmModule, testing_util::SoftHsmToken::kTokenLabel,
       testing_util::SoftHsmToken::kKeyLabel, testing_util::SoftHsmToken::kPin,
       token.chain_pem().string()});
  ASSERT_TRUE(key.ok()) << key.status();
  X509* cert = (*key)->certificate();

  // Phase 1: the server prepares; only the certificate is known.
  absl::StatusOr<PreparedSignature> prepared =
      PrepareSignature(MakeDecisionPdf(), OfficerRequest());
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  absl::StatusOr<std::string> attrs = PrepareSignedAttributes(cert, prepared->document_sha256);
  ASSERT_TRUE(attrs.ok()) << attrs.status();
  // The client's token signs the attribute bytes.
  absl::StatusOr<std::string> value = (*key)->Sign(*attrs);
  ASSERT_TRUE(value.ok()) << value.status();
  // Phase 2: the server assembles and embeds.
  absl::StatusOr<std::string> cms = AssembleSignedData(cert, (*key)->chain(), *attrs, *value);
  ASSERT_TRUE(cms.ok()) << cms.status();
  absl::StatusOr<std::string> signed_pdf = EmbedSignature(*prepared, *cms);
  ASSERT_TRUE(signed_pdf.ok()) << signed_pdf.status();

  std::vector<std::string> reports = PdfsigReports(Write("two-phase.pdf", *signed_pdf));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_THAT(reports[0], HasSubstr("Signature is Valid"));
  EXPECT_THAT(reports[0], HasSubstr("Certificate is Trusted"));
  EXPECT_THAT(reports[0], HasSubstr("HN-SGDDT token seal-key"));
  std::vector<EmbeddedSignature> sigs = FindSignatures(*signed_pdf);
  ASSERT_EQ(sigs.size(), 1u);
  EXPECT_THAT(OpensslVerify(sigs[0]), HasSubstr("Verification successful"));

  // A value made by another key is refused before anything is embedded.
  std::unique_ptr<SigningKey> other = Load("head");
  ASSERT_NE(other, nullptr);
  absl::StatusOr<std::string> wrong = other->Sign(*attrs);
  ASSERT_TRUE(wrong.ok());
  EXPECT_FALSE(VerifySignatureValue(cert, *attrs, *wrong));
  absl::StatusOr<std::string> refused = AssembleSignedData(cert, (*key)->chain(), *attrs, *wrong);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(PadesTest, BaselineT_TimestampedCmsInPdf_IsValid) {
  testing_util::TestTsa tsa(dir_ / "tsa");
  std::unique_ptr<SigningKey> seal = Load("seal-HN-SGDDT");
  ASSERT_NE(seal, nullptr);
  absl::StatusOr<PreparedSignature> prepared = PrepareSignature(MakeDecisionPdf(), SealRequest());
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  absl::StatusOr<std::string> cms = SignDetached(*seal, prepared->document_sha256);
  ASSERT_TRUE(cms.ok()) << cms.status();
  absl::StatusOr<std::string> value = SignatureValue(*cms);
  ASSERT_TRUE(value.ok());
  absl::StatusOr<std::string> request = BuildTimestampRequest(*value);
  ASSERT_TRUE(request.ok());
  absl::StatusOr<std::string> stamped = AddSignatureTimestamp(*cms, tsa.Stamp(*request));
  ASSERT_TRUE(stamped.ok()) << stamped.status();
  absl::StatusOr<std::string> signed_pdf = EmbedSignature(*prepared, *stamped);
  ASSERT_TRUE(signed_pdf.ok()) << signed_pdf.status();

  EXPECT_THAT(PdfsigReports(Write("b-t.pdf", *signed_pdf)),
              ::testing::ElementsAre(HasSubstr("Signature is Valid")));
  std::vector<EmbeddedSignature> sigs = FindSignatures(*signed_pdf);
  ASSERT_EQ(sigs.size(), 1u);
  EXPECT_EQ(sigs[0].cms, *stamped);
  EXPECT_THAT(OpensslVerify(sigs[0]), HasSubstr("Verification successful"));
}

TEST_F(PadesTest, Embed_CmsLargerThanReserved_IsInvalidArgument) {
  std::unique_ptr<SigningKey> head = Load("head");
  ASSERT_NE(head, nullptr);
  SignatureRequest request = OfficerRequest();
  request.reserved_size = 600;
  absl::StatusOr<PreparedSignature> prepared = PrepareSignature(MakeDecisionPdf(), request);
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  absl::StatusOr<std::string> cms = SignDetached(*head, prepared->document_sha256);
  ASSERT_TRUE(cms.ok());
  absl::StatusOr<std::string> embedded = EmbedSignature(*prepared, *cms);
  ASSERT_FALSE(embedded.ok());
  EXPECT_EQ(embedded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(embedded.status().message()), HasSubstr("reserved"));
}

TEST_F(PadesTest, Embed_CmsOverAnotherDocument_IsInvalidArgument) {
  std::unique_ptr<SigningKey> head = Load("head");
  ASSERT_NE(head, nullptr);
  absl::StatusOr<PreparedSignature> prepared =
      PrepareSignature(MakeDecisionPdf(), OfficerRequest());
  ASSERT_TRUE(prepared.ok());
  absl::StatusOr<std::string> cms = SignDetached(*head, std::string(32, 'x'));
  ASSERT_TRUE(cms.ok());
  EXPECT_EQ(EmbedSignature(*prepared, *cms).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(PadesTest, FieldNameInUse_IsInvalidArgument) {
  std::unique_ptr<SigningKey> head = Load("head");
  ASSERT_NE(head, nullptr);
  absl::StatusOr<std::string> once = SignPdf(MakeDecisionPdf(), OfficerRequest(), *head);
  ASSERT_TRUE(once.ok()) << once.status();
  absl::StatusOr<PreparedSignature> again = PrepareSignature(*once, OfficerRequest());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(again.status().message()), HasSubstr("Officer"));
}

TEST_F(PadesTest, ReservedSizeOutOfRange_IsInvalidArgument) {
  SignatureRequest request = OfficerRequest();
  request.reserved_size = 0;
  EXPECT_EQ(PrepareSignature(MakeDecisionPdf(), request).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(PadesTest, NotAPdf_IsInvalidArgument) {
  EXPECT_EQ(PrepareSignature("hello", OfficerRequest()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(PadesTest, AttachmentAppearance_OrganisationAndTimeAtTopRightOfPageOne) {
  std::unique_ptr<SigningKey> seal = Load("seal-HN-SGDDT");
  ASSERT_NE(seal, nullptr);
  SignatureRequest request;
  request.field_name = "Attachment";
  request.signing_time = kSigningTime;
  request.appearance = AttachmentAppearance{"Sở Giáo dục và Đào tạo Hà Nội", "Số: 12/QĐ-SGDĐT"};
  absl::StatusOr<std::string> signed_pdf = SignPdf(MakeDecisionPdf(), request, *seal);
  ASSERT_TRUE(signed_pdf.ok()) << signed_pdf.status();
  path file = Write("attachment.pdf", *signed_pdf);
  EXPECT_THAT(PdfsigReports(file), ::testing::ElementsAre(HasSubstr("Signature is Valid")));

  CommandResult text = RunCommand("pdftotext -f 1 -l 1 " + Quote(file.string()) + " -");
  EXPECT_THAT(text.output, HasSubstr("Sở Giáo dục và Đào tạo Hà Nội"));
  EXPECT_THAT(text.output, HasSubstr("Số: 12/QĐ-SGDĐT"));
  EXPECT_THAT(text.output, HasSubstr("23/11/2026 21:15:00 +07:00"));
  // Top right: pdftotext -bbox gives the words' boxes (y grows downwards).
  CommandResult boxes = RunCommand("pdftotext -bbox -f 1 -l 1 " + Quote(file.string()) + " -");
  size_t word = boxes.output.find(">21:15:00<");
  ASSERT_NE(word, std::string::npos) << boxes.output;
  size_t line_start = boxes.output.rfind("<word", word);
  double x_min = 0, y_min = 0;
  ASSERT_EQ(
      sscanf(boxes.output.c_str() + line_start, "<word xMin=\"%lf\" yMin=\"%lf\"", &x_min, &y_min),
      2);
  EXPECT_GT(x_min, 595.0 / 2) << "right half of an A4 page";
  EXPECT_LT(y_min, 842.0 / 6) << "top of the page";
}

TEST_F(PadesTest, AppearanceOnMissingPage_IsInvalidArgumentNamingThePage) {
  SignatureRequest request = OfficerRequest();
  std::get<OfficerAppearance>(*request.appearance).page = 4;
  absl::StatusOr<PreparedSignature> prepared = PrepareSignature(MakeDecisionPdf(), request);
  ASSERT_FALSE(prepared.ok());
  EXPECT_EQ(prepared.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(prepared.status().message()), HasSubstr("page 5"));
}

TEST_F(PadesTest, SignatureImageNotPng_IsInvalidArgument) {
  SignatureRequest request = OfficerRequest();
  std::get<OfficerAppearance>(*request.appearance).signature_png = "GIF89a...";
  EXPECT_EQ(PrepareSignature(MakeDecisionPdf(), request).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(PadesTest, OfficerAppearance_NameIsDrawnUnderTheImageInsideTheBox) {
  std::unique_ptr<SigningKey> head = Load("head");
  ASSERT_NE(head, nullptr);
  absl::StatusOr<std::string> signed_pdf = SignPdf(MakeDecisionPdf(), OfficerRequest(), *head);
  ASSERT_TRUE(signed_pdf.ok()) << signed_pdf.status();
  CommandResult boxes =
      RunCommand("pdftotext -bbox " + Quote(Write("officer.pdf", *signed_pdf).string()) + " -");
  size_t word = boxes.output.find(">Nguyễn<");
  ASSERT_NE(word, std::string::npos) << boxes.output;
  double x_min = 0, y_min = 0, x_max = 0, y_max = 0;
  ASSERT_EQ(sscanf(boxes.output.c_str() + boxes.output.rfind("<word", word),
                   "<word xMin=\"%lf\" yMin=\"%lf\" xMax=\"%lf\" yMax=\"%lf\"", &x_min, &y_min,
                   &x_max, &y_max),
            4);
  // pdftotext's y grows downwards from the top of the 842-point page; the
  // name lies in the box's bottom 16-point band, under the image.
  const double band_top = 842 - (kOfficerBox.y + 16);
  const double box_bottom = 842 - kOfficerBox.y;
  EXPECT_GE(x_min, kOfficerBox.x);
  EXPECT_LE(x_max, kOfficerBox.x + kOfficerBox.width);
  EXPECT_GE(y_min, band_top - 2);
  EXPECT_LE(y_max, box_bottom + 2);
}

TEST(AppearanceTest, SealBox_CoversTheLeftThirdOfTheSignatureImage) {
  OfficerAppearance officer;
  officer.box = kOfficerBox;
  officer.signature_png = ReadFileOrDie(SharedDevPki() / "images/head-signature.png");
  absl::StatusOr<PdfBox> seal = SealBoxFor(officer);
  ASSERT_TRUE(seal.ok()) << seal.status();
  // The dev signature image is 360x140: it fills the box's height above the
  // 16-point name band, so it is 74 points tall and 190.3 wide, centred.
  const double image_h = 90 - 16;
  const double image_w = image_h * 360 / 140;
  const double image_x = 330 + (200 - image_w) / 2;
  EXPECT_NEAR(seal->height, image_h, 1e-6);
  EXPECT_NEAR(seal->width, seal->height, 1e-6);
  EXPECT_NEAR(seal->x + seal->width, image_x + image_w / 3, 1e-6);
  EXPECT_NEAR(seal->y, 520 + 16, 1e-6);
}

TEST(AppearanceTest, VietnamDisplayTime_IsUtcPlusSeven) {
  EXPECT_EQ(VietnamDisplayTime(kSigningTime), "23/11/2026 21:15:00 +07:00");
}

}  // namespace
}  // namespace motcua::signing
