// Signed results through the real server: the receipt sealed at receipt,
// the certified copy signed two-phase by the head (PKCS#12 file or SoftHSM2
// token key) then sealed; the stored PDFs judged by pdfsig, qpdf, pdftotext
// and our verifier; refused signatures leave the dossier unchanged.

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "signing/dev/dev_pki.h"
#include "signing/signing_key.h"
#include "signing/trust_store.h"
#include "signing/verifier.h"
#include "tests/integration/cli_runner.h"
#include "tests/integration/fixtures.h"
#include "tests/signing/signing_test_util.h"
#include "tests/signing/verifier_fixtures.h"

namespace motcua::itest {
namespace {

using ::testing::HasSubstr;

using Command = signing::testing_util::CommandResult;
Command Shell(const std::string& command) { return signing::testing_util::RunCommand(command); }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

// SHA-256 (hex) of the DER of the first certificate in the PEM file.
std::string CertificateSha256(const std::string& pem_path) {
  auto certs = signing::TrustStore::ParseCertificates(ReadFile(pem_path));
  if (!certs.ok()) return "";
  unsigned char* der = nullptr;
  const int length = i2d_X509((*certs)[0].get(), &der);
  std::string hex = Sha256Hex(std::string(reinterpret_cast<char*>(der), length));
  OPENSSL_free(der);
  return hex;
}

// The last signature of `pdf` (a document time-stamp) judged by `openssl ts
// -verify`: its token from /Contents (DER, the zero padding cut by the
// length its header gives), the bytes its /ByteRange covers as the data.
Command VerifyDocumentTimestampWithOpenssl(const std::string& pdf, const std::string& dir,
                                           const std::string& ca) {
  const size_t at = pdf.rfind("/ByteRange");
  int64_t r[4] = {0, 0, 0, 0};
  std::sscanf(pdf.c_str() + at, "/ByteRange [%ld %ld %ld %ld]", &r[0], &r[1], &r[2], &r[3]);
  std::string der;
  for (int64_t i = r[1] + 1; i + 1 < r[2] - 1; i += 2) {
    der.push_back(static_cast<char>(std::stoi(pdf.substr(i, 2), nullptr, 16)));
  }
  size_t length = der.size();
  if (der.size() > 4 && static_cast<unsigned char>(der[1]) == 0x82) {
    length = 4 + (static_cast<unsigned char>(der[2]) << 8) + static_cast<unsigned char>(der[3]);
  }
  WriteFile(dir + "/token.der", der.substr(0, length));
  WriteFile(dir + "/covered.bin", pdf.substr(r[0], r[1]) + pdf.substr(r[2], r[3]));
  return Shell("openssl ts -verify -token_in -in " + dir + "/token.der -data " + dir +
               "/covered.bin -CAfile " + ca + " 2>&1");
}

class SignedResultsTest : public SharedServerTest {
 protected:
  // The dossier's document `id`, written to the scratch dir; its path.
  std::string Download(const v1::Dossier& dossier, const std::string& id) {
    Reply<v1::DocumentContent> content = server().As("auditor").GetDocument(dossier.code(), id);
    EXPECT_RPC_OK(content);
    for (const auto& doc : dossier.documents()) {
      if (doc.id() == id) {
        EXPECT_EQ(Sha256Hex(content.value.content()), doc.sha256());
      }
    }
    const std::string path = absl::StrCat(server().scratch_dir(), "/", dossier.code(), "-", id, ".pdf");
    WriteFile(path, content.value.content());
    return path;
  }

  // An NSS database trusting the server's dev CA, for pdfsig.
  static const std::string& NssDb() {
    static const std::string* const dir = [] {
      auto* path = new std::string(server().scratch_dir() + "/nssdb");
      std::filesystem::create_directories(*path);
      Command init = Shell("certutil -N -d sql:" + *path + " --empty-password");
      Command add = Shell("certutil -A -d sql:" + *path + " -n motcua-dev-root -t CT,C,C -i " +
                        server().pki_dir() + "/ca.crt");
      EXPECT_EQ(init.exit_code, 0) << init.output;
      EXPECT_EQ(add.exit_code, 0) << add.output;
      return path;
    }();
    return *dir;
  }

  static signing::VerificationReport Verify(const std::string& pdf_path) {
    signing::TrustStore trust;
    EXPECT_TRUE(trust.AddAnchors(ReadFile(server().pki_dir() + "/ca.crt")).ok());
    // Revocation on, nothing fetched: the document's /DSS must be enough.
    signing::VerifyOptions options;
    options.check_revocation = true;
    auto report = signing::VerifyPdf(ReadFile(pdf_path), trust, options);
    EXPECT_TRUE(report.ok()) << report.status();
    return report.ok() ? *report : signing::VerificationReport();
  }

