#include "signing/pdf_revisions.h"

#include <random>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "podofo/podofo.h"
#include "tests/signing/verifier_fixtures.h"

namespace motcua::signing {
namespace {

using ::testing::HasSubstr;
using namespace fixtures;  // NOLINT: test helpers

std::vector<std::string> Flagged(const PdfStructure& s, int revision) {
  std::vector<std::string> out;
  for (const PdfRevisionChanges& changes : s.changes) {
    if (changes.revision != revision) continue;
    for (const PdfObjectChange& change : changes.changes) {
      if (change.flagged) out.push_back(change.description);
    }
  }
  return out;
}

HandPdf SignedOnce() {
  HandPdf pdf = MinimalPdf();
  SignHand(&pdf, Pki().signer.get(), Pki().signer_key.get(), {});
  return pdf;
}

TEST(PdfRevisionsTest, UnsignedPdf_OneRevisionNoSignatures) {
  absl::StatusOr<PdfStructure> s = ParsePdfRevisions(MinimalPdf().bytes);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->revisions.size(), 1u);
  EXPECT_EQ(s->revisions[0].end, MinimalPdf().bytes.size());
  EXPECT_TRUE(s->signatures.empty());
  EXPECT_TRUE(s->changes.empty());
}

TEST(PdfRevisionsTest, SignedOnce_FindsSignatureDictionaryAndItsRevision) {
  HandPdf pdf = SignedOnce();
  absl::StatusOr<PdfStructure> s = ParsePdfRevisions(pdf.bytes);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->revisions.size(), 2u);
  ASSERT_EQ(s->signatures.size(), 1u);
  const PdfSignatureInfo& sig = s->signatures[0];
  EXPECT_EQ(sig.type, "Sig");
  EXPECT_EQ(sig.field_name, "Sig1");
  EXPECT_EQ(sig.sub_filter, "ETSI.CAdES.detached");
  EXPECT_EQ(sig.signing_time, "D:20261123090000+07'00'");
  EXPECT_EQ(sig.name, "motcua test");
  EXPECT_EQ(sig.reason, "test");
  EXPECT_EQ(sig.revision, 1);
  ASSERT_EQ(sig.byte_range.size(), 4u);
  EXPECT_EQ(sig.byte_range[0], 0);
  EXPECT_EQ(sig.byte_range[2] + sig.byte_range[3], static_cast<int64_t>(pdf.bytes.size()));
  EXPECT_EQ(sig.contents.size(), 8192u);
  EXPECT_EQ(sig.contents[0], '\x30');  // DER SEQUENCE
  EXPECT_THAT(Flagged(*s, 1), ::testing::IsEmpty());
}

TEST(PdfRevisionsTest, ContentChangedAfterSigning_IsFlagged) {
  HandPdf pdf = SignedOnce();
  ChangePageText(&pdf, "Evil text");
  absl::StatusOr<PdfStructure> s = ParsePdfRevisions(pdf.bytes);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->revisions.size(), 3u);
  EXPECT_THAT(Flagged(*s, 2), ::testing::ElementsAre("content stream of page 1 changed"));
  EXPECT_EQ(s->signatures[0].revision, 1);
}

TEST(PdfRevisionsTest, NewTextAnnotationOnPage_IsFlagged) {
  HandPdf pdf = SignedOnce();
  int annot = pdf.next_object++;
  std::string page = PageDict(pdf);
  page.replace(page.find("/Annots ["), 9, absl::StrCat("/Annots [", annot, " 0 R "));
  pdf.bytes = AppendUpdate(pdf.bytes,
                           {{annot,
                             "<< /Type /Annot /Subtype /Text /Rect [10 10 50 50] "
                             "/Contents (note) >>"},
                            {pdf.page, page}},
                           pdf.catalog, pdf.next_object);
  absl::StatusOr<PdfStructure> s = ParsePdfRevisions(pdf.bytes);
  ASSERT_TRUE(s.ok()) << s.status();
  std::vector<std::string> flagged = Flagged(*s, 2);
  EXPECT_THAT(flagged, ::testing::Contains("new annotation /Text"));
  EXPECT_THAT(flagged, ::testing::Contains(HasSubstr("annotations of page 1 changed")));
}

