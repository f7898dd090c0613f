#include "signing/document_verifier.h"

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/signing/verifier_fixtures.h"

namespace motcua::signing {
namespace {

using ::testing::HasSubstr;
using namespace fixtures;  // NOLINT: test helpers

HandPdf Signed() {
  HandPdf pdf = MinimalPdf();
  SignHand(&pdf, Pki().signer.get(), Pki().signer_key.get(), SignSpec());
  return pdf;
}

TEST(TrustStoreAddAnchorsFromTest, OneCertificateFile_OnlyItsCertificates) {
  const std::string dir = MakeTempDir("anchors-file");
  WriteFile(dir + "/root.pem", CertPem(Pki().root.get()));
  WriteFile(dir + "/other.pem", CertPem(Pki().tsa.get()));
  TrustStore store;
  ASSERT_TRUE(store.AddAnchorsFrom(dir + "/root.pem").ok());
  EXPECT_EQ(store.anchors().size(), 1u);
}

TEST(TrustStoreAddAnchorsFromTest, Directory_EveryCertificateSkippingOtherFiles) {
  const std::string dir = MakeTempDir("anchors-dir");
  WriteFile(dir + "/root.pem", CertPem(Pki().root.get()));
  WriteFile(dir + "/tsa.der", CertDer(Pki().tsa.get()));
  WriteFile(dir + "/README", "not a certificate");
  TrustStore store;
  ASSERT_TRUE(store.AddAnchorsFrom(dir).ok());
  EXPECT_EQ(store.anchors().size(), 2u);
}

TEST(TrustStoreAddAnchorsFromTest, MissingOrNotACertificate_ErrorNamingPath) {
  const std::string dir = MakeTempDir("anchors-bad");
  TrustStore store;
  absl::Status missing = store.AddAnchorsFrom(dir + "/nothing.pem");
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.message()), HasSubstr("nothing.pem"));
  WriteFile(dir + "/key.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
  absl::Status not_cert = store.AddAnchorsFrom(dir + "/key.pem");
  EXPECT_EQ(not_cert.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(not_cert.message()), HasSubstr("key.pem"));
  EXPECT_TRUE(store.anchors().empty());
}

TEST(DocumentVerifierTest, SignedPdf_PassesWithoutRevocation_TryLaterWithIt) {
  DocumentVerifier verifier(Pki().RootStore());
  const HandPdf pdf = Signed();
  absl::StatusOr<VerificationReport> lax = verifier.Verify(pdf.bytes, /*check_revocation=*/false);
  ASSERT_TRUE(lax.ok()) << lax.status();
  EXPECT_TRUE(lax->AllPassed());
  absl::StatusOr<VerificationReport> strict = verifier.Verify(pdf.bytes, true);
  ASSERT_TRUE(strict.ok()) << strict.status();
  ASSERT_EQ(strict->signatures.size(), 1u);
  EXPECT_EQ(strict->signatures[0].sub_indication, SubIndication::kTryLater);
}

TEST(DocumentVerifierTest, EmptyOversizedOrGarbage_InvalidArgumentWithReason) {
  DocumentVerifier verifier(Pki().RootStore());
  absl::StatusOr<VerificationReport> empty = verifier.Verify("", false);
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(empty.status().message()), HasSubstr("empty"));

  std::string big = Signed().bytes;
  big.resize(DocumentVerifier::kMaxPdfBytes + 1, ' ');
  absl::StatusOr<VerificationReport> oversized = verifier.Verify(big, false);
  EXPECT_EQ(oversized.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(oversized.status().message()), HasSubstr("20 MiB"));

  // Exactly at the cap is still verified (the padding is trailing bytes).
  big.resize(DocumentVerifier::kMaxPdfBytes);
  EXPECT_TRUE(verifier.Verify(big, false).ok());

  absl::StatusOr<VerificationReport> garbage = verifier.Verify(std::string(1000, 'x'), false);
  EXPECT_EQ(garbage.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(DocumentVerifierTest, OneAtATime_SlotFreedAfterFailuresAndSuccesses) {
  DocumentVerifier verifier(Pki().RootStore(), /*max_concurrent=*/1);
  const HandPdf pdf = Signed();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(verifier.Verify("%PDF-1.7 garbage", false).status().code(),
              absl::StatusCode::kInvalidArgument);
    absl::StatusOr<VerificationReport> report = verifier.Verify(pdf.bytes, false);
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_TRUE(report->AllPassed());
  }
}

TEST(DocumentVerifierTest, BurstBeyondTheCap_EachCallPassesOrIsToldToRetry) {
  DocumentVerifier verifier(Pki().RootStore(), /*max_concurrent=*/1);
  std::string big = Signed().bytes;
  big.resize(DocumentVerifier::kMaxPdfBytes, ' ');
  std::vector<absl::Status> results(6);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = verifier.Verify(big, false).status(); });
  }
  for (std::thread& t : threads) t.join();
  int passed = 0;
  for (const absl::Status& status : results) {
    if (status.ok()) {
      ++passed;
    } else {
      EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
      EXPECT_THAT(std::string(status.message()), HasSubstr("retry"));
    }
  }
  EXPECT_GE(passed, 1);
}

}  // namespace
}  // namespace motcua::signing