  // The last event of the dossier's history.
  static v1::HistoryEvent LastEvent(const std::string& code) {
    Reply<v1::GetDossierHistoryResponse> history = server().As("auditor").History(code);
    EXPECT_RPC_OK(history);
    return history.value.events_size() > 0 ? *history.value.events().rbegin() : v1::HistoryEvent();
  }

  static v1::PrepareSignatureRequest Prepare(const v1::Dossier& d, const std::string& cert_path) {
    v1::PrepareSignatureRequest r;
    r.set_task_id(d.task().id());
    r.set_expected_version(d.version());
    r.set_decision(v1::DECISION_APPROVE);
    r.set_signer_certificate_pem(ReadFile(cert_path));
    return r;
  }

  // The head's approval of `d`, signed by `key` over a fresh challenge.
  static v1::CompleteTaskRequest SignWith(const v1::Dossier& d, const signing::SigningKey& key) {
    v1::CompleteTaskRequest request = Approval(d);
    Reply<v1::SignatureChallenge> challenge =
        server().As("head").PrepareSignature(Prepare(d, server().pki_dir() + "/signers/head.crt"));
    EXPECT_RPC_OK(challenge);
    auto value = key.Sign(challenge.value.to_be_signed());
    EXPECT_TRUE(value.ok()) << value.status();
    request.mutable_signature()->set_challenge_id(challenge.value.challenge_id());
    request.mutable_signature()->set_signature_value(value.ok() ? *value : "");
    return request;
  }

  // Checks the approval's certified copy: officer then seal, both valid.
  void ExpectCertifiedCopy(const v1::Dossier& approved) {
    ASSERT_EQ(approved.documents_size(), 2);
    const v1::Document& doc = approved.documents(1);
    EXPECT_EQ(doc.kind(), "certified_copy");
    ASSERT_EQ(doc.signers_size(), 2);
    EXPECT_EQ(doc.signers(0).common_name(), kHeadSubject);
    EXPECT_EQ(doc.signers(0).certificate_sha256(),
              CertificateSha256(server().pki_dir() + "/signers/head.crt"));
    EXPECT_EQ(doc.signers(1).certificate_sha256(),
              CertificateSha256(server().pki_dir() + "/signers/seal-HN-SGDDT.crt"));

    const std::string pdf = Download(approved, doc.id());
    signing::VerificationReport report = Verify(pdf);
    // The officer, the seal, then the document time-stamp over it all (B-LTA).
    ASSERT_EQ(report.signatures.size(), 3u);
    EXPECT_TRUE(report.AllPassed()) << signing::ReportToText(report);
    EXPECT_EQ(report.signatures[0].signer_common_name, kHeadSubject);
    EXPECT_EQ(report.signatures[1].signer_common_name, "HN-SGDDT");
    EXPECT_EQ(report.signatures[2].type, "DocTimeStamp");
    EXPECT_TRUE(report.signatures[2].coverage.covers_whole_document);

    Command sig = Shell("pdfsig -nssdir sql:" + NssDb() + " " + pdf);
    EXPECT_THAT(sig.output, HasSubstr("Signature #1"));
    EXPECT_THAT(sig.output, HasSubstr("Signature #2"));
    size_t valid = 0;
    for (size_t at = sig.output.find("Signature is Valid"); at != std::string::npos;
         at = sig.output.find("Signature is Valid", at + 1)) {
      ++valid;
    }
    EXPECT_EQ(valid, 2u) << sig.output;
    EXPECT_THAT(sig.output, HasSubstr("ETSI.CAdES.detached"));
    EXPECT_THAT(sig.output, HasSubstr("Certificate is Trusted")) << sig.output;
    Command check = Shell("qpdf --check " + pdf);
    EXPECT_EQ(check.exit_code, 0) << check.output;
    Command text = Shell("pdftotext -enc UTF-8 " + pdf + " -");
    EXPECT_THAT(text.output, HasSubstr("TỪ SỔ GỐC"));
    EXPECT_THAT(text.output, HasSubstr("Nguyễn Thị Minh Khai"));

    v1::HistoryEvent event = LastEvent(approved.code());
    EXPECT_EQ(event.action(), "approve");
    EXPECT_EQ(event.document_id(), doc.id());
    EXPECT_EQ(event.document_sha256(), doc.sha256());
    ASSERT_EQ(event.signer_certificate_sha256_size(), 2);
    EXPECT_EQ(event.signer_certificate_sha256(0), doc.signers(0).certificate_sha256());
    EXPECT_EQ(event.signer_certificate_sha256(1), doc.signers(1).certificate_sha256());
  }
};

TEST_F(SignedResultsTest, Receive_ReceiptIsSealedByTheUnit) {
  Reply<v1::Dossier> received = SubmitAndReceive(server());
  ASSERT_RPC_OK(received);
  ASSERT_EQ(received.value.documents_size(), 1);
  const v1::Document& doc = received.value.documents(0);
  EXPECT_EQ(doc.kind(), "receipt");
  ASSERT_EQ(doc.signers_size(), 1);
  EXPECT_EQ(doc.signers(0).signer(), v1::SIGNER_UNIT_SEAL);
  EXPECT_EQ(doc.signers(0).certificate_sha256(),
            CertificateSha256(server().pki_dir() + "/signers/seal-HN-SGDDT.crt"));

  const std::string pdf = Download(received.value, doc.id());
  Command sig = Shell("pdfsig -nssdir sql:" + NssDb() + " " + pdf);
  EXPECT_THAT(sig.output, HasSubstr("Signature is Valid")) << sig.output;
  EXPECT_THAT(sig.output, HasSubstr("Certificate is Trusted")) << sig.output;
  EXPECT_THAT(sig.output, HasSubstr("ETSI.CAdES.detached")) << sig.output;
  Command check = Shell("qpdf --check " + pdf);
  EXPECT_EQ(check.exit_code, 0) << check.output;
  // B-T by default: the development TSA inside the server time-stamps the seal.
  signing::TrustStore trust;
  ASSERT_TRUE(trust.AddAnchorsFrom(server().pki_dir() + "/ca.crt").ok());
  auto report = signing::VerifyPdf(ReadFile(pdf), trust);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->signatures.size(), 2u);  // the seal, the document time-stamp
  EXPECT_EQ(report->signatures[1].type, "DocTimeStamp");
  // An independent judge of the document time-stamp (pdfsig 22.12 cannot
  // validate ETSI.RFC3161): it covers every byte before it, /DSS included.
  Command ts = VerifyDocumentTimestampWithOpenssl(ReadFile(pdf), server().scratch_dir(),
                                                  server().pki_dir() + "/ca.crt");
  EXPECT_THAT(ts.output, HasSubstr("Verification: OK")) << ts.output;
  EXPECT_EQ(report->signatures[1].indication, signing::Indication::kTotalPassed)
      << report->signatures[1].reason;
  EXPECT_TRUE(report->signatures[1].coverage.covers_whole_document);
  const signing::TimestampInfo& stamp = report->signatures[0].timestamp;
  EXPECT_TRUE(stamp.present && stamp.valid) << stamp.problem;
  ASSERT_TRUE(stamp.gen_time.has_value());
  EXPECT_LT(absl::AbsDuration(*stamp.gen_time - absl::Now()), absl::Minutes(1));
  EXPECT_EQ(report->signatures[0].indication, signing::Indication::kTotalPassed)
      << report->signatures[0].reason;
  Command text = Shell("pdftotext -enc UTF-8 " + pdf + " -");
  EXPECT_THAT(text.output, HasSubstr("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"));
  EXPECT_THAT(text.output, HasSubstr("Nguyễn Thị Minh Khai"));
  EXPECT_THAT(text.output, HasSubstr(received.value.code()));

