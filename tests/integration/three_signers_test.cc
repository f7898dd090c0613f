// One document signed by three people over two steps, end to end through
// the real server and the CLI alone: an administrator deploys
// tests/procedures/three_signers.textproto, a portal submits, the teacher
// (the receiving officer) signs the record, the principal (the head) signs
// it further and the school's seal follows. The file is judged after each
// step by pdfsig, qpdf and pdftotext, and the auditor's verify-dossier names
// the event behind each signer.

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "signing/dev/dev_pki.h"
#include "tests/integration/cli_runner.h"
#include "tests/integration/fixtures.h"
#include "tests/signing/pdf_tools.h"

namespace motcua::itest {
namespace {

using ::testing::HasSubstr;

using signing::testing_tools::ReadFile;
using Command = signing::testing_tools::CommandResult;
Command Shell(const std::string& command) { return signing::testing_tools::RunTool(command); }

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

class ThreeSignersCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = ServerProcess::Start();
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = *std::move(started);
    nss_ = server_->scratch_dir() + "/nssdb";
    std::filesystem::create_directories(nss_);
    ASSERT_EQ(Shell("certutil -N -d sql:" + nss_ + " --empty-password").exit_code, 0);
    ASSERT_EQ(Shell("certutil -A -d sql:" + nss_ + " -n motcua-dev-root -t CT,C,C -i " +
                    server_->pki_dir() + "/ca.crt")
                  .exit_code,
              0);
  }

  CliResult Cli(const std::string& as, std::vector<std::string> words) {
    std::vector<std::string> args = {
        "--server", server_->target(), "--pki-dir", server_->pki_dir(), "--as", as};
    args.insert(args.end(), words.begin(), words.end());
    return RunCli(args);
  }

  // `as` approves the open task of `code`, signing with their dev PKCS#12.
  CliResult Approve(const std::string& as, const std::string& code) {
    Reply<v1::Dossier> d = Reread(*server_, code);
    EXPECT_RPC_OK(d);
    return Cli(as, {"approve", d.value.task().id(), "--sign-with-p12",
                    server_->pki_dir() + "/signers/" + as + ".p12", "--p12-password",
                    signing::kDevPkcs12Password});
  }

  // The record saved by `motcua document`; its path.
  std::string SaveRecord(const std::string& code, const std::string& name) {
    const std::string path = server_->scratch_dir() + "/" + name + ".pdf";
    CliResult saved = Cli("auditor", {"document", code, "d1", "-o", path});
    EXPECT_EQ(saved.exit_code, 0) << saved;
    return path;
  }

  // pdfsig's count of valid signatures by trusted certificates; qpdf and
  // pdftotext must accept the file too.
  size_t JudgeIndependently(const std::string& pdf) {
    Command sig = Shell("pdfsig -nssdir sql:" + nss_ + " " + pdf);
    EXPECT_EQ(Count(sig.output, "Signature is Valid"), Count(sig.output, "Certificate is Trusted"))
        << sig.output;
    Command check = Shell("qpdf --check " + pdf);
    EXPECT_EQ(check.exit_code, 0) << check.output;
    Command text = Shell("pdftotext -enc UTF-8 " + pdf + " -");
    EXPECT_THAT(text.output, HasSubstr("XÁC NHẬN KẾT QUẢ HỌC TẬP"));
    EXPECT_THAT(text.output, HasSubstr("Nguyễn Thị Lan"));
    EXPECT_THAT(text.output, HasSubstr("GIÁO VIÊN CHỦ NHIỆM"));
    return Count(sig.output, "Signature is Valid");
  }

  std::unique_ptr<ServerProcess> server_;
  std::string nss_;
};

