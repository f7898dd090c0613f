// Long-term signatures through the real server: its certificates name a real
// `openssl ocsp` responder, and a real RFC 3161 TSA (`openssl ts -reply`
// behind HTTP) runs on loopback. Every document the server makes must leave
// as PAdES B-LT (time-stamped, with its validation data in the /DSS), verify
// offline with revocation checking on, satisfy pdfsig and qpdf; an officer
// whose certificate is revoked must be refused with the dossier unchanged.

#include <openssl/x509v3.h>

#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "signing/dev/dev_pki.h"
#include "signing/signing_key.h"
#include "signing/trust_store.h"
#include "signing/verifier.h"
#include "tests/integration/cli_runner.h"
#include "tests/integration/fixtures.h"
#include "tests/signing/pdf_tools.h"
#include "tests/signing/test_servers.h"

namespace motcua::itest {
namespace {

namespace fs = std::filesystem;
namespace tu = signing::testing_util;
using ::testing::HasSubstr;
using ::testing::Not;

// The servers' PKI copied, its signing certificates re-issued to name an
// OCSP responder on loopback; the responder and a TSA running.
class LongTermResultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tu::MakeTempDir("motcua-it-long-term");
    pki_ = dir_ / "pki";
    // The first server start makes the shared PKI; none may have run yet.
    ASSERT_TRUE(signing::EnsureDevPki(SharedPkiDir()).ok());
    fs::copy(SharedPkiDir(), pki_, fs::copy_options::recursive);
    const int ocsp_port = tu::FreeLoopbackPort();
    signing::DevPkiOptions options;
    options.ocsp_url = absl::StrCat("http://127.0.0.1:", ocsp_port, "/");
    ASSERT_TRUE(signing::EnsureDevPki(pki_.string(), options).ok());
    responder_ = std::make_unique<tu::OcspResponder>(pki_, ocsp_port);
    tsa_ = std::make_unique<tu::TestTsaServer>(pki_, dir_ / "tsa");
    auto server = ServerProcess::Start({"--pki-dir", pki_.string(), "--tsa-url", tsa_->url()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }
  void TearDown() override {
    server_.reset();
    tsa_.reset();
    responder_.reset();
    fs::remove_all(dir_);
  }

  // The head's approval of `d`, signed with the head's key of the copy.
  Reply<v1::Dossier> Approve(const v1::Dossier& d) {
    v1::PrepareSignatureRequest prepare;
    prepare.set_task_id(d.task().id());
    prepare.set_expected_version(d.version());
    prepare.set_decision(v1::DECISION_APPROVE);
    prepare.set_signer_certificate_pem(tu::ReadFileOrDie(pki_ / "signers/head.crt"));
    Reply<v1::SignatureChallenge> challenge = server_->As("head").PrepareSignature(prepare);
    if (!challenge.status.ok()) return {challenge.status, {}};
    auto key = signing::SigningKey::LoadPkcs12((pki_ / "signers/head.p12").string(),
                                               signing::kDevPkcs12Password);
    EXPECT_TRUE(key.ok()) << key.status();
    auto value = (*key)->Sign(challenge.value.to_be_signed());
    EXPECT_TRUE(value.ok()) << value.status();
    v1::CompleteTaskRequest complete = Approval(d);
    complete.mutable_signature()->set_challenge_id(challenge.value.challenge_id());
    complete.mutable_signature()->set_signature_value(*value);
    return server_->As("head").CompleteTask(complete);
  }

  std::string Download(const v1::Dossier& d, const std::string& id) {
    Reply<v1::DocumentContent> content = server_->As("auditor").GetDocument(d.code(), id);
    EXPECT_RPC_OK(content);
    return content.value.content();
  }

  // Offline, with revocation checking on and no way to fetch anything: what
  // the document carries must be enough.
  signing::VerificationReport VerifyOffline(const std::string& pdf) {
    signing::TrustStore trust;
    EXPECT_TRUE(trust.AddAnchorsFrom((pki_ / "ca.crt").string()).ok());
    signing::VerifyOptions options;
    options.check_revocation = true;
    auto report = signing::VerifyPdf(pdf, trust, options);
    EXPECT_TRUE(report.ok()) << report.status();
    return report.ok() ? *std::move(report) : signing::VerificationReport();
  }

  fs::path dir_;
  fs::path pki_;
  std::unique_ptr<tu::OcspResponder> responder_;
  std::unique_ptr<tu::TestTsaServer> tsa_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(LongTermResultsTest, ReceiptAndCertifiedCopy_AreTimestampedLongTermAndVerifyOffline) {
  Reply<v1::Dossier> received = SubmitAndReceive(*server_);
  ASSERT_RPC_OK(received);
  Reply<v1::Dossier> approved = Approve(received.value);
  ASSERT_RPC_OK(approved);
  ASSERT_EQ(approved.value.documents_size(), 2);
  // The receipt's seal, the head's signature and the copy's seal.
  EXPECT_GE(tsa_->requests(), 3);

  for (const v1::Document& doc : approved.value.documents()) {
    SCOPED_TRACE(doc.id());
    const std::string pdf = Download(approved.value, doc.id());
    signing::VerificationReport report = VerifyOffline(pdf);
    EXPECT_TRUE(report.AllPassed()) << signing::ReportToText(report);
    // Each signer, then the document time-stamp over it all (B-LTA).
    ASSERT_EQ(report.signatures.size(), static_cast<size_t>(doc.signers_size()) + 1);
    EXPECT_EQ(report.signatures.back().type, "DocTimeStamp");
    EXPECT_TRUE(report.signatures.back().coverage.covers_whole_document);
    for (const signing::SignatureReport& s : report.signatures) {
      if (s.type != "Sig") continue;
      EXPECT_TRUE(s.timestamp.present && s.timestamp.valid) << s.field_name << s.timestamp.problem;
      EXPECT_EQ(s.revocation, signing::RevocationStatus::kGood) << s.revocation_detail;
      // From the responder, not only from the CA's CRL.
      EXPECT_THAT(s.revocation_detail, HasSubstr("signer: good (OCSP response"));
    }

    const fs::path file = dir_ / (doc.id() + ".pdf");
    tu::WriteFileOrDie(file, pdf);
    tu::CommandResult check = tu::RunCommand("qpdf --check " + tu::Quote(file.string()));
    EXPECT_EQ(check.exit_code, 0) << check.output;
    tu::CommandResult pdfsig = tu::RunCommand("pdfsig " + tu::Quote(file.string()));
    EXPECT_THAT(pdfsig.output, HasSubstr("Signature is Valid")) << pdfsig.output;
    EXPECT_THAT(pdfsig.output, Not(HasSubstr("Signature is Invalid"))) << pdfsig.output;
    // openssl, independently, accepts every embedded CMS over its bytes.
    // (The last is the document time-stamp's token, not a detached CMS.)
    const auto embedded = signing::testing_tools::FindSignatures(pdf);
    ASSERT_EQ(embedded.size(), static_cast<size_t>(doc.signers_size()) + 1);
    for (size_t i = 0; i + 1 < embedded.size(); ++i) {
      const fs::path cms = dir_ / absl::StrCat(doc.id(), "-", i, ".p7s");
      const fs::path content = dir_ / absl::StrCat(doc.id(), "-", i, ".bin");
      tu::WriteFileOrDie(cms, embedded[i].cms);
      tu::WriteFileOrDie(content, embedded[i].signed_bytes);
      tu::CommandResult cms_check = tu::RunCommand(
          "openssl cms -verify -binary -inform DER -in " + tu::Quote(cms.string()) +
          " -content " + tu::Quote(content.string()) + " -CAfile " +
          tu::Quote((pki_ / "ca.crt").string()) + " -purpose any -out /dev/null");
      EXPECT_EQ(cms_check.exit_code, 0) << cms_check.output;
    }
    // The auditor's CLI, offline, revocation on (no --no-revocation).
    CliResult verify = RunCli({"verify", file.string(), "--trust", (pki_ / "ca.crt").string()});
    EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  }
  // The whole dossier, over gRPC, revocation on.
  Reply<v1::VerifyDossierResponse> audit =
      server_->As("auditor").VerifyDossier(approved.value.code(), false);
  ASSERT_RPC_OK(audit);
  EXPECT_TRUE(audit.value.all_passed()) << audit.value.DebugString();
}

TEST_F(LongTermResultsTest, RevokedOfficerCertificate_PermissionDeniedAndDossierUnchanged) {
  Reply<v1::Dossier> received = SubmitAndReceive(*server_);
  ASSERT_RPC_OK(received);
  ASSERT_TRUE(
      signing::RevokeDevSigner(pki_.string(), "head", CRL_REASON_KEY_COMPROMISE).ok());
  responder_->Restart();  // openssl ocsp reads its index when it starts

  Reply<v1::Dossier> approved = Approve(received.value);
  EXPECT_RPC_CODE(approved, grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(approved.status.error_message(), HasSubstr("revoked"));
  Reply<v1::Dossier> now = Reread(*server_, received.value.code());
  ASSERT_RPC_OK(now);
  EXPECT_EQ(now.value.version(), received.value.version());
  EXPECT_EQ(now.value.documents_size(), 1);
}

}  // namespace
}  // namespace motcua::itest