TEST(PdfRevisionsTest, InfoAndSecondSignature_AreAllowed) {
  HandPdf pdf = SignedOnce();
  int info = pdf.next_object++;
  pdf.bytes = AppendUpdate(pdf.bytes, {{info, "<< /Producer (motcua) /ModDate (D:20261123) >>"}},
                           pdf.catalog, pdf.next_object, absl::StrCat(" /Info ", info, " 0 R"));
  SignHand(&pdf, Pki().second.get(), Pki().second_key.get(), {.field = "Sig2"});
  absl::StatusOr<PdfStructure> s = ParsePdfRevisions(pdf.bytes);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->revisions.size(), 4u);
  for (int r = 1; r <= 3; ++r) EXPECT_THAT(Flagged(*s, r), ::testing::IsEmpty()) << r;
  ASSERT_EQ(s->signatures.size(), 2u);
  EXPECT_EQ(s->signatures[0].revision, 1);
  EXPECT_EQ(s->signatures[1].revision, 3);
  EXPECT_EQ(s->signatures[1].field_name, "Sig2");
}

// A later revision cannot launder a font change by calling the font /Info.
TEST(PdfRevisionsTest, FontPassedOffAsInfo_IsFlagged) {
  HandPdf pdf = SignedOnce();
  pdf.bytes =
      AppendUpdate(pdf.bytes, {{pdf.font, "<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>"}},
                   pdf.catalog, pdf.next_object, absl::StrCat(" /Info ", pdf.font, " 0 R"));
  absl::StatusOr<PdfStructure> s = ParsePdfRevisions(pdf.bytes);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_THAT(Flagged(*s, 2), ::testing::ElementsAre("object /Font changed"));
}

TEST(PdfRevisionsTest, XrefStreamBase_SignedTwice_NoFlags) {
  std::string dir = MakeTempDir("xref_stream");
  HandPdf pdf = XrefStreamPdf(dir);
  ASSERT_NE(pdf.bytes.find("/XRef"), std::string::npos);
  SignHand(&pdf, Pki().signer.get(), Pki().signer_key.get(), {});
  SignHand(&pdf, Pki().second.get(), Pki().second_key.get(), {.field = "Sig2"});
  absl::StatusOr<PdfStructure> s = ParsePdfRevisions(pdf.bytes);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->revisions.size(), 3u);
  EXPECT_THAT(Flagged(*s, 1), ::testing::IsEmpty());
  EXPECT_THAT(Flagged(*s, 2), ::testing::IsEmpty());
  EXPECT_EQ(s->signatures.size(), 2u);
}

// PoDoFo as a third producer: its first update of an xref-stream file is a
// full classic xref table without /Prev and re-emits objects that lived in
// object streams (docs/SIGNING_NOTES.md).
std::string PodofoUpdate(const std::string& dir, const HandPdf& pdf, bool change_content) {
  WriteFile(dir + "/podofo_in.pdf", pdf.bytes);
  PoDoFo::PdfError::EnableDebug(false);
  PoDoFo::PdfError::EnableLogging(false);
  PoDoFo::PdfMemDocument doc;
  doc.Load((dir + "/podofo_in.pdf").c_str(), /*bForUpdate=*/true);
  doc.GetInfo()->SetTitle(PoDoFo::PdfString("updated"));
  if (change_content) {
    const char kEvil[] = "BT /F1 24 Tf 72 720 Td (Evil) Tj ET";
    doc.GetPage(0)->GetContents()->GetStream()->Set(kEvil, sizeof kEvil - 1);
  }
  doc.WriteUpdate((dir + "/podofo_out.pdf").c_str());
  return ReadFile(dir + "/podofo_out.pdf");
}

TEST(PdfRevisionsTest, PodofoUpdateOfXrefStreamFile_WithoutPrev_FoundAndClassified) {
  std::string dir = MakeTempDir("podofo");
  HandPdf base = XrefStreamPdf(dir);
  std::string allowed = PodofoUpdate(dir, base, /*change_content=*/false);
  ASSERT_GT(allowed.size(), base.bytes.size());
  ASSERT_EQ(allowed.find("/Prev", base.bytes.size()), std::string::npos) << "premise changed";
  absl::StatusOr<PdfStructure> s = ParsePdfRevisions(allowed);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->revisions.size(), 2u);
  EXPECT_THAT(Flagged(*s, 1), ::testing::IsEmpty());

  absl::StatusOr<PdfStructure> changed =
      ParsePdfRevisions(PodofoUpdate(dir, base, /*change_content=*/true));
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_THAT(Flagged(*changed, 1), ::testing::ElementsAre("content stream of page 1 changed"));
}

