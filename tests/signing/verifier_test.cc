#include "signing/verifier.h"

#include <random>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "signing/dss.h"
#include "tests/signing/verifier_fixtures.h"

namespace motcua::signing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace fixtures;  // NOLINT: test helpers

// An NSS database trusting the test root and holding the RSA signer's key, for
// pdfsig as signer and as judge. Built once: certutil and pk12util are slow.
class NssDb {
 public:
  NssDb() {
    dir_ = MakeTempDir("nss");
    WriteFile(dir_ + "/root.pem", CertPem(Pki().root.get()));
    PKCS12* p12 = PKCS12_create("pw", "rsasigner", Pki().rsa_key.get(), Pki().rsa_signer.get(),
                                nullptr, 0, 0, 0, 0, 0);
    unsigned char* der = nullptr;
    int len = i2d_PKCS12(p12, &der);
    WriteFile(dir_ + "/signer.p12", std::string(reinterpret_cast<char*>(der), len));
    OPENSSL_free(der);
    PKCS12_free(p12);
    ok_ = RunCommand("certutil -N -d sql:" + dir_ + " --empty-password") == 0 &&
          RunCommand("certutil -A -d sql:" + dir_ + " -n root -t CT,C,C -i " + dir_ +
                     "/root.pem") == 0 &&
          RunCommand("pk12util -i " + dir_ + "/signer.p12 -d sql:" + dir_ + " -W pw") == 0;
  }
  bool ok() const { return ok_; }
  const std::string& dir() const { return dir_; }

  // pdfsig's verdict on `pdf`.
  std::string Check(const std::string& pdf) const {
    std::string path = MakeTempDir("check") + "/in.pdf";
    WriteFile(path, pdf);
    std::string output;
    RunCommand("pdfsig -nssdir sql:" + dir_ + " " + path, &output);
    return output;
  }

 private:
  std::string dir_;
  bool ok_ = false;
};

const NssDb& Nss() {
  static const NssDb* db = new NssDb();
  return *db;
}

int Count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1))
    ++n;
  return n;
}

VerifyOptions NoRevocation() {
  VerifyOptions options;
  options.check_revocation = false;
  return options;
}

// Signed by the test signer with a CRL (revoking nobody) in the CMS.
HandPdf SignedWithCrl() {
  HandPdf pdf = MinimalPdf();
  SignSpec spec;
  spec.crl_in_cms = Pki().crl_none_revoked;
  SignHand(&pdf, Pki().signer.get(), Pki().signer_key.get(), spec);
  return pdf;
}

VerificationReport MustVerify(const std::string& pdf, const TrustStore& trust,
                              const VerifyOptions& options = {}) {
  absl::StatusOr<VerificationReport> report = VerifyPdf(pdf, trust, options);
  EXPECT_TRUE(report.ok()) << report.status();
  return report.ok() ? *std::move(report) : VerificationReport{};
}

void ExpectResult(const SignatureReport& s, Indication indication, SubIndication sub) {
  EXPECT_EQ(IndicationName(s.indication), std::string(IndicationName(indication))) << s.reason;
  EXPECT_EQ(SubIndicationName(s.sub_indication), std::string(SubIndicationName(sub))) << s.reason;
}

TEST(VerifierTest, SingleSignature_TotalPassedWithSignerAndCoverage) {
  HandPdf pdf = SignedWithCrl();
  VerificationReport report = MustVerify(pdf.bytes, Pki().RootStore());
  ASSERT_EQ(report.signatures.size(), 1u);
  const SignatureReport& s = report.signatures[0];
  ExpectResult(s, Indication::kTotalPassed, SubIndication::kNone);
  EXPECT_EQ(s.signer_common_name, "Nguyễn Văn An");
  EXPECT_EQ(s.signer_subject, "CN=Nguyễn Văn An,O=motcua test");
  EXPECT_EQ(s.signer_sha256.size(), 64u);
  EXPECT_THAT(s.chain,
              ElementsAre("CN=Nguyễn Văn An,O=motcua test", "CN=motcua test root,O=motcua test"));
  EXPECT_TRUE(s.coverage.well_formed);
  EXPECT_TRUE(s.coverage.covers_whole_document);
  EXPECT_EQ(s.coverage.revision, 1);
  EXPECT_EQ(s.revocation, RevocationStatus::kGood);
  EXPECT_EQ(s.claimed_signing_time, "D:20261123090000+07'00'");
  ASSERT_TRUE(s.claimed_signing_time_parsed.has_value());
  EXPECT_EQ(*s.claimed_signing_time_parsed,
            absl::FromCivil(absl::CivilSecond(2026, 11, 23, 2, 0, 0), absl::UTCTimeZone()));
  EXPECT_FALSE(s.modified_after_signing);
  // OpenSSL's CMS_sign always adds signingTime; PAdES says /M, so we warn.
  EXPECT_THAT(s.warnings, Contains(HasSubstr("signingTime")));
  EXPECT_TRUE(report.AllPassed());

  ASSERT_TRUE(Nss().ok());
  std::string judge = Nss().Check(pdf.bytes);
  EXPECT_THAT(judge, HasSubstr("Signature is Valid"));
  EXPECT_THAT(judge, HasSubstr("Certificate is Trusted"));
  EXPECT_THAT(judge, HasSubstr("ETSI.CAdES.detached"));
}

