#include "signing/long_term.h"

#include <openssl/x509v3.h>

#include <memory>
#include <string>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "signing/cades.h"
#include "signing/dev/dev_pki.h"
#include "signing/dss.h"
#include "signing/pades.h"
#include "signing/pdf_revisions.h"
#include "signing/signing_key.h"
#include "signing/timestamp_client.h"
#include "signing/trust_store.h"
#include "signing/verifier.h"
#include "tests/signing/hand_pdf.h"
#include "tests/signing/signing_test_util.h"
#include "tests/signing/test_servers.h"
#include "tests/signing/verifier_fixtures.h"

namespace motcua::signing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using testing_util::CommandResult;
using testing_util::Quote;
using testing_util::RunCommand;
using testing_util::fs::path;

// The dev PKI with a real OCSP responder, a CRL distribution point and a
// real `openssl ts` TSA on loopback; signatures are B-T.
class LongTermTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing_util::fs::create_directories(dir_.path() / "trust");
    testing_util::fs::copy(pki_ / "ca.crt", dir_.path() / "trust/ca.crt");
    absl::StatusOr<TrustStore> trust = TrustStore::FromDirectory((dir_.path() / "trust").string());
    ASSERT_TRUE(trust.ok()) << trust.status();
    trust_ = std::make_unique<TrustStore>(*std::move(trust));
    checker_ = Checker({});
  }

  std::unique_ptr<RevocationChecker> Checker(RevocationCheckerOptions options) {
    options.http.timeout = absl::Seconds(5);
    absl::StatusOr<std::unique_ptr<RevocationChecker>> checker =
        RevocationChecker::Create(std::move(options));
    EXPECT_TRUE(checker.ok()) << checker.status();
    return checker.ok() ? *std::move(checker) : nullptr;
  }

  TimestampOptions TsaOptions() const {
    TimestampOptions options;
    options.trust = trust_.get();
    return options;
  }

  // `pdf` signed by dev signer `name` as PAdES B-T in field `field`.
  std::string SignBT(const std::string& pdf, const std::string& name, const std::string& field) {
    absl::StatusOr<std::unique_ptr<SigningKey>> key =
        SigningKey::LoadPkcs12((pki_ / "signers" / (name + ".p12")).string(), kDevPkcs12Password);
    EXPECT_TRUE(key.ok()) << key.status();
    if (!key.ok()) return "";
    SignatureRequest request;
    request.field_name = field;
    request.signing_time = absl::Now();
    absl::StatusOr<PreparedSignature> prepared = PrepareSignature(pdf, request);
    EXPECT_TRUE(prepared.ok()) << prepared.status();
    if (!prepared.ok()) return "";
    absl::StatusOr<std::string> cms = SignDetached(**key, prepared->document_sha256);
    EXPECT_TRUE(cms.ok()) << cms.status();
    absl::StatusOr<std::string> stamped =
        TimestampSignature(*cms, *HttpTimestampAuthority(tsa_.url()), TsaOptions());
    EXPECT_TRUE(stamped.ok()) << stamped.status();
    if (!stamped.ok()) return "";
    absl::StatusOr<std::string> signed_pdf = EmbedSignature(*prepared, *stamped);
    EXPECT_TRUE(signed_pdf.ok()) << signed_pdf.status();
    return signed_pdf.ok() ? *signed_pdf : "";
  }

  LongTermOptions Options() const {
    LongTermOptions options;
    options.trust = trust_.get();
    options.checker = checker_.get();
    return options;
  }

  // Offline: no fetcher, revocation data only from the document.
  VerificationReport VerifyOffline(const std::string& pdf) {
    VerifyOptions options;
    options.check_revocation = true;
    absl::StatusOr<VerificationReport> report = VerifyPdf(pdf, *trust_, options);
    EXPECT_TRUE(report.ok()) << report.status();
    return report.ok() ? *std::move(report) : VerificationReport{};
  }

  path Write(const std::string& name, const std::string& bytes) {
    path file = dir_.path() / name;
    testing_util::WriteFileOrDie(file, bytes);
    return file;
  }

  testing_util::ScopedTempDir dir_{"long_term"};
  testing_util::DevPkiWithRevocationServices services_{dir_.path()};
  const path& pki_ = services_.pki;
  testing_util::TestTsaServer tsa_{pki_, dir_.path() / "tsa"};
  std::unique_ptr<TrustStore> trust_;
  std::unique_ptr<RevocationChecker> checker_;
};

