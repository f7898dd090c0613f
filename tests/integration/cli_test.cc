// The motcua command-line client run as a child process against the real
// motcuad: commands, exit codes, JSON and table output. What the CLI did is
// cross-checked with the gRPC test client, so a CLI that prints success
// without changing anything fails here.

#include <fcntl.h>
#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "signing/dev/dev_pki.h"
#include "tests/integration/cli_runner.h"
#include "tests/integration/fixtures.h"

#ifndef MOTCUA_CLI_PATH
#error "MOTCUA_CLI_PATH must name the motcua binary (tests/CMakeLists.txt sets it)"
#endif


namespace motcua::itest {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// Exit codes documented in the CLI's usage text.
constexpr int kExitOk = 0;
constexpr int kExitError = 2;
constexpr int kExitUsage = 64;

// The repository's example submission (docs/examples/copy_request.json).
std::string ReadExampleSubmission() {
  const std::filesystem::path example = std::filesystem::path(__FILE__).parent_path() / ".." /
                                        ".." / "docs" / "examples" / "copy_request.json";
  std::ifstream in(example, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

template <typename Message>
bool ParseJson(const std::string& json, Message* message, std::string* error) {
  const auto status = google::protobuf::util::JsonStringToMessage(json, message);
  if (!status.ok()) *error = std::string(status.message());
  return status.ok();
}

class CliTest : public SharedServerTest {
 protected:
  // The CLI connected to the shared server as dev identity `as`.
  static CliResult Cli(const std::string& as, const std::vector<std::string>& command) {
    std::vector<std::string> args = {
        "--server", server().target(), "--pki-dir", server().pki_dir(), "--as", as};
    args.insert(args.end(), command.begin(), command.end());
    return RunCli(args);
  }

  // Writes `content` to a new file in the server's scratch dir; returns its path.
  static std::string WriteScratchFile(const std::string& name, const std::string& content) {
    static int counter = 0;
    const std::string path = absl::StrCat(server().scratch_dir(), "/cli-", ++counter, "-", name);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    EXPECT_TRUE(out) << "could not write " << path;
    return path;
  }

  // The example submission with a fresh applicant id number, as a file.
  static std::string SubmissionFile() {
    const std::string example = ReadExampleSubmission();
    v1::SubmitDossierRequest request;
    std::string error;
    EXPECT_TRUE(ParseJson(example, &request, &error))
        << "docs/examples/copy_request.json does not parse: " << error;
    request.mutable_applicant()->set_id_number(NewApplicantId());
    std::string json;
    EXPECT_TRUE(google::protobuf::util::MessageToJsonString(request, &json).ok());
    return WriteScratchFile("submit.json", json);
  }

  // `submit FILE --json` as `portal`; the printed dossier, or a failure and
  // an empty code.
  static v1::Dossier CliSubmit(const std::string& portal = "portal") {
    v1::Dossier dossier;
    const CliResult r = Cli(portal, {"submit", SubmissionFile(), "--json"});
    if (r.exit_code != kExitOk) {
      ADD_FAILURE() << "submit failed: " << r;
      return dossier;
    }
    std::string error;
    if (!ParseJson(r.out, &dossier, &error)) {
      ADD_FAILURE() << "submit --json output is not a Dossier: " << error << "\n" << r;
      dossier.Clear();
    }
    return dossier;
  }

  // The id of `as`'s open task on dossier `code`, read from `worklist --json`;
  // empty (with a failure) when there is none.
  static std::string CliTaskFor(const std::string& as, const std::string& code) {
    const CliResult r = Cli(as, {"worklist", "--json"});
    if (r.exit_code != kExitOk) {
      ADD_FAILURE() << "worklist as " << as << " failed: " << r;
      return "";
    }
    v1::ListMyTasksResponse tasks;
    std::string error;
    if (!ParseJson(r.out, &tasks, &error)) {
      ADD_FAILURE() << "worklist --json output is not a ListMyTasksResponse: " << error << "\n"
                    << r;
      return "";
    }
    for (const v1::Task& task : tasks.tasks()) {
      if (task.dossier_code() == code) return task.id();
    }
    ADD_FAILURE() << "no task for " << code << " in the worklist of " << as << ":\n" << r.out;
    return "";
  }

  // The flags that sign with `officer`'s development PKCS#12 key.
  static std::vector<std::string> SigningFlags(const std::string& officer) {
    return {"--sign-with-p12", server().pki_dir() + "/signers/" + officer + ".p12",
            "--p12-password", signing::kDevPkcs12Password};
  }

  // Finds `as`'s task on `code` and runs `approve` on it (signed by the
  // head, whose approval needs it); true on exit 0.
  static bool CliApprove(const std::string& as, const std::string& code) {
    const std::string task = CliTaskFor(as, code);
    if (task.empty()) return false;
    std::vector<std::string> command = {"approve", task};
    if (as == "head") {
      for (const std::string& flag : SigningFlags(as)) command.push_back(flag);
    }
    const CliResult r = Cli(as, command);
    EXPECT_EQ(r.exit_code, kExitOk) << "approve " << task << " as " << as << ": " << r;
    return r.exit_code == kExitOk;
  }

  // Submit, receive, head approval and return of the result, all via the CLI.
  // Returns the dossier code, or empty after a failure.
  static std::string CliFullLifecycle() {
    const std::string code = CliSubmit().code();
    if (code.empty()) return "";
    if (!CliApprove("receiver", code)) return "";
    if (!CliApprove("head", code)) return "";
    if (!CliApprove("receiver", code)) return "";
    return code;
  }

  // The dossier as the auditor reads it through gRPC.
  static v1::Dossier GrpcRead(const std::string& code) {
    Reply<v1::Dossier> reply = Reread(server(), code);
    EXPECT_RPC_OK(reply);
    return reply.value;
  }
};

// ------------------------------------------------------------------ lifecycle

TEST_F(CliTest, Cli_SubmitJson_PrintsNewDossierStoredByServer) {
  const v1::Dossier printed = CliSubmit();
  ASSERT_FALSE(printed.code().empty());
  EXPECT_EQ(printed.national_status(), 1);
  const v1::Dossier stored = GrpcRead(printed.code());
  EXPECT_EQ(stored.code(), printed.code());
  EXPECT_EQ(stored.state(), "submitted");
  EXPECT_EQ(stored.applicant().full_name(), "Nguyễn Thị Lan");
  EXPECT_EQ(stored.submitted_by(), kPortalSubject);
}

TEST_F(CliTest, Cli_WorklistJson_ContainsTaskOfSubmittedDossier) {
  const std::string code = CliSubmit().code();
  ASSERT_FALSE(code.empty());
  const CliResult r = Cli("receiver", {"worklist", "--json"});
  ASSERT_EQ(r.exit_code, kExitOk) << r;
  v1::ListMyTasksResponse tasks;
  std::string error;
  ASSERT_TRUE(ParseJson(r.out, &tasks, &error)) << error << "\n" << r;
  const v1::Dossier stored = GrpcRead(code);
  ASSERT_FALSE(stored.task().id().empty());
  bool found = false;
  for (const v1::Task& task : tasks.tasks()) {
    if (task.id() != stored.task().id()) continue;
    found = true;
    EXPECT_EQ(task.dossier_code(), code);
    EXPECT_EQ(task.position(), "receiving");
  }
  EXPECT_TRUE(found) << "task " << stored.task().id() << " missing from\n" << r.out;
}

TEST_F(CliTest, Cli_Approve_MovesDossierToProcessing) {
  const std::string code = CliSubmit().code();
  ASSERT_FALSE(code.empty());
  const std::string task = CliTaskFor("receiver", code);
  ASSERT_FALSE(task.empty());
  const CliResult r = Cli("receiver", {"approve", task});
  ASSERT_EQ(r.exit_code, kExitOk) << r;
  const v1::Dossier stored = GrpcRead(code);
  EXPECT_EQ(stored.national_status(), 4);
  EXPECT_EQ(stored.state(), "processing");
  EXPECT_EQ(stored.receipt().received_by(), kReceiverSubject);
}

TEST_F(CliTest, Cli_HeadApprove_MovesDossierToProcessed) {
  const std::string code = CliSubmit().code();
  ASSERT_FALSE(code.empty());
  ASSERT_TRUE(CliApprove("receiver", code));
  const std::string task = CliTaskFor("head", code);
  ASSERT_FALSE(task.empty());
  const std::string preview = absl::StrCat(server().scratch_dir(), "/cli-preview-", code, ".pdf");
  std::vector<std::string> command = {"approve", task, "--save-preview", preview};
  for (const std::string& flag : SigningFlags("head")) command.push_back(flag);
  const CliResult r = Cli("head", command);
  ASSERT_EQ(r.exit_code, kExitOk) << r;
  EXPECT_THAT(r.err, HasSubstr(preview));
  const v1::Dossier stored = GrpcRead(code);
  EXPECT_EQ(stored.national_status(), 9);
  ASSERT_EQ(stored.documents_size(), 2);
  EXPECT_EQ(stored.documents(1).kind(), "certified_copy");
  EXPECT_EQ(stored.documents(1).signers(0).common_name(), kHeadSubject);

  // `document` saves the signed PDF the dossier records.
  const std::string pdf = absl::StrCat(server().scratch_dir(), "/cli-copy-", code, ".pdf");
  const CliResult saved = Cli("auditor", {"document", code, "d2", "-o", pdf});
  ASSERT_EQ(saved.exit_code, kExitOk) << saved;
  std::ifstream in(pdf, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(Sha256Hex(bytes), stored.documents(1).sha256());
  // What the head saw is what was signed: the stored PDF is the preview with
  // the signature value written into its reserved /Contents, then the seal.
  std::ifstream seen(preview, std::ios::binary);
  const std::string shown((std::istreambuf_iterator<char>(seen)), std::istreambuf_iterator<char>());
  const size_t contents = shown.rfind("<0000000000000000");  // the reserved value
  ASSERT_NE(contents, std::string::npos);
  EXPECT_EQ(bytes.compare(0, contents, shown, 0, contents), 0);
}

TEST_F(CliTest, Cli_ApproveBatch_SignsEveryTaskWithOneKeyAndReportsEach) {
  std::vector<std::string> codes;
  std::string list = "# the head's tasks\n";
  for (int i = 0; i < 3; ++i) {
    const std::string code = CliSubmit().code();
    ASSERT_FALSE(code.empty());
    ASSERT_TRUE(CliApprove("receiver", code));
    const std::string task = CliTaskFor("head", code);
    ASSERT_FALSE(task.empty());
    codes.push_back(code);
    absl::StrAppend(&list, task, "\n\n");
  }
  list += "NO-SUCH-DOSSIER/approve\n";
  std::vector<std::string> command = {"approve", "--batch", WriteScratchFile("tasks.txt", list)};
  for (const std::string& flag : SigningFlags("head")) command.push_back(flag);
  const CliResult r = Cli("head", command);
  EXPECT_EQ(r.exit_code, kExitError) << r;  // one of the four failed
  EXPECT_THAT(r.err, HasSubstr("approved 3 of 4 tasks")) << r;
  EXPECT_THAT(r.out, HasSubstr("NO-SUCH-DOSSIER/approve  FAILED: ")) << r;
  for (const std::string& code : codes) {
    EXPECT_THAT(r.out, HasSubstr(code)) << r;
    const v1::Dossier stored = GrpcRead(code);
    EXPECT_EQ(stored.state(), "processed");
    ASSERT_EQ(stored.documents_size(), 2);
    EXPECT_EQ(stored.documents(1).signers(0).common_name(), kHeadSubject);
  }
  // TASK_ID or --batch, not both, not neither.
  EXPECT_EQ(Cli("head", {"approve"}).exit_code, kExitUsage);
  EXPECT_EQ(Cli("head", {"approve", "X/approve", "--batch", "f"}).exit_code, kExitUsage);
}

TEST_F(CliTest, Cli_HeadApprove_SignsWithTokenKey) {
  // The head's key on a SoftHSM2 token; the CLI (a child) inherits
  // SOFTHSM2_CONF and signs there.
  const std::string dir = server().scratch_dir() + "/cli-softhsm";
  std::filesystem::create_directories(dir + "/tokens");
  {
    std::ofstream conf(dir + "/softhsm2.conf");
    conf << "directories.tokendir = " << dir << "/tokens\nobjectstore.backend = file\n"
         << "log.level = ERROR\n";
    std::ofstream pin(dir + "/pin");
    pin << "123456\n";
  }
  setenv("SOFTHSM2_CONF", (dir + "/softhsm2.conf").c_str(), 1);
  const std::string module = "/usr/lib/softhsm/libsofthsm2.so";
  ASSERT_EQ(std::system("softhsm2-util --init-token --free --label cli-head --pin 123456 "
                        "--so-pin 87654321 >/dev/null"),
            0);
  ASSERT_EQ(std::system(("pkcs11-tool --module " + module +
                         " --token-label cli-head --login --pin 123456 --write-object " +
                         server().pki_dir() + "/signers/head.key" +
                         " --type privkey --id 01 --label head-key --usage-sign --sensitive "
                         ">/dev/null 2>&1")
                            .c_str()),
            0);

  const std::string code = CliSubmit().code();
  ASSERT_FALSE(code.empty());
  ASSERT_TRUE(CliApprove("receiver", code));
  const std::string task = CliTaskFor("head", code);
  ASSERT_FALSE(task.empty());
  const CliResult r =
      Cli("head", {"approve", task, "--pkcs11-module", module, "--token", "cli-head", "--key-label",
                   "head-key", "--pin-file", dir + "/pin", "--certificate",
                   server().pki_dir() + "/signers/head.crt"});
  ASSERT_EQ(r.exit_code, kExitOk) << r;
  const v1::Dossier stored = GrpcRead(code);
  EXPECT_EQ(stored.national_status(), 9);
  ASSERT_EQ(stored.documents_size(), 2);
  ASSERT_EQ(stored.documents(1).signers_size(), 2);
  EXPECT_EQ(stored.documents(1).signers(0).common_name(), kHeadSubject);
}

TEST_F(CliTest, Cli_HeadApprove_WithoutSigningKey_ExitsTwoNamingPrepareSignature) {
  const std::string code = CliSubmit().code();
  ASSERT_FALSE(code.empty());
  ASSERT_TRUE(CliApprove("receiver", code));
  const std::string task = CliTaskFor("head", code);
  ASSERT_FALSE(task.empty());
  const CliResult r = Cli("head", {"approve", task});
  EXPECT_EQ(r.exit_code, kExitError) << r;
  EXPECT_THAT(r.err, HasSubstr("FAILED_PRECONDITION")) << r;
  EXPECT_THAT(r.err, HasSubstr("PrepareSignature")) << r;
  EXPECT_EQ(GrpcRead(code).national_status(), 4);
}

TEST_F(CliTest, Cli_ReturnResult_ClosesDossierWithStatus10) {
  const std::string code = CliSubmit().code();
  ASSERT_FALSE(code.empty());
  ASSERT_TRUE(CliApprove("receiver", code));
  ASSERT_TRUE(CliApprove("head", code));
  const std::string task = CliTaskFor("receiver", code);
  ASSERT_FALSE(task.empty());
  const CliResult r = Cli("receiver", {"approve", task});
  ASSERT_EQ(r.exit_code, kExitOk) << r;
  const v1::Dossier stored = GrpcRead(code);
  EXPECT_EQ(stored.national_status(), 10);
  EXPECT_EQ(stored.state(), "returned");
  EXPECT_TRUE(stored.closed());
}

TEST_F(CliTest, Cli_VerifyHistory_IntactChain_ExitsZero) {
  const std::string code = CliFullLifecycle();
  ASSERT_FALSE(code.empty());
  const CliResult r = Cli("auditor", {"verify-history", code});
  EXPECT_EQ(r.exit_code, kExitOk) << r;
  Reply<v1::VerifyDossierHistoryResponse> verified = server().As("auditor").Verify(code);
  ASSERT_RPC_OK(verified);
  EXPECT_TRUE(verified.value.intact());
}

TEST_F(CliTest, Cli_Show_Table_PrintsCodeStatusAndApplicantAsUtf8) {
  const std::string code = CliFullLifecycle();
  ASSERT_FALSE(code.empty());
  const CliResult r = Cli("auditor", {"show", code});
  ASSERT_EQ(r.exit_code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr(code));
  // Spelled as UTF-8 bytes so the check does not depend on the compiler's
  // source or execution character set.
  EXPECT_THAT(r.out, HasSubstr("\xC4\x90\xC3\xA3 tr\xE1\xBA\xA3 k\xE1\xBA\xBFt qu\xE1\xBA\xA3"))
      << "no \"Đã trả kết quả\"";
  EXPECT_THAT(r.out, HasSubstr("Nguy\xE1\xBB\x85n Th\xE1\xBB\x8B Lan")) << "no \"Nguyễn Thị Lan\"";
  EXPECT_THAT(r.out, Not(HasSubstr("\\u"))) << "Vietnamese printed as escapes";
}

// ------------------------------------------------- refusal and supplements

TEST_F(CliTest, Cli_Reject_AtIntake_NotReceivedWithReasonStored) {
  const std::string code = CliSubmit().code();
  ASSERT_FALSE(code.empty());
  const std::string task = CliTaskFor("receiver", code);
  ASSERT_FALSE(task.empty());
  const std::string reason = "Văn bằng không do Sở cấp";
  const CliResult r = Cli("receiver", {"reject", task, "--reason", reason});
  ASSERT_EQ(r.exit_code, kExitOk) << r;
  const v1::Dossier stored = GrpcRead(code);
  EXPECT_EQ(stored.national_status(), 3);
  EXPECT_TRUE(stored.closed());
  EXPECT_THAT(stored.rejection_reasons(), ElementsAre(reason));
}

TEST_F(CliTest, Cli_RequestSupplement_AwaitsSupplementWithItemsStored) {
  const std::string code = CliSubmit().code();
  ASSERT_FALSE(code.empty());
  ASSERT_TRUE(CliApprove("receiver", code));
  const std::string task = CliTaskFor("head", code);
  ASSERT_FALSE(task.empty());
  const CliResult r = Cli("head", {"request-supplement", task, "--item", "Bản chụp CCCD", "--item",
                                   "Số vào sổ cấp bằng"});
  ASSERT_EQ(r.exit_code, kExitOk) << r;
  const v1::Dossier stored = GrpcRead(code);
  EXPECT_EQ(stored.national_status(), 5);
  EXPECT_THAT(stored.pending_supplement().missing_items(),
              ElementsAre("Bản chụp CCCD", "Số vào sổ cấp bằng"));
}

TEST_F(CliTest, Cli_Supplement_FromJsonFile_ResumesProcessing) {
  const std::string code = CliSubmit().code();
  ASSERT_FALSE(code.empty());
  ASSERT_TRUE(CliApprove("receiver", code));
  const std::string task = CliTaskFor("head", code);
  ASSERT_FALSE(task.empty());
  const CliResult asked = Cli("head", {"request-supplement", task, "--item", "Số vào sổ"});
  ASSERT_EQ(asked.exit_code, kExitOk) << asked;
  ASSERT_EQ(GrpcRead(code).national_status(), 5);
  const std::string file = WriteScratchFile(
      "supplement.json",
      R"({"form": {"register_number": "SG-2008-004217"}, "note": "Bổ sung số vào sổ"})");
  const CliResult r = Cli("portal", {"supplement", code, file});
  ASSERT_EQ(r.exit_code, kExitOk) << r;
  const v1::Dossier stored = GrpcRead(code);
  EXPECT_EQ(stored.national_status(), 4);
  EXPECT_EQ(stored.state(), "processing");
  ASSERT_TRUE(stored.form().contains("register_number"));
  EXPECT_EQ(stored.form().at("register_number"), "SG-2008-004217");
}

// ------------------------------------------------------------------- errors

TEST_F(CliTest, Cli_Approve_StaleVersion_ExitsTwoWithAbortedAndUnchanged) {
  const std::string code = CliSubmit().code();
  ASSERT_FALSE(code.empty());
  ASSERT_TRUE(CliApprove("receiver", code));
  const v1::Dossier before = GrpcRead(code);
  ASSERT_EQ(before.version(), 2);
  const std::string task = CliTaskFor("head", code);
  ASSERT_FALSE(task.empty());
  const CliResult r = Cli("head", {"approve", task, "--version", "1"});
  EXPECT_EQ(r.exit_code, kExitError) << r;
  EXPECT_THAT(r.err, HasSubstr("ABORTED")) << r;
  const v1::Dossier after = GrpcRead(code);
  EXPECT_EQ(after.version(), before.version());
  EXPECT_EQ(after.national_status(), 4);
}

TEST_F(CliTest, Cli_Worklist_AsPortal_ExitsTwoWithPermissionDenied) {
  const CliResult r = Cli("portal", {"worklist"});
  EXPECT_EQ(r.exit_code, kExitError) << r;
  EXPECT_THAT(r.err, HasSubstr("PERMISSION_DENIED")) << r;
}

TEST_F(CliTest, Cli_NoIdentity_SaysHowToChooseAndExitsTwo) {
  const CliResult r =
      RunCli({"--server", server().target(), "--pki-dir", server().pki_dir(), "worklist"});
  EXPECT_EQ(r.exit_code, kExitError) << r;
  EXPECT_THAT(r.err, HasSubstr("--cert FILE --key FILE")) << r;
  EXPECT_THAT(r.err, HasSubstr("--as NAME")) << r;
  EXPECT_THAT(r.err, HasSubstr("--profile FILE")) << r;
}

TEST_F(CliTest, Cli_Profile_ActsAsTheCertificateItNames) {
  const std::string pki = server().pki_dir();
  const std::string profile = WriteScratchFile(
      "profile", absl::StrCat("# the receiving officer's workstation\nserver = ", server().target(),
                              "\nca = ", pki, "/ca.crt\ncert = ", pki,
                              "/clients/receiver.crt\nkey = ", pki, "/clients/receiver.key\n"));
  const CliResult r = RunCli({"--profile", profile, "worklist", "--json"});
  EXPECT_EQ(r.exit_code, kExitOk) << r;
  const CliResult portal = RunCli({"--profile", profile, "--as", "portal", "--pki-dir", pki,
                                   "--cert", pki + "/clients/portal.crt", "--key",
                                   pki + "/clients/portal.key", "worklist"});
  EXPECT_EQ(portal.exit_code, kExitError) << "flags win over the profile: " << portal;
  EXPECT_THAT(portal.err, HasSubstr("PERMISSION_DENIED")) << portal;
}

TEST_F(CliTest, Cli_UnknownCommand_ExitsUsageWithUsageText) {
  const CliResult r = Cli("admin", {"frobnicate"});
  EXPECT_EQ(r.exit_code, kExitUsage) << r;
  EXPECT_THAT(r.err, HasSubstr("frobnicate")) << r;
  EXPECT_THAT(r.err, HasSubstr("usage: motcua")) << r;
}

TEST_F(CliTest, Cli_Approve_MissingTaskId_ExitsUsageWithUsageText) {
  const CliResult r = Cli("receiver", {"approve"});
  EXPECT_EQ(r.exit_code, kExitUsage) << r;
  EXPECT_THAT(r.err, HasSubstr("TASK_ID")) << r;
  EXPECT_THAT(r.err, HasSubstr("usage: motcua")) << r;
}

TEST_F(CliTest, Cli_NoCommand_ExitsUsageWithUsageText) {
  const CliResult r = RunCli({"--server", server().target(), "--pki-dir", server().pki_dir()});
  EXPECT_EQ(r.exit_code, kExitUsage) << r;
  EXPECT_THAT(r.err, HasSubstr("missing command")) << r;
  EXPECT_THAT(r.err, HasSubstr("usage: motcua")) << r;
}

TEST_F(CliTest, Cli_UnknownOptionOfCommand_ExitsUsageNamingIt) {
  const CliResult r = Cli("receiver", {"worklist", "--no-such-flag"});
  EXPECT_EQ(r.exit_code, kExitUsage) << r;
  EXPECT_THAT(r.err, HasSubstr("--no-such-flag")) << r;
  EXPECT_THAT(r.err, HasSubstr("usage: motcua worklist")) << r;
}

TEST_F(CliTest, Cli_Submit_NonexistentFile_ExitsTwoNamingFile) {
  const std::string missing = absl::StrCat(server().scratch_dir(), "/no-such-request.json");
  const CliResult r = Cli("portal", {"submit", missing});
  EXPECT_EQ(r.exit_code, kExitError) << r;
  EXPECT_THAT(r.err, HasSubstr(missing)) << r;
  EXPECT_THAT(r.err, HasSubstr("cannot read")) << r;
  EXPECT_TRUE(r.out.empty()) << r;
}

TEST_F(CliTest, Cli_VerifyHistory_NonexistentDossier_ExitsTwoWithNotFound) {
  const CliResult r = Cli("auditor", {"verify-history", "HN-SGDDT-000101-9999"});
  EXPECT_EQ(r.exit_code, kExitError) << r;
  EXPECT_THAT(r.err, HasSubstr("NOT_FOUND")) << r;
}

// ------------------------------------------------------------ help, options

TEST_F(CliTest, Cli_Help_ExitsZeroListingEveryCommand) {
  const CliResult r = RunCli({"--help"});
  EXPECT_EQ(r.exit_code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr("usage: motcua")) << r;
  for (const char* command : {"submit", "worklist", "approve", "request-supplement", "verify",
                              "verify-dossier", "procedures", "backup"}) {
    EXPECT_THAT(r.out, HasSubstr(absl::StrCat("\n  ", command, " "))) << command;
  }
  EXPECT_THAT(r.out, HasSubstr("Exit status")) << r;
  EXPECT_TRUE(r.err.empty()) << r;
}

TEST_F(CliTest, Cli_ApproveHelp_ExitsZeroNamingItsOptions) {
  const CliResult r = RunCli({"approve", "--help"});
  EXPECT_EQ(r.exit_code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr("usage: motcua approve [TASK_ID]")) << r;
  EXPECT_THAT(r.out, HasSubstr("--batch FILE")) << r;
  EXPECT_THAT(r.out, HasSubstr("--save-preview FILE")) << r;
  EXPECT_THAT(r.out, HasSubstr("--sign-with-p12")) << r;
  EXPECT_THAT(r.out, HasSubstr("--pkcs11-module")) << r;
}

TEST_F(CliTest, Cli_GlobalOptionsAfterCommand_ActAsBefore) {
  const std::string code = CliSubmit().code();
  ASSERT_FALSE(code.empty());
  const CliResult r = RunCli({"worklist", "--json", "--as", "receiver", "--server",
                              server().target(), "--pki-dir", server().pki_dir()});
  ASSERT_EQ(r.exit_code, kExitOk) << r;
  v1::ListMyTasksResponse tasks;
  std::string error;
  ASSERT_TRUE(ParseJson(r.out, &tasks, &error)) << error << "\n" << r;
  bool found = false;
  for (const v1::Task& task : tasks.tasks()) found = found || task.dossier_code() == code;
  EXPECT_TRUE(found) << code << " missing from\n" << r.out;
}

// ------------------------------------------------------------------ queries

TEST_F(CliTest, Cli_ListJson_AsPortal2_ShowsOwnDossiersOnly) {
  const std::string portal_code = CliSubmit("portal").code();
  const std::string portal2_code = CliSubmit("portal2").code();
  ASSERT_FALSE(portal_code.empty());
  ASSERT_FALSE(portal2_code.empty());
  const CliResult r = Cli("portal2", {"list", "--json"});
  ASSERT_EQ(r.exit_code, kExitOk) << r;
  v1::ListDossiersResponse list;
  std::string error;
  ASSERT_TRUE(ParseJson(r.out, &list, &error)) << error << "\n" << r;
  bool own_found = false;
  for (const v1::Dossier& dossier : list.dossiers()) {
    EXPECT_NE(dossier.code(), portal_code) << "portal2 sees portal's dossier";
    EXPECT_NE(dossier.submitted_by(), kPortalSubject) << dossier.code();
    if (dossier.code() == portal2_code) own_found = true;
  }
  EXPECT_TRUE(own_found) << "portal2's own dossier " << portal2_code << " missing:\n" << r.out;
}

TEST_F(CliTest, Cli_ProceduresList_ShowsCopyProcedure) {
  const CliResult r = Cli("receiver", {"procedures", "list"});
  ASSERT_EQ(r.exit_code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr("2.001914")) << r;
}

}  // namespace
}  // namespace motcua::itest