  // Issued after the step, by the server, in an event of its own.
  v1::HistoryEvent event = LastEvent(received.value.code());
  EXPECT_EQ(event.action(), "document_issued");
  EXPECT_EQ(event.actor(), "system");
  EXPECT_EQ(event.document_sha256(), doc.sha256());
  ASSERT_EQ(event.signer_certificate_sha256_size(), 1);

  // The submitting portal may fetch it; another portal may not.
  EXPECT_RPC_OK(server().As("portal").GetDocument(received.value.code(), doc.id()));
  EXPECT_RPC_CODE(server().As("portal2").GetDocument(received.value.code(), doc.id()),
                  grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_RPC_CODE(server().As("auditor").GetDocument(received.value.code(), "d9"),
                  grpc::StatusCode::NOT_FOUND);
}

// The documents a refusal and a request for a supplement leave behind
// (Circular 01/2018/TT-VPCP forms 03 and 02, from the procedure's
// templates): sealed by the unit after the step, with what the officer
// wrote.
TEST_F(SignedResultsTest, Reject_RefusalListsTheReasonsSealedByTheUnit) {
  Reply<v1::Dossier> received = SubmitAndReceive(server());
  ASSERT_RPC_OK(received);
  Reply<v1::Dossier> rejected = server().As("head").CompleteTask(
      Rejection(received.value, {"Không tìm thấy văn bằng trong sổ gốc với số hiệu đã khai",
                                 "Năm tốt nghiệp không khớp"}));
  ASSERT_RPC_OK(rejected);
  Reply<v1::Dossier> issued = AwaitIssued(server(), rejected.value.code());
  ASSERT_RPC_OK(issued);
  ASSERT_EQ(issued.value.documents_size(), 2);
  const v1::Document& doc = issued.value.documents(1);
  EXPECT_EQ(doc.kind(), "refusal");
  ASSERT_EQ(doc.signers_size(), 1);
  EXPECT_EQ(doc.signers(0).signer(), v1::SIGNER_UNIT_SEAL);
  const std::string pdf = Download(issued.value, doc.id());
  Command sig = Shell("pdfsig -nssdir sql:" + NssDb() + " " + pdf);
  EXPECT_THAT(sig.output, HasSubstr("Signature is Valid")) << sig.output;
  EXPECT_THAT(sig.output, HasSubstr("Certificate is Trusted")) << sig.output;
  EXPECT_EQ(Shell("qpdf --check " + pdf).exit_code, 0);
  EXPECT_TRUE(Verify(pdf).AllPassed());
  Command text = Shell("pdftotext -enc UTF-8 " + pdf + " -");
  EXPECT_THAT(text.output, HasSubstr("PHIẾU TỪ CHỐI TIẾP NHẬN, GIẢI QUYẾT HỒ SƠ"));
  EXPECT_THAT(text.output, HasSubstr("Kính gửi: Nguyễn Thị Minh Khai"));
  EXPECT_THAT(text.output, HasSubstr("1. Không tìm thấy văn bằng trong sổ gốc với số hiệu đã khai"));
  EXPECT_THAT(text.output, HasSubstr("2. Năm tốt nghiệp không khớp"));
  EXPECT_THAT(text.output, HasSubstr(issued.value.code()));
  v1::HistoryEvent event = LastEvent(issued.value.code());
  EXPECT_EQ(event.action(), "document_issued");
  EXPECT_EQ(event.document_sha256(), doc.sha256());
}

TEST_F(SignedResultsTest, RequestSupplement_RequestListsWhatIsMissingSealedByTheUnit) {
  Reply<v1::Dossier> asked = SubmitReceiveRequestSupplement(server());
  ASSERT_RPC_OK(asked);
  Reply<v1::Dossier> issued = AwaitIssued(server(), asked.value.code());
  ASSERT_RPC_OK(issued);
  ASSERT_EQ(issued.value.documents_size(), 2);
  const v1::Document& doc = issued.value.documents(1);
  EXPECT_EQ(doc.kind(), "supplement_request");
  const std::string pdf = Download(issued.value, doc.id());
  EXPECT_TRUE(Verify(pdf).AllPassed());
  Command sig = Shell("pdfsig -nssdir sql:" + NssDb() + " " + pdf);
  EXPECT_THAT(sig.output, HasSubstr("Signature is Valid")) << sig.output;
  Command text = Shell("pdftotext -enc UTF-8 " + pdf + " -");
  EXPECT_THAT(text.output, HasSubstr("PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ"));
  EXPECT_THAT(text.output, HasSubstr("1. Bản chụp CCCD"));
}

TEST_F(SignedResultsTest, Approve_TwoPhaseWithPkcs12_OfficerThenSeal) {
  Reply<v1::Dossier> approved = SubmitReceiveApprove(server());
  ASSERT_RPC_OK(approved);
  EXPECT_EQ(approved.value.state(), "processed");
  ExpectCertifiedCopy(approved.value);
}

// What you see is what you sign: the preview is the PDF whose bytes the
// challenge's digest covers, for the preparing officer only, until used.
TEST_F(SignedResultsTest, SignaturePreview_IsTheExactPdfTheChallengeCovers) {
  Reply<v1::Dossier> received = SubmitAndReceive(server());
  ASSERT_RPC_OK(received);
  Reply<v1::SignatureChallenge> challenge = server().As("head").PrepareSignature(
      Prepare(received.value, server().pki_dir() + "/signers/head.crt"));
  ASSERT_RPC_OK(challenge);
  Reply<v1::SignaturePreview> preview =
      server().As("head").GetSignaturePreview(challenge.value.challenge_id());
  ASSERT_RPC_OK(preview);
  EXPECT_EQ(preview.value.document_kind(), "certified_copy");
  EXPECT_EQ(preview.value.document_sha256(), challenge.value.document_sha256());
  const std::string& pdf = preview.value.pdf();
  ASSERT_EQ(preview.value.byte_range_size(), 4);
  const auto& r = preview.value.byte_range();
  ASSERT_EQ(static_cast<size_t>(r[2] + r[3]), pdf.size());
  const std::string covered = pdf.substr(r[0], r[1]) + pdf.substr(r[2], r[3]);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(covered.data(), covered.size(), digest, &length, EVP_sha256(), nullptr);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(digest), length),
            challenge.value.document_sha256());
  EXPECT_NE(challenge.value.to_be_signed().find(challenge.value.document_sha256()),
            std::string::npos);
  const std::string path = server().scratch_dir() + "/preview.pdf";
  WriteFile(path, pdf);
  Command text = Shell("pdftotext -enc UTF-8 " + path + " -");
  EXPECT_THAT(text.output, HasSubstr("TỪ SỔ GỐC"));
  EXPECT_THAT(text.output, HasSubstr("Nguyễn Thị Minh Khai"));
  EXPECT_EQ(Shell("qpdf --check " + path).exit_code, 0);