// ---- The TSA client -----------------------------------------------------------

TEST_F(LongTermTest, RequestTimestamp_TokenOverTheValue_VerifiedByOpenssl) {
  const std::string value = "signature value bytes";
  absl::StatusOr<std::string> token =
      RequestTimestamp(*HttpTimestampAuthority(tsa_.url()), value, TsaOptions());
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(tsa_.requests(), 1);
  CommandResult judge = RunCommand(
      "openssl ts -verify -token_in -in " + Quote(Write("token.der", *token).string()) + " -data " +
      Quote(Write("value.bin", value).string()) + " -CAfile " + Quote((pki_ / "ca.crt").string()));
  EXPECT_THAT(judge.output, HasSubstr("Verification: OK"));
}

TEST_F(LongTermTest, RequestTimestamp_Rejection_IsFailedPreconditionQuotingTheStatus) {
  // TimeStampResp { status { rejection } }, as a TSA that refuses sends it.
  testing_util::TestHttpServer refusing([](const testing_util::HttpRequest&) {
    return testing_util::HttpResponse{200, "application/timestamp-reply",
                                      std::string("\x30\x05\x30\x03\x02\x01\x02", 7)};
  });
  absl::StatusOr<std::string> token =
      RequestTimestamp(*HttpTimestampAuthority(refusing.url()), "v", TsaOptions());
  EXPECT_EQ(token.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(token.status().message()), HasSubstr("refused: rejection"));
}

TEST_F(LongTermTest, RequestTimestamp_ReplyToAnotherRequest_IsRefused) {
  // A replayed reply: a genuine token, but over another value and nonce.
  absl::StatusOr<std::string> other_request = BuildTimestampRequest("another value");
  ASSERT_TRUE(other_request.ok());
  const path dir = dir_.path() / "tsa";
  testing_util::WriteFileOrDie(dir / "other.tsq", *other_request);
  CommandResult reply = RunCommand(
      "openssl ts -reply -config " + Quote((dir / "tsa.cnf").string()) + " -queryfile " +
      Quote((dir / "other.tsq").string()) + " -out " + Quote((dir / "other.tsr").string()));
  ASSERT_EQ(reply.exit_code, 0) << reply.output;
  const std::string replayed = testing_util::ReadFileOrDie(dir / "other.tsr");
  testing_util::TestHttpServer replaying([&](const testing_util::HttpRequest&) {
    return testing_util::HttpResponse{200, "application/timestamp-reply", replayed};
  });
  absl::StatusOr<std::string> token =
      RequestTimestamp(*HttpTimestampAuthority(replaying.url()), "my value", TsaOptions());
  EXPECT_EQ(token.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(token.status().message()), HasSubstr("does not check out"));
}

