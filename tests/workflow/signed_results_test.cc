// Signed results through the engine with the real signer
// (NewSignedResultDocuments) on the development PKI: the receipt sealed by
// the unit, the certified copy signed two-phase by the head then sealed,
// and the ways a signature must be refused with the dossier unchanged.

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "proto/proto_time.h"
#include "signing/dev/dev_pki.h"
#include "signing/dev/local_tsa.h"
#include "signing/long_term.h"
#include "signing/signing_key.h"
#include "signing/verifier.h"
#include "storage/files.h"
#include "storage/store.h"
#include "tests/signing/verifier_fixtures.h"
#include "workflow/dossier_audit.h"
#include "workflow/engine.h"
#include "workflow/history.h"
#include "workflow/integrity.h"
#include "workflow/keys.h"

namespace motcua::workflow {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

const Principal kPortal{"portal.dichvucong", v1::ROLE_PORTAL, "", ""};
const Principal kReceiver{"receiver.hn", v1::ROLE_OFFICER, "HN-SGDDT", "receiving"};
const Principal kHead{"head.hn", v1::ROLE_OFFICER, "HN-SGDDT", "head"};
const Principal kAuditor{"auditor.thanhtra", v1::ROLE_AUDITOR, "", ""};
const Principal kAdmin{"admin.it", v1::ROLE_ADMIN, "", ""};

// One development PKI for the test binary (RSA key generation is slow).
const std::string& Pki() {
  static const std::string* const dir = [] {
    auto* path = new std::string(::testing::TempDir() + "/motcua_workflow_tests_pki_" +
                                 std::to_string(getuid()));
    absl::Status s = signing::EnsureDevPki(*path);
    if (!s.ok()) ADD_FAILURE() << "EnsureDevPki: " << s;
    return path;
  }();
  return *dir;
}

std::string ReadOrDie(const std::string& path) {
  auto bytes = storage::ReadWholeFile(path);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *bytes : "";
}

std::unique_ptr<signing::SigningKey> DevKey(const std::string& name) {
  auto key = signing::SigningKey::LoadPkcs12(Pki() + "/signers/" + name + ".p12",
                                             signing::kDevPkcs12Password);
  EXPECT_TRUE(key.ok()) << key.status();
  return key.ok() ? *std::move(key) : nullptr;
}

// The signature parts of a configuration naming the development PKI's files:
// its CA, its CRL, its two units with their seal images.
v1::ServerConfig DevSigningConfig() {
  v1::ServerConfig config;
  config.add_signature_trust_anchors(Pki() + "/ca.crt");
  config.add_crl_files(Pki() + "/ca.crl");
  for (const signing::DevUnit& dev : signing::DevUnits()) {
    v1::UnitProfile& unit = *config.add_units();
    unit.set_code(dev.code);
    unit.set_name(dev.name);
    unit.set_parent(dev.parent);
    unit.set_place(dev.place);
    (*unit.mutable_signer_titles())["head"] = dev.head_title;
    unit.set_seal_image(Pki() + "/images/" + dev.code + "-seal.png");
    for (const signing::DevClient& client : signing::DevClients()) {
      if (client.unit == dev.code && client.role == "officer") {
        (*unit.mutable_signature_images())[client.subject] =
            Pki() + "/images/" + client.name + "-signature.png";
      }
    }
  }
  return config;
}

// DevSigningConfig's options with what `motcuad --dev` adds: the units'
// PKCS#12 seal keys, the development CA issuing CRLs on request and the
// development TSA.
absl::StatusOr<ResultDocumentsOptions> DevDocumentsOptions() {
  auto options = OpenResultDocumentsOptions(DevSigningConfig());
  if (!options.ok()) return options.status();
  auto checker = signing::WithDevCrlIssuer(*options->revocation, Pki());
  if (!checker.ok()) return checker.status();
  options->revocation = *std::move(checker);
  for (const signing::DevUnit& unit : signing::DevUnits()) {
    options->seal_keys[unit.code] = DevKey("seal-" + unit.code);
  }
  auto tsa = signing::OpenLocalTimestampAuthority(Pki() + "/tsa.crt", Pki() + "/tsa.key");
  if (!tsa.ok()) return tsa.status();
  options->timestamps = *std::move(tsa);
  return options;
}

class SignedResultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/motcua-signed-XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto options = DevDocumentsOptions();
    ASSERT_TRUE(options.ok()) << options.status();
    trust_ = options->trust;
    documents_ = NewSignedResultDocuments(*std::move(options));
    auto store = storage::Store::Open(dir_ + "/db");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    EngineOptions engine_options;
    engine_options.documents = documents_.get();
    auto engine = Engine::Open(store_.get(), &clock_, &WorkCalendar::Builtin(), engine_options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = *std::move(engine);
  }
  void TearDown() override {
    engine_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  v1::SubmitDossierRequest CopyRequest() {
    v1::SubmitDossierRequest r;
    r.set_procedure_code("2.001914");
    r.set_unit_code("HN-SGDDT");
    r.set_channel(v1::CHANNEL_ONLINE);
    r.mutable_applicant()->set_id_number("001203004567");
    r.mutable_applicant()->set_full_name("Nguyễn Thị Lan");
    (*r.mutable_form())["diploma_type"] = "Bằng tốt nghiệp trung học phổ thông";
    (*r.mutable_form())["diploma_serial"] = "B0123456";
    (*r.mutable_form())["graduation_year"] = "2015";
    (*r.mutable_form())["school"] = "Trường THPT Chu Văn An";
    (*r.mutable_form())["date_of_birth"] = "05/03/1997";
    r.set_request_id(absl::StrCat("submit-", ++ids_));
    return r;
  }

  v1::Dossier SubmitAndReceive() {
    auto d = engine_->SubmitDossier(kPortal, CopyRequest());
    EXPECT_TRUE(d.ok()) << d.status();
    if (!d.ok()) return {};
    auto received = engine_->CompleteTask(kReceiver, Completion(*d, "receive"));
    EXPECT_TRUE(received.ok()) << received.status();
    if (!received.ok()) return {};
    // The receipt is issued after the step commits.
    EXPECT_TRUE(received->documents(0).pending());
    auto issued = engine_->IssuePendingDocuments();
    EXPECT_TRUE(issued.ok()) << issued.status();
    EXPECT_EQ(*issued, 1);
    v1::GetDossierRequest get;
    get.set_code(d->code());
    auto now = engine_->GetDossier(kAuditor, get);
    EXPECT_TRUE(now.ok()) << now.status();
    EXPECT_EQ(now->version(), received->version());  // bookkeeping: no new version
    return now.ok() ? *now : v1::Dossier();
  }

  v1::CompleteTaskRequest Completion(const v1::Dossier& d, const std::string& id) {
    v1::CompleteTaskRequest r;
    r.set_task_id(d.task().id());
    r.set_expected_version(d.version());
    r.set_decision(v1::DECISION_APPROVE);
    r.set_request_id(absl::StrCat(id, "-", ++ids_));
    return r;
  }

  absl::StatusOr<v1::SignatureChallenge> Prepare(const Principal& who, const v1::Dossier& d,
                                                 const std::string& signer) {
    v1::PrepareSignatureRequest r;
    r.set_task_id(d.task().id());
    r.set_expected_version(d.version());
    r.set_decision(v1::DECISION_APPROVE);
    r.set_signer_certificate_pem(ReadOrDie(Pki() + "/signers/" + signer + ".crt"));
    return engine_->PrepareSignature(who, r);
  }

  // The head's approval, signed with `key` over the challenge.
  v1::CompleteTaskRequest SignedApproval(const v1::Dossier& d,
                                         const v1::SignatureChallenge& challenge,
                                         const signing::SigningKey& key) {
    v1::CompleteTaskRequest r = Completion(d, "approve");
    auto value = key.Sign(challenge.to_be_signed());
    EXPECT_TRUE(value.ok()) << value.status();
    r.mutable_signature()->set_challenge_id(challenge.challenge_id());
    r.mutable_signature()->set_signature_value(value.ok() ? *value : "");
    return r;
  }

  v1::Dossier Reread(const std::string& code) {
    v1::GetDossierRequest r;
    r.set_code(code);
    auto d = engine_->GetDossier(kAuditor, r);
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? *d : v1::Dossier();
  }

  std::string Document(const std::string& code, const std::string& id) {
    v1::GetDocumentRequest r;
    r.set_dossier_code(code);
    r.set_document_id(id);
    auto content = engine_->GetDocument(kAuditor, r);
    EXPECT_TRUE(content.ok()) << content.status();
    return content.ok() ? content->content() : "";
  }

  v1::HistoryEvent LastEvent(const std::string& code) {
    v1::GetDossierHistoryRequest r;
    r.set_dossier_code(code);
    auto history = engine_->GetDossierHistory(kAuditor, r);
    EXPECT_TRUE(history.ok() && history->events_size() > 0);
    return history.ok() && history->events_size() > 0 ? *history->events().rbegin()
                                                      : v1::HistoryEvent();
  }

  // Revocation on, nothing fetched: the document's /DSS must be enough.
  signing::VerificationReport Verify(const std::string& pdf) {
    signing::VerifyOptions options;
    options.check_revocation = true;
    auto report = signing::VerifyPdf(pdf, *trust_, options);
    EXPECT_TRUE(report.ok()) << report.status();
    return report.ok() ? *report : signing::VerificationReport();
  }

  std::string dir_;
  int ids_ = 0;
  // The dev certificates are valid from their creation: the engine's clock
  // must be in their lifetime.
  ManualClock clock_{absl::Now()};
  std::shared_ptr<const signing::TrustStore> trust_;
  std::unique_ptr<ResultDocuments> documents_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(SignedResultsTest, Receive_StoresReceiptSealedByTheUnit) {
  v1::Dossier d = SubmitAndReceive();
  ASSERT_EQ(d.documents_size(), 1);
  const v1::Document& doc = d.documents(0);
  EXPECT_EQ(doc.id(), "d1");
  EXPECT_EQ(doc.kind(), "receipt");
  EXPECT_EQ(doc.transition(), "receive");
  ASSERT_EQ(doc.signers_size(), 1);
  EXPECT_EQ(doc.signers(0).signer(), v1::SIGNER_UNIT_SEAL);
  EXPECT_EQ(doc.signers(0).common_name(), "HN-SGDDT");

  const std::string pdf = Document(d.code(), "d1");
  EXPECT_EQ(Sha256Hex(pdf), doc.sha256());
  EXPECT_EQ(static_cast<int64_t>(pdf.size()), doc.size_bytes());
  signing::VerificationReport report = Verify(pdf);
  ASSERT_EQ(report.signatures.size(), 2u);  // the seal, then the document time-stamp
  EXPECT_EQ(report.signatures[1].type, "DocTimeStamp");
  EXPECT_TRUE(report.signatures[1].coverage.covers_whole_document);
  EXPECT_TRUE(report.AllPassed()) << signing::ReportToText(report);
  EXPECT_EQ(report.signatures[0].signer_sha256, doc.signers(0).certificate_sha256());

  v1::HistoryEvent event = LastEvent(d.code());
  EXPECT_EQ(event.action(), "document_issued");
  EXPECT_EQ(event.actor(), "system");
  EXPECT_EQ(event.document_id(), "d1");
  EXPECT_EQ(event.document_sha256(), doc.sha256());
  ASSERT_EQ(event.signer_certificate_sha256_size(), 1);
  EXPECT_EQ(event.signer_certificate_sha256(0), doc.signers(0).certificate_sha256());
}

TEST_F(SignedResultsTest, Approve_TwoPhase_OfficerThenSealBothVerify) {
  v1::Dossier d = SubmitAndReceive();
  auto head = DevKey("head");
  ASSERT_NE(head, nullptr);
  auto challenge = Prepare(kHead, d, "head");
  ASSERT_TRUE(challenge.ok()) << challenge.status();
  EXPECT_EQ(challenge->document_kind(), "certified_copy");
  EXPECT_EQ(challenge->document_sha256().size(), 32u);
  EXPECT_EQ(challenge->to_be_signed()[0], '\x31');  // a DER SET

  auto approved = engine_->CompleteTask(kHead, SignedApproval(d, *challenge, *head));
  ASSERT_TRUE(approved.ok()) << approved.status();
  EXPECT_EQ(approved->state(), "processed");
  ASSERT_EQ(approved->documents_size(), 2);
  const v1::Document& doc = approved->documents(1);
  EXPECT_EQ(doc.id(), "d2");
  EXPECT_EQ(doc.kind(), "certified_copy");
  ASSERT_EQ(doc.signers_size(), 2);
  EXPECT_EQ(doc.signers(0).signer(), v1::SIGNER_ACTOR);
  EXPECT_EQ(doc.signers(0).common_name(), "head.hn");
  EXPECT_EQ(doc.signers(1).signer(), v1::SIGNER_UNIT_SEAL);

  const std::string pdf = Document(d.code(), "d2");
  EXPECT_EQ(Sha256Hex(pdf), doc.sha256());
  signing::VerificationReport report = Verify(pdf);
  ASSERT_EQ(report.signatures.size(), 3u);  // officer, seal, document time-stamp
  EXPECT_EQ(report.signatures[2].type, "DocTimeStamp");
  EXPECT_TRUE(report.AllPassed()) << signing::ReportToText(report);
  EXPECT_EQ(report.signatures[0].signer_common_name, "head.hn");
  EXPECT_EQ(report.signatures[0].signer_sha256, doc.signers(0).certificate_sha256());
  EXPECT_EQ(report.signatures[1].signer_sha256, doc.signers(1).certificate_sha256());

  v1::HistoryEvent event = LastEvent(d.code());
  EXPECT_EQ(event.action(), "approve");
  EXPECT_EQ(event.document_id(), "d2");
  EXPECT_EQ(event.document_sha256(), doc.sha256());
  ASSERT_EQ(event.signer_certificate_sha256_size(), 2);
  EXPECT_EQ(event.signer_certificate_sha256(0), doc.signers(0).certificate_sha256());

  // The backup check recomputes the stored document's hash.
  DossierIntegrity integrity;
  auto summary = integrity.Verify(*store_, nullptr);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->documents, 2);
}

TEST_F(SignedResultsTest, Approve_RetryWithSameRequestId_ReturnsFirstAnswer) {
  v1::Dossier d = SubmitAndReceive();
  auto head = DevKey("head");
  ASSERT_NE(head, nullptr);
  auto challenge = Prepare(kHead, d, "head");
  ASSERT_TRUE(challenge.ok()) << challenge.status();
  v1::CompleteTaskRequest request = SignedApproval(d, *challenge, *head);
  auto first = engine_->CompleteTask(kHead, request);
  ASSERT_TRUE(first.ok()) << first.status();
  auto retry = engine_->CompleteTask(kHead, request);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->version(), first->version());
  EXPECT_EQ(retry->documents(1).sha256(), first->documents(1).sha256());
  EXPECT_EQ(Reread(d.code()).version(), first->version());
}

