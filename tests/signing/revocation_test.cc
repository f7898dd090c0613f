#include "signing/revocation.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "signing/dev/dev_pki.h"
#include "signing/pades.h"
#include "signing/signing_key.h"
#include "signing/trust_store.h"
#include "signing/verifier.h"
#include "tests/signing/hand_pdf.h"
#include "tests/signing/signing_test_util.h"
#include "tests/signing/test_servers.h"

namespace motcua::signing {
namespace {

using ::testing::HasSubstr;
using testing_util::fs::path;

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

X509Ptr LoadCert(const path& file) {
  std::string pem = testing_util::ReadFileOrDie(file);
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509Ptr cert(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr), &X509_free);
  BIO_free(bio);
  return cert;
}

class RevocationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = LoadCert(pki_ / "ca.crt");
    head_ = LoadCert(pki_ / "signers/head.crt");
    ASSERT_NE(ca_, nullptr);
    ASSERT_NE(head_, nullptr);
  }

  std::unique_ptr<RevocationChecker> Checker(RevocationCheckerOptions options = {}) {
    options.http.timeout = absl::Seconds(5);
    absl::StatusOr<std::unique_ptr<RevocationChecker>> checker =
        RevocationChecker::Create(std::move(options));
    EXPECT_TRUE(checker.ok()) << checker.status();
    return checker.ok() ? *std::move(checker) : nullptr;
  }

  void Revoke(const std::string& name, int reason, absl::Time when) {
    absl::Status status = RevokeDevSigner(pki_.string(), name, reason, when);
    ASSERT_TRUE(status.ok()) << status;
  }

  testing_util::ScopedTempDir dir_{"revocation"};
  testing_util::DevPkiWithRevocationServices services_{dir_.path()};
  const DevPkiOptions& options_ = services_.options;
  std::unique_ptr<testing_util::TestHttpServer>& crl_server_ = services_.crl_server;
  const int ocsp_port_ = services_.ocsp_port;
  const path& pki_ = services_.pki;
  std::unique_ptr<testing_util::OcspResponder>& responder_ = services_.responder;
  X509Ptr ca_{nullptr, &X509_free};
  X509Ptr head_{nullptr, &X509_free};
};

const absl::Time kRevokedAt =
    absl::FromCivil(absl::CivilSecond(2026, 11, 20, 8, 30, 0), absl::UTCTimeZone());

TEST_F(RevocationTest, Ocsp_GoodCertificate_IsGoodWithTheResponseAsEvidence) {
  RevocationCheck check = Checker()->Check(head_.get(), ca_.get());
  EXPECT_EQ(check.evidence.status, RevocationStatus::kGood) << check.detail;
  EXPECT_THAT(check.detail, HasSubstr("OCSP responder " + responder_->url()));
  ASSERT_EQ(check.ocsp_responses.size(), 1u) << check.detail;
  EXPECT_TRUE(check.crls.empty());

  // openssl, as an independent judge, reads the same answer from the evidence.
  testing_util::WriteFileOrDie(dir_.path() / "resp.der", check.ocsp_responses[0]);
  testing_util::CommandResult judge = testing_util::RunCommand(
      "openssl ocsp -no_nonce -respin " + testing_util::Quote((dir_.path() / "resp.der").string()) +
      " -issuer " + testing_util::Quote((pki_ / "ca.crt").string()) + " -cert " +
      testing_util::Quote((pki_ / "signers/head.crt").string()) + " -CAfile " +
      testing_util::Quote((pki_ / "ca.crt").string()));
  EXPECT_THAT(judge.output, HasSubstr("Response verify OK"));
  EXPECT_THAT(judge.output, HasSubstr("head.crt: good"));
}

TEST_F(RevocationTest, Ocsp_AfterRevocation_IsRevokedWithTimeAndReason) {
  Revoke("head", CRL_REASON_KEY_COMPROMISE, kRevokedAt);
  responder_->Restart();  // openssl ocsp reads index.txt when it starts
  RevocationCheck check = Checker()->CheckOcsp(head_.get(), ca_.get());
  EXPECT_EQ(check.evidence.status, RevocationStatus::kRevoked) << check.detail;
  ASSERT_TRUE(check.evidence.revoked_at.has_value());
  EXPECT_EQ(*check.evidence.revoked_at, kRevokedAt);
  EXPECT_EQ(check.evidence.reason, CRL_REASON_KEY_COMPROMISE);
  EXPECT_THAT(check.detail, HasSubstr("keyCompromise"));
  EXPECT_EQ(check.ocsp_responses.size(), 1u);
  // Other signers stay good.
  X509Ptr receiver = LoadCert(pki_ / "signers/receiver.crt");
  EXPECT_EQ(Checker()->CheckOcsp(receiver.get(), ca_.get()).evidence.status, RevocationStatus::kGood);
}

TEST_F(RevocationTest, Ocsp_ResponderDown_IsUnknownNamingTheResponder) {
  responder_->Stop();
  RevocationCheck check = Checker()->CheckOcsp(head_.get(), ca_.get());
  EXPECT_EQ(check.evidence.status, RevocationStatus::kUnknown);
  EXPECT_THAT(check.detail, HasSubstr("OCSP responder " + responder_->url() + " unreachable: "));
  EXPECT_TRUE(check.ocsp_responses.empty());
}