// Objects an update does not redefine are taken as unchanged without being
// compared; redefined ones are compared by value, wherever they now live.
std::vector<std::string> Described(const PdfStructure& s, int revision) {
  std::vector<std::string> out;
  for (const PdfRevisionChanges& changes : s.changes) {
    if (changes.revision != revision) continue;
    for (const PdfObjectChange& change : changes.changes) out.push_back(change.description);
  }
  return out;
}

TEST(PdfRevisionsTest, PageAndContentRedefinedWithSameValue_AreNoChange) {
  HandPdf pdf = SignedOnce();
  pdf.bytes = AppendUpdate(
      pdf.bytes, {{pdf.page, PageDict(pdf)}, {pdf.content, StreamObject(PageContent("Hello motcua"))}},
      pdf.catalog, pdf.next_object);
  absl::StatusOr<PdfStructure> s = ParsePdfRevisions(pdf.bytes);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->revisions.size(), 3u);
  EXPECT_THAT(Described(*s, 2), ::testing::IsEmpty());
  EXPECT_EQ(s->signatures[0].revision, 1);
}

TEST(PdfRevisionsTest, PageRedefinedWithDifferentValue_IsFlagged) {
  HandPdf pdf = SignedOnce();
  std::string page = PageDict(pdf);
  page.replace(page.find("[0 0 595 842]"), 13, "[0 0 842 595]");
  pdf.bytes = AppendUpdate(pdf.bytes, {{pdf.page, page}}, pdf.catalog, pdf.next_object);
  absl::StatusOr<PdfStructure> s = ParsePdfRevisions(pdf.bytes);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_THAT(Flagged(*s, 2), ::testing::ElementsAre("page 1 changed: /MediaBox"));
}

// The content stream's bytes stay where they were; its length lives in
// another object, which the update redefines: the page shows other text.
TEST(PdfRevisionsTest, IndirectStreamLengthChanged_ContentIsFlagged) {
  const std::string content = PageContent("Hello motcua") + " " + PageContent("Hidden");
  HandPdf pdf;
  pdf.bytes = WritePdf({"<< /Type /Catalog /Pages 2 0 R >>",
                        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
                        "/Resources << /Font << /F1 5 0 R >> >> >>",
                        absl::StrCat("<< /Length 6 0 R >>\nstream\n", content, "\nendstream"),
                        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
                        absl::StrCat(PageContent("Hello motcua").size())});
  pdf.next_object = 7;
  pdf.bytes = AppendUpdate(pdf.bytes, {{6, absl::StrCat(content.size())}}, pdf.catalog,
                           pdf.next_object);
  absl::StatusOr<PdfStructure> s = ParsePdfRevisions(pdf.bytes);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_THAT(Flagged(*s, 1), ::testing::Contains("content stream of page 1 changed"));
}

// A stream whose declared length runs past the end of its revision reads
// more of the file in the next: the same offset is not the same content.
TEST(PdfRevisionsTest, StreamRunningPastItsRevision_IsFlagged) {
  HandPdf pdf;
  pdf.bytes = WritePdf({"<< /Type /Catalog /Pages 2 0 R >>",
                        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
                        "/Resources << /Font << /F1 5 0 R >> >> >>",
                        absl::StrCat("<< /Length 2000 >>\nstream\n", PageContent("Hello"),
                                     "\nendstream"),
                        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"});
  pdf.bytes = AppendUpdate(pdf.bytes, {{6, "<< /Producer (motcua) >>"}}, pdf.catalog, 7,
                           " /Info 6 0 R");
  absl::StatusOr<PdfStructure> s = ParsePdfRevisions(pdf.bytes);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_THAT(Flagged(*s, 1), ::testing::Contains("content stream of page 1 changed"));
}

TEST(PdfRevisionsTest, EofInsideContent_IsNotARevision) {
  HandPdf pdf = MinimalPdf("a %%EOF b");
  absl::StatusOr<PdfStructure> s = ParsePdfRevisions(pdf.bytes);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->revisions.size(), 1u);
}

TEST(PdfRevisionsTest, DssCrl_IsRead) {
  HandPdf pdf = MinimalPdf();
  SignSpec spec;
  spec.crl_in_dss = Pki().crl_none_revoked;
  SignHand(&pdf, Pki().signer.get(), Pki().signer_key.get(), spec);
  absl::StatusOr<PdfStructure> s = ParsePdfRevisions(pdf.bytes);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->dss_crls.size(), 1u);
  EXPECT_EQ(s->dss_crls[0], Pki().crl_none_revoked);
  EXPECT_THAT(Flagged(*s, 1), ::testing::IsEmpty());
}