TEST_F(SignedResultsTest, Approve_WithoutSignature_FailedPreconditionNamingPrepareSignature) {
  v1::Dossier d = SubmitAndReceive();
  auto result = engine_->CompleteTask(kHead, Completion(d, "approve"));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition) << result.status();
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("PrepareSignature"));
  EXPECT_EQ(Reread(d.code()).version(), d.version());
}

TEST_F(SignedResultsTest, Approve_TamperedSignatureValue_RefusedDossierUnchanged) {
  v1::Dossier d = SubmitAndReceive();
  auto head = DevKey("head");
  ASSERT_NE(head, nullptr);
  auto challenge = Prepare(kHead, d, "head");
  ASSERT_TRUE(challenge.ok()) << challenge.status();
  v1::CompleteTaskRequest good = SignedApproval(d, *challenge, *head);
  v1::CompleteTaskRequest tampered = good;
  tampered.set_request_id("tampered");
  std::string value = tampered.signature().signature_value();
  value[value.size() / 2] ^= 0x01;
  tampered.mutable_signature()->set_signature_value(value);
  auto result = engine_->CompleteTask(kHead, tampered);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << result.status();
  v1::Dossier after = Reread(d.code());
  EXPECT_EQ(after.version(), d.version());
  EXPECT_EQ(after.documents_size(), 1);
  // The challenge survives a refused value: the right one still completes.
  auto approved = engine_->CompleteTask(kHead, good);
  EXPECT_TRUE(approved.ok()) << approved.status();
}