TEST_F(RevocationTest, Ocsp_AnswerSignedByANonResponder_IsNotBelieved) {
  // The TLS server certificate is issued by the same CA but not for OCSPSigning.
  responder_ = nullptr;
  testing_util::OcspResponder impostor(pki_, ocsp_port_, "server");
  RevocationCheck check = Checker()->CheckOcsp(head_.get(), ca_.get());
  EXPECT_EQ(check.evidence.status, RevocationStatus::kUnknown);
  EXPECT_THAT(check.detail, HasSubstr("not signed for the issuer"));
}

TEST_F(RevocationTest, Ocsp_AnswerAboutAnotherIssuersCertificate_IsNotBelieved) {
  // Asked with the wrong issuer, the responder's answer cannot match.
  X509Ptr seal = LoadCert(pki_ / "signers/seal-HN-SGDDT.crt");
  RevocationCheck check = Checker()->CheckOcsp(head_.get(), seal.get());
  EXPECT_EQ(check.evidence.status, RevocationStatus::kUnknown);
}

TEST_F(RevocationTest, ResponderDown_FallsBackToTheCrlDistributionPoint) {
  Revoke("head", CRL_REASON_SUPERSEDED, kRevokedAt);
  responder_->Stop();
  RevocationCheck check = Checker()->Check(head_.get(), ca_.get());
  EXPECT_EQ(check.evidence.status, RevocationStatus::kRevoked) << check.detail;
  EXPECT_EQ(check.evidence.revoked_at, kRevokedAt);
  EXPECT_EQ(check.evidence.reason, CRL_REASON_SUPERSEDED);
  EXPECT_THAT(check.detail, HasSubstr("CRL distribution point " + options_.crl_url));
  EXPECT_THAT(check.detail, HasSubstr("unreachable"));  // why OCSP was not used
  ASSERT_EQ(check.crls.size(), 1u);
  EXPECT_EQ(check.crls[0], testing_util::ReadFileOrDie(pki_ / "ca.crl"));
  EXPECT_GE(crl_server_->requests(), 1);
}

TEST_F(RevocationTest, Crl_NotListed_IsGood) {
  RevocationCheck check = Checker()->CheckCrl(head_.get(), ca_.get());
  EXPECT_EQ(check.evidence.status, RevocationStatus::kGood) << check.detail;
  EXPECT_THAT(check.detail, HasSubstr("good per CRL distribution point " + options_.crl_url));
}

TEST_F(RevocationTest, NothingReachable_UsesLocalCrlFiles) {
  Revoke("head", CRL_REASON_CESSATION_OF_OPERATION, kRevokedAt);
  responder_->Stop();
  crl_server_ = nullptr;
  RevocationCheckerOptions options;
  options.crl_files = {(pki_ / "ca.crl").string()};
  RevocationCheck check = Checker(options)->Check(head_.get(), ca_.get());
  EXPECT_EQ(check.evidence.status, RevocationStatus::kRevoked) << check.detail;
  EXPECT_THAT(check.detail, HasSubstr("CRL file " + (pki_ / "ca.crl").string()));
  EXPECT_EQ(check.evidence.reason, CRL_REASON_CESSATION_OF_OPERATION);
}

// A long-running server sees a CRL the CA re-issues, without a restart.
TEST_F(RevocationTest, LocalCrlFileReissuedAfterCreate_IsReadAgain) {
  responder_->Stop();
  crl_server_ = nullptr;
  RevocationCheckerOptions options;
  options.crl_files = {(pki_ / "ca.crl").string()};
  std::unique_ptr<RevocationChecker> checker = Checker(options);
  ASSERT_NE(checker, nullptr);
  EXPECT_EQ(checker->Check(head_.get(), ca_.get()).evidence.status, RevocationStatus::kGood);
  Revoke("head", CRL_REASON_KEY_COMPROMISE, kRevokedAt);
  RevocationCheck check = checker->Check(head_.get(), ca_.get());
  EXPECT_EQ(check.evidence.status, RevocationStatus::kRevoked) << check.detail;
}

TEST_F(RevocationTest, NothingReachableAndNoLocalCrl_IsUnknownSayingWhy) {
  responder_->Stop();
  crl_server_ = nullptr;
  RevocationCheck check = Checker()->Check(head_.get(), ca_.get());
  EXPECT_EQ(check.evidence.status, RevocationStatus::kUnknown);
  EXPECT_THAT(check.detail, HasSubstr("OCSP responder " + options_.ocsp_url + " unreachable"));
  EXPECT_THAT(check.detail, HasSubstr("CRL distribution point " + options_.crl_url));
  EXPECT_THAT(check.detail, HasSubstr("no local CRL"));
}

TEST(RevocationCheckerTest, MissingCrlFile_IsNotFound) {
  RevocationCheckerOptions options;
  options.crl_files = {"/nonexistent/ca.crl"};
  EXPECT_EQ(RevocationChecker::Create(options).status().code(), absl::StatusCode::kNotFound);
}

