// The 3-2-1 backup policy against the real server: copy 2 taken under load
// and restored exactly, corruption caught by verification, a stale or
// undetached offline copy reported, a restore from the offline copy alone,
// bad offline copies refused cleanly, and a full medium during export.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "motcua/v1/backup_service.grpc.pb.h"
#include "motcua/v1/operations.grpc.pb.h"
#include "storage/offline_copy.h"
#include "storage/store.h"
#include "tests/integration/cli_runner.h"
#include "tests/integration/fixtures.h"

namespace motcua::itest {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

struct PolicyPaths {
  std::string backup;
  std::string key;
  std::string drill;
};

// A server whose policy keeps everything under its scratch dir. No schedule:
// the tests decide when backups happen.
std::unique_ptr<ServerProcess> StartWithPolicy(const std::string& offline_max_age = "604800s",
                                               const std::string& more_policy = "") {
  // The policy file has to exist before the server reads it, so it lives in
  // a directory of its own, inside the server's scratch dir once started.
  static std::atomic<int> counter{0};
  const std::string dir =
      absl::StrCat(testing::TempDir(), "/motcua-policy-", getpid(), "-", counter++);
  fs::create_directories(dir);
  const std::string policy = absl::StrCat(
      "backup { path: \"", dir, "/backup\" medium: MEDIUM_SECOND_DISK max_age { seconds: 86400 }",
      " keep_last: 3 }\n",
      "offline { medium: MEDIUM_REMOVABLE key_file: \"", dir, "/keys/offline.key\" max_age { seconds: ",
      offline_max_age.substr(0, offline_max_age.size() - 1), " } }\n",
      "drill_path: \"", dir, "/drill\"\n", more_policy);
  std::ofstream(dir + "/policy.textproto") << policy;
  EXPECT_TRUE(storage::EnsureOfflineKey(dir + "/keys/offline.key").ok());
  auto server = ServerProcess::Start({"--backup-policy", dir + "/policy.textproto"});
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}


// What a backup operation ended with: the records it made, or its drill.
struct Outcome {
  v1::Operation operation;
  // The last record it made or checked.
  const v1::BackupRecord& record() const {
    const auto& all = operation.response().backups();
    return all.empty() ? v1::BackupRecord::default_instance() : all[all.size() - 1];
  }
  const v1::DrillRecord& drill() const { return operation.response().drill(); }
};

class Backups {
 public:
  explicit Backups(ServerProcess& server, const std::string& as = "admin")
      : server_(server),
        as_(as),
        stub_(v1::BackupService::NewStub(server.Channel(as))),
        operations_(v1::OperationService::NewStub(server.Channel(as))) {}