TEST_F(SignedResultsTest, Approve_SignedWithAnotherKey_Refused) {
  v1::Dossier d = SubmitAndReceive();
  auto receiver = DevKey("receiver");
  ASSERT_NE(receiver, nullptr);
  auto challenge = Prepare(kHead, d, "head");
  ASSERT_TRUE(challenge.ok()) << challenge.status();
  auto result = engine_->CompleteTask(kHead, SignedApproval(d, *challenge, *receiver));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << result.status();
  EXPECT_EQ(Reread(d.code()).version(), d.version());
}

TEST_F(SignedResultsTest, Prepare_AnotherOfficersCertificate_PermissionDenied) {
  v1::Dossier d = SubmitAndReceive();
  auto challenge = Prepare(kHead, d, "receiver");
  EXPECT_EQ(challenge.status().code(), absl::StatusCode::kPermissionDenied) << challenge.status();
  EXPECT_THAT(std::string(challenge.status().message()), HasSubstr("receiver.hn"));
}

TEST_F(SignedResultsTest, Prepare_CertificateOfAnotherCa_PermissionDenied) {
  v1::Dossier d = SubmitAndReceive();
  v1::PrepareSignatureRequest r;
  r.set_task_id(d.task().id());
  r.set_expected_version(d.version());
  r.set_decision(v1::DECISION_APPROVE);
  // Self-signed "head.hn": right name, no trusted issuer.
  const std::string other = dir_ + "/other";
  std::filesystem::create_directories(other);
  ASSERT_EQ(std::system(("openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=head.hn -days 2 "
                         "-keyout " + other + "/k.pem -out " + other + "/c.pem 2>/dev/null")
                            .c_str()),
            0);
  r.set_signer_certificate_pem(ReadOrDie(other + "/c.pem"));
  auto challenge = engine_->PrepareSignature(kHead, r);
  EXPECT_EQ(challenge.status().code(), absl::StatusCode::kPermissionDenied) << challenge.status();
  EXPECT_THAT(std::string(challenge.status().message()), HasSubstr("not trusted"));
}

TEST_F(SignedResultsTest, Approve_ExpiredChallenge_FailedPrecondition) {
  v1::Dossier d = SubmitAndReceive();
  auto head = DevKey("head");
  ASSERT_NE(head, nullptr);
  auto challenge = Prepare(kHead, d, "head");
  ASSERT_TRUE(challenge.ok()) << challenge.status();
  clock_.Advance(absl::Minutes(11));
  auto result = engine_->CompleteTask(kHead, SignedApproval(d, *challenge, *head));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition) << result.status();
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("expired"));
  EXPECT_EQ(Reread(d.code()).version(), d.version());
}

TEST_F(SignedResultsTest, Approve_ChallengeForAnotherDecision_FailedPrecondition) {
  v1::Dossier d = SubmitAndReceive();
  auto head = DevKey("head");
  ASSERT_NE(head, nullptr);
  auto challenge = Prepare(kHead, d, "head");
  ASSERT_TRUE(challenge.ok()) << challenge.status();
  v1::CompleteTaskRequest wrong = SignedApproval(d, *challenge, *head);
  wrong.set_decision(v1::DECISION_REJECT);
  wrong.add_reasons("Không có trong sổ gốc");
  // REJECT needs no signature in the built-in definition.
  auto result = engine_->CompleteTask(kHead, wrong);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << result.status();
  EXPECT_EQ(Reread(d.code()).version(), d.version());
}

TEST_F(SignedResultsTest, Prepare_StaleVersion_Aborted) {
  v1::Dossier d = SubmitAndReceive();
  v1::Dossier stale = d;
  stale.set_version(d.version() - 1);
  auto challenge = Prepare(kHead, stale, "head");
  EXPECT_EQ(challenge.status().code(), absl::StatusCode::kAborted) << challenge.status();
}

TEST_F(SignedResultsTest, Prepare_OnTransitionWithoutActorSignature_FailedPrecondition) {
  v1::Dossier d = SubmitAndReceive();
  auto head = DevKey("head");
  ASSERT_NE(head, nullptr);
  auto challenge = Prepare(kHead, d, "head");
  ASSERT_TRUE(challenge.ok());
  auto approved = engine_->CompleteTask(kHead, SignedApproval(d, *challenge, *head));
  ASSERT_TRUE(approved.ok()) << approved.status();
  // return_result produces nothing to sign.
  auto again = Prepare(kReceiver, *approved, "receiver");
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition) << again.status();
}

// The dossier audit (workflow/dossier_audit.h) on an approved dossier: the
// evidence as the server serves it, then altered the ways an attacker could.
class DossierAuditTest : public SignedResultsTest {
 protected:
  void SetUp() override {
    SignedResultsTest::SetUp();
    v1::Dossier d = SubmitAndReceive();
    auto head = DevKey("head");
    ASSERT_NE(head, nullptr);
    auto challenge = Prepare(kHead, d, "head");
    ASSERT_TRUE(challenge.ok()) << challenge.status();
    auto approved = engine_->CompleteTask(kHead, SignedApproval(d, *challenge, *head));
    ASSERT_TRUE(approved.ok()) << approved.status();
    evidence_.dossier = *approved;
    v1::GetDossierHistoryRequest r;
    r.set_dossier_code(d.code());
    auto history = engine_->GetDossierHistory(kAuditor, r);
    ASSERT_TRUE(history.ok()) << history.status();
    evidence_.history.assign(history->events().begin(), history->events().end());
    for (const v1::Document& doc : approved->documents()) {
      evidence_.documents[doc.id()] = Document(d.code(), doc.id());
    }
    signing::TrustStore trust;
    ASSERT_TRUE(trust.AddAnchorsFrom(Pki() + "/ca.crt").ok());
    verifier_ = std::make_unique<signing::DocumentVerifier>(std::move(trust));
  }

  DossierAudit Audit() {
    auto audit = AuditDossier(evidence_, *verifier_, /*check_revocation=*/true);
    EXPECT_TRUE(audit.ok()) << audit.status();
    return audit.ok() ? *std::move(audit) : DossierAudit();
  }

  v1::HistoryEvent& EventOf(const std::string& document_id) {
    for (auto& event : evidence_.history) {
      if (event.document_id() == document_id) return event;
    }
    ADD_FAILURE() << "no event records " << document_id;
    return evidence_.history.front();
  }

  // A forger who can rewrite the store recomputes every hash so the chain
  // still holds together.
  void RechainHistory() {
    std::string previous;
    for (auto& event : evidence_.history) {
      event.set_previous_hash(previous);
      SealEvent(&event);
      previous = event.hash();
    }
    evidence_.dossier.set_history_head(previous);
  }

  static std::string AllProblems(const DossierAudit& audit) {
    std::string all;
    for (const auto& d : audit.documents) {
      for (const auto& p : d.problems) absl::StrAppend(&all, d.document_id, ": ", p, "\n");
    }
    for (const auto& p : audit.problems) absl::StrAppend(&all, p, "\n");
    return all;
  }

  DossierEvidence evidence_;
  std::unique_ptr<signing::DocumentVerifier> verifier_;
};

TEST_F(DossierAuditTest, ApprovedDossier_Passes) {
  DossierAudit audit = Audit();
  EXPECT_TRUE(audit.Passed()) << AllProblems(audit) << audit.history.detail();
  EXPECT_TRUE(audit.history.intact());
  EXPECT_EQ(audit.history.events_checked(), evidence_.dossier.history_length());
  EXPECT_EQ(audit.history.head_hash(), evidence_.dossier.history_head());
  ASSERT_EQ(audit.documents.size(), 2u);
  const DocumentAudit& copy = audit.documents[1];
  EXPECT_EQ(copy.document_id, "d2");
  EXPECT_EQ(copy.actor, "head.hn");
  EXPECT_EQ(copy.event_sequence, EventOf("d2").sequence());
  EXPECT_EQ(copy.actual_sha256, copy.recorded_sha256);
  ASSERT_TRUE(copy.verification.has_value());
  EXPECT_EQ(copy.verification->signatures.size(), 3u);  // and the document time-stamp
}