TEST(VerifierTest, TwoSequentialSignatures_BothPass_FirstNotWholeDocument) {
  HandPdf pdf = SignedWithCrl();
  SignSpec spec;
  spec.field = "Sig2";
  spec.crl_in_cms = Pki().crl_none_revoked;
  SignHand(&pdf, Pki().second.get(), Pki().second_key.get(), spec);
  VerificationReport report = MustVerify(pdf.bytes, Pki().RootStore());
  ASSERT_EQ(report.signatures.size(), 2u);
  ExpectResult(report.signatures[0], Indication::kTotalPassed, SubIndication::kNone);
  ExpectResult(report.signatures[1], Indication::kTotalPassed, SubIndication::kNone);
  EXPECT_EQ(report.signatures[0].signer_common_name, "Nguyễn Văn An");
  EXPECT_EQ(report.signatures[1].signer_common_name, "Sở Giáo dục và Đào tạo");
  EXPECT_FALSE(report.signatures[0].coverage.covers_whole_document);
  EXPECT_TRUE(report.signatures[1].coverage.covers_whole_document);
  EXPECT_FALSE(report.signatures[0].modified_after_signing);
  EXPECT_TRUE(report.AllPassed());
  EXPECT_EQ(Count(Nss().Check(pdf.bytes), "Signature is Valid"), 2);
}

TEST(VerifierTest, XrefStreamDocument_TwoSignaturesPass) {
  HandPdf pdf = XrefStreamPdf(MakeTempDir("xs"));
  SignSpec spec;
  spec.crl_in_cms = Pki().crl_none_revoked;
  SignHand(&pdf, Pki().signer.get(), Pki().signer_key.get(), spec);
  spec.field = "Sig2";
  SignHand(&pdf, Pki().second.get(), Pki().second_key.get(), spec);
  VerificationReport report = MustVerify(pdf.bytes, Pki().RootStore());
  ASSERT_EQ(report.signatures.size(), 2u);
  EXPECT_TRUE(report.AllPassed()) << ReportToText(report);
  EXPECT_EQ(Count(Nss().Check(pdf.bytes), "Signature is Valid"), 2);
}

// pdfsig as an independent signer (adbe.pkcs7.detached, RSA: poppler 22.12
// cannot add ETSI signatures and mis-sizes ECDSA ones), signing twice.
TEST(VerifierTest, PdfsigSignedTwice_BothPassWithoutRevocationData) {
  ASSERT_TRUE(Nss().ok());
  std::string dir = MakeTempDir("pdfsig");
  WriteFile(dir + "/in.pdf", MinimalPdf().bytes);
  std::string base = "pdfsig -add-signature -nssdir sql:" + Nss().dir() + " -nick rsasigner ";
  ASSERT_EQ(
      RunCommand(base + "-new-signature-field-name First " + dir + "/in.pdf " + dir + "/one.pdf"),
      0);
  ASSERT_EQ(
      RunCommand(base + "-new-signature-field-name Second " + dir + "/one.pdf " + dir + "/two.pdf"),
      0);
  std::string pdf = ReadFile(dir + "/two.pdf");
  EXPECT_EQ(Count(Nss().Check(pdf), "Signature is Valid"), 2);

  VerificationReport report = MustVerify(pdf, Pki().RootStore(), NoRevocation());
  ASSERT_EQ(report.signatures.size(), 2u);
  for (const SignatureReport& s : report.signatures) {
    ExpectResult(s, Indication::kTotalPassed, SubIndication::kNone);
    EXPECT_EQ(s.signer_common_name, "Trần Thị Bình");
    EXPECT_EQ(s.sub_filter, "adbe.pkcs7.detached");
    EXPECT_FALSE(s.modified_after_signing) << ReportToText(report);
  }
  EXPECT_EQ(report.signatures[0].field_name, "First");
  EXPECT_EQ(report.signatures[1].field_name, "Second");
  EXPECT_FALSE(report.signatures[0].coverage.covers_whole_document);
  EXPECT_TRUE(report.signatures[1].coverage.covers_whole_document);

  // With revocation checking on (the default) and no CRL/OCSP anywhere.
  VerificationReport strict = MustVerify(pdf, Pki().RootStore());
  ASSERT_EQ(strict.signatures.size(), 2u);
  ExpectResult(strict.signatures[0], Indication::kIndeterminate, SubIndication::kTryLater);
  EXPECT_EQ(strict.signatures[0].revocation, RevocationStatus::kUnknown);
}

