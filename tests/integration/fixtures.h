#ifndef MOTCUA_TESTS_INTEGRATION_FIXTURES_H_
#define MOTCUA_TESTS_INTEGRATION_FIXTURES_H_

// Request builders, dossier walks and the shared-server test fixture used by
// the integration tests.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "google/protobuf/timestamp.pb.h"
#include "motcua/v1/service.grpc.pb.h"
#include "tests/integration/client.h"
#include "tests/integration/server_process.h"

// Asserts a Reply (or RawReply) is OK, printing code and message otherwise.
#define ASSERT_RPC_OK(reply) \
  ASSERT_TRUE((reply).status.ok()) << #reply << ": " << ::motcua::itest::Describe((reply).status)
#define EXPECT_RPC_OK(reply) \
  EXPECT_TRUE((reply).status.ok()) << #reply << ": " << ::motcua::itest::Describe((reply).status)
// Expects a Reply to have failed with `code`.
#define EXPECT_RPC_CODE(reply, code)             \
  EXPECT_EQ((reply).status.error_code(), (code)) \
      << #reply << " returned " << ::motcua::itest::Describe((reply).status)

namespace motcua::itest {

inline constexpr char kProcedure[] = "2.001914";
inline constexpr char kUnitHn[] = "HN-SGDDT";
inline constexpr char kUnitHp[] = "HP-SGDDT";
// Subjects of the development identities (their certificates' CN).
inline constexpr char kPortalSubject[] = "portal.dichvucong";
inline constexpr char kReceiverSubject[] = "receiver.hn";
inline constexpr char kHeadSubject[] = "head.hn";
inline constexpr char kAdminSubject[] = "admin.it";

// Procedure T.100 (text format): each dossier closes by itself (a timer) at
// the deadline its form field "deadline" names, unless received first.
inline constexpr char kDeadlineProcedureText[] = R"pb(
  code: "T.100" name: "Đăng ký có hạn chót" initial_state: "open"
  time_limit { working_days: 5 }
  form_fields { name: "deadline" title: "Hạn chót" required: true }
  states { id: "open" title: "Đang mở" national_status: 1 task_title: "Tiếp nhận" }
  states { id: "accepted" title: "Đã nhận" national_status: 9 terminal: true }
  states { id: "closed" title: "Hết hạn" national_status: 3 terminal: true }
  transitions { id: "accept" from_state: "open" to_state: "accepted"
                trigger: TRIGGER_APPROVE role: ROLE_OFFICER position: "receiving" }
  transitions { id: "close" from_state: "open" to_state: "closed"
                trigger: TRIGGER_TIMER timer { at_form_field: "deadline" } }
)pb";

// Every development identity of the dev PKI, by file name.
const std::vector<std::string>& AllDevClients();

// A request id never used before in this test process.
std::string NewRequestId();
// A 12-digit citizen id number never used before in this test process.
std::string NewApplicantId();

// A complete, valid submission of procedure 2.001914 at `unit`.
v1::SubmitDossierRequest ValidSubmission(const std::string& unit = kUnitHn,
                                         const std::string& applicant_id = NewApplicantId());

v1::CompleteTaskRequest Completion(const v1::Dossier& dossier, v1::Decision decision);
v1::CompleteTaskRequest Approval(const v1::Dossier& dossier);
// The head's approval of a dossier in "processing", signed two-phase: a
// PrepareSignature as `officer`, signed with the dev PKI's
// signers/<officer>.p12. Without that file (not an officer), or when the
// preparation fails, the approval is returned unsigned, so the server's
// refusal is what a test sees.
v1::CompleteTaskRequest SignedApproval(ServerProcess& server, const std::string& officer,
                                       const v1::Dossier& dossier);
v1::CompleteTaskRequest Rejection(const v1::Dossier& dossier,
                                  std::vector<std::string> reasons = {"Không có trong sổ gốc"});
v1::CompleteTaskRequest SupplementRequest(const v1::Dossier& dossier,
                                          std::vector<std::string> missing = {"Bản chụp CCCD"});
v1::AddSupplementRequest Supplement(const v1::Dossier& dossier);
v1::WithdrawDossierRequest Withdrawal(const v1::Dossier& dossier);
v1::ClaimTaskRequest Claim(const v1::Dossier& dossier);

// The calendar date of `timestamp` in Vietnam (UTC+7), "YYYY-MM-DD".
std::string VnDate(const google::protobuf::Timestamp& timestamp);
// Today's date in Vietnam, "YYMMDD", as it appears in dossier codes.
std::string VnTodayYymmdd();
// VnDate moved by `days`.
std::string VnDateShifted(const google::protobuf::Timestamp& timestamp, int days);

std::string Sha256Hex(const std::string& bytes);

// Walks of the 2.001914 workflow against `server`, each step as the usual
// identity. Each returns the dossier after its last step, or the first
// failure.
Reply<v1::Dossier> SubmitNew(ServerProcess& server, const std::string& unit = kUnitHn,
                             const std::string& portal = "portal");
// The dossier once no document of it is pending (they are issued after
// their step), at most 30 s.
Reply<v1::Dossier> AwaitIssued(ServerProcess& server, const std::string& code);
// Operation `name` as it ended, asked with WaitOperation as `as` (at most
// ten minutes); a failed call or an operation still running fails the test.
v1::Operation AwaitOperation(ServerProcess& server, const std::string& name,
                             const std::string& as = "admin");
// submitted -> processing (the receiving officer of the unit approves), its
// receipt issued.
Reply<v1::Dossier> SubmitAndReceive(ServerProcess& server, const std::string& unit = kUnitHn);
// ... -> processed (the head approves, signing two-phase).
Reply<v1::Dossier> SubmitReceiveApprove(ServerProcess& server);
// ... -> awaiting_supplement (the head asks for a supplement).
Reply<v1::Dossier> SubmitReceiveRequestSupplement(ServerProcess& server);

// The dossier as the auditor reads it now (no side effects).
Reply<v1::Dossier> Reread(ServerProcess& server, const std::string& code);

// Runs `fn(i)` for i in [0, n) on `threads` threads.
void ParallelFor(int n, int threads, const std::function<void(int)>& fn);

// Runs `openssl` with `args`; returns its exit status (0 = success).
int RunOpenssl(const std::vector<std::string>& args);

// A fixture whose suite shares one server (started before the suite's first
// test, stopped after its last). Each test checks it is running before and
// after, so a test that crashes the server fails.
class SharedServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;
  void TearDown() override;

  static ServerProcess& server() { return *server_; }

 private:
  static ServerProcess* server_;
  static std::string* start_error_;
};

}  // namespace motcua::itest

#endif  // MOTCUA_TESTS_INTEGRATION_FIXTURES_H_