TEST_F(DossierAuditTest, OneByteOfADocumentChanged_FailsNamingTheHash) {
  std::string& pdf = evidence_.documents["d2"];
  pdf[pdf.size() / 2] ^= 0x01;
  DossierAudit audit = Audit();
  EXPECT_FALSE(audit.Passed());
  EXPECT_TRUE(audit.history.intact());
  EXPECT_TRUE(audit.documents[0].problems.empty()) << AllProblems(audit);
  EXPECT_THAT(AllProblems(audit), HasSubstr("d2: its SHA-256 is"));
}

TEST_F(DossierAuditTest, DocumentMissing_Fails) {
  evidence_.documents.erase("d1");
  DossierAudit audit = Audit();
  EXPECT_FALSE(audit.Passed());
  EXPECT_THAT(AllProblems(audit), HasSubstr("d1: the document itself is missing"));
}

TEST_F(DossierAuditTest, ValidDocumentSwappedForAnother_FailsOnHashAndSigners) {
  evidence_.documents["d2"] = evidence_.documents["d1"];
  DossierAudit audit = Audit();
  EXPECT_FALSE(audit.Passed());
  const std::string problems = AllProblems(audit);
  EXPECT_THAT(problems, HasSubstr("d2: its SHA-256 is"));
  EXPECT_THAT(problems, HasSubstr("d2: signed by certificates"));
}

TEST_F(DossierAuditTest, EventEditedWithoutRehashing_HistoryBroken) {
  EventOf("d2").set_comment("đã sửa");
  DossierAudit audit = Audit();
  EXPECT_FALSE(audit.Passed());
  EXPECT_FALSE(audit.history.intact());
  EXPECT_EQ(audit.history.first_broken_sequence(), EventOf("d2").sequence());
}

TEST_F(DossierAuditTest, HistoryRewrittenToNameAnotherOfficer_SignerMismatch) {
  EventOf("d2").set_actor("receiver.hn");
  RechainHistory();
  DossierAudit audit = Audit();
  EXPECT_TRUE(audit.history.intact()) << audit.history.detail();
  EXPECT_FALSE(audit.Passed());
  EXPECT_THAT(AllProblems(audit),
              HasSubstr("d2: the officer's signature is by \"head.hn\", event"));
}

TEST_F(DossierAuditTest, DocumentTheHistoryDoesNotRecord_Fails) {
  EventOf("d1").clear_document_id();
  RechainHistory();
  DossierAudit audit = Audit();
  EXPECT_FALSE(audit.Passed());
  EXPECT_THAT(AllProblems(audit), HasSubstr("d1: no history event records this document"));
}

// ---- One document signed over several steps ---------------------------------

constexpr char kThreeSignersPath[] = MOTCUA_SOURCE_DIR "/tests/procedures/three_signers.textproto";

// tests/procedures/three_signers.textproto deployed: the teacher (played by
// the receiving officer) signs the record at one step, the principal (the
// head) and then the seal at the next.
class ThreeSignersTest : public SignedResultsTest {
 protected:
  void SetUp() override {
    SignedResultsTest::SetUp();
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(ReadOrDie(kThreeSignersPath),
                                                              &definition_));
    v1::DeployProcedureRequest deploy;
    *deploy.mutable_definition() = definition_;
    deploy.set_request_id("deploy-three-signers");
    auto deployed = engine_->DeployProcedure(kAdmin, deploy);
    ASSERT_TRUE(deployed.ok()) << deployed.status();
  }

  v1::Dossier Submit() {
    v1::SubmitDossierRequest r = CopyRequest();
    r.set_procedure_code("T.300");
    r.clear_form();
    (*r.mutable_form())["pupil"] = "Nguyễn Thị Lan";
    (*r.mutable_form())["class_name"] = "12A1";
    (*r.mutable_form())["result"] = "Tốt";
    auto d = engine_->SubmitDossier(kPortal, r);
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? *d : v1::Dossier();
  }

  // `who` approves `d`'s task, signing with signers/<key>.p12.
  absl::StatusOr<v1::Dossier> SignStep(const Principal& who, const std::string& key,
                                       const v1::Dossier& d) {
    auto challenge = Prepare(who, d, key);
    if (!challenge.ok()) return challenge.status();
    auto signer = DevKey(key);
    if (signer == nullptr) return absl::InternalError("no key");
    return engine_->CompleteTask(who, SignedApproval(d, *challenge, *signer));
  }

  static std::vector<std::string> FieldNames(const signing::VerificationReport& report) {
    std::vector<std::string> names;
    for (const auto& s : report.signatures) {
      if (s.type == "Sig") names.push_back(s.field_name);
    }
    return names;
  }

  v1::ProcedureDefinition definition_;
};

TEST_F(ThreeSignersTest, TeacherThenPrincipalAndSeal_OneDocumentVerifiesAtEveryStage) {
  v1::Dossier d = Submit();
  auto teacher = SignStep(kReceiver, "receiver", d);
  ASSERT_TRUE(teacher.ok()) << teacher.status();
  EXPECT_EQ(teacher->state(), "principal");
  ASSERT_EQ(teacher->documents_size(), 1);
  const v1::Document first = teacher->documents(0);
  EXPECT_EQ(first.id(), "d1");
  ASSERT_EQ(first.signers_size(), 1);
  EXPECT_EQ(first.signers(0).slot(), "teacher");
  const std::string after_teacher = Document(d.code(), "d1");
  EXPECT_EQ(Sha256Hex(after_teacher), first.sha256());
  signing::VerificationReport report = Verify(after_teacher);
  EXPECT_TRUE(report.AllPassed()) << signing::ReportToText(report);
  EXPECT_EQ(FieldNames(report), (std::vector<std::string>{"teacher"}));
  const v1::HistoryEvent teacher_event = LastEvent(d.code());

  auto principal = SignStep(kHead, "head", *teacher);
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->state(), "signed");
  ASSERT_EQ(principal->documents_size(), 1);  // the same document, signed further
  const v1::Document& doc = principal->documents(0);
  EXPECT_EQ(doc.id(), "d1");
  EXPECT_EQ(doc.transition(), "principal_signs");
  ASSERT_EQ(doc.signers_size(), 3);
  EXPECT_EQ(doc.signers(0).common_name(), "receiver.hn");
  EXPECT_EQ(doc.signers(1).common_name(), "head.hn");
  EXPECT_EQ(doc.signers(1).slot(), "principal");
  EXPECT_EQ(doc.signers(2).signer(), v1::SIGNER_UNIT_SEAL);
  EXPECT_EQ(doc.signers(2).slot(), "seal");

  const std::string pdf = Document(d.code(), "d1");
  EXPECT_EQ(Sha256Hex(pdf), doc.sha256());
  // Incremental: the file the teacher signed is still its first bytes.
  EXPECT_TRUE(absl::StartsWith(pdf, after_teacher));
  report = Verify(pdf);
  EXPECT_TRUE(report.AllPassed()) << signing::ReportToText(report);
  EXPECT_EQ(FieldNames(report), (std::vector<std::string>{"teacher", "principal", "seal"}));
  EXPECT_EQ(report.signatures.back().type, "DocTimeStamp");
  EXPECT_TRUE(report.signatures.back().coverage.covers_whole_document);
  EXPECT_EQ(report.signatures[0].signer_sha256, doc.signers(0).certificate_sha256());

  v1::HistoryEvent event = LastEvent(d.code());
  EXPECT_EQ(event.document_id(), "d1");
  EXPECT_EQ(event.signer_certificate_sha256_size(), 3);
  EXPECT_EQ(teacher_event.document_sha256(), first.sha256());
  EXPECT_EQ(teacher_event.signer_certificate_sha256_size(), 1);

  // The auditor's check names the event behind each signer.
  DossierEvidence evidence;
  evidence.dossier = *principal;
  v1::GetDossierHistoryRequest r;
  r.set_dossier_code(d.code());
  auto history = engine_->GetDossierHistory(kAuditor, r);
  ASSERT_TRUE(history.ok()) << history.status();
  evidence.history.assign(history->events().begin(), history->events().end());
  evidence.documents["d1"] = pdf;
  signing::TrustStore trust;
  ASSERT_TRUE(trust.AddAnchorsFrom(Pki() + "/ca.crt").ok());
  signing::DocumentVerifier verifier(std::move(trust));
  auto audit = AuditDossier(evidence, verifier, /*check_revocation=*/true);
  ASSERT_TRUE(audit.ok()) << audit.status();
  ASSERT_EQ(audit->documents.size(), 1u);
  EXPECT_TRUE(audit->Passed()) << absl::StrJoin(audit->documents[0].problems, "\n");
  const std::vector<SignerAudit>& signers = audit->documents[0].signers;
  ASSERT_EQ(signers.size(), 3u);
  EXPECT_EQ(signers[0].event_sequence, teacher_event.sequence());
  EXPECT_EQ(signers[0].actor, "receiver.hn");
  EXPECT_EQ(signers[1].event_sequence, event.sequence());
  EXPECT_EQ(signers[1].actor, "head.hn");
  EXPECT_EQ(signers[2].event_sequence, event.sequence());

  // An earlier step's record that the file does not begin with is caught.
  for (v1::HistoryEvent& e : evidence.history) {
    if (e.sequence() == teacher_event.sequence()) e.mutable_document()->set_size_bytes(100);
  }
  audit = AuditDossier(evidence, verifier, /*check_revocation=*/true);
  ASSERT_TRUE(audit.ok()) << audit.status();
  EXPECT_THAT(absl::StrJoin(audit->documents[0].problems, "\n"),
              HasSubstr(absl::StrCat("does not begin with what event ", teacher_event.sequence())));
}