TEST(VerifierTest, ByteFlippedInSignedRange_HashFailure) {
  std::string pdf = FlipSignedByte(SignedWithCrl().bytes);
  VerificationReport report = MustVerify(pdf, Pki().RootStore());
  ASSERT_EQ(report.signatures.size(), 1u);
  ExpectResult(report.signatures[0], Indication::kTotalFailed, SubIndication::kHashFailure);
  EXPECT_THAT(Nss().Check(pdf), HasSubstr("Digest Mismatch"));
}

TEST(VerifierTest, ContentChangedAfterSigning_SignatureFlaggedAsModified) {
  HandPdf pdf = SignedWithCrl();
  ChangePageText(&pdf, "Evil text");
  VerificationReport report = MustVerify(pdf.bytes, Pki().RootStore());
  ASSERT_EQ(report.signatures.size(), 1u);
  const SignatureReport& s = report.signatures[0];
  ExpectResult(s, Indication::kTotalPassed, SubIndication::kNone);  // its bytes are intact
  EXPECT_TRUE(s.modified_after_signing);
  EXPECT_FALSE(s.coverage.covers_whole_document);
  EXPECT_THAT(s.later_changes, ElementsAre(HasSubstr("content stream of page 1 changed")));
  EXPECT_THAT(s.warnings, Contains(HasSubstr("modified after this signature")));
  ASSERT_EQ(report.revisions.size(), 3u);
  ASSERT_EQ(report.revisions[2].changes.size(), 1u);
  EXPECT_TRUE(report.revisions[2].changes[0].flagged);
  EXPECT_FALSE(report.AllPassed());
  EXPECT_THAT(ReportToText(report), HasSubstr("MODIFIED:"));
}

TEST(VerifierTest, UnknownRoot_NoCertificateChainFound) {
  HandPdf pdf = SignedWithCrl();
  for (bool empty : {true, false}) {
    TrustStore other;
    if (!empty) {
      ASSERT_TRUE(other.AddAnchors(CertPem(Pki().other_root.get())).ok());
    }
    VerificationReport report = MustVerify(pdf.bytes, other);
    ASSERT_EQ(report.signatures.size(), 1u);
    ExpectResult(report.signatures[0], Indication::kIndeterminate,
                 SubIndication::kNoCertificateChainFound);
    EXPECT_EQ(report.signatures[0].signer_common_name, "Nguyễn Văn An");
  }
}

TEST(VerifierTest, IntermediateInCms_ChainOfThree) {
  HandPdf pdf = MinimalPdf();
  SignSpec spec;
  spec.extra_certs = {Pki().intermediate.get()};
  SignHand(&pdf, Pki().leaf.get(), Pki().leaf_key.get(), spec);
  VerificationReport report = MustVerify(pdf.bytes, Pki().RootStore(), NoRevocation());
  ASSERT_EQ(report.signatures.size(), 1u);
  ExpectResult(report.signatures[0], Indication::kTotalPassed, SubIndication::kNone);
  EXPECT_EQ(report.signatures[0].chain.size(), 3u);
}

// No timestamp: nothing proves the signature predates expiry.
TEST(VerifierTest, ExpiredSigner_OutOfBoundsNoPoe) {
  HandPdf pdf = MinimalPdf();
  SignHand(&pdf, Pki().expired.get(), Pki().expired_key.get(), {});
  VerificationReport report = MustVerify(pdf.bytes, Pki().RootStore(), NoRevocation());
  ASSERT_EQ(report.signatures.size(), 1u);
  ExpectResult(report.signatures[0], Indication::kIndeterminate, SubIndication::kOutOfBoundsNoPoe);
  EXPECT_THAT(report.signatures[0].reason, HasSubstr("expired"));
}