  // Starts an operation and follows it to its end. The status is the start
  // call's, or the operation's error.
  template <typename Request, typename Start>
  Reply<Outcome> Follow(Request request, Start start) {
    if (request.request_id().empty()) request.set_request_id(NewRequestId());
    Reply<Outcome> reply = Begin(request, start);
    if (!reply.ok()) return reply;
    reply.value.operation = Wait(reply.value.operation.name());
    if (reply.value.operation.has_error()) {
      reply.status = grpc::Status(static_cast<grpc::StatusCode>(reply.value.operation.error().code()),
                                  reply.value.operation.error().message());
    }
    return reply;
  }
  // Only starts it: the operation as the start call returned it.
  template <typename Request, typename Start>
  Reply<Outcome> Begin(const Request& request, Start start) {
    Reply<Outcome> reply;
    grpc::ClientContext context;
    reply.status = start(stub_.get(), &context, request, &reply.value.operation);
    return reply;
  }
  v1::Operation Wait(const std::string& name) { return AwaitOperation(server_, name, as_); }
  static constexpr auto kRun = [](auto* stub, auto* c, const auto& r, auto* op) {
    return stub->RunBackup(c, r, op);
  };
  static constexpr auto kExport = [](auto* stub, auto* c, const auto& r, auto* op) {
    return stub->ExportOffline(c, r, op);
  };
  static constexpr auto kDrill = [](auto* stub, auto* c, const auto& r, auto* op) {
    return stub->RunRestoreDrill(c, r, op);
  };
  Reply<Outcome> Run() { return Follow(v1::RunBackupRequest(), kRun); }
  Reply<Outcome> Verify(const std::string& offline_dir = "") {
    v1::VerifyBackupsRequest request;
    request.set_offline_dir(offline_dir);
    return Follow(request, [](auto* stub, auto* c, const auto& r, auto* op) {
      return stub->VerifyBackups(c, r, op);
    });
  }
  Reply<Outcome> Export(const std::string& dir) {
    v1::ExportOfflineRequest request;
    request.set_destination_dir(dir);
    return Follow(request, kExport);
  }
  Reply<Outcome> Drill(const std::string& offline_dir = "") {
    v1::RunRestoreDrillRequest request;
    request.set_offline_dir(offline_dir);
    return Follow(request, kDrill);
  }
  Reply<v1::BackupRecord> Confirm(const std::string& id, const std::string& kept_at = "Két sắt phòng 203") {
    v1::ConfirmDetachedRequest request;
    request.set_copy_id(id);
    request.set_detached_by("Nguyễn Văn An");
    request.set_kept_at(kept_at);
    Reply<v1::BackupRecord> reply;
    grpc::ClientContext context;
    reply.status = stub_->ConfirmDetached(&context, request, &reply.value);
    return reply;
  }
  Reply<v1::BackupStatus> Status() {
    Reply<v1::BackupStatus> reply;
    grpc::ClientContext context;
    reply.status = stub_->GetBackupStatus(&context, v1::GetBackupStatusRequest(), &reply.value);
    return reply;
  }
  Reply<v1::ListBackupsResponse> List() {
    Reply<v1::ListBackupsResponse> reply;
    grpc::ClientContext context;
    reply.status = stub_->ListBackups(&context, v1::ListBackupsRequest(), &reply.value);
    return reply;
  }
  v1::Operation Cancel(const std::string& name) {
    v1::CancelOperationRequest request;
    request.set_name(name);
    v1::Operation op;
    grpc::ClientContext context;
    grpc::Status s = operations_->CancelOperation(&context, request, &op);
    EXPECT_TRUE(s.ok()) << Describe(s);
    return op;
  }

 private:
  ServerProcess& server_;
  const std::string as_;
  std::unique_ptr<v1::BackupService::Stub> stub_;
  std::unique_ptr<v1::OperationService::Stub> operations_;
};

std::string Reasons(const v1::BackupStatus& s) {
  std::string out;
  for (const auto& r : s.reasons()) absl::StrAppend(&out, r, "\n");
  return out;
}

// The policy file directory of a server started by StartWithPolicy.
std::string PolicyDirOf(const v1::BackupStatus& status) {
  return fs::path(status.policy().backup().path()).parent_path().string();
}

// Every dossier of a store on disk, by code.
std::map<std::string, v1::Dossier> DossiersIn(const std::string& data_dir) {
  std::map<std::string, v1::Dossier> out;
  auto store = storage::Store::Open(data_dir);
  EXPECT_TRUE(store.ok()) << store.status();
  if (!store.ok()) return out;
  EXPECT_TRUE((*store)
                  ->Scan(storage::Family::kDossiers, "", "", false,
                         [&](absl::string_view key, absl::string_view value) {
                           out[std::string(key)].ParseFromArray(value.data(), value.size());
                           return true;
                         })
                  .ok());
  return out;
}

CliResult Restore(ServerProcess& server, const std::vector<std::string>& args) {
  std::vector<std::string> all = {"backup", "restore", "--trust", server.pki_dir() + "/ca.crt"};
  all.insert(all.end(), args.begin(), args.end());
  return RunCli(all);
}

TEST(BackupTest, BackupTakenUnderLoadRestoresExactlyItsRecordedState) {
  auto server = StartWithPolicy();
  ASSERT_NE(server, nullptr);
  std::mutex mu;
  std::set<std::string> acknowledged;
  std::atomic<bool> stop{false};
  auto submit_loop = [&] {
    Client portal = server->As("portal");
    while (!stop) {
      auto reply = portal.Submit(ValidSubmission());
      if (!reply.ok()) continue;
      std::lock_guard<std::mutex> lock(mu);
      acknowledged.insert(reply.value.code());
    }
  };
  std::vector<std::thread> submitters;
  for (int i = 0; i < 4; ++i) submitters.emplace_back(submit_loop);
  for (bool enough = false; !enough;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::lock_guard<std::mutex> lock(mu);
    enough = acknowledged.size() >= 40;
  }
  std::set<std::string> before_backup;
  {
    std::lock_guard<std::mutex> lock(mu);
    before_backup = acknowledged;
  }
  Backups backups(*server);
  auto backup = backups.Run();
  // Keep writing a little after the backup too.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  stop = true;
  for (auto& t : submitters) t.join();
  ASSERT_RPC_OK(backup);
  const v1::BackupRecord& record = backup.value.record();
  ASSERT_TRUE(record.verified_ok()) << record.verification_error();
  EXPECT_GT(record.sequence_number(), 0u);
  EXPECT_EQ(record.audit_head().size(), 64u);

  const std::string target = server->scratch_dir() + "/restored";
  CliResult restored = Restore(*server, {"--from", record.location(), "--to", target, "--backup-id", record.id()});
  ASSERT_EQ(restored.exit_code, 0) << restored;
  EXPECT_THAT(restored.out, HasSubstr("audit head matches"));

  std::map<std::string, v1::Dossier> dossiers;
  {
    auto store = storage::Store::Open(target);
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ((*store)->LatestSequenceNumber(), record.sequence_number());
  }
  dossiers = DossiersIn(target);
  EXPECT_EQ(static_cast<int64_t>(dossiers.size()), record.dossiers());
  // Everything acknowledged before the backup began is in it; nothing in it
  // was invented; each dossier is exactly the live one.
  for (const std::string& code : before_backup) EXPECT_TRUE(dossiers.count(code)) << code;
  Client auditor = server->As("auditor");
  for (const auto& [code, dossier] : dossiers) {
    EXPECT_TRUE(acknowledged.count(code)) << code;
    auto live = auditor.GetDossier(code);
    ASSERT_RPC_OK(live);
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(live.value, dossier)) << code;
  }