  EXPECT_RPC_CODE(server().As("receiver").GetSignaturePreview(challenge.value.challenge_id()),
                  grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_RPC_CODE(server().As("portal").GetSignaturePreview(challenge.value.challenge_id()),
                  grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_RPC_CODE(server().As("head").GetSignaturePreview("0123456789abcdef"),
                  grpc::StatusCode::NOT_FOUND);
}

// Batch signing as any client would do it from service.proto: one
// PrepareSignatures, every value signed with one key, one CompleteTasks.
// Each task stands alone: a duplicate, a value that does not verify, fail
// only themselves; a retry answers the same and commits nothing twice.
TEST_F(SignedResultsTest, Batch_OneKeySessionSignsManyAndEachTaskStandsAlone) {
  std::vector<v1::Dossier> received;
  for (int i = 0; i < 4; ++i) {
    Reply<v1::Dossier> one = SubmitAndReceive(server());
    ASSERT_RPC_OK(one);
    received.push_back(one.value);
  }
  v1::PrepareSignaturesRequest prepare;
  prepare.set_signer_certificate_pem(ReadFile(server().pki_dir() + "/signers/head.crt"));
  for (const v1::Dossier& d : received) {
    auto* item = prepare.add_items();
    item->set_task_id(d.task().id());
    item->set_expected_version(d.version());
    item->set_decision(v1::DECISION_APPROVE);
  }
  *prepare.add_items() = prepare.items(0);  // the first task again
  Reply<v1::PrepareSignaturesResponse> prepared = server().As("head").PrepareSignatures(prepare);
  ASSERT_RPC_OK(prepared);
  ASSERT_EQ(prepared.value.results_size(), 5);
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(prepared.value.results(i).has_challenge()) << prepared.value.results(i).error().message();
    EXPECT_EQ(prepared.value.results(i).task_id(), received[i].task().id());
  }
  EXPECT_FALSE(prepared.value.results(4).has_challenge());
  EXPECT_EQ(prepared.value.results(4).error().code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(prepared.value.results(4).error().message(), HasSubstr("twice"));

  auto key = signing::SigningKey::LoadPkcs12(server().pki_dir() + "/signers/head.p12",
                                             signing::kDevPkcs12Password);
  ASSERT_TRUE(key.ok()) << key.status();
  v1::CompleteTasksRequest complete;
  for (int i = 0; i < 4; ++i) {
    v1::CompleteTaskRequest task = Approval(received[i]);
    const v1::SignatureChallenge& challenge = prepared.value.results(i).challenge();
    absl::StatusOr<std::string> value = (*key)->Sign(challenge.to_be_signed());
    ASSERT_TRUE(value.ok()) << value.status();
    if (i == 2) (*value)[10] ^= 0x01;  // does not verify
    task.mutable_signature()->set_challenge_id(challenge.challenge_id());
    task.mutable_signature()->set_signature_value(*value);
    *complete.add_tasks() = task;
  }
  *complete.add_tasks() = complete.tasks(1);  // the second task again
  Reply<v1::CompleteTasksResponse> completed = server().As("head").CompleteTasks(complete);
  ASSERT_RPC_OK(completed);
  ASSERT_EQ(completed.value.results_size(), 5);
  for (int i : {0, 1, 3}) {
    ASSERT_TRUE(completed.value.results(i).has_dossier()) << completed.value.results(i).error().message();
    EXPECT_EQ(completed.value.results(i).dossier().state(), "processed");
    ExpectCertifiedCopy(completed.value.results(i).dossier());
  }
  EXPECT_EQ(completed.value.results(2).error().code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(completed.value.results(4).error().code(), grpc::StatusCode::INVALID_ARGUMENT);
  Reply<v1::Dossier> untouched = Reread(server(), received[2].code());
  ASSERT_RPC_OK(untouched);
  EXPECT_EQ(untouched.value.state(), "processing");
  EXPECT_EQ(untouched.value.version(), received[2].version());
  EXPECT_EQ(untouched.value.documents_size(), 1);

  // The same call again: the same answers, nothing committed twice.
  Reply<v1::GetDossierHistoryResponse> before = server().As("auditor").History(received[0].code());
  ASSERT_RPC_OK(before);
  Reply<v1::CompleteTasksResponse> again = server().As("head").CompleteTasks(complete);
  ASSERT_RPC_OK(again);
  ASSERT_EQ(again.value.results_size(), 5);
  for (int i : {0, 1, 3}) {
    ASSERT_TRUE(again.value.results(i).has_dossier());
    EXPECT_EQ(again.value.results(i).dossier().version(),
              completed.value.results(i).dossier().version());
  }
  Reply<v1::GetDossierHistoryResponse> after = server().As("auditor").History(received[0].code());
  ASSERT_RPC_OK(after);
  EXPECT_EQ(after.value.events_size(), before.value.events_size());

  // Malformed calls fail whole.
  EXPECT_RPC_CODE(server().As("head").CompleteTasks(v1::CompleteTasksRequest()),
                  grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_RPC_CODE(server().As("portal").PrepareSignatures(prepare),
                  grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(SignedResultsTest, Approve_TwoPhaseWithSoftHsmTokenKey_OfficerThenSeal) {
  // The head's key on a SoftHSM2 token (sensitive: it signs there).
  const std::string dir = server().scratch_dir() + "/softhsm";
  std::filesystem::create_directories(dir + "/tokens");
  WriteFile(dir + "/softhsm2.conf", "directories.tokendir = " + dir +
                                        "/tokens\nobjectstore.backend = file\nlog.level = ERROR\n");
  setenv("SOFTHSM2_CONF", (dir + "/softhsm2.conf").c_str(), 1);
  const std::string module = "/usr/lib/softhsm/libsofthsm2.so";
  Command init = Shell("softhsm2-util --init-token --free --label head-token --pin 123456 "
                     "--so-pin 87654321");
  ASSERT_EQ(init.exit_code, 0) << init.output;
  Command import = Shell("pkcs11-tool --module " + module +
                       " --token-label head-token --login --pin 123456 --write-object " +
                       server().pki_dir() + "/signers/head.key" +
                       " --type privkey --id 01 --label head-key --usage-sign --sensitive");
  ASSERT_EQ(import.exit_code, 0) << import.output;
  WriteFile(dir + "/chain.pem", ReadFile(server().pki_dir() + "/signers/head.crt") +
                                    ReadFile(server().pki_dir() + "/ca.crt"));
  signing::Pkcs11KeyRef ref{module, "head-token", "head-key", "123456", dir + "/chain.pem"};
  auto key = signing::SigningKey::OpenPkcs11Key(ref);
  ASSERT_TRUE(key.ok()) << key.status();

  Reply<v1::Dossier> received = SubmitAndReceive(server());
  ASSERT_RPC_OK(received);
  Reply<v1::Dossier> approved = server().As("head").CompleteTask(SignWith(received.value, **key));
  ASSERT_RPC_OK(approved);
  ExpectCertifiedCopy(approved.value);
}

TEST_F(SignedResultsTest, Approve_WithoutSignature_FailedPreconditionAndUnchanged) {
  Reply<v1::Dossier> received = SubmitAndReceive(server());
  ASSERT_RPC_OK(received);
  Reply<v1::Dossier> reply = server().As("head").CompleteTask(Approval(received.value));
  EXPECT_RPC_CODE(reply, grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(reply.status.error_message(), HasSubstr("PrepareSignature"));
  Reply<v1::Dossier> now = Reread(server(), received.value.code());
  ASSERT_RPC_OK(now);
  EXPECT_EQ(now.value.version(), received.value.version());
}

TEST_F(SignedResultsTest, Approve_TamperedSignatureValue_InvalidArgumentAndUnchanged) {
  Reply<v1::Dossier> received = SubmitAndReceive(server());
  ASSERT_RPC_OK(received);
  auto head = signing::SigningKey::LoadPkcs12(server().pki_dir() + "/signers/head.p12",
                                              signing::kDevPkcs12Password);
  ASSERT_TRUE(head.ok()) << head.status();
  v1::CompleteTaskRequest request = SignWith(received.value, **head);
  std::string value = request.signature().signature_value();
  ASSERT_FALSE(value.empty());
  value[value.size() / 2] ^= 0x40;
  request.mutable_signature()->set_signature_value(value);
  EXPECT_RPC_CODE(server().As("head").CompleteTask(request), grpc::StatusCode::INVALID_ARGUMENT);
  Reply<v1::Dossier> now = Reread(server(), received.value.code());
  ASSERT_RPC_OK(now);
  EXPECT_EQ(now.value.version(), received.value.version());
  EXPECT_EQ(now.value.documents_size(), 1);
  EXPECT_EQ(now.value.state(), "processing");
}

TEST_F(SignedResultsTest, Prepare_AnotherOfficersCertificate_PermissionDenied) {
  Reply<v1::Dossier> received = SubmitAndReceive(server());
  ASSERT_RPC_OK(received);
  Reply<v1::SignatureChallenge> challenge = server().As("head").PrepareSignature(
      Prepare(received.value, server().pki_dir() + "/signers/receiver.crt"));
  EXPECT_RPC_CODE(challenge, grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(challenge.status.error_message(), HasSubstr(kReceiverSubject));
  Reply<v1::Dossier> now = Reread(server(), received.value.code());
  ASSERT_RPC_OK(now);
  EXPECT_EQ(now.value.version(), received.value.version());
}

TEST_F(SignedResultsTest, Approve_SignedWithAnotherOfficersKey_InvalidArgumentAndUnchanged) {
  Reply<v1::Dossier> received = SubmitAndReceive(server());
  ASSERT_RPC_OK(received);
  auto receiver = signing::SigningKey::LoadPkcs12(server().pki_dir() + "/signers/receiver.p12",
                                                  signing::kDevPkcs12Password);
  ASSERT_TRUE(receiver.ok()) << receiver.status();
  EXPECT_RPC_CODE(server().As("head").CompleteTask(SignWith(received.value, **receiver)),
                  grpc::StatusCode::INVALID_ARGUMENT);
  Reply<v1::Dossier> now = Reread(server(), received.value.code());
  ASSERT_RPC_OK(now);
  EXPECT_EQ(now.value.version(), received.value.version());
}

// The dossier-level check: over gRPC, and offline on an export.
TEST_F(SignedResultsTest, VerifyDossier_ApprovedDossier_AllPassed) {
  Reply<v1::Dossier> approved = SubmitReceiveApprove(server());
  ASSERT_RPC_OK(approved);
  Reply<v1::VerifyDossierResponse> audit =
      server().As("auditor").VerifyDossier(approved.value.code(), /*skip_revocation_check=*/false);
  ASSERT_RPC_OK(audit);
  EXPECT_TRUE(audit.value.all_passed()) << audit.value.DebugString();
  EXPECT_EQ(audit.value.dossier_code(), approved.value.code());
  EXPECT_TRUE(audit.value.history().intact());
  EXPECT_EQ(audit.value.history().events_checked(), approved.value.history_length());
  ASSERT_EQ(audit.value.documents_size(), 2);
  const v1::DocumentAudit& copy = audit.value.documents(1);
  EXPECT_EQ(copy.actor(), kHeadSubject);
  EXPECT_EQ(copy.actual_sha256(), approved.value.documents(1).sha256());
  EXPECT_EQ(copy.verification().signatures_size(), 3);  // officer, seal, document time-stamp
  EXPECT_TRUE(copy.problems().empty());

  EXPECT_RPC_CODE(server().As("portal").VerifyDossier(approved.value.code(), true),
                  grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_RPC_CODE(server().As("auditor").VerifyDossier("2.001914-19700101-0000", true),
                  grpc::StatusCode::NOT_FOUND);
}

TEST_F(SignedResultsTest, VerifyDossierOffline_ExportPasses_TamperedDocumentFails) {
  Reply<v1::Dossier> approved = SubmitReceiveApprove(server());
  ASSERT_RPC_OK(approved);
  const std::string code = approved.value.code();
  const std::string dir = absl::StrCat(server().scratch_dir(), "/export-", code);
  const std::vector<std::string> connect = {"--server", server().target(), "--pki-dir",
                                            server().pki_dir(), "--as", "auditor"};
  std::vector<std::string> export_args = connect;
  export_args.insert(export_args.end(), {"export", code, dir});
  CliResult exported = RunCli(export_args);
  ASSERT_EQ(exported.exit_code, 0) << exported.out << exported.err;
  EXPECT_TRUE(std::filesystem::exists(dir + "/dossier.json"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/d2.pdf"));

  // No server: --pki-dir only says where the default anchor is.
  const std::vector<std::string> offline = {"--pki-dir", server().pki_dir(), "verify-dossier",
                                            "--from", dir};
  CliResult passed = RunCli(offline);
  EXPECT_EQ(passed.exit_code, 0) << passed.out << passed.err;
  EXPECT_THAT(passed.out, HasSubstr("Dossier " + code + ": PASSED"));
  EXPECT_THAT(passed.out, HasSubstr(std::string("signed by ") + kHeadSubject + ": TOTAL_PASSED"));

  std::string pdf = ReadFile(dir + "/d2.pdf");
  pdf[pdf.size() / 3] ^= 0x01;
  WriteFile(dir + "/d2.pdf", pdf);
  CliResult failed = RunCli(offline);
  EXPECT_EQ(failed.exit_code, 1) << failed.out << failed.err;
  EXPECT_THAT(failed.out, HasSubstr("Dossier " + code + ": FAILED"));
  EXPECT_THAT(failed.out, HasSubstr("its SHA-256 is"));

  // Exporting over a non-empty directory is refused.
  CliResult again = RunCli(export_args);
  EXPECT_NE(again.exit_code, 0);
  EXPECT_THAT(again.err, HasSubstr("not empty"));
}

// An operator renews what would lapse (here: everything, a day far ahead)
// from the CLI; each document grows by the TSA's evidence and a new document
// time-stamp, and every judge still passes it.
TEST_F(SignedResultsTest, RenewDocumentsFromTheCli_NewTimestampOverEachDocumentAllStillPass) {
  Reply<v1::Dossier> approved = SubmitReceiveApprove(server());
  ASSERT_RPC_OK(approved);
  Reply<v1::Dossier> issued = AwaitIssued(server(), approved.value.code());
  ASSERT_RPC_OK(issued);
  ASSERT_EQ(issued.value.documents_size(), 2);
  std::vector<std::string> before;
  for (const v1::Document& doc : issued.value.documents()) {
    before.push_back(ReadFile(Download(issued.value, doc.id())));
  }

  CliResult renewed = RunCli({"--server", server().target(), "--pki-dir", server().pki_dir(),
                              "--as", "admin", "renew-documents", "--before", "2100-01-01",
                              "--unit", "HN-SGDDT"});
  ASSERT_EQ(renewed.exit_code, 0) << renewed.out << renewed.err;

  Reply<v1::Dossier> now = Reread(server(), approved.value.code());
  ASSERT_RPC_OK(now);
  EXPECT_EQ(now.value.version(), issued.value.version());
  for (int i = 0; i < now.value.documents_size(); ++i) {
    SCOPED_TRACE(now.value.documents(i).id());
    const std::string path = Download(now.value, now.value.documents(i).id());
    const std::string pdf = ReadFile(path);
    ASSERT_GT(pdf.size(), before[i].size());
    EXPECT_EQ(pdf.substr(0, before[i].size()), before[i]);
    signing::VerificationReport report = Verify(path);
    EXPECT_TRUE(report.AllPassed()) << signing::ReportToText(report);
    int stamps = 0;
    for (const auto& s : report.signatures) stamps += s.type == "DocTimeStamp";
    EXPECT_EQ(stamps, 2);
    Command sig = Shell("pdfsig -nssdir sql:" + NssDb() + " " + path);
    EXPECT_THAT(sig.output, HasSubstr("Signature is Valid")) << sig.output;
    EXPECT_EQ(Shell("qpdf --check " + path).exit_code, 0);
    Command ts =
        VerifyDocumentTimestampWithOpenssl(pdf, server().scratch_dir(),
                                           server().pki_dir() + "/ca.crt");
    EXPECT_THAT(ts.output, HasSubstr("Verification: OK")) << ts.output;
  }

  const std::vector<std::string> connect = {"--server", server().target(), "--pki-dir",
                                            server().pki_dir(), "--as", "auditor"};
  std::vector<std::string> audit = connect;
  audit.insert(audit.end(), {"verify-dossier", approved.value.code()});
  CliResult audited = RunCli(audit);
  EXPECT_EQ(audited.exit_code, 0) << audited.out << audited.err;
  EXPECT_THAT(audited.out, HasSubstr("PASSED"));
  EXPECT_EQ(LastEvent(approved.value.code()).action(), "document_renewed");
}

// --trust-dir replaces the anchors officers' and seals' certificates must
// chain to; seal keys outside it stop the server from starting.
TEST(SignerTrustTest, WithTheDevCa_ApprovalIsSignedAndSealed) {
  auto probe = ServerProcess::Start();
  ASSERT_TRUE(probe.ok()) << probe.status();
  const std::string trust = (*probe)->scratch_dir() + "/trust";
  std::filesystem::create_directories(trust);
  WriteFile(trust + "/root.pem", ReadFile((*probe)->pki_dir() + "/ca.crt"));
  auto server = ServerProcess::Start({"--trust-dir", trust});
  ASSERT_TRUE(server.ok()) << server.status();
  Reply<v1::Dossier> approved = SubmitReceiveApprove(**server);
  ASSERT_RPC_OK(approved);
  EXPECT_EQ(approved.value.documents_size(), 2);
}

TEST(SignerTrustTest, WithoutTheSealsCa_ServerRefusesToStart) {
  auto probe = ServerProcess::Start();
  ASSERT_TRUE(probe.ok()) << probe.status();
  const std::string trust = (*probe)->scratch_dir() + "/other-trust";
  std::filesystem::create_directories(trust);
  Command made = Shell("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                       "-subj /CN=other-ca -days 2 -keyout " + trust + "/../other.key -out " +
                       trust + "/other.pem");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  auto server = ServerProcess::Start({"--trust-dir", trust});
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(std::string(server.status().message()), HasSubstr("seal key of unit"));
}

// A server left running renews the development CRL itself; otherwise
// approvals would fail with UNAVAILABLE a week after its start.
TEST(DevPkiRefreshTest, RunningServer_RenewsAnAgedDevelopmentCrl) {
  signing::testing_util::ScopedTempDir dir("motcua-it-dev-pki-refresh");
  const std::string pki = (dir.path() / "pki").string();
  ASSERT_TRUE(signing::EnsureDevPki(SharedPkiDir()).ok());
  std::filesystem::copy(SharedPkiDir(), pki, std::filesystem::copy_options::recursive);
  auto server = ServerProcess::Start({"--pki-dir", pki, "--dev-pki-refresh", "1"});
  ASSERT_TRUE(server.ok()) << server.status();

  signing::fixtures::WriteAgedDevCrl(pki, absl::Hours(30));
  std::optional<absl::Duration> left;
  for (int i = 0; i < 100; ++i) {
    left = signing::fixtures::CrlValidFor(pki + "/ca.crl");
    if (left.has_value() && *left > absl::Hours(6 * 24)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(left.has_value());
  EXPECT_GT(*left, absl::Hours(6 * 24)) << "renewed within 10 s; log:\n" << (*server)->LogTail();
  EXPECT_TRUE((*server)->Running());
  ASSERT_RPC_OK(SubmitReceiveApprove(**server));
}

}  // namespace
}  // namespace motcua::itest