// A verified timestamp after expiry proves the signature was made too late.
TEST(VerifierTest, ExpiredSignerTimestampedNow_Expired) {
  HandPdf pdf = MinimalPdf();
  SignSpec spec;
  spec.tsa_cert = Pki().tsa.get();
  spec.tsa_key = Pki().tsa_key.get();
  SignHand(&pdf, Pki().expired.get(), Pki().expired_key.get(), spec);
  VerificationReport report = MustVerify(pdf.bytes, Pki().RootStore(), NoRevocation());
  ASSERT_EQ(report.signatures.size(), 1u);
  EXPECT_TRUE(report.signatures[0].timestamp.valid) << report.signatures[0].timestamp.problem;
  ExpectResult(report.signatures[0], Indication::kTotalFailed, SubIndication::kExpired);
}

// A CRL of the test root revoking nobody, issued `after` from now: evidence
// a signature time-stamped in the meantime may rely on.
std::string CrlIssuedIn(absl::Duration after) {
  return MakeCrl(Pki().root.get(), Pki().root_key.get(), {}, absl::Now(), absl::Hours(24 * 7),
                 absl::Now() + after);
}

TEST(VerifierTest, SignatureTimestamp_VerifiedAndReported) {
  HandPdf pdf = MinimalPdf();
  SignSpec spec;
  // Dated after the time-stamp SignHand takes (a minute on, so a slow
  // machine cannot overtake it): fresh for it.
  spec.crl_in_dss = CrlIssuedIn(absl::Minutes(1));
  spec.tsa_cert = Pki().tsa.get();
  spec.tsa_key = Pki().tsa_key.get();
  absl::Time before = absl::Now() - absl::Seconds(1);
  SignHand(&pdf, Pki().signer.get(), Pki().signer_key.get(), spec);
  VerificationReport report = MustVerify(pdf.bytes, Pki().RootStore());
  ASSERT_EQ(report.signatures.size(), 1u);
  const SignatureReport& s = report.signatures[0];
  ExpectResult(s, Indication::kTotalPassed, SubIndication::kNone);
  ASSERT_TRUE(s.timestamp.present);
  EXPECT_TRUE(s.timestamp.valid) << s.timestamp.problem;
  ASSERT_TRUE(s.timestamp.gen_time.has_value());
  EXPECT_GE(*s.timestamp.gen_time, absl::FromUnixSeconds(absl::ToUnixSeconds(before)));
  EXPECT_EQ(s.timestamp.tsa_subject, "CN=motcua test TSA,O=motcua test");
  EXPECT_THAT(ReportToJson(report), HasSubstr("\"gen_time\":\"20"));

  // The TSA is not trusted without the root: the timestamp is not a proof.
  TrustStore other;
  ASSERT_TRUE(other.AddAnchors(CertPem(Pki().other_root.get())).ok());
  VerificationReport untrusted = MustVerify(pdf.bytes, other);
  EXPECT_FALSE(untrusted.signatures[0].timestamp.valid);
}

// EN 319 102-1 revocation freshness: a "good" from a CRL issued before the
// time-stamp does not show the certificate was still good when it signed.
TEST(VerifierTest, CrlOlderThanTheTimestamp_TryLaterUnlessThePolicyAcceptsItsAge) {
  HandPdf pdf = MinimalPdf();
  SignSpec spec;
  spec.crl_in_cms = Pki().crl_none_revoked;  // issued five minutes before
  spec.tsa_cert = Pki().tsa.get();
  spec.tsa_key = Pki().tsa_key.get();
  SignHand(&pdf, Pki().signer.get(), Pki().signer_key.get(), spec);

  VerificationReport strict = MustVerify(pdf.bytes, Pki().RootStore());
  ASSERT_EQ(strict.signatures.size(), 1u);
  const SignatureReport& s = strict.signatures[0];
  ExpectResult(s, Indication::kIndeterminate, SubIndication::kTryLater);
  EXPECT_THAT(s.reason, HasSubstr("issued after the signature's time-stamp"));
  EXPECT_EQ(s.revocation, RevocationStatus::kUnknown);
  EXPECT_THAT(s.revocation_detail, HasSubstr("was issued before the signature's time-stamp"));
  EXPECT_FALSE(strict.AllPassed());

  VerifyOptions ten_minutes;
  ten_minutes.max_revocation_age = absl::Minutes(10);
  VerificationReport relaxed = MustVerify(pdf.bytes, Pki().RootStore(), ten_minutes);
  ExpectResult(relaxed.signatures[0], Indication::kTotalPassed, SubIndication::kNone);
  EXPECT_EQ(relaxed.signatures[0].revocation, RevocationStatus::kGood);

  VerifyOptions one_minute;
  one_minute.max_revocation_age = absl::Minutes(1);
  ExpectResult(MustVerify(pdf.bytes, Pki().RootStore(), one_minute).signatures[0],
               Indication::kIndeterminate, SubIndication::kTryLater);

  // Evidence issued after the time-stamp, added later in a /DSS update (what
  // B-LT gathering does), makes it pass strictly.
  ValidationData fresh;
  fresh.crls.push_back(CrlIssuedIn(absl::Seconds(1)));
  absl::StatusOr<std::string> extended = AddValidationData(pdf.bytes, fresh);
  ASSERT_TRUE(extended.ok()) << extended.status();
  VerificationReport later = MustVerify(*extended, Pki().RootStore());
  ExpectResult(later.signatures[0], Indication::kTotalPassed, SubIndication::kNone);
  EXPECT_TRUE(later.AllPassed());
}