TEST(PdfRevisionsTest, Garbage_IsInvalidArgument) {
  std::mt19937 rng(1);
  for (size_t size : {0u, 1u, 5u, 100u, 5000u}) {
    std::string bytes(size, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    absl::StatusOr<PdfStructure> s = ParsePdfRevisions(bytes);
    EXPECT_TRUE(absl::IsInvalidArgument(s.status())) << size << " " << s.status();
  }
  EXPECT_TRUE(absl::IsInvalidArgument(ParsePdfRevisions("startxref\n9\n%%EOF\n").status()));
}

TEST(PdfRevisionsTest, HostileStructures_ErrorOrResultNeverCrash) {
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_FALSE(ParsePdfRevisions(WritePdf({"<< /Type /Catalog /X " + deep + " >>"})).ok());
  // A page tree that contains itself, a field that is its own parent, a value
  // that refers to itself, a signature dictionary with a broken /ByteRange.
  absl::StatusOr<PdfStructure> s = ParsePdfRevisions(
      WritePdf({"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [3 0 R] >> >>",
                "<< /Type /Pages /Kids [2 0 R 2 0 R] /Count 2 >>",
                "<< /FT /Sig /Parent 3 0 R /V 4 0 R /T (loop) >>",
                "<< /Type /Sig /ByteRange [0 -5 99999999999999 (x)] /Contents 5 0 R /M 6 0 R >>",
                "5 0 R", "6 0 R"}));
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->signatures.size(), 1u);
  EXPECT_EQ(s->signatures[0].field_name, "loop");
  EXPECT_EQ(s->signatures[0].byte_range.size(), 4u);
  EXPECT_TRUE(s->signatures[0].contents.empty());
}

// A few bytes declaring millions of objects must not make PoDoFo allocate
// tables for them.
TEST(PdfRevisionsTest, HugeDeclaredObjectCounts_Refused) {
  std::string catalog = "%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n";
  auto with_xref = [&](int entries, int size) {
    return absl::StrCat(catalog, "xref\n0 ", entries,
                        "\n0000000000 65535 f \n0000000009 00000 n \ntrailer\n<< /Size ", size,
                        " /Root 1 0 R >>\nstartxref\n", catalog.size(), "\n%%EOF\n");
  };
  absl::StatusOr<PdfStructure> size = ParsePdfRevisions(with_xref(2, 8000000));
  EXPECT_TRUE(absl::IsInvalidArgument(size.status()));
  EXPECT_THAT(std::string(size.status().message()), HasSubstr("declares 8000000 objects"));
  EXPECT_TRUE(absl::IsInvalidArgument(ParsePdfRevisions(with_xref(8000000, 2)).status()));
}

TEST(PdfRevisionsTest, TooLarge_IsRefused) {
  ParseLimits limits;
  limits.max_file_bytes = 100;
  absl::StatusOr<PdfStructure> s = ParsePdfRevisions(MinimalPdf().bytes, limits);
  EXPECT_TRUE(absl::IsInvalidArgument(s.status()));
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("at most 100"));
}

// Every prefix of a signed file: an error or a structure, never a crash; a
// cut inside the signing update leaves only the first revision.
TEST(PdfRevisionsTest, Truncated_NeverCrashes) {
  HandPdf pdf = SignedOnce();
  size_t first_end = MinimalPdf().bytes.size() - 1;  // "%%EOF" without its newline
  for (size_t cut = 0; cut < pdf.bytes.size(); cut += 37) {
    absl::StatusOr<PdfStructure> s = ParsePdfRevisions(absl::string_view(pdf.bytes).substr(0, cut));
    if (cut < first_end) {
      EXPECT_FALSE(s.ok()) << cut;
    } else {
      ASSERT_TRUE(s.ok()) << cut << " " << s.status();
      EXPECT_EQ(s->revisions.size(), 1u) << cut;
      EXPECT_TRUE(s->signatures.empty()) << cut;
    }
  }
}

// Random byte changes anywhere in a signed file: never a crash or a hang.
TEST(PdfRevisionsTest, MutatedBytes_NeverCrash) {
  HandPdf pdf = SignedOnce();
  std::mt19937 rng(7);
  for (int round = 0; round < 300; ++round) {
    std::string bytes = pdf.bytes;
    for (int k = 0; k < 1 + round % 4; ++k) {
      bytes[rng() % bytes.size()] = static_cast<char>(rng());
    }
    (void)ParsePdfRevisions(bytes);
  }
}

}  // namespace
}  // namespace motcua::signing