TEST(RevocationCheckerTest, CertificateWithoutUrls_UsesLocalCrlFromSharedPki) {
  const path& pki = testing_util::SharedDevPki();
  RevocationCheckerOptions options;
  options.crl_files = {(pki / "ca.crl").string()};
  absl::StatusOr<std::unique_ptr<RevocationChecker>> checker = RevocationChecker::Create(options);
  ASSERT_TRUE(checker.ok()) << checker.status();
  X509Ptr ca = LoadCert(pki / "ca.crt");
  X509Ptr head = LoadCert(pki / "signers/head.crt");
  RevocationCheck check = (*checker)->Check(head.get(), ca.get());
  EXPECT_EQ(check.evidence.status, RevocationStatus::kGood) << check.detail;
  EXPECT_THAT(check.detail, HasSubstr("names no OCSP responder"));
}

// ---- The verifier going online through the checker ------------------------

class OnlineVerifyTest : public RevocationTest {
 protected:
  std::string SignedByHead() {
    absl::StatusOr<std::unique_ptr<SigningKey>> key =
        SigningKey::LoadPkcs12((pki_ / "signers/head.p12").string(), kDevPkcs12Password);
    EXPECT_TRUE(key.ok()) << key.status();
    SignatureRequest request;
    request.field_name = "Officer";
    request.signing_time = absl::Now();
    absl::StatusOr<std::string> pdf =
        SignPdf(testing_pdf::OnePagePdf("Quyet dinh"), request, **key);
    EXPECT_TRUE(pdf.ok()) << pdf.status();
    return pdf.ok() ? *pdf : "";
  }

  SignatureReport Verify(const std::string& pdf) {
    absl::StatusOr<TrustStore> trust = TrustStore::FromDirectory((dir_.path() / "trust").string());
    EXPECT_TRUE(trust.ok()) << trust.status();
    std::unique_ptr<RevocationChecker> checker = Checker();
    RevocationCheckerFetcher fetcher(checker.get());
    VerifyOptions options;
    options.check_revocation = true;
    options.revocation_fetcher = &fetcher;
    absl::StatusOr<VerificationReport> report = VerifyPdf(pdf, *trust, options);
    EXPECT_TRUE(report.ok()) << report.status();
    if (!report.ok() || report->signatures.size() != 1) {
      ADD_FAILURE() << "expected one signature";
      return {};
    }
    return report->signatures[0];
  }

  void SetUp() override {
    RevocationTest::SetUp();
    testing_util::fs::create_directories(dir_.path() / "trust");
    testing_util::fs::copy(pki_ / "ca.crt", dir_.path() / "trust/ca.crt");
  }
};

TEST_F(OnlineVerifyTest, GoodSigner_TotalPassedWithFetchedOcsp) {
  SignatureReport s = Verify(SignedByHead());
  EXPECT_STREQ(IndicationName(s.indication), "TOTAL_PASSED") << s.reason;
  EXPECT_EQ(s.revocation, RevocationStatus::kGood);
  EXPECT_THAT(s.revocation_detail, HasSubstr("fetched OCSP"));
}

TEST_F(OnlineVerifyTest, RevokedSigner_TotalFailedRevoked) {
  const std::string pdf = SignedByHead();
  Revoke("head", CRL_REASON_KEY_COMPROMISE, absl::Now() - absl::Seconds(1));
  responder_->Restart();
  SignatureReport s = Verify(pdf);
  EXPECT_STREQ(IndicationName(s.indication), "TOTAL_FAILED") << s.reason;
  EXPECT_STREQ(SubIndicationName(s.sub_indication), "REVOKED");
  EXPECT_EQ(s.revocation, RevocationStatus::kRevoked);
  EXPECT_THAT(s.revocation_detail, HasSubstr("fetched OCSP"));
}

TEST_F(OnlineVerifyTest, RevokedSignerResponderDown_CrlSaysRevoked) {
  const std::string pdf = SignedByHead();
  Revoke("head", CRL_REASON_KEY_COMPROMISE, absl::Now() - absl::Seconds(1));
  responder_->Stop();
  SignatureReport s = Verify(pdf);
  EXPECT_STREQ(SubIndicationName(s.sub_indication), "REVOKED") << s.reason;
  EXPECT_THAT(s.revocation_detail, HasSubstr("fetched CRL"));
}

TEST_F(OnlineVerifyTest, NothingReachable_TryLaterSayingWhy) {
  const std::string pdf = SignedByHead();
  responder_->Stop();
  crl_server_ = nullptr;
  SignatureReport s = Verify(pdf);
  EXPECT_STREQ(IndicationName(s.indication), "INDETERMINATE") << s.reason;
  EXPECT_STREQ(SubIndicationName(s.sub_indication), "TRY_LATER");
  EXPECT_THAT(s.revocation_detail,
              HasSubstr("OCSP responder " + options_.ocsp_url + " unreachable"));
}

}  // namespace
}  // namespace motcua::signing