// A revocation needs no freshness: a CRL issued before the time-stamp that
// already lists the signer proves the signature was made revoked.
TEST(VerifierTest, RevokedBeforeTheTimestampPerAnOlderCrl_Revoked) {
  HandPdf pdf = MinimalPdf();
  SignSpec spec;
  spec.crl_in_cms = Pki().crl_revoked;
  spec.tsa_cert = Pki().tsa.get();
  spec.tsa_key = Pki().tsa_key.get();
  SignHand(&pdf, Pki().revoked.get(), Pki().revoked_key.get(), spec);
  VerificationReport report = MustVerify(pdf.bytes, Pki().RootStore());
  ExpectResult(report.signatures[0], Indication::kTotalFailed, SubIndication::kRevoked);
}

// Validated after the signer's certificate expired: a timestamp from within
// its validity is the proof of existence that keeps the signature valid.
TEST(VerifierTest, ExpiredSinceButTimestampedBefore_Passes) {
  PkeyPtr short_key = NewEcKey();
  CertSpec short_lived{.common_name = "short-lived signer",
                       .not_after = absl::Now() + absl::Hours(24),
                       .serial = 40};
  X509Ptr short_cert =
      IssueCert(short_lived, short_key.get(), Pki().root.get(), Pki().root_key.get());
  PkeyPtr tsa_key = NewEcKey();
  CertSpec tsa{.common_name = "long-lived TSA",
               .not_after = absl::Now() + absl::Hours(24 * 365),
               .serial = 41,
               .timestamping = true};
  X509Ptr tsa_cert = IssueCert(tsa, tsa_key.get(), Pki().root.get(), Pki().root_key.get());
  HandPdf pdf = MinimalPdf();
  SignSpec spec;
  spec.tsa_cert = tsa_cert.get();
  spec.tsa_key = tsa_key.get();
  SignHand(&pdf, short_cert.get(), short_key.get(), spec);

  VerifyOptions later = NoRevocation();
  later.validation_time = absl::Now() + absl::Hours(24 * 10);
  VerificationReport report = MustVerify(pdf.bytes, Pki().RootStore(), later);
  ASSERT_EQ(report.signatures.size(), 1u);
  ExpectResult(report.signatures[0], Indication::kTotalPassed, SubIndication::kNone);
  EXPECT_THAT(report.signatures[0].warnings, Contains(HasSubstr("expired since")));

  // Without the timestamp the same moment is OUT_OF_BOUNDS_NO_POE.
  HandPdf plain = MinimalPdf();
  SignHand(&plain, short_cert.get(), short_key.get(), {});
  report = MustVerify(plain.bytes, Pki().RootStore(), later);
  ExpectResult(report.signatures[0], Indication::kIndeterminate, SubIndication::kOutOfBoundsNoPoe);
}

// The seam for online revocation: a fetcher is asked when the document has
// no revocation data.
TEST(VerifierTest, RevocationFetcher_AskedWhenDocumentHasNone) {
  class FakeOcsp : public RevocationFetcher {
   public:
    absl::StatusOr<std::string> FetchOcsp(X509* cert, X509* issuer) override {
      ++calls;
      return MakeOcspResponse(cert, issuer, Pki().root_key.get(), std::nullopt);
    }
    int calls = 0;
  } fetcher;
  HandPdf pdf = MinimalPdf();
  SignHand(&pdf, Pki().signer.get(), Pki().signer_key.get(), {});
  VerifyOptions options;
  options.revocation_fetcher = &fetcher;
  VerificationReport report = MustVerify(pdf.bytes, Pki().RootStore(), options);
  ASSERT_EQ(report.signatures.size(), 1u);
  ExpectResult(report.signatures[0], Indication::kTotalPassed, SubIndication::kNone);
  EXPECT_EQ(fetcher.calls, 1);
  EXPECT_THAT(report.signatures[0].revocation_detail, HasSubstr("fetched OCSP"));
}

