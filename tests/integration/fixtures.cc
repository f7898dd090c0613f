#include "tests/integration/fixtures.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "motcua/v1/operations.grpc.pb.h"
#include "signing/dev/dev_pki.h"
#include "signing/signing_key.h"
#include "workflow/work_calendar.h"

namespace motcua::itest {
namespace {

std::atomic<uint64_t> counter{0};

uint64_t ProcessNonce() {
  static const uint64_t nonce = [] {
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 32) ^ device() ^ static_cast<uint64_t>(getpid());
  }();
  return nonce;
}

absl::Time ToAbsl(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixSeconds(timestamp.seconds()) + absl::Nanoseconds(timestamp.nanos());
}

}  // namespace

ServerProcess* SharedServerTest::server_ = nullptr;
std::string* SharedServerTest::start_error_ = nullptr;

const std::vector<std::string>& AllDevClients() {
  static const std::vector<std::string> clients = {
      "portal", "portal2",     "receiver", "receiver-b", "head",
      "clerk",  "receiver-hp", "head-hp",  "auditor",    "admin"};
  return clients;
}

std::string NewRequestId() {
  return absl::StrFormat("it-%016x-%d", ProcessNonce(), counter.fetch_add(1));
}

std::string NewApplicantId() {
  // "001" is Hà Nội's province prefix in real CCCD numbers; 9 more digits
  // from a per-process offset and a counter keep it unique.
  static const uint64_t offset = ProcessNonce() % 500000000;
  return absl::StrFormat("001%09d", (offset + counter.fetch_add(1)) % 1000000000);
}

v1::SubmitDossierRequest ValidSubmission(const std::string& unit, const std::string& applicant_id) {
  v1::SubmitDossierRequest request;
  request.set_procedure_code(kProcedure);
  request.set_unit_code(unit);
  request.set_channel(v1::CHANNEL_ONLINE);
  request.mutable_applicant()->set_id_number(applicant_id);
  request.mutable_applicant()->set_full_name("Nguyễn Thị Minh Khai");
  request.mutable_applicant()->set_phone("0912345678");
  auto& form = *request.mutable_form();
  form["diploma_type"] = "Bằng tốt nghiệp trung học phổ thông";
  form["diploma_serial"] = "A 0123456";
  form["graduation_year"] = "2015";
  form["school"] = "Trường THPT Chu Văn An";
  form["copies"] = "2";
  request.set_request_id(NewRequestId());
  return request;
}

v1::CompleteTaskRequest Completion(const v1::Dossier& dossier, v1::Decision decision) {
  v1::CompleteTaskRequest request;
  request.set_task_id(dossier.task().id());
  request.set_expected_version(dossier.version());
  request.set_decision(decision);
  request.set_request_id(NewRequestId());
  return request;
}

v1::CompleteTaskRequest Approval(const v1::Dossier& dossier) {
  return Completion(dossier, v1::DECISION_APPROVE);
}

v1::CompleteTaskRequest SignedApproval(ServerProcess& server, const std::string& officer,
                                       const v1::Dossier& dossier) {
  v1::CompleteTaskRequest request = Approval(dossier);
  auto key = signing::SigningKey::LoadPkcs12(server.pki_dir() + "/signers/" + officer + ".p12",
                                             signing::kDevPkcs12Password);
  if (!key.ok()) return request;
  v1::PrepareSignatureRequest prepare;
  prepare.set_task_id(request.task_id());
  prepare.set_expected_version(request.expected_version());
  prepare.set_decision(request.decision());
  std::ifstream pem(server.pki_dir() + "/signers/" + officer + ".crt");
  prepare.set_signer_certificate_pem(
      std::string(std::istreambuf_iterator<char>(pem), std::istreambuf_iterator<char>()));
  Reply<v1::SignatureChallenge> challenge = server.As(officer).PrepareSignature(prepare);
  if (!challenge.ok()) return request;
  absl::StatusOr<std::string> value = (*key)->Sign(challenge.value.to_be_signed());
  if (!value.ok()) return request;
  request.mutable_signature()->set_challenge_id(challenge.value.challenge_id());
  request.mutable_signature()->set_signature_value(*value);
  return request;
}

v1::CompleteTaskRequest Rejection(const v1::Dossier& dossier, std::vector<std::string> reasons) {
  v1::CompleteTaskRequest request = Completion(dossier, v1::DECISION_REJECT);
  for (std::string& reason : reasons) request.add_reasons(std::move(reason));
  return request;
}

v1::CompleteTaskRequest SupplementRequest(const v1::Dossier& dossier,
                                          std::vector<std::string> missing) {
  v1::CompleteTaskRequest request = Completion(dossier, v1::DECISION_REQUEST_SUPPLEMENT);
  for (std::string& item : missing) request.add_missing_items(std::move(item));
  return request;
}

v1::AddSupplementRequest Supplement(const v1::Dossier& dossier) {
  v1::AddSupplementRequest request;
  request.set_code(dossier.code());
  request.set_expected_version(dossier.version());
  (*request.mutable_form())["register_number"] = "SG-2015-004217";
  request.set_note("Bổ sung số vào sổ");
  request.set_request_id(NewRequestId());
  return request;
}

v1::WithdrawDossierRequest Withdrawal(const v1::Dossier& dossier) {
  v1::WithdrawDossierRequest request;
  request.set_code(dossier.code());
  request.set_expected_version(dossier.version());
  request.set_reason("Không còn nhu cầu");
  request.set_request_id(NewRequestId());
  return request;
}