  // The server starts on the restored data and its histories verify.
  auto again = ServerProcess::Start({"--data-dir", target});
  ASSERT_TRUE(again.ok()) << again.status();
  Client restored_auditor = (*again)->As("auditor");
  for (const auto& [code, dossier] : dossiers) {
    auto verified = restored_auditor.Verify(code);
    ASSERT_RPC_OK(verified);
    EXPECT_TRUE(verified.value.intact()) << code;
  }
}

TEST(BackupTest, OneFlippedByteFailsVerificationAndNamesTheCopy) {
  auto server = StartWithPolicy();
  ASSERT_NE(server, nullptr);
  for (int i = 0; i < 5; ++i) ASSERT_RPC_OK(SubmitNew(*server));
  Backups backups(*server);
  auto backup = backups.Run();
  ASSERT_RPC_OK(backup);
  ASSERT_TRUE(backup.value.record().verified_ok());
  const std::string id = backup.value.record().id();

  // The largest file of the backup gets one byte flipped in its middle.
  fs::path victim;
  uintmax_t size = 0;
  for (const auto& e : fs::recursive_directory_iterator(backup.value.record().location())) {
    if (e.is_regular_file() && e.path().string().find("/meta/") == std::string::npos &&
        e.file_size() > size) {
      victim = e.path();
      size = e.file_size();
    }
  }
  ASSERT_GT(size, 0u);
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(size / 2));
    char c = 0;
    f.get(c);
    f.seekp(static_cast<std::streamoff>(size / 2));
    f.put(static_cast<char>(c ^ 0x01));
  }

  auto verify = backups.Verify();
  ASSERT_RPC_OK(verify);
  EXPECT_FALSE(verify.value.record().verified_ok());
  auto status = backups.Status();
  ASSERT_RPC_OK(status);
  EXPECT_FALSE(status.value.compliant());
  EXPECT_THAT(Reasons(status.value), HasSubstr(absl::StrCat("backup ", id, " failed verification")));

  // An auditor sees the same; a portal may not look.
  auto as_auditor = Backups(*server, "auditor").Status();
  ASSERT_RPC_OK(as_auditor);
  EXPECT_FALSE(as_auditor.value.compliant());
  EXPECT_RPC_CODE(Backups(*server, "portal").Status(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_RPC_CODE(Backups(*server, "auditor").Run(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST(BackupTest, OfflineCopyCountsOnlyOnceDetachedAndUntilItIsTooOld) {
  // Long enough for export, drill and custody to fit inside it even on a
  // slow sanitizer build; the test then waits for the copy to age past it.
  constexpr int kMaxAgeSeconds = 15;
  auto server = StartWithPolicy(absl::StrCat(kMaxAgeSeconds, "s"));
  ASSERT_NE(server, nullptr);
  ASSERT_RPC_OK(SubmitNew(*server));
  Backups backups(*server);
  ASSERT_RPC_OK(backups.Run());
  const std::string medium = server->scratch_dir() + "/usb";
  fs::create_directories(medium);
  auto exported = backups.Export(medium);
  ASSERT_RPC_OK(exported);
  const v1::BackupRecord& copy = exported.value.record();
  ASSERT_TRUE(copy.verified_ok()) << copy.verification_error();
  ASSERT_RPC_OK(backups.Drill());

  auto status = backups.Status();
  ASSERT_RPC_OK(status);
  EXPECT_FALSE(status.value.compliant());
  EXPECT_THAT(Reasons(status.value), HasSubstr("not yet recorded as detached"));
  // The health service says the same without being asked about backups.
  constexpr int kServing = 1, kNotServing = 2;
  auto health = HealthCheck(server->Channel("auditor"), "motcua.v1.BackupService");
  ASSERT_RPC_OK(health);
  EXPECT_EQ(health.value, kNotServing);

  auto confirmed = backups.Confirm(copy.id());
  ASSERT_RPC_OK(confirmed);
  // A retry is harmless: the record as first made. Another custody is not.
  auto retried = backups.Confirm(copy.id());
  ASSERT_RPC_OK(retried);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(retried.value, confirmed.value))
      << retried.value.DebugString();
  EXPECT_RPC_CODE(backups.Confirm(copy.id(), "Tủ hồ sơ phòng 101"),
                  grpc::StatusCode::ALREADY_EXISTS);
  status = backups.Status();
  ASSERT_RPC_OK(status);
  EXPECT_TRUE(status.value.compliant()) << Reasons(status.value);
  health = HealthCheck(server->Channel("auditor"), "motcua.v1.BackupService");
  ASSERT_RPC_OK(health);
  EXPECT_EQ(health.value, kServing);

  const auto stale_at = std::chrono::system_clock::from_time_t(copy.created_at().seconds()) +
                        std::chrono::seconds(kMaxAgeSeconds + 1);
  std::this_thread::sleep_until(stale_at);
  status = backups.Status();
  ASSERT_RPC_OK(status);
  EXPECT_FALSE(status.value.compliant());
  EXPECT_THAT(Reasons(status.value), HasSubstr(absl::StrCat("offline copy ", copy.id(), " is")));
  EXPECT_THAT(Reasons(status.value), HasSubstr("old; the policy allows 15 s"));
}

TEST(BackupTest, EverythingComesBackFromTheOfflineCopyAlone) {
  auto server = StartWithPolicy();
  ASSERT_NE(server, nullptr);
  std::vector<v1::Dossier> before;
  for (int i = 0; i < 4; ++i) {
    auto d = SubmitReceiveApprove(*server);
    ASSERT_RPC_OK(d);
    before.push_back(d.value);
  }
  Client portal = server->As("portal");
  for (int i = 0; i < 4; ++i) {
    v1::SubmitDossierRequest request = ValidSubmission();
    auto* scan = request.add_attachments();
    scan->set_name("ban-chup-cccd.pdf");
    scan->set_media_type("application/pdf");
    scan->set_content(std::string(20000 + i, static_cast<char>('A' + i)));
    auto d = portal.Submit(request);
    ASSERT_RPC_OK(d);
    before.push_back(d.value);
  }
  Backups backups(*server);
  ASSERT_RPC_OK(backups.Run());
  const std::string medium = server->scratch_dir() + "/usb";
  fs::create_directories(medium);
  auto exported = backups.Export(medium);
  ASSERT_RPC_OK(exported);
  auto status = backups.Status();
  ASSERT_RPC_OK(status);
  const std::string policy_dir = PolicyDirOf(status.value);

  // Lose the live data and copy 2.
  ASSERT_TRUE(server->Stop().ok());
  fs::remove_all(server->data_dir());
  fs::remove_all(status.value.policy().backup().path());

  const std::string target = server->scratch_dir() + "/restored";
  CliResult restored = Restore(*server, {"--from", exported.value.record().location(), "--to", target,
                                         "--key-file", policy_dir + "/keys/offline.key"});
  ASSERT_EQ(restored.exit_code, 0) << restored;

  auto again = ServerProcess::Start({"--data-dir", target});
  ASSERT_TRUE(again.ok()) << again.status();
  Client auditor = (*again)->As("auditor");
  int documents = 0;
  for (const v1::Dossier& d : before) {
    auto back = auditor.GetDossier(d.code());
    ASSERT_RPC_OK(back);
    EXPECT_EQ(back.value.version(), d.version()) << d.code();
    EXPECT_EQ(back.value.state(), d.state()) << d.code();
    auto verified = auditor.Verify(d.code());
    ASSERT_RPC_OK(verified);
    EXPECT_TRUE(verified.value.intact()) << d.code();
    EXPECT_EQ(back.value.attachments_size(), d.attachments_size());
    for (const auto& a : back.value.attachments()) {
      auto content = auditor.GetAttachment(d.code(), a.id());
      ASSERT_RPC_OK(content);
      EXPECT_EQ(Sha256Hex(content.value.content()), a.sha256());
      ++documents;
    }
    // Signed results come back with their dossiers, byte for byte.
    EXPECT_EQ(back.value.documents_size(), d.documents_size());
    for (const auto& doc : back.value.documents()) {
      auto content = auditor.GetDocument(d.code(), doc.id());
      ASSERT_RPC_OK(content);
      EXPECT_EQ(Sha256Hex(content.value.content()), doc.sha256());
    }
  }
  EXPECT_EQ(documents, 4);
}

// Retention keeps the newest keep_last (3) verified backups and records the
// others as deleted; a legal hold keeps them all.
int BackupsLeftAfterFive(const std::string& more_policy, int* marked_deleted) {
  auto server = StartWithPolicy("604800s", more_policy);
  if (server == nullptr) return -1;
  Backups backups(*server);
  for (int i = 0; i < 5; ++i) {
    EXPECT_RPC_OK(SubmitNew(*server));
    EXPECT_RPC_OK(backups.Run());
  }
  auto status = backups.Status();
  EXPECT_RPC_OK(status);
  grpc::ClientContext context;
  v1::ListBackupsResponse list;
  EXPECT_TRUE(v1::BackupService::NewStub(server->Channel("auditor"))
                  ->ListBackups(&context, v1::ListBackupsRequest(), &list)
                  .ok());
  *marked_deleted = 0;
  for (const auto& r : list.records()) *marked_deleted += r.deleted();
  // The same catalog two records at a time, following the page tokens.
  std::vector<std::string> paged;
  v1::ListBackupsRequest page_request;
  page_request.set_page_size(2);
  for (int pages = 0; pages < 20; ++pages) {
    grpc::ClientContext page_context;
    v1::ListBackupsResponse page;
    EXPECT_TRUE(v1::BackupService::NewStub(server->Channel("auditor"))
                    ->ListBackups(&page_context, page_request, &page)
                    .ok());
    EXPECT_LE(page.records_size(), 2);
    for (const auto& r : page.records()) paged.push_back(r.id());
    if (page.next_page_token().empty()) break;
    page_request.set_page_token(page.next_page_token());
  }
  std::vector<std::string> whole;
  for (const auto& r : list.records()) whole.push_back(r.id());
  EXPECT_EQ(paged, whole);
  // What is really left in the repository, by its own metadata files.
  int left = 0;
  for (const auto& e : fs::directory_iterator(status.value.policy().backup().path() + "/meta")) {
    left += e.is_regular_file();
  }
  return left;
}

TEST(BackupTest, RetentionDeletesOldBackupsUnlessALegalHoldIsDeclared) {
  int deleted = 0;
  EXPECT_EQ(BackupsLeftAfterFive("", &deleted), 3);
  EXPECT_EQ(deleted, 2);
  EXPECT_EQ(BackupsLeftAfterFive("legal_hold: true legal_hold_reason: \"Thanh tra 2026\"\n", &deleted), 5);
  EXPECT_EQ(deleted, 0);
}

TEST(BackupTest, RefusesAnOfflineKeyStoredOnTheMediumItProtects) {
  auto server = StartWithPolicy();
  ASSERT_NE(server, nullptr);
  auto status = Backups(*server).Status();
  ASSERT_RPC_OK(status);
  // The medium is the key's own directory.
  const std::string medium = fs::path(status.value.policy().offline().key_file()).parent_path();
  auto exported = Backups(*server).Export(medium);
  EXPECT_RPC_CODE(exported, grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(exported.status.error_message(), HasSubstr("must not be stored beside the data"));
}

// The operator's path through the CLI, from nothing to COMPLIANT.
TEST(BackupTest, CliTakesAnOperatorFromNotCompliantToCompliant) {
  auto server = StartWithPolicy();
  ASSERT_NE(server, nullptr);
  ASSERT_RPC_OK(SubmitNew(*server));
  auto cli = [&](const std::string& as, std::vector<std::string> words) {
    std::vector<std::string> args = {"--server", server->target(), "--pki-dir", server->pki_dir(),
                                     "--as", as};
    args.insert(args.end(), words.begin(), words.end());
    return RunCli(args);
  };
  CliResult status = cli("auditor", {"backup", "status"});
  EXPECT_EQ(status.exit_code, 1) << status;
  EXPECT_THAT(status.out, HasSubstr("3-2-1 backup policy: NOT COMPLIANT"));
  EXPECT_THAT(status.out, HasSubstr("offline copy: none has been made"));
  EXPECT_THAT(status.out, HasSubstr("Policy: 3 copies on 2 media, 1 offline"));

  CliResult run = cli("admin", {"backup", "run"});
  ASSERT_EQ(run.exit_code, 0) << run;
  EXPECT_THAT(run.out, HasSubstr("verified    ok"));
  // It ran as an operation, named and followed with a progress bar.
  const std::string name = run.err.substr(0, run.err.find('\n'));
  ASSERT_THAT(name, ::testing::StartsWith("operations/")) << run;
  EXPECT_THAT(run.err, HasSubstr("] done"));  // the bar's last stage
  CliResult shown = cli("admin", {"operations", "show", name});
  ASSERT_EQ(shown.exit_code, 0) << shown;
  EXPECT_THAT(shown.out, HasSubstr("Back up the data (copy 2)"));

  const std::string medium = server->scratch_dir() + "/usb";
  fs::create_directories(medium);
  CliResult exported = cli("admin", {"backup", "export-offline", medium, "--json"});
  ASSERT_EQ(exported.exit_code, 0) << exported;
  v1::BackupRecord copy;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(exported.out, &copy).ok()) << exported;
  EXPECT_EQ(copy.kind(), v1::BackupRecord::KIND_OFFLINE);

  CliResult denied = cli("auditor", {"backup", "confirm-detached", copy.id(), "--by", "A", "--kept-at", "B"});
  EXPECT_EQ(denied.exit_code, 2) << denied;
  EXPECT_THAT(denied.err, HasSubstr("PERMISSION_DENIED"));
  CliResult confirmed = cli("admin", {"backup", "confirm-detached", copy.id(), "--by", "Nguyễn Văn An",
                                      "--kept-at", "Két sắt phòng 203"});
  ASSERT_EQ(confirmed.exit_code, 0) << confirmed;
  EXPECT_THAT(confirmed.out, HasSubstr("detached by Nguyễn Văn An, kept at Két sắt phòng 203"));

  CliResult drill = cli("admin", {"backup", "drill"});
  ASSERT_EQ(drill.exit_code, 0) << drill;
  EXPECT_THAT(drill.out, HasSubstr("result    ok"));

  status = cli("auditor", {"backup", "status"});
  EXPECT_EQ(status.exit_code, 0) << status;
  EXPECT_THAT(status.out, HasSubstr("3-2-1 backup policy: COMPLIANT"));
  CliResult list = cli("auditor", {"backup", "list"});
  ASSERT_EQ(list.exit_code, 0) << list;
  EXPECT_THAT(list.out, HasSubstr(copy.id()));
}

// Backups run as operations: a retried start starts nothing new; the handle
// outlives the client and the server (killed while it runs, the operation
// ends ABORTED at the next start, or done if it finished first; nothing runs
// by itself); a cancelled export leaves the medium with a whole copy or
// nothing, never half of one.
TEST(BackupTest, RunsAsAnOperation_RetriedKilledAndCancelled) {
  auto server = StartWithPolicy();
  ASSERT_NE(server, nullptr);
  ASSERT_RPC_OK(SubmitNew(*server));
  v1::RunBackupRequest request;
  request.set_request_id("nightly-2026-12-07");
  std::string name;
  {
    Backups backups(*server);
    auto started = backups.Begin(request, Backups::kRun);
    ASSERT_RPC_OK(started);
    name = started.value.operation.name();
    auto again = backups.Begin(request, Backups::kRun);
    ASSERT_RPC_OK(again);
    EXPECT_EQ(again.value.operation.name(), name);
    EXPECT_EQ(Backups(*server, "auditor").Begin(request, Backups::kRun).status.error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  ASSERT_TRUE(server->Kill().ok());
  ASSERT_TRUE(server->Restart().ok()) << server->LogTail();

  Backups backups(*server);
  v1::Operation killed = backups.Wait(name);
  EXPECT_EQ(killed.metadata().kind(), "backup");
  auto list = backups.List();
  ASSERT_RPC_OK(list);
  std::vector<std::string> made;
  for (const auto& r : list.value.records()) {
    if (r.kind() == v1::BackupRecord::KIND_BACKUP && r.verified_ok()) made.push_back(r.id());
  }
  if (killed.has_error()) {
    EXPECT_EQ(killed.error().code(), static_cast<int>(grpc::StatusCode::ABORTED));
    EXPECT_THAT(killed.error().message(), HasSubstr("interrupted by a restart"));
    EXPECT_LE(made.size(), 1u);  // it may have recorded its backup just before the kill
  } else {
    ASSERT_EQ(killed.response().backups_size(), 1);
    EXPECT_THAT(made, ::testing::ElementsAre(killed.response().backups(0).id()));
  }
  // Nothing was run again by itself; a new start runs.
  auto fresh = backups.Run();
  ASSERT_RPC_OK(fresh);
  EXPECT_TRUE(fresh.value.record().verified_ok()) << fresh.value.record().verification_error();
  list = backups.List();
  ASSERT_RPC_OK(list);
  EXPECT_EQ(list.value.records_size(), static_cast<int>(made.size()) + 1);

  const std::string medium = server->scratch_dir() + "/usb";
  fs::create_directories(medium);
  v1::ExportOfflineRequest to_medium;
  to_medium.set_destination_dir(medium);
  to_medium.set_request_id(NewRequestId());
  auto exporting = backups.Begin(to_medium, Backups::kExport);
  ASSERT_RPC_OK(exporting);
  backups.Cancel(exporting.value.operation.name());
  v1::Operation ended = backups.Wait(exporting.value.operation.name());
  EXPECT_TRUE(ended.metadata().cancel_requested());
  std::vector<std::string> on_medium;
  for (const auto& e : fs::directory_iterator(medium)) on_medium.push_back(e.path().filename());
  list = backups.List();
  ASSERT_RPC_OK(list);
  std::vector<std::string> offline;
  for (const auto& r : list.value.records()) {
    if (r.kind() == v1::BackupRecord::KIND_OFFLINE) offline.push_back(r.id());
  }
  if (ended.has_error()) {
    EXPECT_EQ(ended.error().code(), static_cast<int>(grpc::StatusCode::CANCELLED));
    EXPECT_THAT(on_medium, ::testing::IsEmpty());
    EXPECT_THAT(offline, ::testing::IsEmpty());
  } else {  // it finished before it saw the cancel: a whole, verified copy
    ASSERT_EQ(ended.response().backups_size(), 1);
    EXPECT_TRUE(ended.response().backups(0).verified_ok());
    EXPECT_THAT(on_medium, ::testing::ElementsAre(ended.response().backups(0).id()));
    EXPECT_THAT(offline, ::testing::ElementsAre(ended.response().backups(0).id()));
  }
}

class BadOfflineCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = StartWithPolicy();
    ASSERT_NE(server_, nullptr);
    for (int i = 0; i < 3; ++i) ASSERT_RPC_OK(SubmitNew(*server_));
    const std::string medium = server_->scratch_dir() + "/usb";
    fs::create_directories(medium);
    auto exported = Backups(*server_).Export(medium);
    ASSERT_RPC_OK(exported);
    copy_ = exported.value.record().location();
    auto status = Backups(*server_).Status();
    ASSERT_RPC_OK(status);
    key_ = PolicyDirOf(status.value) + "/keys/offline.key";
    target_ = server_->scratch_dir() + "/restored";
  }

  // Restoring fails with `message` and leaves nothing behind.
  void ExpectRefused(const std::string& key, const std::string& message) {
    CliResult r = Restore(*server_, {"--from", copy_, "--to", target_, "--key-file", key});
    EXPECT_EQ(r.exit_code, 2) << r;
    EXPECT_THAT(r.err, HasSubstr(message)) << r;
    EXPECT_FALSE(fs::exists(target_));
    EXPECT_FALSE(fs::exists(target_ + ".restoring"));
  }

  std::unique_ptr<ServerProcess> server_;
  std::string copy_, key_, target_;
};

TEST_F(BadOfflineCopyTest, WrongKey) {
  const std::string other = server_->scratch_dir() + "/other.key";
  ASSERT_TRUE(storage::EnsureOfflineKey(other).ok());
  ExpectRefused(other, "wrong key");
}

TEST_F(BadOfflineCopyTest, TamperedManifest) {
  const std::string path = copy_ + "/manifest.json";
  std::ifstream in(path);
  std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  const size_t at = json.find("\"dossiers\": \"3\"");
  ASSERT_NE(at, std::string::npos) << json;
  json.replace(at, 15, "\"dossiers\": \"4\"");
  std::ofstream(path, std::ios::trunc) << json;
  ExpectRefused(key_, "not authentic");
}

TEST_F(BadOfflineCopyTest, MissingFile) {
  fs::path victim;
  for (const auto& e : fs::directory_iterator(copy_ + "/files")) {
    if (e.path().extension() == ".sst") victim = e.path();
  }
  ASSERT_FALSE(victim.empty());
  fs::remove(victim);
  ExpectRefused(key_, victim.filename().string());
}

// Mounts a small tmpfs to stand for a nearly full removable medium. Needs
// root (CI and the development machines run as root); fails loudly if not.
class SmallMedium {
 public:
  SmallMedium(const std::string& dir, const std::string& size) : dir_(dir) {
    fs::create_directories(dir);
    mounted_ = mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
    error_ = mounted_ ? "" : std::strerror(errno);
  }
  ~SmallMedium() {
    if (mounted_) umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  std::string dir_;
  bool mounted_ = false;
  std::string error_;
};

TEST(BackupTest, FullMediumDuringExportLeavesThePreviousCopyIntact) {
  auto server = StartWithPolicy();
  ASSERT_NE(server, nullptr);
  ASSERT_RPC_OK(SubmitNew(*server));
  const std::string medium = server->scratch_dir() + "/usb";
  SmallMedium small(medium, "1m");
  ASSERT_TRUE(small.mounted()) << "cannot mount a tmpfs (run as root): " << small.error();
  Backups backups(*server);
  auto first = backups.Export(medium);
  ASSERT_RPC_OK(first);
  ASSERT_TRUE(first.value.record().verified_ok());

  // Grow the data well past what is left on the medium.
  Client portal = server->As("portal");
  for (int i = 0; i < 40; ++i) {
    v1::SubmitDossierRequest request = ValidSubmission();
    auto* big = request.add_attachments();
    big->set_name("scan.pdf");
    big->set_media_type("application/pdf");
    big->set_content(std::string(64 << 10, static_cast<char>('a' + i % 26)) + std::to_string(i));
    ASSERT_RPC_OK(portal.Submit(request));
  }
  auto second = backups.Export(medium);
  EXPECT_RPC_CODE(second, grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(second.status.error_message(), HasSubstr("full"));

  // Only the first copy is on the medium, and it still verifies.
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(medium)) names.push_back(e.path().filename().string());
  EXPECT_THAT(names, ::testing::ElementsAre(first.value.record().id()));
  auto verify = backups.Verify(first.value.record().location());
  ASSERT_RPC_OK(verify);
  EXPECT_TRUE(verify.value.record().verified_ok()) << verify.value.record().verification_error();
}

}  // namespace
}  // namespace motcua::itest