TEST(VerifierTest, RevokedSignerCrlInCms_Revoked) {
  HandPdf pdf = MinimalPdf();
  SignSpec spec;
  spec.crl_in_cms = Pki().crl_revoked;
  SignHand(&pdf, Pki().revoked.get(), Pki().revoked_key.get(), spec);
  VerificationReport report = MustVerify(pdf.bytes, Pki().RootStore());
  ASSERT_EQ(report.signatures.size(), 1u);
  ExpectResult(report.signatures[0], Indication::kTotalFailed, SubIndication::kRevoked);
  EXPECT_EQ(report.signatures[0].revocation, RevocationStatus::kRevoked);
}

TEST(VerifierTest, RevokedSignerCrlInDss_Revoked) {
  HandPdf pdf = MinimalPdf();
  SignSpec spec;
  spec.crl_in_dss = Pki().crl_revoked;
  SignHand(&pdf, Pki().revoked.get(), Pki().revoked_key.get(), spec);
  VerificationReport report = MustVerify(pdf.bytes, Pki().RootStore());
  ASSERT_EQ(report.signatures.size(), 1u);
  ExpectResult(report.signatures[0], Indication::kTotalFailed, SubIndication::kRevoked);
  // The same CRL says the other signer is fine.
  HandPdf good = MinimalPdf();
  SignHand(&good, Pki().signer.get(), Pki().signer_key.get(), spec);
  VerificationReport ok = MustVerify(good.bytes, Pki().RootStore());
  ExpectResult(ok.signatures[0], Indication::kTotalPassed, SubIndication::kNone);
  EXPECT_THAT(ok.signatures[0].revocation_detail, HasSubstr("CRL"));
}

TEST(VerifierTest, OcspInDss_GoodPasses_RevokedFails) {
  HandPdf good = MinimalPdf();
  SignSpec spec;
  spec.ocsp_in_dss =
      MakeOcspResponse(Pki().signer.get(), Pki().root.get(), Pki().root_key.get(), std::nullopt);
  SignHand(&good, Pki().signer.get(), Pki().signer_key.get(), spec);
  VerificationReport report = MustVerify(good.bytes, Pki().RootStore());
  ASSERT_EQ(report.signatures.size(), 1u);
  ExpectResult(report.signatures[0], Indication::kTotalPassed, SubIndication::kNone);
  EXPECT_THAT(report.signatures[0].revocation_detail, HasSubstr("OCSP"));

  HandPdf bad = MinimalPdf();
  spec.ocsp_in_dss = MakeOcspResponse(Pki().revoked.get(), Pki().root.get(), Pki().root_key.get(),
                                      Pki().revoked_at);
  SignHand(&bad, Pki().revoked.get(), Pki().revoked_key.get(), spec);
  report = MustVerify(bad.bytes, Pki().RootStore());
  ASSERT_EQ(report.signatures.size(), 1u);
  ExpectResult(report.signatures[0], Indication::kTotalFailed, SubIndication::kRevoked);

  // An OCSP response signed by a stranger proves nothing.
  HandPdf forged = MinimalPdf();
  spec.ocsp_in_dss = MakeOcspResponse(Pki().signer.get(), Pki().other_root.get(),
                                      Pki().other_root_key.get(), std::nullopt);
  SignHand(&forged, Pki().signer.get(), Pki().signer_key.get(), spec);
  report = MustVerify(forged.bytes, Pki().RootStore());
  ExpectResult(report.signatures[0], Indication::kIndeterminate, SubIndication::kTryLater);
}

