// Signature verification from the outside: `motcua verify` run as a child
// process with no server, and AuditService.VerifyDocument on the real
// motcuad. Documents are signed here with the development PKI's signing
// certificates (signing::SignPdf), then damaged in the ways that matter.

#include <gmock/gmock.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/client_context.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "signing/dev/dev_pki.h"
#include "signing/cades.h"
#include "signing/dev/local_tsa.h"
#include "signing/dss.h"
#include "signing/pades.h"
#include "signing/signing_key.h"
#include "signing/timestamp_client.h"
#include "tests/signing/hand_pdf.h"
#include "tests/signing/verifier_fixtures.h"
#include "tests/integration/cli_runner.h"
#include "tests/integration/fixtures.h"

namespace motcua::itest {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr int kExitOk = 0;
constexpr int kExitCheckFailed = 1;
constexpr int kExitError = 2;
constexpr int kExitUsage = 64;

// The CN of the development signing certificate of "head".
constexpr char kHeadCn[] = "head.hn";

void WriteAll(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

std::string NewTempDir(const std::string& stem) {
  std::string pattern = (fs::path(::testing::TempDir()) / (stem + "-XXXXXX")).string();
  char* made = mkdtemp(pattern.data());
  return made == nullptr ? "" : std::string(made);
}

// A one-page PDF with a classic cross-reference table.
std::string PlainPdf(const std::string& text) { return ::motcua::testing_pdf::OnePagePdf(text); }

// `pdf` signed by the development signer `signer` of the PKI in `pki_dir`.
std::string SignWith(const std::string& pki_dir, const std::string& signer,
                     const std::string& pdf) {
  auto key = signing::SigningKey::LoadPkcs12(pki_dir + "/signers/" + signer + ".p12",
                                             signing::kDevPkcs12Password);
  EXPECT_TRUE(key.ok()) << key.status();
  if (!key.ok()) return "";
  signing::SignatureRequest request;
  request.field_name = "Officer";
  request.signing_time = absl::Now();
  request.reason = "Phê duyệt";
  absl::StatusOr<std::string> signed_pdf = signing::SignPdf(pdf, request, **key);
  EXPECT_TRUE(signed_pdf.ok()) << signed_pdf.status();
  return signed_pdf.ok() ? *signed_pdf : "";
}

// What every test here shares, made once: the shared dev PKI (which the
// servers of this process also use) and a second, unrelated one.
struct Material {
  Material() {
    dir = NewTempDir("verify");
    pki = SharedPkiDir();
    other_pki = dir + "/other-pki";
    absl::Status made = signing::EnsureDevPki(pki);
    EXPECT_TRUE(made.ok()) << made;
    made = signing::EnsureDevPki(other_pki);
    EXPECT_TRUE(made.ok()) << made;
    signed_pdf = SignWith(pki, "head", PlainPdf("Quyet dinh so 42"));
    other_signed_pdf = SignWith(other_pki, "head", PlainPdf("Quyet dinh so 43"));
  }
  ~Material() {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
  Material(const Material&) = delete;
  Material& operator=(const Material&) = delete;

  std::string dir;               // scratch files, removed at exit
  std::string pki;               // SharedPkiDir()
  std::string other_pki;         // another root CA, same layout
  std::string signed_pdf;        // signed by "head" of `pki`
  std::string other_signed_pdf;  // signed by "head" of `other_pki`
};

const Material& Shared() {
  static const Material material;
  return material;
}

// Writes `pdf` to a new file in the scratch directory.
std::string PdfFile(const std::string& name, const std::string& pdf) {
  const std::string path = Shared().dir + "/" + name;
  WriteAll(path, pdf);
  return path;
}

// The signed document with one byte of its page text changed: the file
// still parses, but the bytes the signature covers are not those signed.
std::string Tampered(std::string pdf) {
  const size_t at = pdf.find("Quyet dinh so 42");
  EXPECT_NE(at, std::string::npos);
  if (at != std::string::npos) pdf[at] = 'X';
  return pdf;
}

// The signed document with an incremental update after the signature that
// replaces the page's content stream (object 4): what it shows changes.
std::string ModifiedAfterSigning(const std::string& pdf) {
  const size_t size_at = pdf.rfind("/Size ");
  const size_t startxref_at = pdf.rfind("startxref");
  int64_t size = 0, prev = 0;
  EXPECT_NE(size_at, std::string::npos);
  EXPECT_NE(startxref_at, std::string::npos);
  if (size_at == std::string::npos || startxref_at == std::string::npos) return pdf;
  const std::string size_text =
      pdf.substr(size_at + 6, pdf.find_first_of(" />\r\n", size_at + 6) - (size_at + 6));
  std::string prev_text = pdf.substr(startxref_at + 9);
  prev_text = prev_text.substr(prev_text.find_first_not_of("\r\n "));
  prev_text = prev_text.substr(0, prev_text.find_first_of("\r\n "));
  EXPECT_TRUE(absl::SimpleAtoi(size_text, &size)) << size_text;
  EXPECT_TRUE(absl::SimpleAtoi(prev_text, &prev)) << prev_text;
  std::string out = pdf;
  const std::string content = "BT /F1 24 Tf 72 720 Td (Quyet dinh so 99) Tj ET";
  const size_t object_at = out.size();
  absl::StrAppend(&out, "4 0 obj\n<< /Length ", content.size(), " >>\nstream\n", content,
                  "\nendstream\nendobj\n");
  const size_t xref = out.size();
  absl::StrAppend(&out, "xref\n0 1\n0000000000 65535 f \n4 1\n",
                  absl::StrFormat("%010d 00000 n \n", object_at), "trailer\n<< /Size ", size,
                  " /Root 1 0 R /Prev ", prev, " >>\nstartxref\n", xref, "\n%%EOF\n");
  return out;
}

std::vector<std::string> Verify(const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"--pki-dir", Shared().pki, "verify"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// ------------------------------------------------------------ motcua verify

TEST(CliVerifyTest, SignedByDevPki_NoRevocation_ExitsZeroNamingSigner) {
  const CliResult r = RunCli(Verify({PdfFile("good.pdf", Shared().signed_pdf), "--no-revocation"}));
  EXPECT_EQ(r.exit_code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr(kHeadCn));
  EXPECT_THAT(r.out, HasSubstr("TOTAL_PASSED"));
  EXPECT_THAT(r.out, HasSubstr("covers the whole document"));
  EXPECT_THAT(r.out, HasSubstr("motcua dev root CA"));  // the chain ends at the anchor
  EXPECT_THAT(r.out, HasSubstr("PASSED: every signature"));
  EXPECT_THAT(r.out, HasSubstr("revocation not checked (--no-revocation)"));
}

TEST(CliVerifyTest, NoRevocationData_RevocationCheckedByDefault_TryLaterExitsOneWithHint) {
  const CliResult r = RunCli(Verify({PdfFile("good.pdf", Shared().signed_pdf)}));
  EXPECT_EQ(r.exit_code, kExitCheckFailed) << r;
  EXPECT_THAT(r.out, HasSubstr("INDETERMINATE / TRY_LATER"));
  EXPECT_THAT(r.out, HasSubstr("no revocation data"));
  EXPECT_THAT(r.out, HasSubstr("--no-revocation"));
}

// The dev PKI's "head" signature, time-stamped by the dev TSA (B-T), with a
// CRL of the dev CA issued an hour before in its /DSS: what a CA that
// publishes a CRL every few hours leaves.
std::string TimestampedWithHourOldCrl() {
  const std::string& pki = Shared().pki;
  auto key = signing::SigningKey::LoadPkcs12(pki + "/signers/head.p12",
                                             signing::kDevPkcs12Password);
  auto tsa = signing::OpenLocalTimestampAuthority(pki + "/tsa.crt", pki + "/tsa.key");
  EXPECT_TRUE(key.ok() && tsa.ok());
  if (!key.ok() || !tsa.ok()) return "";
  signing::SignatureRequest request;
  request.field_name = "Officer";
  request.signing_time = absl::Now();
  auto prepared = signing::PrepareSignature(PlainPdf("Quyet dinh so 44"), request);
  EXPECT_TRUE(prepared.ok()) << prepared.status();
  if (!prepared.ok()) return "";
  auto cms = signing::SignDetached(**key, prepared->document_sha256);
  auto stamped = cms.ok() ? signing::TimestampSignature(*cms, **tsa) : cms;
  auto pdf = stamped.ok() ? signing::EmbedSignature(*prepared, *stamped) : stamped;
  EXPECT_TRUE(pdf.ok()) << pdf.status();
  if (!pdf.ok()) return "";
  signing::testing_util::DevCa ca = signing::testing_util::LoadDevCa(pki);
  const absl::Time now = absl::Now();
  signing::ValidationData evidence;
  evidence.crls.push_back(signing::fixtures::MakeCrl(ca.cert.get(), ca.key.get(), {}, now,
                                                     absl::Hours(24), now - absl::Hours(1)));
  auto long_term = signing::AddValidationData(*pdf, evidence);
  EXPECT_TRUE(long_term.ok()) << long_term.status();
  return long_term.ok() ? *long_term : "";
}

// EN 319 102-1 freshness: strict by default; --max-revocation-age accepts
// older evidence.
TEST(CliVerifyTest, CrlOlderThanTheTimestamp_TryLaterUnlessMaxRevocationAgeAcceptsIt) {
  const std::string path = PdfFile("hour-old-crl.pdf", TimestampedWithHourOldCrl());
  const CliResult strict = RunCli(Verify({path}));
  EXPECT_EQ(strict.exit_code, kExitCheckFailed) << strict;
  EXPECT_THAT(strict.out, HasSubstr("INDETERMINATE / TRY_LATER"));
  EXPECT_THAT(strict.out, HasSubstr("issued after the signature's time-stamp"));
  EXPECT_THAT(strict.out, HasSubstr("--max-revocation-age"));

  const CliResult relaxed = RunCli(Verify({path, "--max-revocation-age", "2h"}));
  EXPECT_EQ(relaxed.exit_code, kExitOk) << relaxed;
  EXPECT_THAT(relaxed.out, HasSubstr("PASSED: every signature"));

  const CliResult too_short = RunCli(Verify({path, "--max-revocation-age", "30m"}));
  EXPECT_EQ(too_short.exit_code, kExitCheckFailed) << too_short;

  const CliResult bad = RunCli(Verify({path, "--max-revocation-age", "a while"}));
  EXPECT_EQ(bad.exit_code, kExitUsage) << bad;
  EXPECT_THAT(bad.err, HasSubstr("must be a duration such as 12h"));
}

TEST(CliVerifyTest, Json_ParsesWithIndicationSignerChainAndCoverage) {
  const CliResult r =
      RunCli(Verify({"--json", PdfFile("good.pdf", Shared().signed_pdf), "--no-revocation"}));
  ASSERT_EQ(r.exit_code, kExitOk) << r;
  google::protobuf::Struct json;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &json).ok()) << r.out;
  const auto& top = json.fields();
  EXPECT_TRUE(top.at("all_passed").bool_value());
  EXPECT_EQ(top.at("file_size").number_value(), static_cast<double>(Shared().signed_pdf.size()));
  ASSERT_EQ(top.at("signatures").list_value().values_size(), 1);
  const auto& sig = top.at("signatures").list_value().values(0).struct_value().fields();
  EXPECT_EQ(sig.at("indication").string_value(), "TOTAL_PASSED");
  EXPECT_EQ(sig.at("sub_indication").string_value(), "");
  EXPECT_EQ(sig.at("field_name").string_value(), "Officer");
  EXPECT_EQ(sig.at("sub_filter").string_value(), "ETSI.CAdES.detached");
  EXPECT_EQ(sig.at("signer").struct_value().fields().at("common_name").string_value(), kHeadCn);
  EXPECT_EQ(sig.at("chain").list_value().values_size(), 2);
  EXPECT_TRUE(
      sig.at("byte_range").struct_value().fields().at("covers_whole_document").bool_value());
  EXPECT_FALSE(sig.at("modified_after_signing").bool_value());
  // Not checked against anything, and not held against the signature.
  EXPECT_EQ(sig.at("revocation").struct_value().fields().at("status").string_value(), "unknown");
}

TEST(CliVerifyTest, TrustDirectoryHoldingTheCa_Passes) {
  const std::string anchors = Shared().dir + "/anchors";
  fs::create_directories(anchors);
  fs::copy_file(Shared().pki + "/ca.crt", anchors + "/ca.crt");
  const CliResult r = RunCli(
      Verify({PdfFile("good.pdf", Shared().signed_pdf), "--trust", anchors, "--no-revocation"}));
  EXPECT_EQ(r.exit_code, kExitOk) << r;
}

TEST(CliVerifyTest, ByteFlippedInSignedRange_ExitsOneWithHashFailure) {
  const CliResult r =
      RunCli(Verify({PdfFile("tampered.pdf", Tampered(Shared().signed_pdf)), "--no-revocation"}));
  EXPECT_EQ(r.exit_code, kExitCheckFailed) << r;
  EXPECT_THAT(r.out, HasSubstr("TOTAL_FAILED / HASH_FAILURE"));
  EXPECT_THAT(r.out, HasSubstr("FAILED: 1 of 1 signature(s)"));
}

TEST(CliVerifyTest, PageChangedInLaterRevision_ExitsOneNamingTheChange) {
  const CliResult r = RunCli(Verify(
      {PdfFile("modified.pdf", ModifiedAfterSigning(Shared().signed_pdf)), "--no-revocation"}));
  EXPECT_EQ(r.exit_code, kExitCheckFailed) << r;
  EXPECT_THAT(r.out, HasSubstr("MODIFIED:"));
  EXPECT_THAT(r.out, HasSubstr("FLAGGED"));
}

TEST(CliVerifyTest, UnknownRootAsTrust_ExitsOneWithNoChain) {
  const CliResult r = RunCli(Verify({PdfFile("good.pdf", Shared().signed_pdf), "--trust",
                                     Shared().other_pki + "/ca.crt", "--no-revocation"}));
  EXPECT_EQ(r.exit_code, kExitCheckFailed) << r;
  EXPECT_THAT(r.out, HasSubstr("NO_CERTIFICATE_CHAIN_FOUND"));
}

TEST(CliVerifyTest, SignedUnderAnotherRoot_DefaultTrust_ExitsOneWithNoChain) {
  const CliResult r =
      RunCli(Verify({PdfFile("other.pdf", Shared().other_signed_pdf), "--no-revocation"}));
  EXPECT_EQ(r.exit_code, kExitCheckFailed) << r;
  EXPECT_THAT(r.out, HasSubstr("NO_CERTIFICATE_CHAIN_FOUND"));
}

TEST(CliVerifyTest, UnsignedPdf_ExitsOne) {
  const CliResult r = RunCli(Verify({PdfFile("plain.pdf", PlainPdf("x")), "--no-revocation"}));
  EXPECT_EQ(r.exit_code, kExitCheckFailed) << r;
  EXPECT_THAT(r.out, HasSubstr("no signature"));
}

TEST(CliVerifyTest, Garbage_ExitsTwoSayingNotAPdf) {
  const std::string path = PdfFile("garbage.pdf", std::string(5000, '\x07') + "not a pdf at all");
  const CliResult r = RunCli(Verify({path}));
  EXPECT_EQ(r.exit_code, kExitError) << r;
  EXPECT_THAT(r.err, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(r.err, HasSubstr(path));
  EXPECT_THAT(r.err, HasSubstr("not a PDF"));
}

TEST(CliVerifyTest, TruncatedSignedPdf_FailsCleanlyWithMessage) {
  const std::string& pdf = Shared().signed_pdf;
  // Cut inside the signature's revision (through /Contents) and at a few
  // other places: whatever remains, the answer is a verdict or an error.
  for (size_t cut : {pdf.size() - 10, pdf.size() / 2, pdf.size() / 5, size_t{20}}) {
    const CliResult r =
        RunCli(Verify({PdfFile("truncated.pdf", pdf.substr(0, cut)), "--no-revocation"}));
    EXPECT_TRUE(r.exit_code == kExitCheckFailed || r.exit_code == kExitError)
        << "cut at " << cut << ": " << r;
    if (r.exit_code == kExitError) {
      EXPECT_THAT(r.err, HasSubstr("error: INVALID_ARGUMENT: "));
    } else {
      EXPECT_THAT(r.out, HasSubstr("FAILED"));
    }
  }
}

TEST(CliVerifyTest, MissingFile_ExitsTwoNamingIt) {
  const CliResult r = RunCli(Verify({Shared().dir + "/no-such.pdf"}));
  EXPECT_EQ(r.exit_code, kExitError) << r;
  EXPECT_THAT(r.err, HasSubstr("no-such.pdf"));
}

TEST(CliVerifyTest, MissingTrustPath_ExitsTwoNamingIt) {
  const CliResult r = RunCli(
      Verify({PdfFile("good.pdf", Shared().signed_pdf), "--trust", Shared().dir + "/no-such-ca"}));
  EXPECT_EQ(r.exit_code, kExitError) << r;
  EXPECT_THAT(r.err, HasSubstr("no-such-ca"));
}

TEST(CliVerifyTest, UsageMistakes_Exit64) {
  EXPECT_EQ(RunCli(Verify({})).exit_code, kExitUsage);
  EXPECT_EQ(RunCli(Verify({"a.pdf", "b.pdf"})).exit_code, kExitUsage);
  const CliResult r = RunCli(Verify({"a.pdf", "--bogus", "x"}));
  EXPECT_EQ(r.exit_code, kExitUsage) << r;
  EXPECT_THAT(r.err, HasSubstr("verify FILE.pdf"));  // the usage text lists it
}

// ------------------------------------------------- AuditService.VerifyDocument

Reply<v1::VerifyDocumentResponse> CallVerify(ServerProcess& server, const std::string& who,
                                             const std::string& pdf, bool skip_revocation = true) {
  auto stub = v1::AuditService::NewStub(server.Channel(who));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  v1::VerifyDocumentRequest request;
  request.set_pdf(pdf);
  request.set_skip_revocation_check(skip_revocation);
  Reply<v1::VerifyDocumentResponse> reply;
  reply.status = stub->VerifyDocument(&context, request, &reply.value);
  return reply;
}

class VerifyDocumentTest : public SharedServerTest {
 protected:
  static Reply<v1::VerifyDocumentResponse> Call(const std::string& who, const std::string& pdf,
                                                bool skip_revocation = true) {
    return CallVerify(server(), who, pdf, skip_revocation);
  }
};

TEST_F(VerifyDocumentTest, Auditor_SignedPdf_ReportMirrorsVerifier) {
  const auto reply = Call("auditor", Shared().signed_pdf);
  ASSERT_RPC_OK(reply);
  const v1::VerifyDocumentResponse& r = reply.value;
  EXPECT_TRUE(r.all_passed());
  EXPECT_EQ(r.file_size(), static_cast<int64_t>(Shared().signed_pdf.size()));
  EXPECT_GT(r.validation_time().seconds(), 0);
  ASSERT_EQ(r.signatures_size(), 1);
  const v1::SignatureVerification& s = r.signatures(0);
  EXPECT_EQ(s.indication(), v1::SignatureVerification::INDICATION_TOTAL_PASSED);
  EXPECT_EQ(s.sub_indication(), v1::SignatureVerification::SUB_INDICATION_UNSPECIFIED);
  EXPECT_EQ(s.field_name(), "Officer");
  EXPECT_EQ(s.type(), v1::SignatureVerification::TYPE_SIGNATURE);
  EXPECT_EQ(s.sub_filter(), "ETSI.CAdES.detached");
  EXPECT_EQ(s.signer_common_name(), kHeadCn);
  EXPECT_THAT(s.signer_subject(), HasSubstr(absl::StrCat("CN=", kHeadCn)));
  EXPECT_EQ(s.signer_certificate_sha256().size(), 64u);
  ASSERT_EQ(s.chain_size(), 2);
  EXPECT_THAT(s.chain(1), HasSubstr("motcua dev root CA"));
  EXPECT_TRUE(s.coverage().well_formed());
  EXPECT_TRUE(s.coverage().covers_whole_document());
  EXPECT_EQ(s.coverage().revision(), 1);
  EXPECT_GT(s.claimed_signing_time_parsed().seconds(), 0);
  EXPECT_EQ(s.revocation(), v1::SignatureVerification::REVOCATION_UNKNOWN);  // no data, and skipping was asked for
  EXPECT_FALSE(s.modified_after_signing());
  EXPECT_EQ(r.revisions_size(), 2);
}

TEST_F(VerifyDocumentTest, RevocationCheckedByDefault_NoData_TryLater) {
  const auto reply = Call("auditor", Shared().signed_pdf, /*skip_revocation=*/false);
  ASSERT_RPC_OK(reply);
  EXPECT_FALSE(reply.value.all_passed());
  ASSERT_EQ(reply.value.signatures_size(), 1);
  EXPECT_EQ(reply.value.signatures(0).indication(),
            v1::SignatureVerification::INDICATION_INDETERMINATE);
  EXPECT_EQ(reply.value.signatures(0).sub_indication(),
            v1::SignatureVerification::SUB_INDICATION_TRY_LATER);
  EXPECT_EQ(reply.value.signatures(0).revocation(),
            v1::SignatureVerification::REVOCATION_UNKNOWN);
}

TEST_F(VerifyDocumentTest, OfficersClerkAndAdmin_MayVerify) {
  for (const std::string who : {"receiver", "head", "clerk", "admin"}) {
    const auto reply = Call(who, Shared().signed_pdf);
    EXPECT_RPC_OK(reply) << who;
    EXPECT_TRUE(reply.value.all_passed()) << who;
  }
}

TEST_F(VerifyDocumentTest, Portal_PermissionDenied) {
  const auto reply = Call("portal", Shared().signed_pdf);
  EXPECT_RPC_CODE(reply, grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(reply.status.error_message(), HasSubstr("may not verify documents"));
}

TEST_F(VerifyDocumentTest, Tampered_TotalFailedHashFailure) {
  const auto reply = Call("auditor", Tampered(Shared().signed_pdf));
  ASSERT_RPC_OK(reply);
  EXPECT_FALSE(reply.value.all_passed());
  ASSERT_EQ(reply.value.signatures_size(), 1);
  EXPECT_EQ(reply.value.signatures(0).indication(),
            v1::SignatureVerification::INDICATION_TOTAL_FAILED);
  EXPECT_EQ(reply.value.signatures(0).sub_indication(),
            v1::SignatureVerification::SUB_INDICATION_HASH_FAILURE);
}

TEST_F(VerifyDocumentTest, ModifiedAfterSigning_FlaggedWithLaterChanges) {
  const auto reply = Call("auditor", ModifiedAfterSigning(Shared().signed_pdf));
  ASSERT_RPC_OK(reply);
  EXPECT_FALSE(reply.value.all_passed());
  ASSERT_EQ(reply.value.signatures_size(), 1);
  EXPECT_TRUE(reply.value.signatures(0).modified_after_signing());
  EXPECT_GT(reply.value.signatures(0).later_changes_size(), 0);
  ASSERT_EQ(reply.value.revisions_size(), 3);
  bool flagged = false;
  for (const v1::ObjectChange& c : reply.value.revisions(2).changes()) flagged |= c.flagged();
  EXPECT_TRUE(flagged);
}

TEST_F(VerifyDocumentTest, SignedUnderUnknownRoot_NoCertificateChainFound) {
  const auto reply = Call("auditor", Shared().other_signed_pdf);
  ASSERT_RPC_OK(reply);
  ASSERT_EQ(reply.value.signatures_size(), 1);
  EXPECT_EQ(reply.value.signatures(0).sub_indication(),
            v1::SignatureVerification::SUB_INDICATION_NO_CERTIFICATE_CHAIN_FOUND);
}

TEST_F(VerifyDocumentTest, GarbageEmptyAndOversized_InvalidArgumentServerStaysUp) {
  const auto garbage = Call("auditor", std::string(3000, 'g'));
  EXPECT_RPC_CODE(garbage, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(garbage.status.error_message(), HasSubstr("not a PDF"));

  const auto truncated = Call("auditor", Shared().signed_pdf.substr(0, 30));
  EXPECT_RPC_CODE(truncated, grpc::StatusCode::INVALID_ARGUMENT);

  const auto empty = Call("auditor", "");
  EXPECT_RPC_CODE(empty, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(empty.status.error_message(), HasSubstr("empty"));

  std::string oversized = Shared().signed_pdf;
  oversized.resize((20u << 20) + 1, ' ');
  const auto big = Call("auditor", oversized);
  EXPECT_RPC_CODE(big, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(big.status.error_message(), HasSubstr("20 MiB"));

  // Still serving (TearDown checks the process too).
  EXPECT_RPC_OK(Call("auditor", Shared().signed_pdf));
}

// --trust-dir replaces the development CA: an operator who still wants it
// (its seals sign the server's own documents) lists it too.
TEST(VerifyDocumentTrustDirTest, TrustDirFlag_NamesTheAnchors) {
  const std::string anchors = Shared().dir + "/trust-dir";
  fs::create_directories(anchors);
  fs::copy_file(Shared().other_pki + "/ca.crt", anchors + "/other-ca.crt");
  fs::copy_file(Shared().pki + "/ca.crt", anchors + "/own-ca.crt");
  auto server = ServerProcess::Start({"--trust-dir", anchors});
  ASSERT_TRUE(server.ok()) << server.status();

  const auto other = CallVerify(**server, "auditor", Shared().other_signed_pdf);
  ASSERT_RPC_OK(other);
  EXPECT_TRUE(other.value.all_passed());
  const auto own = CallVerify(**server, "auditor", Shared().signed_pdf);
  ASSERT_RPC_OK(own);
  EXPECT_TRUE(own.value.all_passed());
}

}  // namespace
}  // namespace motcua::itest