TEST_F(ThreeSignersTest, StoredRecordChangedBetweenSteps_PrincipalRefusedDossierUnchanged) {
  auto teacher = SignStep(kReceiver, "receiver", Submit());
  ASSERT_TRUE(teacher.ok()) << teacher.status();
  std::string pdf = Document(teacher->code(), "d1");
  pdf[pdf.size() / 2] ^= 0x01;
  storage::WriteSet w;
  w.Put(storage::Family::kDocuments, DocumentKey(teacher->code(), "d1"), pdf);
  ASSERT_TRUE(store_->Commit(w).ok());

  auto refused = Prepare(kHead, *teacher, "head");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kDataLoss) << refused.status();
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("record d1 as stored"));
  EXPECT_EQ(Reread(teacher->code()).version(), teacher->version());
}

// An update appended after the teacher's signature that changes what the
// document shows (here: an action run on opening), with the record made to
// match: the principal's step refuses to sign on top of it.
TEST_F(ThreeSignersTest, ChangeSlippedInAfterTheTeacherSigned_FlaggedBeforeThePrincipalSigns) {
  auto teacher = SignStep(kReceiver, "receiver", Submit());
  ASSERT_TRUE(teacher.ok()) << teacher.status();
  const std::string pdf = Document(teacher->code(), "d1");
  const size_t trailer = pdf.rfind("trailer");
  ASSERT_NE(trailer, std::string::npos) << "expected a classic xref table";
  int root = 0, size = 0;
  ASSERT_EQ(std::sscanf(pdf.c_str() + pdf.find("/Root", trailer), "/Root %d", &root), 1);
  ASSERT_EQ(std::sscanf(pdf.c_str() + pdf.find("/Size", trailer), "/Size %d", &size), 1);
  const size_t at = pdf.rfind(absl::StrCat("\n", root, " 0 obj"));
  ASSERT_NE(at, std::string::npos);
  const size_t open = pdf.find("<<", at);
  const size_t end = pdf.find("endobj", at);
  std::string catalog = pdf.substr(open, end - open);
  catalog.insert(2, " /OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >> ");
  const long previous = std::strtol(pdf.c_str() + pdf.rfind("startxref") + 9, nullptr, 10);
  std::string tampered = pdf + "\n";
  const size_t offset = tampered.size();
  absl::StrAppend(&tampered, root, " 0 obj\n", catalog, "\nendobj\n");
  const size_t xref = tampered.size();
  absl::StrAppend(&tampered, "xref\n0 1\n0000000000 65535 f \n", root, " 1\n",
                  absl::StrFormat("%010d", offset), " 00000 n \ntrailer\n<< /Size ", size,
                  " /Root ", root, " 0 R /Prev ", previous, " >>\nstartxref\n", xref,
                  "\n%%EOF\n");

  auto procedure = Procedure::Compile(definition_);
  ASSERT_TRUE(procedure.ok()) << procedure.status();
  v1::Document record = teacher->documents(0);
  record.set_sha256(Sha256Hex(tampered));  // a forger who also rewrote the record
  DocumentRequest request;
  request.procedure = procedure->get();
  request.transition = (*procedure)->TransitionById("principal_signs");
  request.dossier = &*teacher;
  request.document_id = "d1";
  request.time = clock_.Now();
  request.document_so_far = &record;
  request.pdf_so_far = tampered;
  auto refused = documents_->Prepare(request, kHead, ReadOrDie(Pki() + "/signers/head.crt"));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
  EXPECT_THAT(std::string(refused.status().message()),
              AllOf(HasSubstr("cannot be signed further"), HasSubstr("\"teacher\""),
                    HasSubstr("changed after it was signed")));

  request.pdf_so_far = pdf;  // the untouched file is fine
  record.set_sha256(Sha256Hex(pdf));
  EXPECT_TRUE(documents_->Prepare(request, kHead, ReadOrDie(Pki() + "/signers/head.crt")).ok());
}

// The principal signs a class's records as one batch (one key session):
// each signs further the record its teacher signed; one whose stored file
// was damaged fails alone.
TEST_F(ThreeSignersTest, PrincipalSignsABatchOfRecords_EachOnItsOwn) {
  constexpr int kRecords = 4;
  std::vector<v1::Dossier> signed_by_teacher;
  for (int i = 0; i < kRecords; ++i) {
    auto teacher = SignStep(kReceiver, "receiver", Submit());
    ASSERT_TRUE(teacher.ok()) << teacher.status();
    signed_by_teacher.push_back(*teacher);
  }
  const v1::Dossier& damaged = signed_by_teacher[2];
  std::string pdf = Document(damaged.code(), "d1");
  pdf[pdf.size() / 3] ^= 0x01;
  storage::WriteSet w;
  w.Put(storage::Family::kDocuments, DocumentKey(damaged.code(), "d1"), pdf);
  ASSERT_TRUE(store_->Commit(w).ok());

  v1::PrepareSignaturesRequest prepare;
  prepare.set_signer_certificate_pem(ReadOrDie(Pki() + "/signers/head.crt"));
  for (const v1::Dossier& d : signed_by_teacher) {
    v1::PrepareSignaturesRequest::Item* item = prepare.add_items();
    item->set_task_id(d.task().id());
    item->set_expected_version(d.version());
    item->set_decision(v1::DECISION_APPROVE);
  }
  auto prepared = engine_->PrepareSignatures(kHead, prepare);
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  ASSERT_EQ(prepared->results_size(), kRecords);
  EXPECT_EQ(prepared->results(2).error().code(), static_cast<int>(absl::StatusCode::kDataLoss));

  auto head = DevKey("head");
  ASSERT_NE(head, nullptr);
  v1::CompleteTasksRequest complete;
  for (int i = 0; i < kRecords; ++i) {
    if (i == 2) continue;
    *complete.add_tasks() =
        SignedApproval(signed_by_teacher[i], prepared->results(i).challenge(), *head);
  }
  auto completed = engine_->CompleteTasks(kHead, complete);
  ASSERT_TRUE(completed.ok()) << completed.status();
  for (const auto& result : completed->results()) {
    ASSERT_EQ(result.error().code(), 0) << result.error().message();
    EXPECT_EQ(result.dossier().state(), "signed");
    ASSERT_EQ(result.dossier().documents_size(), 1);
    EXPECT_EQ(result.dossier().documents(0).signers_size(), 3);
    signing::VerificationReport report =
        Verify(Document(result.dossier().code(), result.dossier().documents(0).id()));
    EXPECT_TRUE(report.AllPassed()) << signing::ReportToText(report);
    EXPECT_EQ(FieldNames(report), (std::vector<std::string>{"teacher", "principal", "seal"}));
  }
  EXPECT_EQ(Reread(damaged.code()).state(), "principal");
}