TEST(VerifierTest, DocumentTimestamp_PassesAndIsAnAllowedChange) {
  HandPdf pdf = SignedWithCrl();
  SignSpec spec;
  spec.field = "Timestamp1";
  spec.document_timestamp = true;
  spec.tsa_cert = Pki().tsa.get();
  spec.tsa_key = Pki().tsa_key.get();
  SignHand(&pdf, nullptr, nullptr, spec);
  VerificationReport report = MustVerify(pdf.bytes, Pki().RootStore());
  ASSERT_EQ(report.signatures.size(), 2u);
  ExpectResult(report.signatures[0], Indication::kTotalPassed, SubIndication::kNone);
  EXPECT_FALSE(report.signatures[0].modified_after_signing);
  const SignatureReport& ts = report.signatures[1];
  EXPECT_EQ(ts.type, "DocTimeStamp");
  ExpectResult(ts, Indication::kTotalPassed, SubIndication::kNone);
  EXPECT_TRUE(ts.timestamp.valid);
  EXPECT_TRUE(ts.timestamp.gen_time.has_value());
  EXPECT_EQ(ts.signer_subject, "CN=motcua test TSA,O=motcua test");
  EXPECT_TRUE(report.AllPassed());

  std::string flipped = FlipSignedByte(pdf.bytes);
  VerificationReport broken = MustVerify(flipped, Pki().RootStore());
  ASSERT_EQ(broken.signatures.size(), 2u);
  ExpectResult(broken.signatures[1], Indication::kTotalFailed, SubIndication::kHashFailure);
}

TEST(VerifierTest, CrlFromAnotherIssuer_IsIgnored) {
  HandPdf pdf = MinimalPdf();
  SignSpec spec;
  spec.crl_in_cms = MakeCrl(Pki().other_root.get(), Pki().other_root_key.get(), {}, absl::Now());
  SignHand(&pdf, Pki().signer.get(), Pki().signer_key.get(), spec);
  VerificationReport report = MustVerify(pdf.bytes, Pki().RootStore());
  ExpectResult(report.signatures[0], Indication::kIndeterminate, SubIndication::kTryLater);
}

TEST(VerifierTest, EtsiWithoutSigningCertificateV2_FormatFailure) {
  HandPdf pdf = MinimalPdf();
  SignSpec spec;
  spec.signing_certificate_v2 = false;
  SignHand(&pdf, Pki().signer.get(), Pki().signer_key.get(), spec);
  VerificationReport report = MustVerify(pdf.bytes, Pki().RootStore(), NoRevocation());
  ExpectResult(report.signatures[0], Indication::kTotalFailed, SubIndication::kFormatFailure);
  EXPECT_THAT(report.signatures[0].reason, HasSubstr("signing-certificate-v2"));
}

TEST(VerifierTest, ByteRangeNotMatchingContents_FormatFailure) {
  std::string pdf = SignedWithCrl().bytes;
  size_t at = pdf.rfind("/ByteRange [0 ") + 14;
  long first = std::strtol(pdf.c_str() + at, nullptr, 10);
  pdf.replace(at, 10, absl::StrFormat("%010d", first + 1));  // gap no longer starts at '<'
  VerificationReport report = MustVerify(pdf, Pki().RootStore());
  ASSERT_EQ(report.signatures.size(), 1u);
  ExpectResult(report.signatures[0], Indication::kTotalFailed, SubIndication::kFormatFailure);
  EXPECT_FALSE(report.signatures[0].coverage.well_formed);

  // A range that stops short of its revision's end leaves bytes no revision
  // accounts for.
  std::string short_range = SignedWithCrl().bytes;
  size_t last = short_range.rfind("/ByteRange [0 ") + 14 + 22;
  long length = std::strtol(short_range.c_str() + last, nullptr, 10);
  short_range.replace(last, 10, absl::StrFormat("%010d", length - 50));
  report = MustVerify(short_range, Pki().RootStore());
  ASSERT_EQ(report.signatures.size(), 1u);
  ExpectResult(report.signatures[0], Indication::kTotalFailed, SubIndication::kFormatFailure);
  EXPECT_THAT(report.signatures[0].reason, HasSubstr("ends inside a revision"));
}

// Bytes appended without forming a revision are unsigned and unclassified.
TEST(VerifierTest, BytesAppendedOutsideAnyRevision_ModificationWarning) {
  HandPdf pdf = SignedWithCrl();
  HandPdf appended = pdf;
  appended.bytes += "1 0 obj\n<< /Type /Catalog >>\nendobj\n";
  VerificationReport report = MustVerify(appended.bytes, Pki().RootStore());
  ASSERT_EQ(report.signatures.size(), 1u);
  // The signed range still ends at its %%EOF: the signature itself is fine,
  // and the trailing bytes are noted.
  ExpectResult(report.signatures[0], Indication::kTotalPassed, SubIndication::kNone);
  EXPECT_FALSE(report.signatures[0].coverage.covers_whole_document);
  EXPECT_THAT(report.notes, Contains(HasSubstr("follow the last %%EOF")));
  EXPECT_TRUE(report.signatures[0].modified_after_signing);
  EXPECT_THAT(report.signatures[0].later_changes, ElementsAre(HasSubstr("unsigned bytes")));
  EXPECT_FALSE(report.AllPassed());
}