v1::ClaimTaskRequest Claim(const v1::Dossier& dossier) {
  v1::ClaimTaskRequest request;
  request.set_task_id(dossier.task().id());
  request.set_expected_version(dossier.version());
  request.set_request_id(NewRequestId());
  return request;
}

std::string VnDate(const google::protobuf::Timestamp& timestamp) {
  return absl::FormatTime("%Y-%m-%d", ToAbsl(timestamp),
                          motcua::workflow::WorkCalendar::VietnamTime());
}

std::string VnDateShifted(const google::protobuf::Timestamp& timestamp, int days) {
  return absl::FormatTime("%Y-%m-%d", ToAbsl(timestamp) + absl::Hours(24 * days),
                          motcua::workflow::WorkCalendar::VietnamTime());
}

std::string VnTodayYymmdd() {
  return absl::FormatTime("%y%m%d", absl::Now(), motcua::workflow::WorkCalendar::VietnamTime());
}

std::string Sha256Hex(const std::string& bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) absl::StrAppendFormat(&hex, "%02x", digest[i]);
  return hex;
}

Reply<v1::Dossier> SubmitNew(ServerProcess& server, const std::string& unit,
                             const std::string& portal) {
  return server.As(portal).Submit(ValidSubmission(unit));
}

Reply<v1::Dossier> SubmitAndReceive(ServerProcess& server, const std::string& unit) {
  Reply<v1::Dossier> reply = SubmitNew(server, unit);
  if (!reply.ok()) return reply;
  reply = server.As(unit == kUnitHn ? "receiver" : "receiver-hp").CompleteTask(Approval(reply.value));
  if (!reply.ok()) return reply;
  return AwaitIssued(server, reply.value.code());
}

Reply<v1::Dossier> AwaitIssued(ServerProcess& server, const std::string& code) {
  Reply<v1::Dossier> reply;
  for (int i = 0; i < 3000; ++i) {
    reply = server.As("auditor").GetDossier(code);
    if (!reply.ok()) return reply;
    bool pending = false;
    for (const v1::Document& doc : reply.value.documents()) pending |= doc.pending();
    if (!pending) return reply;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  reply.status = grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                              "a document of " + code + " was still pending after 30 s");
  return reply;
}

v1::Operation AwaitOperation(ServerProcess& server, const std::string& name,
                             const std::string& as) {
  auto stub = v1::OperationService::NewStub(server.Channel(as));
  v1::Operation op;
  for (int round = 0; round < 10 && !op.done(); ++round) {
    v1::WaitOperationRequest request;
    request.set_name(name);
    request.set_timeout_seconds(60);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(90));
    grpc::Status s = stub->WaitOperation(&context, request, &op);
    EXPECT_TRUE(s.ok()) << Describe(s);
    if (!s.ok()) break;
  }
  EXPECT_TRUE(op.done()) << op.DebugString();
  return op;
}

Reply<v1::Dossier> SubmitReceiveApprove(ServerProcess& server) {
  Reply<v1::Dossier> reply = SubmitAndReceive(server);
  if (!reply.ok()) return reply;
  return server.As("head").CompleteTask(SignedApproval(server, "head", reply.value));
}

Reply<v1::Dossier> SubmitReceiveRequestSupplement(ServerProcess& server) {
  Reply<v1::Dossier> reply = SubmitAndReceive(server);
  if (!reply.ok()) return reply;
  return server.As("head").CompleteTask(SupplementRequest(reply.value));
}

Reply<v1::Dossier> Reread(ServerProcess& server, const std::string& code) {
  return server.As("auditor").GetDossier(code);
}

void ParallelFor(int n, int threads, const std::function<void(int)>& fn) {
  std::atomic<int> next{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (int i = next.fetch_add(1); i < n; i = next.fetch_add(1)) fn(i);
    });
  }
  for (std::thread& worker : workers) worker.join();
}

int RunOpenssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv_storage = {"openssl"};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    const int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) {
      dup2(devnull, STDOUT_FILENO);
      dup2(devnull, STDERR_FILENO);
    }
    execvp("openssl", argv.data());
    _exit(127);
  }
  int wstatus = 0;
  if (waitpid(pid, &wstatus, 0) != pid) return -1;
  return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
}

void SharedServerTest::SetUpTestSuite() {
  absl::StatusOr<std::unique_ptr<ServerProcess>> started = ServerProcess::Start();
  if (started.ok()) {
    server_ = started->release();
  } else {
    start_error_ = new std::string(started.status().ToString());
  }
}

void SharedServerTest::TearDownTestSuite() {
  delete server_;
  server_ = nullptr;
  delete start_error_;
  start_error_ = nullptr;
}

void SharedServerTest::SetUp() {
  ASSERT_NE(server_, nullptr) << "motcuad did not start: "
                              << (start_error_ ? *start_error_ : std::string("?"));
  if (!server_->Running()) {
    // An earlier test took it down and has failed for it (TearDown); start
    // it again on the same data so this test is judged on its own.
    absl::Status restarted = server_->Restart();
    ASSERT_TRUE(restarted.ok()) << "motcuad could not be restarted: " << restarted;
  }
}

void SharedServerTest::TearDown() {
  if (server_ != nullptr) {
    EXPECT_TRUE(server_->Running()) << "motcuad died during this test; log:\n"
                                    << server_->LogTail();
  }
}

}  // namespace motcua::itest