TEST(CheckSealKeysTest, DevKeysAgainstTheirCa_Ok) {
  auto options = DevDocumentsOptions();
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_TRUE(CheckSealKeys(*options).ok());
}

TEST(CheckSealKeysTest, TrustingAnotherCa_FailedPreconditionNamingTheUnit) {
  auto options = DevDocumentsOptions();
  ASSERT_TRUE(options.ok()) << options.status();
  const std::string other = ::testing::TempDir() + "/motcua-other-ca-" + std::to_string(getpid());
  ASSERT_EQ(std::system(("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                         "-subj /CN=other-ca -days 2 -keyout " + other + ".key -out " + other +
                         ".crt 2>/dev/null")
                            .c_str()),
            0);
  auto trust = std::make_shared<signing::TrustStore>();
  ASSERT_TRUE(trust->AddAnchors(ReadOrDie(other + ".crt")).ok());
  options->trust = trust;
  absl::Status s = CheckSealKeys(*options);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("SGDDT"));
  std::remove((other + ".key").c_str());
  std::remove((other + ".crt").c_str());
}

TEST(OpenResultDocumentsOptionsTest, SealKeyOfUnitWithoutProfile_InvalidArgumentNamingIt) {
  v1::ServerConfig config = DevSigningConfig();
  v1::SealKey& seal = *config.add_seal_keys();
  seal.set_unit_code("QN-SGDDT");
  seal.set_pkcs11_uri("pkcs11:token=t;object=seal?module-path=/nonexistent.so&pin-value=1");
  auto options = OpenResultDocumentsOptions(config);
  EXPECT_EQ(options.status().code(), absl::StatusCode::kInvalidArgument) << options.status();
  EXPECT_THAT(std::string(options.status().message()),
              HasSubstr("seal_keys[0] (QN-SGDDT): no unit profile"));
}

TEST(OpenResultDocumentsOptionsTest, MissingSealImage_NotFoundNamingFieldAndPath) {
  v1::ServerConfig config = DevSigningConfig();
  config.mutable_units(1)->set_seal_image("/nonexistent/seal.png");
  auto options = OpenResultDocumentsOptions(config);
  EXPECT_EQ(options.status().code(), absl::StatusCode::kNotFound) << options.status();
  EXPECT_THAT(std::string(options.status().message()),
              HasSubstr("units[1] (HP-SGDDT).seal_image: "));
  EXPECT_THAT(std::string(options.status().message()), HasSubstr("/nonexistent/seal.png"));
}

TEST(OpenResultDocumentsOptionsTest, UnitWithoutHeadTitle_InvalidArgument) {
  v1::ServerConfig config = DevSigningConfig();
  config.mutable_units(0)->mutable_signer_titles()->clear();
  auto options = OpenResultDocumentsOptions(config);
  EXPECT_EQ(options.status().code(), absl::StatusCode::kInvalidArgument) << options.status();
  EXPECT_THAT(std::string(options.status().message()), HasSubstr("units[0] (HN-SGDDT)"));
}

// A copy request received on an engine of its own over `options` (in a
// scratch directory): its receipt, or why it was not issued.
absl::StatusOr<std::string> IssueOneReceipt(ResultDocumentsOptions options) {
  char tmpl[] = "/tmp/motcua-receipt-XXXXXX";
  struct Scratch {
    std::string dir;
    ~Scratch() { std::filesystem::remove_all(dir); }
  } scratch{mkdtemp(tmpl)};
  auto documents = NewSignedResultDocuments(std::move(options));
  auto store = storage::Store::Open(scratch.dir + "/db");
  if (!store.ok()) return store.status();
  ManualClock clock{absl::Now()};
  EngineOptions engine_options;
  engine_options.documents = documents.get();
  auto engine = Engine::Open(store->get(), &clock, &WorkCalendar::Builtin(), engine_options);
  if (!engine.ok()) return engine.status();
  v1::SubmitDossierRequest r;
  r.set_procedure_code("2.001914");
  r.set_unit_code("HN-SGDDT");
  r.set_channel(v1::CHANNEL_ONLINE);
  r.mutable_applicant()->set_id_number("001203004567");
  r.mutable_applicant()->set_full_name("Trần Văn Bình");
  (*r.mutable_form())["diploma_type"] = "Bằng tốt nghiệp trung học phổ thông";
  (*r.mutable_form())["diploma_serial"] = "B0123457";
  (*r.mutable_form())["graduation_year"] = "2016";
  (*r.mutable_form())["school"] = "Trường THPT Chu Văn An";
  r.set_request_id("submit");
  auto d = (*engine)->SubmitDossier(kPortal, r);
  if (!d.ok()) return d.status();
  v1::CompleteTaskRequest receive;
  receive.set_task_id(d->task().id());
  receive.set_expected_version(d->version());
  receive.set_decision(v1::DECISION_APPROVE);
  receive.set_request_id("receive");
  auto received = (*engine)->CompleteTask(kReceiver, receive);
  if (!received.ok()) return received.status();
  auto issued = (*engine)->IssuePendingDocuments();
  if (!issued.ok()) return issued.status();
  if (*issued != 1) return absl::InternalError(absl::StrCat(*issued, " documents issued, not 1"));
  v1::GetDocumentRequest get;
  get.set_dossier_code(d->code());
  get.set_document_id("d1");
  auto content = (*engine)->GetDocument(kAuditor, get);
  if (!content.ok()) return content.status();
  return content->content();
}

// The production path: the unit's seal key on a PKCS#11 token (SoftHSM2),
// named by a PKCS#11 URI in the configuration, seals the receipt.
TEST(OpenResultDocumentsOptionsTest, SoftHsmToken_SealsTheReceipt) {
  char tmpl[] = "/tmp/motcua-seal-hsm-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  std::filesystem::create_directories(dir + "/tokens");
  {
    std::ofstream conf(dir + "/softhsm2.conf");
    conf << "directories.tokendir = " << dir << "/tokens\nobjectstore.backend = file\n"
         << "log.level = ERROR\n";
  }
  setenv("SOFTHSM2_CONF", (dir + "/softhsm2.conf").c_str(), 1);
  const std::string module = "/usr/lib/softhsm/libsofthsm2.so";
  ASSERT_EQ(std::system("softhsm2-util --init-token --free --label seal-token --pin 123456 "
                        "--so-pin 87654321 >/dev/null"),
            0);
  ASSERT_EQ(std::system(("pkcs11-tool --module " + module +
                         " --token-label seal-token --login --pin 123456 --write-object " + Pki() +
                         "/signers/seal-HN-SGDDT.key --type privkey --id 01 --label seal "
                         "--usage-sign --sensitive >/dev/null 2>&1")
                            .c_str()),
            0);
  {
    std::ofstream pin(dir + "/pin");
    pin << "123456\n";
    std::ofstream chain(dir + "/chain.pem");
    chain << ReadOrDie(Pki() + "/signers/seal-HN-SGDDT.crt") << ReadOrDie(Pki() + "/ca.crt");
  }
  v1::ServerConfig config = DevSigningConfig();
  v1::SealKey& seal = *config.add_seal_keys();
  seal.set_unit_code("HN-SGDDT");
  seal.set_pkcs11_uri("pkcs11:token=seal-token;object=seal?module-path=" + module +
                      "&pin-source=file:" + dir + "/pin");
  seal.set_certificate_chain(dir + "/chain.pem");
  auto options = OpenResultDocumentsOptions(config);
  ASSERT_TRUE(options.ok()) << options.status();
  ASSERT_TRUE(options->seal_keys.contains("HN-SGDDT"));
  auto checker = signing::WithDevCrlIssuer(*options->revocation, Pki());
  ASSERT_TRUE(checker.ok()) << checker.status();
  options->revocation = *std::move(checker);
  auto tsa = signing::OpenLocalTimestampAuthority(Pki() + "/tsa.crt", Pki() + "/tsa.key");
  ASSERT_TRUE(tsa.ok()) << tsa.status();
  options->timestamps = *std::move(tsa);
  auto trust = options->trust;
  absl::StatusOr<std::string> receipt = IssueOneReceipt(*std::move(options));
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  signing::VerifyOptions verify;
  verify.check_revocation = true;  // from the /DSS
  auto report = signing::VerifyPdf(*receipt, *trust, verify);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->signatures.size(), 2u);  // the seal and the document time-stamp
  EXPECT_TRUE(report->AllPassed()) << signing::ReportToText(*report);
  EXPECT_EQ(report->signatures[0].signer_common_name, "HN-SGDDT");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace motcua::workflow