TEST_F(ThreeSignersCliTest, TeacherPrincipalAndSeal_VerifiedAtEveryStepAndAudited) {
  CliResult deployed =
      Cli("admin",
          {"procedures", "deploy", MOTCUA_SOURCE_DIR "/tests/procedures/three_signers.textproto"});
  ASSERT_EQ(deployed.exit_code, 0) << deployed;

  const std::string submission = server_->scratch_dir() + "/submission.json";
  std::ofstream(submission) << R"({
    "procedureCode": "T.300", "unitCode": "HN-SGDDT", "channel": "CHANNEL_ONLINE",
    "applicant": {"idNumber": "001203004567", "fullName": "Nguyễn Thị Lan"},
    "form": {"pupil": "Nguyễn Thị Lan", "class_name": "12A1", "result": "Tốt"},
    "requestId": "three-signers-1"})";
  CliResult submitted = Cli("portal", {"submit", submission, "--json"});
  ASSERT_EQ(submitted.exit_code, 0) << submitted;
  const size_t quote = submitted.out.find("\"code\": \"") + 9;
  const std::string code = submitted.out.substr(quote, submitted.out.find('"', quote) - quote);

  CliResult teacher = Approve("receiver", code);
  ASSERT_EQ(teacher.exit_code, 0) << teacher;
  const std::string first = SaveRecord(code, "after-teacher");
  EXPECT_EQ(JudgeIndependently(first), 1u);
  CliResult verified = Cli("auditor", {"verify", first});
  EXPECT_EQ(verified.exit_code, 0) << verified;

  CliResult principal = Approve("head", code);
  ASSERT_EQ(principal.exit_code, 0) << principal;
  const std::string last = SaveRecord(code, "after-principal");
  EXPECT_TRUE(absl::StartsWith(ReadFile(last), ReadFile(first)));
  EXPECT_EQ(JudgeIndependently(last), 3u);
  // openssl, on its own, accepts each signer's CMS over the bytes it signs:
  // teacher, (time-stamp), principal, seal, (time-stamp).
  const auto embedded = signing::testing_tools::FindSignatures(ReadFile(last));
  ASSERT_EQ(embedded.size(), 5u);
  for (size_t i : {0, 2, 3}) {
    const std::string cms = absl::StrCat(server_->scratch_dir(), "/cms-", i, ".der");
    const std::string content = absl::StrCat(server_->scratch_dir(), "/cms-", i, ".bin");
    std::ofstream(cms, std::ios::binary) << embedded[i].cms;
    std::ofstream(content, std::ios::binary) << embedded[i].signed_bytes;
    Command check =
        Shell("openssl cms -verify -binary -inform DER -in " + cms + " -content " + content +
              " -CAfile " + server_->pki_dir() + "/ca.crt -purpose any -out /dev/null");
    EXPECT_EQ(check.exit_code, 0) << "signature " << i << ": " << check.output;
  }
  verified = Cli("auditor", {"verify", last});
  EXPECT_EQ(verified.exit_code, 0) << verified;

  Reply<v1::Dossier> d = Reread(*server_, code);
  ASSERT_RPC_OK(d);
  EXPECT_EQ(d.value.state(), "signed");
  ASSERT_EQ(d.value.documents_size(), 1);
  ASSERT_EQ(d.value.documents(0).signers_size(), 3);

  // Each signer against the event that added it, on the server and offline.
  Reply<v1::GetDossierHistoryResponse> history = server_->As("auditor").History(code);
  ASSERT_RPC_OK(history);
  int64_t teacher_event = 0, principal_event = 0;
  for (const v1::HistoryEvent& e : history.value.events()) {
    if (e.action() == "teacher_signs") teacher_event = e.sequence();
    if (e.action() == "principal_signs") principal_event = e.sequence();
  }
  CliResult audit = Cli("auditor", {"verify-dossier", code});
  EXPECT_EQ(audit.exit_code, 0) << audit;
  EXPECT_THAT(audit.out, HasSubstr(absl::StrCat("slot teacher: receiver.hn, added by event ",
                                                teacher_event, " (receiver.hn)")));
  EXPECT_THAT(audit.out, HasSubstr(absl::StrCat("slot principal: head.hn, added by event ",
                                                principal_event, " (head.hn)")));
  EXPECT_THAT(audit.out,
              HasSubstr(absl::StrCat("slot seal: HN-SGDDT, added by event ", principal_event)));
  const std::string exported = server_->scratch_dir() + "/export";
  ASSERT_EQ(Cli("auditor", {"export", code, exported}).exit_code, 0);
  CliResult offline = Cli(
      "auditor", {"verify-dossier", "--from", exported, "--trust", server_->pki_dir() + "/ca.crt"});
  EXPECT_EQ(offline.exit_code, 0) << offline;
  EXPECT_THAT(offline.out, HasSubstr("slot principal: head.hn"));
}

}  // namespace
}  // namespace motcua::itest