TEST_F(LongTermTest, RequestTimestamp_TsaNotUnderTheAnchors_IsRefused) {
  TrustStore other;
  ASSERT_TRUE(other.AddAnchors(testing_util::ReadFileOrDie(pki_ / "signers/head.crt")).ok());
  TimestampOptions options = TsaOptions();
  options.trust = &other;
  absl::StatusOr<std::string> token =
      RequestTimestamp(*HttpTimestampAuthority(tsa_.url()), "v", options);
  EXPECT_EQ(token.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(LongTermTest, RequestTimestamp_TsaDown_IsUnavailableNamingIt) {
  const std::string url =
      "http://127.0.0.1:" + std::to_string(testing_util::FreeLoopbackPort()) + "/tsa";
  absl::StatusOr<std::string> token =
      RequestTimestamp(*HttpTimestampAuthority(url), "v", TsaOptions());
  EXPECT_EQ(token.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(token.status().message()), HasSubstr("TSA " + url + " unreachable"));
}

// ---- B-LT --------------------------------------------------------------------------

TEST_F(LongTermTest, MakeLongTerm_OfflineVerificationPassesFromTheDss) {
  const std::string bt = SignBT(testing_pdf::OnePagePdf("Quyet dinh"), "head", "Officer");
  ASSERT_FALSE(bt.empty());
  // Offline, a B-T document cannot show its signer (or TSA) was not revoked.
  VerificationReport before = VerifyOffline(bt);
  ASSERT_EQ(before.signatures.size(), 1u);
  EXPECT_STREQ(SubIndicationName(before.signatures[0].sub_indication), "TRY_LATER");
  EXPECT_THAT(before.signatures[0].warnings,
              Contains(HasSubstr("no revocation data for the TSA certificate")));

  absl::StatusOr<std::string> lt = MakeLongTerm(bt, Options());
  ASSERT_TRUE(lt.ok()) << lt.status();
  EXPECT_EQ(lt->compare(0, bt.size(), bt), 0) << "an incremental update appends";
  services_.responder = nullptr;  // nothing online from here on
  services_.crl_server = nullptr;

  VerificationReport report = VerifyOffline(*lt);
  ASSERT_EQ(report.signatures.size(), 1u);
  const SignatureReport& s = report.signatures[0];
  EXPECT_STREQ(IndicationName(s.indication), "TOTAL_PASSED") << s.reason;
  EXPECT_TRUE(s.timestamp.valid) << s.timestamp.problem;
  ASSERT_TRUE(s.timestamp.gen_time.has_value());
  EXPECT_LT(absl::AbsDuration(*s.timestamp.gen_time - absl::Now()), absl::Hours(1));
  EXPECT_EQ(s.revocation, RevocationStatus::kGood);
  EXPECT_THAT(s.revocation_detail, HasSubstr("OCSP response"));
  EXPECT_THAT(s.revocation_detail, Not(HasSubstr("fetched")));
  EXPECT_FALSE(s.modified_after_signing);
  EXPECT_THAT(s.warnings, Not(Contains(HasSubstr("TSA"))));
  EXPECT_TRUE(report.AllPassed());
  ASSERT_EQ(report.revisions.size(), 3u);
  for (const PdfObjectChange& change : report.revisions[2].changes) {
    EXPECT_FALSE(change.flagged) << change.description;
  }

  // The judges: pdfsig still finds the signature valid, qpdf the file sound.
  const path file = Write("b-lt.pdf", *lt);
  CommandResult pdfsig = testing_util::Pdfsig(file);
  EXPECT_THAT(pdfsig.output, HasSubstr("Signature is Valid")) << pdfsig.output;
  CommandResult qpdf = RunCommand("qpdf --check " + Quote(file.string()));
  EXPECT_EQ(qpdf.exit_code, 0) << qpdf.output;
  EXPECT_THAT(qpdf.output, HasSubstr("No syntax or stream encoding errors"));
}

// B-LTA: a document time-stamp over the B-LT file covers its /DSS too, so
// a change slipped into the last revision no longer passes unnoticed.
TEST_F(LongTermTest, AddDocumentTimestamp_CoversTheWholeFileDssIncluded) {
  const std::string bt = SignBT(testing_pdf::OnePagePdf("Quyet dinh"), "head", "Officer");
  ASSERT_FALSE(bt.empty());
  absl::StatusOr<std::string> lt = MakeLongTerm(bt, Options());
  ASSERT_TRUE(lt.ok()) << lt.status();
  const std::unique_ptr<TimestampAuthority> tsa = HttpTimestampAuthority(tsa_.url());
  absl::StatusOr<std::string> lta = AddDocumentTimestamp(*lt, *tsa, TsaOptions());
  ASSERT_TRUE(lta.ok()) << lta.status();
  EXPECT_EQ(lta->compare(0, lt->size(), *lt), 0) << "an incremental update appends";

  VerificationReport report = VerifyOffline(*lta);
  ASSERT_EQ(report.signatures.size(), 2u);
  EXPECT_EQ(report.signatures[0].type, "Sig");
  EXPECT_FALSE(report.signatures[0].modified_after_signing);
  const SignatureReport& stamp = report.signatures[1];
  EXPECT_EQ(stamp.type, "DocTimeStamp");
  EXPECT_EQ(stamp.field_name, "DocTimeStamp1");
  EXPECT_STREQ(IndicationName(stamp.indication), "TOTAL_PASSED") << stamp.reason;
  EXPECT_TRUE(stamp.coverage.covers_whole_document);
  EXPECT_TRUE(report.AllPassed()) << ReportToText(report);

  // A second one (an archive time-stamp renewed) takes the next name.
  absl::StatusOr<std::string> twice = AddDocumentTimestamp(*lta, *tsa, TsaOptions());
  ASSERT_TRUE(twice.ok()) << twice.status();
  report = VerifyOffline(*twice);
  ASSERT_EQ(report.signatures.size(), 3u);
  EXPECT_EQ(report.signatures[2].field_name, "DocTimeStamp2");

  // One byte of the /DSS changed: the document time-stamp no longer holds.
  std::string tampered = *lta;
  const size_t dss = tampered.rfind("/DSS");
  ASSERT_NE(dss, std::string::npos);
  const size_t ocsps = tampered.find("/OCSPs", dss);
  ASSERT_NE(ocsps, std::string::npos);
  tampered[ocsps + 1] = 'X';
  report = VerifyOffline(tampered);
  ASSERT_FALSE(report.signatures.empty());
  EXPECT_STRNE(IndicationName(report.signatures.back().indication), "TOTAL_PASSED");

  CommandResult qpdf = RunCommand("qpdf --check " + Quote(Write("b-lta.pdf", *lta).string()));
  EXPECT_EQ(qpdf.exit_code, 0) << qpdf.output;
}

TEST_F(LongTermTest, Gather_HoldsChainResponderAndTsaEvidence) {
  const std::string bt = SignBT(testing_pdf::OnePagePdf("Quyet dinh"), "head", "Officer");
  absl::StatusOr<GatheredValidationData> gathered = GatherValidationData(bt, Options());
  ASSERT_TRUE(gathered.ok()) << gathered.status();
  EXPECT_TRUE(gathered->notes.empty()) << gathered->notes[0];
  // head, CA, OCSP responder, TSA; OCSP for head and for the TSA.
  auto der = [&](const std::string& file) {
    absl::StatusOr<std::vector<TrustStore::Cert>> certs =
        TrustStore::ParseCertificates(testing_util::ReadFileOrDie(pki_ / file));
    unsigned char* out = nullptr;
    int len = i2d_X509((*certs)[0].get(), &out);
    std::string bytes(reinterpret_cast<char*>(out), len);
    OPENSSL_free(out);
    return bytes;
  };
  EXPECT_THAT(gathered->data.certificates,
              ::testing::UnorderedElementsAre(der("signers/head.crt"), der("ca.crt"),
                                              der("ocsp.crt"), der("tsa.crt")));
  EXPECT_EQ(gathered->data.ocsp_responses.size(), 2u);
  EXPECT_TRUE(gathered->data.crls.empty());
}

TEST_F(LongTermTest, MakeLongTerm_TwoSignatures_BothPassOfflineAndStayValid) {
  std::string pdf = SignBT(testing_pdf::OnePagePdf("Quyet dinh"), "head", "Officer");
  pdf = SignBT(pdf, "seal-HN-SGDDT", "Seal");
  absl::StatusOr<std::string> lt = MakeLongTerm(pdf, Options());
  ASSERT_TRUE(lt.ok()) << lt.status();
  VerificationReport report = VerifyOffline(*lt);
  ASSERT_EQ(report.signatures.size(), 2u);
  for (const SignatureReport& s : report.signatures) {
    EXPECT_STREQ(IndicationName(s.indication), "TOTAL_PASSED") << s.field_name << ": " << s.reason;
    EXPECT_FALSE(s.modified_after_signing) << s.field_name;
  }
  const path file = Write("two.pdf", *lt);
  std::vector<std::string> reports =
      absl::StrSplit(testing_util::Pdfsig(file).output, "Signature #", absl::SkipEmpty());
  ASSERT_EQ(reports.size(), 3u);  // the header, then one per signature
  EXPECT_THAT(reports[1], HasSubstr("Signature is Valid"));
  EXPECT_THAT(reports[2], HasSubstr("Signature is Valid"));
  EXPECT_EQ(RunCommand("qpdf --check " + Quote(file.string())).exit_code, 0);
}

TEST_F(LongTermTest, MakeLongTerm_RevokedSigner_IsRefused) {
  const std::string bt = SignBT(testing_pdf::OnePagePdf("Quyet dinh"), "head", "Officer");
  ASSERT_TRUE(RevokeDevSigner(pki_.string(), "head", CRL_REASON_KEY_COMPROMISE).ok());
  services_.responder->Restart();
  absl::StatusOr<std::string> lt = MakeLongTerm(bt, Options());
  EXPECT_EQ(lt.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(lt.status().message()), HasSubstr("signature 'Officer'"));
  EXPECT_THAT(std::string(lt.status().message()), HasSubstr("revoked"));
}

TEST_F(LongTermTest, MakeLongTerm_RevokedTsa_IsRefused) {
  const std::string bt = SignBT(testing_pdf::OnePagePdf("Quyet dinh"), "head", "Officer");
  ASSERT_TRUE(RevokeDevSigner(pki_.string(), kDevTsaName, CRL_REASON_KEY_COMPROMISE).ok());
  services_.responder->Restart();
  absl::StatusOr<std::string> lt = MakeLongTerm(bt, Options());
  EXPECT_EQ(lt.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(lt.status().message()), HasSubstr("(TSA)"));
  EXPECT_THAT(std::string(lt.status().message()), HasSubstr("revoked"));
}

TEST_F(LongTermTest, VerifyOnline_TsaRevokedBeforeTheTimestamp_TimestampProvesNothing) {
  ASSERT_TRUE(RevokeDevSigner(pki_.string(), kDevTsaName, CRL_REASON_KEY_COMPROMISE,
                              absl::Now() - absl::Hours(1))
                  .ok());
  services_.responder->Restart();
  const std::string bt = SignBT(testing_pdf::OnePagePdf("Quyet dinh"), "head", "Officer");
  RevocationCheckerFetcher fetcher(checker_.get());
  VerifyOptions options;
  options.revocation_fetcher = &fetcher;
  absl::StatusOr<VerificationReport> report = VerifyPdf(bt, *trust_, options);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->signatures.size(), 1u);
  const SignatureReport& s = report->signatures[0];
  EXPECT_FALSE(s.timestamp.valid);
  EXPECT_THAT(s.timestamp.problem, HasSubstr("the TSA certificate was revoked at"));
  EXPECT_THAT(s.warnings, Contains(HasSubstr("the TSA certificate was revoked")));
  // The signer itself is fine now, so the signature still passes, without POE.
  EXPECT_STREQ(IndicationName(s.indication), "TOTAL_PASSED") << s.reason;
}

TEST_F(LongTermTest, MakeLongTerm_NoRevocationSource_IsRefusedSayingWhy) {
  const std::string bt = SignBT(testing_pdf::OnePagePdf("Quyet dinh"), "head", "Officer");
  services_.responder = nullptr;
  services_.crl_server = nullptr;
  absl::StatusOr<std::string> lt = MakeLongTerm(bt, Options());
  EXPECT_EQ(lt.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(lt.status().message()), HasSubstr("unreachable"));
}

// A local CRL file published an hour before the signature's time-stamp: it
// cannot show the signer was still good when signing (EN 319 102-1
// freshness), so the document waits for a newer one, unless the policy
// accepts evidence that old; the verifier then needs the same policy.
TEST_F(LongTermTest, MakeLongTerm_LocalCrlOlderThanTheTimestamp_WaitsUnlessThePolicyAcceptsIt) {
  testing_util::DevCa ca = testing_util::LoadDevCa(pki_);
  ASSERT_NE(ca.key, nullptr);
  const absl::Time now = absl::Now();
  const path hour_old = Write("hour-old.crl", fixtures::MakeCrl(ca.cert.get(), ca.key.get(), {},
                                                                now, absl::Hours(24),
                                                                now - absl::Hours(1)));
  const std::string bt = SignBT(testing_pdf::OnePagePdf("Quyet dinh"), "head", "Officer");
  services_.responder = nullptr;
  services_.crl_server = nullptr;
  RevocationCheckerOptions crl_only;
  crl_only.crl_files = {hour_old.string()};
  checker_ = Checker(crl_only);
  absl::StatusOr<std::string> strict = MakeLongTerm(bt, Options());
  EXPECT_EQ(strict.status().code(), absl::StatusCode::kUnavailable) << strict.status();
  EXPECT_THAT(std::string(strict.status().message()),
              HasSubstr("was issued before the signature's time-stamp"));

  LongTermOptions a_day = Options();
  a_day.max_revocation_age = absl::Hours(24);
  absl::StatusOr<std::string> lt = MakeLongTerm(bt, a_day);
  ASSERT_TRUE(lt.ok()) << lt.status();
  VerificationReport offline = VerifyOffline(*lt);
  EXPECT_STREQ(SubIndicationName(offline.signatures[0].sub_indication), "TRY_LATER")
      << offline.signatures[0].reason;
  VerifyOptions same_policy;
  same_policy.max_revocation_age = absl::Hours(24);
  absl::StatusOr<VerificationReport> relaxed = VerifyPdf(*lt, *trust_, same_policy);
  ASSERT_TRUE(relaxed.ok()) << relaxed.status();
  EXPECT_STREQ(IndicationName(relaxed->signatures[0].indication), "TOTAL_PASSED")
      << relaxed->signatures[0].reason;
  EXPECT_THAT(relaxed->signatures[0].revocation_detail, HasSubstr("CRL"));
}

// The development CA issues a CRL when asked, after the time-stamp: the
// document passes the strict policy offline with nothing else reachable.
TEST_F(LongTermTest, MakeLongTerm_CrlIssuedOnRequest_PassesStrictlyOffline) {
  const std::string bt = SignBT(testing_pdf::OnePagePdf("Quyet dinh"), "head", "Officer");
  services_.responder = nullptr;
  services_.crl_server = nullptr;
  absl::StatusOr<std::shared_ptr<const CrlIssuer>> issuer = OpenDevCrlIssuer(pki_.string());
  ASSERT_TRUE(issuer.ok()) << issuer.status();
  RevocationCheckerOptions on_request;
  on_request.crl_issuer = *issuer;
  checker_ = Checker(on_request);
  absl::StatusOr<std::string> lt = MakeLongTerm(bt, Options());
  ASSERT_TRUE(lt.ok()) << lt.status();
  VerificationReport report = VerifyOffline(*lt);
  ASSERT_EQ(report.signatures.size(), 1u);
  EXPECT_STREQ(IndicationName(report.signatures[0].indication), "TOTAL_PASSED")
      << report.signatures[0].reason;
  EXPECT_THAT(report.signatures[0].revocation_detail, HasSubstr("good (CRL of "));
}

// Renewal before the last document time-stamp's TSA certificate expires:
// that TSA's chain and fresh status go into the /DSS, then a new document
// time-stamp covers everything.
TEST_F(LongTermTest, RenewDocumentTimestamp_TsaEvidenceThenANewStampOverEverything) {
  const std::string bt = SignBT(testing_pdf::OnePagePdf("Quyet dinh"), "head", "Officer");
  ASSERT_FALSE(bt.empty());
  EXPECT_EQ(RenewBy(bt).status().code(), absl::StatusCode::kNotFound) << "B-T, not B-LTA";
  absl::StatusOr<std::string> lt = MakeLongTerm(bt, Options());
  ASSERT_TRUE(lt.ok()) << lt.status();
  const std::unique_ptr<TimestampAuthority> tsa = HttpTimestampAuthority(tsa_.url());
  absl::StatusOr<std::string> lta = AddDocumentTimestamp(*lt, *tsa, TsaOptions());
  ASSERT_TRUE(lta.ok()) << lta.status();

  // The TSA's certificate is the development PKI's: valid for years.
  absl::StatusOr<absl::Time> renew_by = RenewBy(*lta);
  ASSERT_TRUE(renew_by.ok()) << renew_by.status();
  EXPECT_GT(*renew_by, absl::Now() + absl::Hours(24 * 300));

  absl::StatusOr<PdfStructure> before = ParsePdfRevisions(*lta);
  ASSERT_TRUE(before.ok()) << before.status();
  absl::StatusOr<std::string> renewed = RenewDocumentTimestamp(*lta, *tsa, Options(), TsaOptions());
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_EQ(renewed->compare(0, lta->size(), *lta), 0) << "an incremental update appends";
  absl::StatusOr<PdfStructure> after = ParsePdfRevisions(*renewed);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_GT(after->dss_ocsp_responses.size(), before->dss_ocsp_responses.size())
      << "the TSA's status, asked of its OCSP responder now";

  VerificationReport report = VerifyOffline(*renewed);
  ASSERT_EQ(report.signatures.size(), 3u);
  EXPECT_EQ(report.signatures[2].type, "DocTimeStamp");
  EXPECT_EQ(report.signatures[2].field_name, "DocTimeStamp2");
  EXPECT_TRUE(report.signatures[2].coverage.covers_whole_document);
  EXPECT_TRUE(report.AllPassed()) << ReportToText(report);

  // The TSA's status cannot be had: nothing is renewed, and the reason says.
  services_.responder = nullptr;
  services_.crl_server = nullptr;
  absl::StatusOr<std::string> blind = RenewDocumentTimestamp(*lta, *tsa, Options(), TsaOptions());
  EXPECT_EQ(blind.status().code(), absl::StatusCode::kFailedPrecondition) << blind.status();
  EXPECT_THAT(std::string(blind.status().message()), HasSubstr("the last document time-stamp"));
}

TEST_F(LongTermTest, AddValidationData_NothingNew_ReturnsTheDocumentUnchanged) {
  const std::string bt = SignBT(testing_pdf::OnePagePdf("Quyet dinh"), "head", "Officer");
  absl::StatusOr<GatheredValidationData> gathered = GatherValidationData(bt, Options());
  ASSERT_TRUE(gathered.ok()) << gathered.status();
  absl::StatusOr<std::string> once = AddValidationData(bt, gathered->data);
  ASSERT_TRUE(once.ok()) << once.status();
  absl::StatusOr<std::string> twice = AddValidationData(*once, gathered->data);
  ASSERT_TRUE(twice.ok()) << twice.status();
  EXPECT_EQ(*twice, *once);
  absl::StatusOr<PdfStructure> structure = ParsePdfRevisions(*once);
  ASSERT_TRUE(structure.ok());
  EXPECT_EQ(structure->dss_certificates, gathered->data.certificates);
  EXPECT_EQ(structure->dss_ocsp_responses, gathered->data.ocsp_responses);
}

}  // namespace
}  // namespace motcua::signing