namespace motcua::workflow {
namespace {

// The real documents, with a switch that makes the server's own signing
// fail as a dead TSA or an unplugged seal token would.
// A production configuration whose CA publishes only a CRL file, issued an
// hour ago: under the strict freshness policy a receipt waits (UNAVAILABLE,
// nothing issued) for a newer CRL; max_revocation_age_seconds accepting two
// hours lets it through, and the receipt verifies under that policy only.
TEST(OpenResultDocumentsOptionsTest,
     CrlOlderThanTheTimestamp_ReceiptWaitsUnlessTheConfigAcceptsIt) {
  char tmpl[] = "/tmp/motcua-hour-old-crl-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  signing::testing_util::DevCa ca = signing::testing_util::LoadDevCa(Pki());
  ASSERT_NE(ca.key, nullptr);
  const absl::Time now = absl::Now();
  signing::testing_util::WriteFileOrDie(
      dir + "/ca.crl", signing::fixtures::MakeCrl(ca.cert.get(), ca.key.get(), {}, now,
                                                  absl::Hours(24), now - absl::Hours(1)));
  for (const int64_t max_age : {int64_t{0}, int64_t{2 * 3600}}) {
    SCOPED_TRACE(absl::StrCat("max_revocation_age_seconds ", max_age));
    v1::ServerConfig config = DevSigningConfig();
    config.clear_crl_files();
    config.add_crl_files(dir + "/ca.crl");
    config.set_max_revocation_age_seconds(max_age);
    auto options = OpenResultDocumentsOptions(config);
    ASSERT_TRUE(options.ok()) << options.status();
    options->seal_keys["HN-SGDDT"] = DevKey("seal-HN-SGDDT");
    auto tsa = signing::OpenLocalTimestampAuthority(Pki() + "/tsa.crt", Pki() + "/tsa.key");
    ASSERT_TRUE(tsa.ok()) << tsa.status();
    options->timestamps = *std::move(tsa);
    auto trust = options->trust;
    absl::StatusOr<std::string> receipt = IssueOneReceipt(*std::move(options));
    if (max_age == 0) {
      EXPECT_EQ(receipt.status().code(), absl::StatusCode::kUnavailable) << receipt.status();
      EXPECT_THAT(std::string(receipt.status().message()),
                  HasSubstr("was issued before the signature's time-stamp"));
      continue;
    }
    ASSERT_TRUE(receipt.ok()) << receipt.status();
    auto judged = signing::VerifyPdf(*receipt, *trust, signing::VerifyOptions());
    ASSERT_TRUE(judged.ok()) << judged.status();
    EXPECT_FALSE(judged->AllPassed()) << "strict: the CRL predates the time-stamp";
    signing::VerifyOptions same_policy;
    same_policy.max_revocation_age = absl::Seconds(max_age);
    judged = signing::VerifyPdf(*receipt, *trust, same_policy);
    ASSERT_TRUE(judged.ok()) << judged.status();
    EXPECT_TRUE(judged->AllPassed()) << signing::ReportToText(*judged);
  }
  std::filesystem::remove_all(dir);
}

TEST(OpenResultDocumentsOptionsTest, NegativeMaxRevocationAge_InvalidArgument) {
  v1::ServerConfig config = DevSigningConfig();
  config.set_max_revocation_age_seconds(-1);
  auto options = OpenResultDocumentsOptions(config);
  EXPECT_EQ(options.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(options.status().message()), HasSubstr("max_revocation_age_seconds"));
}

class SwitchableDocuments : public ResultDocuments {
 public:
  explicit SwitchableDocuments(ResultDocuments* real) : real_(real) {}
  absl::StatusOr<std::unique_ptr<PendingSignature>> Prepare(
      const DocumentRequest& request, const Principal& caller,
      absl::string_view certificate_pem) override {
    return real_->Prepare(request, caller, certificate_pem);
  }
  absl::StatusOr<SignedDocument> Complete(const PendingSignature& pending,
                                          absl::string_view value) override {
    return real_->Complete(pending, value);
  }
  absl::StatusOr<SignedDocument> SignByServer(const DocumentRequest& request) override {
    if (down) return absl::UnavailableError("the time-stamping authority does not answer");
    return real_->SignByServer(request);
  }
  absl::StatusOr<std::string> RenewTimestamp(absl::string_view pdf) override {
    if (down) return absl::UnavailableError("the time-stamping authority does not answer");
    return real_->RenewTimestamp(pdf);
  }
  std::atomic<bool> down{false};