TEST(VerifierTest, Garbage_ClearError) {
  std::mt19937 rng(3);
  std::string garbage(4096, '\0');
  for (char& c : garbage) c = static_cast<char>(rng());
  absl::StatusOr<VerificationReport> report = VerifyPdf(garbage, Pki().RootStore());
  EXPECT_TRUE(absl::IsInvalidArgument(report.status()));
  EXPECT_THAT(std::string(report.status().message()), HasSubstr("not a PDF"));
}

// Truncation anywhere never crashes and never yields a passing signature.
TEST(VerifierTest, Truncated_ErrorOrNoPassingSignature) {
  std::string pdf = SignedWithCrl().bytes;
  for (size_t cut = 0; cut < pdf.size(); cut += 101) {
    absl::StatusOr<VerificationReport> report =
        VerifyPdf(absl::string_view(pdf).substr(0, cut), Pki().RootStore());
    if (!report.ok()) {
      EXPECT_TRUE(absl::IsInvalidArgument(report.status())) << cut;
      continue;
    }
    for (const SignatureReport& s : report->signatures) {
      EXPECT_NE(s.indication, Indication::kTotalPassed) << cut;
    }
  }
  // Only the final end-of-line missing: the revision loads, its signed range
  // does not fit.
  absl::StatusOr<VerificationReport> last_byte =
      VerifyPdf(absl::string_view(pdf).substr(0, pdf.size() - 1), Pki().RootStore());
  ASSERT_TRUE(last_byte.ok()) << last_byte.status();
  ASSERT_EQ(last_byte->signatures.size(), 1u);
  ExpectResult(last_byte->signatures[0], Indication::kIndeterminate,
               SubIndication::kSignedDataNotFound);

  absl::StatusOr<VerificationReport> cut =
      VerifyPdf(absl::string_view(pdf).substr(0, pdf.size() - 40), Pki().RootStore());
  ASSERT_TRUE(cut.ok()) << cut.status();
  EXPECT_TRUE(cut->signatures.empty());
  EXPECT_THAT(cut->notes, Contains(HasSubstr("follow the last %%EOF")));
}

TEST(VerifierTest, JsonAndText_HaveStableFieldsAndEscapes) {
  VerificationReport report = MustVerify(SignedWithCrl().bytes, Pki().RootStore());
  std::string json = ReportToJson(report);
  for (const char* field :
       {"\"file_size\":", "\"validation_time\":", "\"all_passed\":true", "\"signatures\":[",
        "\"indication\":\"TOTAL_PASSED\"", "\"sub_indication\":\"\"",
        "\"common_name\":\"Nguyễn Văn An\"",
        "\"certificate_sha256\":", "\"claimed_signing_time\":\"D:20261123090000+07'00'\"",
        "\"chain\":[", "\"covers_whole_document\":true", "\"revocation\":{\"status\":\"good\"",
        "\"modified_after_signing\":false", "\"revisions\":[", "\"flagged\":false"}) {
    EXPECT_THAT(json, HasSubstr(field));
  }
  EXPECT_EQ(Count(json, "{"), Count(json, "}"));
  std::string text = ReportToText(report);
  EXPECT_THAT(text, HasSubstr("Result:        TOTAL_PASSED"));
  EXPECT_THAT(text, HasSubstr("Signer:        Nguyễn Văn An"));
  EXPECT_THAT(text, HasSubstr("covers the whole document"));
}

TEST(VerifierTest, TrustStoreFromDirectory) {
  std::string dir = MakeTempDir("trust");
  EXPECT_TRUE(absl::IsInvalidArgument(TrustStore::FromDirectory(dir).status()));
  WriteFile(dir + "/root.pem", CertPem(Pki().root.get()));
  WriteFile(dir + "/other.der", CertDer(Pki().other_root.get()));
  WriteFile(dir + "/README", "not a certificate");
  absl::StatusOr<TrustStore> store = TrustStore::FromDirectory(dir);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(store->anchors().size(), 2u);
  EXPECT_TRUE(absl::IsNotFound(TrustStore::FromDirectory(dir + "/missing").status()));
  VerificationReport report = MustVerify(SignedWithCrl().bytes, *store);
  ExpectResult(report.signatures[0], Indication::kTotalPassed, SubIndication::kNone);
}

}  // namespace
}  // namespace motcua::signing