 private:
  ResultDocuments* real_;
};

class OutboxTest : public SignedResultsTest {
 protected:
  void SetUp() override {
    SignedResultsTest::SetUp();
    switchable_ = std::make_unique<SwitchableDocuments>(documents_.get());
    Reopen();
  }
  void Reopen() {
    engine_.reset();
    EngineOptions options;
    options.documents = switchable_.get();
    auto engine = Engine::Open(store_.get(), &clock_, &WorkCalendar::Builtin(), options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = *std::move(engine);
  }
  v1::Dossier Received() {
    auto d = engine_->SubmitDossier(kPortal, CopyRequest());
    EXPECT_TRUE(d.ok()) << d.status();
    auto received = engine_->CompleteTask(kReceiver, Completion(*d, "receive"));
    EXPECT_TRUE(received.ok()) << received.status();
    return *received;
  }
  int Issued(const std::string& code) {
    v1::GetDossierHistoryRequest r;
    r.set_dossier_code(code);
    auto h = engine_->GetDossierHistory(kAuditor, r);
    int n = 0;
    for (const auto& e : h->events()) n += e.action() == "document_issued";
    return n;
  }
  v1::EngineStatus Status() {
    const Principal admin{"admin.it", v1::ROLE_ADMIN, "", ""};
    auto status = engine_->GetEngineStatus(admin, v1::GetEngineStatusRequest());
    EXPECT_TRUE(status.ok()) << status.status();
    return *status;
  }
  std::unique_ptr<SwitchableDocuments> switchable_;
};

TEST_F(OutboxTest, Receive_ReturnsBeforeTheReceiptIsSealed_ListedPending) {
  v1::Dossier d = Received();
  ASSERT_EQ(d.documents_size(), 1);
  EXPECT_TRUE(d.documents(0).pending());
  EXPECT_TRUE(d.documents(0).sha256().empty());
  v1::GetDocumentRequest get;
  get.set_dossier_code(d.code());
  get.set_document_id("d1");
  auto content = engine_->GetDocument(kAuditor, get);
  EXPECT_EQ(content.status().code(), absl::StatusCode::kFailedPrecondition) << content.status();
  EXPECT_EQ(Status().documents_pending(), 1);
}

TEST_F(OutboxTest, SealingFails_RetriedLater_NeverMarkedIssuedUntilStored) {
  switchable_->down = true;
  v1::Dossier d = Received();
  auto issued = engine_->IssuePendingDocuments();
  EXPECT_EQ(issued.status().code(), absl::StatusCode::kUnavailable) << issued.status();
  EXPECT_EQ(Issued(d.code()), 0);
  v1::EngineStatus failing = Status();
  EXPECT_EQ(failing.documents_pending(), 1);
  EXPECT_GE(failing.document_failures(), 1);
  EXPECT_NE(failing.document_last_error().find("time-stamping"), std::string::npos);

  switchable_->down = false;
  issued = engine_->IssuePendingDocuments();
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_EQ(*issued, 1);
  EXPECT_EQ(Issued(d.code()), 1);
  v1::EngineStatus healthy = Status();
  EXPECT_EQ(healthy.documents_pending(), 0);
  EXPECT_TRUE(healthy.document_last_error().empty());
  const std::string pdf = Document(d.code(), "d1");
  EXPECT_TRUE(Verify(pdf).AllPassed());
}

TEST_F(OutboxTest, RestartBetweenStepAndIssue_IssuedOnceAfterwards) {
  v1::Dossier d = Received();
  Reopen();
  auto issued = engine_->IssuePendingDocuments();
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_EQ(*issued, 1);
  EXPECT_EQ(*engine_->IssuePendingDocuments(), 0);
  EXPECT_EQ(Issued(d.code()), 1);
  v1::VerifyDossierHistoryRequest verify;
  verify.set_dossier_code(d.code());
  EXPECT_TRUE(engine_->VerifyDossierHistory(kAuditor, verify)->intact());
}

TEST_F(OutboxTest, DossierMovedOnBeforeIssue_ReceiptShowsTheStepAndVersionStays) {
  v1::Dossier d = Received();
  const Principal head{"head.hn", v1::ROLE_OFFICER, "HN-SGDDT", "head"};
  v1::CompleteTaskRequest ask = Completion(d, "request_supplement");
  ask.set_decision(v1::DECISION_REQUEST_SUPPLEMENT);
  ask.add_missing_items("Bản sao CCCD");
  auto asked = engine_->CompleteTask(head, ask);
  ASSERT_TRUE(asked.ok()) << asked.status();
  ASSERT_TRUE(engine_->IssuePendingDocuments().ok());
  v1::GetDossierRequest get;
  get.set_code(d.code());
  auto now = engine_->GetDossier(kAuditor, get);
  EXPECT_EQ(now->version(), asked->version());
  EXPECT_EQ(now->state(), "awaiting_supplement");
  EXPECT_FALSE(now->documents(0).pending());
  EXPECT_TRUE(Verify(Document(d.code(), "d1")).AllPassed());
}

// Stored documents' evidence renewed before it lapses (PAdES B-LTA): the
// last document time-stamp's TSA gets revocation data and a new document
// time-stamp covers the file, which grows by an incremental update.
class RenewDocumentsTest : public OutboxTest {
 protected:
  v1::Operation Renew(absl::Time before, const std::string& request_id = "renew-1") {
    v1::RenewDocumentsRequest r;
    *r.mutable_renew_before() = ToProto(before);
    r.set_request_id(request_id);
    auto started = engine_->RenewDocuments(kAdmin, r);
    EXPECT_TRUE(started.ok()) << started.status();
    if (!started.ok()) return {};
    v1::WaitOperationRequest wait;
    wait.set_name(started->name());
    wait.set_timeout_seconds(60);
    auto op = engine_->WaitOperation(kAdmin, wait);
    EXPECT_TRUE(op.ok() && op->done()) << op.status();
    return op.ok() ? *op : v1::Operation();
  }
  int Renewed(const std::string& code) {
    v1::GetDossierHistoryRequest r;
    r.set_dossier_code(code);
    auto h = engine_->GetDossierHistory(kAuditor, r);
    int n = 0;
    for (const auto& e : h->events()) n += e.action() == "document_renewed";
    return n;
  }
  static int DocumentTimestamps(const signing::VerificationReport& report) {
    int n = 0;
    for (const auto& s : report.signatures) n += s.type == "DocTimeStamp";
    return n;
  }
};

TEST_F(RenewDocumentsTest, DueReceipt_RenewedInPlaceExtendingTheFileAndEveryCheckPasses) {
  const v1::Dossier d = SubmitAndReceive();
  const std::string before = Document(d.code(), "d1");
  auto renew_by = signing::RenewBy(before);
  ASSERT_TRUE(renew_by.ok()) << renew_by.status();
  EXPECT_EQ(DocumentTimestamps(Verify(before)), 1);

  const v1::Operation op = Renew(*renew_by + absl::Hours(1));
  ASSERT_FALSE(op.has_error()) << op.error().message();
  EXPECT_EQ(op.response().done_items(), 1) << op.DebugString();
  EXPECT_EQ(op.metadata().kind(), "renew_documents");

  const std::string after = Document(d.code(), "d1");
  ASSERT_GT(after.size(), before.size());
  EXPECT_EQ(after.substr(0, before.size()), before) << "an incremental update of the old file";
  signing::VerificationReport report = Verify(after);
  EXPECT_TRUE(report.AllPassed()) << signing::ReportToText(report);
  EXPECT_EQ(DocumentTimestamps(report), 2);

  const v1::HistoryEvent event = LastEvent(d.code());
  EXPECT_EQ(event.action(), "document_renewed");
  EXPECT_EQ(event.actor(), "system");
  EXPECT_EQ(event.document_id(), "d1");
  EXPECT_EQ(event.document_sha256(), Sha256Hex(after));
  const v1::Dossier now = Reread(d.code());
  EXPECT_EQ(now.version(), d.version()) << "bookkeeping never makes a decision stale";
  EXPECT_EQ(now.documents(0).sha256(), Sha256Hex(after));
  EXPECT_EQ(now.documents(0).size_bytes(), static_cast<int64_t>(after.size()));

  // The auditor's whole check: history, hashes, signers, each earlier
  // version a prefix of the file.
  DossierEvidence evidence;
  evidence.dossier = now;
  v1::GetDossierHistoryRequest history;
  history.set_dossier_code(d.code());
  auto events = engine_->GetDossierHistory(kAuditor, history);
  ASSERT_TRUE(events.ok()) << events.status();
  evidence.history.assign(events->events().begin(), events->events().end());
  evidence.documents["d1"] = after;
  signing::TrustStore trust;
  ASSERT_TRUE(trust.AddAnchorsFrom(Pki() + "/ca.crt").ok());
  signing::DocumentVerifier verifier(std::move(trust));
  auto audit = AuditDossier(evidence, verifier, /*check_revocation=*/true);
  ASSERT_TRUE(audit.ok()) << audit.status();
  EXPECT_TRUE(audit->Passed());

  // The same request again starts nothing new.
  EXPECT_EQ(Renew(*renew_by + absl::Hours(1)).name(), op.name());
  EXPECT_EQ(Renewed(d.code()), 1);
}

TEST_F(RenewDocumentsTest, NothingDue_SkippedFileUnchanged) {
  const v1::Dossier d = SubmitAndReceive();
  const std::string before = Document(d.code(), "d1");
  const v1::Operation op = Renew(clock_.Now());
  ASSERT_FALSE(op.has_error()) << op.error().message();
  EXPECT_EQ(op.response().done_items(), 0);
  EXPECT_EQ(op.response().skipped_items(), 1);
  ASSERT_EQ(op.response().problems_size(), 1);
  EXPECT_EQ(op.response().problems(0).item(), d.code());
  EXPECT_EQ(op.response().problems(0).reason(), "no document due");
  EXPECT_EQ(Document(d.code(), "d1"), before);
  EXPECT_EQ(Renewed(d.code()), 0);
}

TEST_F(RenewDocumentsTest, TsaDown_ItemFailsWithTheReasonNothingStored) {
  const v1::Dossier d = SubmitAndReceive();
  const std::string before = Document(d.code(), "d1");
  switchable_->down = true;
  const v1::Operation op = Renew(clock_.Now() + absl::Hours(24 * 365 * 30));
  ASSERT_FALSE(op.has_error()) << op.error().message();
  EXPECT_EQ(op.response().failed_items(), 1);
  ASSERT_EQ(op.response().problems_size(), 1);
  EXPECT_THAT(op.response().problems(0).reason(), HasSubstr("d1: the time-stamping authority"));
  EXPECT_EQ(Document(d.code(), "d1"), before);
  EXPECT_EQ(Renewed(d.code()), 0);
}

TEST_F(RenewDocumentsTest, BadRequests_RefusedSayingWhy) {
  v1::RenewDocumentsRequest no_time;
  no_time.set_request_id("renew-x");
  auto missing = engine_->RenewDocuments(kAdmin, no_time);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("renew_before"));
  v1::RenewDocumentsRequest r;
  *r.mutable_renew_before() = ToProto(clock_.Now());
  EXPECT_EQ(engine_->RenewDocuments(kHead, r).status().code(),
            absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace motcua::workflow
