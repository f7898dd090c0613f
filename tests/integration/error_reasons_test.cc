// Every error a portal can meet carries a google.rpc.ErrorInfo with a stable
// reason (motcua.v1.ErrorReason) and the field at fault, beside the code and
// the human message; page tokens are opaque and bound to their query.

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "motcua/v1/errors.pb.h"
#include "tests/integration/client.h"
#include "tests/integration/fixtures.h"

namespace motcua::itest {
namespace {

using ::testing::HasSubstr;

// The ErrorInfo in `status`'s details; an empty one when there is none.
google::rpc::ErrorInfo ErrorInfoIn(const grpc::Status& status) {
  google::rpc::Status details;
  google::rpc::ErrorInfo info;
  if (!details.ParseFromString(status.error_details())) return info;
  for (const auto& any : details.details()) {
    if (any.UnpackTo(&info)) return info;
  }
  return info;
}

struct Case {
  std::string name;
  std::function<grpc::Status()> call;
  grpc::StatusCode code;
  v1::ErrorReason reason;
  std::string field;  // empty: no field expected
};

class ErrorReasonsTest : public SharedServerTest {
 protected:
  static void Expect(const Case& c) {
    SCOPED_TRACE(c.name);
    const grpc::Status status = c.call();
    EXPECT_EQ(status.error_code(), c.code) << Describe(status);
    const google::rpc::ErrorInfo info = ErrorInfoIn(status);
    EXPECT_EQ(info.domain(), "motcua.v1");
    EXPECT_EQ(info.reason(), v1::ErrorReason_Name(c.reason)) << Describe(status);
    if (!c.field.empty()) {
      auto field = info.metadata().find("field");
      ASSERT_NE(field, info.metadata().end()) << "no field in ErrorInfo: " << Describe(status);
      EXPECT_EQ(field->second, c.field);
    }
    google::rpc::Status details;
    ASSERT_TRUE(details.ParseFromString(status.error_details()));
    EXPECT_EQ(details.code(), static_cast<int>(c.code));
    EXPECT_EQ(details.message(), status.error_message());
  }
};

// The catalogue of what a portal (and an officer's console) can get wrong.
TEST_F(ErrorReasonsTest, EveryPortalErrorPath_CarriesItsReasonAndField) {
  Client portal = server().As("portal");
  Client portal2 = server().As("portal2");
  Client receiver = server().As("receiver");
  Reply<v1::Dossier> filed = SubmitNew(server());
  ASSERT_RPC_OK(filed);
  const v1::Dossier& d = filed.value;

  auto submit = [&](std::function<void(v1::SubmitDossierRequest&)> change) {
    return [&portal, change] {
      v1::SubmitDossierRequest r = ValidSubmission();
      change(r);
      return portal.Submit(r).status;
    };
  };
  const std::vector<Case> cases = {
      {"empty procedure_code", submit([](auto& r) { r.clear_procedure_code(); }),
       grpc::StatusCode::INVALID_ARGUMENT, v1::FIELD_REQUIRED, "procedure_code"},
      {"unknown procedure", submit([](auto& r) { r.set_procedure_code("9.999999"); }),
       grpc::StatusCode::NOT_FOUND, v1::PROCEDURE_NOT_FOUND, ""},
      {"empty unit_code", submit([](auto& r) { r.clear_unit_code(); }),
       grpc::StatusCode::INVALID_ARGUMENT, v1::FIELD_REQUIRED, "unit_code"},
      {"bad unit_code", submit([](auto& r) { r.set_unit_code("HN SGDDT"); }),
       grpc::StatusCode::INVALID_ARGUMENT, v1::FIELD_INVALID, "unit_code"},
      {"no channel", submit([](auto& r) { r.clear_channel(); }),
       grpc::StatusCode::INVALID_ARGUMENT, v1::FIELD_REQUIRED, "channel"},
      {"11-digit id number",
       submit([](auto& r) { r.mutable_applicant()->set_id_number("00120301234"); }),
       grpc::StatusCode::INVALID_ARGUMENT, v1::FIELD_INVALID, "applicant.id_number"},
      {"no applicant name", submit([](auto& r) { r.mutable_applicant()->clear_full_name(); }),
       grpc::StatusCode::INVALID_ARGUMENT, v1::FIELD_REQUIRED, "applicant.full_name"},
      {"unknown form field", submit([](auto& r) { (*r.mutable_form())["nickname"] = "x"; }),
       grpc::StatusCode::INVALID_ARGUMENT, v1::FORM_FIELD_INVALID, "form.nickname"},
      {"missing required form field", submit([](auto& r) { r.mutable_form()->erase("school"); }),
       grpc::StatusCode::INVALID_ARGUMENT, v1::FORM_FIELD_REQUIRED, "form.school"},
      {"empty attachment",
       submit([](auto& r) { r.add_attachments()->set_name("cccd.pdf"); }),
       grpc::StatusCode::INVALID_ARGUMENT, v1::ATTACHMENT_INVALID, "attachments[0].content"},
      {"no request_id", submit([](auto& r) { r.clear_request_id(); }),
       grpc::StatusCode::INVALID_ARGUMENT, v1::FIELD_REQUIRED, "request_id"},
      {"request_id reused for another request",
       [&] {
         v1::SubmitDossierRequest first = ValidSubmission();
         if (!portal.Submit(first).ok()) return grpc::Status::CANCELLED;
         v1::SubmitDossierRequest second = ValidSubmission();
         second.set_request_id(first.request_id());
         return portal.Submit(second).status;
       },
       grpc::StatusCode::FAILED_PRECONDITION, v1::REQUEST_ID_REUSED, "request_id"},
      {"unknown dossier", [&] { return portal.GetDossier("HN-SGDDT-000101-9999").status; },
       grpc::StatusCode::NOT_FOUND, v1::DOSSIER_NOT_FOUND, ""},
      {"empty dossier code", [&] { return portal.GetDossier("").status; },
       grpc::StatusCode::INVALID_ARGUMENT, v1::FIELD_REQUIRED, "code"},
      {"another portal's dossier", [&] { return portal2.GetDossier(d.code()).status; },
       grpc::StatusCode::PERMISSION_DENIED, v1::UNIT_NOT_ALLOWED, ""},
      {"stale version",
       [&] {
         v1::WithdrawDossierRequest w = Withdrawal(d);
         w.set_expected_version(d.version() + 5);
         return portal.Withdraw(w).status;
       },
       grpc::StatusCode::ABORTED, v1::DOSSIER_VERSION_STALE, "expected_version"},
      {"supplement when none was asked", [&] { return portal.AddSupplement(Supplement(d)).status; },
       grpc::StatusCode::FAILED_PRECONDITION, v1::STATE_NOT_ALLOWED, ""},
      {"national_status 11",
       [&] {
         v1::ListDossiersRequest r;
         r.set_national_status(11);
         return portal.ListDossiers(r).status;
       },
       grpc::StatusCode::INVALID_ARGUMENT, v1::FIELD_INVALID, "national_status"},
      {"date not YYYY-MM-DD",
       [&] {
         v1::ListDossiersRequest r;
         r.set_submitted_from("07/12/2026");
         return portal.ListDossiers(r).status;
       },
       grpc::StatusCode::INVALID_ARGUMENT, v1::FIELD_INVALID, "submitted_from"},
      {"forged page token",
       [&] {
         v1::ListDossiersRequest r;
         r.set_page_token(absl::WebSafeBase64Escape(std::string(64, 'x')));
         return portal.ListDossiers(r).status;
       },
       grpc::StatusCode::INVALID_ARGUMENT, v1::PAGE_TOKEN_INVALID, "page_token"},
      {"unknown attachment", [&] { return portal.GetAttachment(d.code(), "a99").status; },
       grpc::StatusCode::NOT_FOUND, v1::ATTACHMENT_NOT_FOUND, "attachment_id"},
      {"unknown document", [&] { return portal.GetDocument(d.code(), "d99").status; },
       grpc::StatusCode::NOT_FOUND, v1::DOCUMENT_NOT_FOUND, "document_id"},
      {"portal asks for a worklist", [&] { return portal.ListMyTasks({}).status; },
       grpc::StatusCode::PERMISSION_DENIED, v1::ROLE_NOT_ALLOWED, ""},
      {"malformed request bytes",
       [&] {
         return CallRaw(server().Channel("portal"), "/motcua.v1.DossierService/SubmitDossier",
                        std::string(64, '\xff'))
             .status;
       },
       grpc::StatusCode::INVALID_ARGUMENT, v1::REQUEST_MALFORMED, ""},
      {"task id not of the form code/step",
       [&] {
         v1::ClaimTaskRequest r = Claim(d);
         r.set_task_id("no-slash");
         return receiver.ClaimTask(r).status;
       },
       grpc::StatusCode::INVALID_ARGUMENT, v1::FIELD_INVALID, "task_id"},
      {"rejection without reasons",
       [&] {
         v1::CompleteTaskRequest r = Rejection(d, {});
         return receiver.CompleteTask(r).status;
       },
       grpc::StatusCode::INVALID_ARGUMENT, v1::FIELD_REQUIRED, "reasons"},
      {"1 MiB CompleteTask (only uploads take megabytes)",
       [&] {
         v1::CompleteTaskRequest r = Approval(d);
         r.set_comment(std::string(1 << 20, 'x'));
         return receiver.CompleteTask(r).status;
       },
       grpc::StatusCode::RESOURCE_EXHAUSTED, v1::REQUEST_TOO_LARGE, ""},
      {"task of another unit",
       [&] { return server().As("receiver-hp").ClaimTask(Claim(d)).status; },
       grpc::StatusCode::PERMISSION_DENIED, v1::UNIT_NOT_ALLOWED, ""},
  };
  for (const Case& c : cases) Expect(c);
}

TEST_F(ErrorReasonsTest, StaleVersion_NamesTheCurrentVersion) {
  Reply<v1::Dossier> filed = SubmitNew(server());
  ASSERT_RPC_OK(filed);
  v1::WithdrawDossierRequest w = Withdrawal(filed.value);
  w.set_expected_version(filed.value.version() + 1);
  const grpc::Status status = server().As("portal").Withdraw(w).status;
  const google::rpc::ErrorInfo info = ErrorInfoIn(status);
  EXPECT_EQ(info.metadata().at("current_version"), std::to_string(filed.value.version()));
}

// A token never shows the query it continues: filtered by applicant, the
// raw index key held the citizen's identification number.
TEST_F(ErrorReasonsTest, PageToken_HidesTheIdNumberAndFitsOnlyItsQuery) {
  const std::string applicant = NewApplicantId();
  Client portal = server().As("portal");
  for (int i = 0; i < 3; ++i) {
    ASSERT_RPC_OK(portal.Submit(ValidSubmission(kUnitHn, applicant)));
  }
  v1::ListDossiersRequest query;
  query.set_applicant_id_number(applicant);
  query.set_page_size(1);
  Reply<v1::ListDossiersResponse> first = portal.ListDossiers(query);
  ASSERT_RPC_OK(first);
  const std::string token = first.value.next_page_token();
  ASSERT_FALSE(token.empty());
  std::string decoded;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(token, &decoded));
  EXPECT_EQ(token.find(applicant), std::string::npos);
  EXPECT_EQ(decoded.find(applicant), std::string::npos);

  // Its own query: the next page.
  v1::ListDossiersRequest next = query;
  next.set_page_token(token);
  Reply<v1::ListDossiersResponse> second = portal.ListDossiers(next);
  ASSERT_RPC_OK(second);
  ASSERT_EQ(second.value.dossiers_size(), 1);
  EXPECT_NE(second.value.dossiers(0).code(), first.value.dossiers(0).code());
  // Reused: the same page again, harmlessly.
  Reply<v1::ListDossiersResponse> again = portal.ListDossiers(next);
  ASSERT_RPC_OK(again);
  EXPECT_EQ(again.value.dossiers(0).code(), second.value.dossiers(0).code());

  auto expect_refused = [](const Reply<v1::ListDossiersResponse>& reply) {
    EXPECT_RPC_CODE(reply, grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(ErrorInfoIn(reply.status).reason(), "PAGE_TOKEN_INVALID");
  };
  // Another filter.
  v1::ListDossiersRequest other = next;
  other.set_applicant_id_number(NewApplicantId());
  expect_refused(portal.ListDossiers(other));
  v1::ListDossiersRequest other_status = next;
  other_status.set_national_status(1);
  expect_refused(portal.ListDossiers(other_status));
  // Another caller with the same filter.
  expect_refused(server().As("auditor").ListDossiers(next));
  // One byte changed.
  v1::ListDossiersRequest tampered = next;
  std::string bytes = decoded;
  bytes[bytes.size() / 2] ^= 0x01;
  tampered.set_page_token(absl::WebSafeBase64Escape(bytes));
  expect_refused(portal.ListDossiers(tampered));
}

TEST_F(ErrorReasonsTest, MalformedBytes_BackupServiceAndWatch_InvalidArgumentNotInternal) {
  const std::string garbage(64, '\xff');
  for (const char* method : {"/motcua.v1.BackupService/GetBackupStatus",
                             "/motcua.v1.BackupService/ListBackups",
                             "/motcua.v1.BackupService/ConfirmDetached",
                             "/motcua.v1.BackupService/RunBackup",
                             "/motcua.v1.BackupService/VerifyBackups",
                             "/motcua.v1.BackupService/ExportOffline",
                             "/motcua.v1.BackupService/RunRestoreDrill"}) {
    SCOPED_TRACE(method);
    RawReply reply = CallRaw(server().Channel("admin"), method, garbage);
    EXPECT_EQ(reply.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << Describe(reply.status);
    EXPECT_THAT(reply.status.error_message(), HasSubstr("request is not a valid motcua.v1."));
    EXPECT_EQ(ErrorInfoIn(reply.status).reason(), "REQUEST_MALFORMED");
  }
  for (const char* method : {"/motcua.v1.DossierService/WatchEvents"}) {
    SCOPED_TRACE(method);
    RawReply reply = CallRawStreamFirst(server().Channel("admin"), method, garbage);
    EXPECT_EQ(reply.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << Describe(reply.status);
    EXPECT_EQ(ErrorInfoIn(reply.status).reason(), "REQUEST_MALFORMED");
  }
}

TEST_F(ErrorReasonsTest, HealthService_ReportsEachServiceByName) {
  for (const char* service : {"motcua.v1.ProcedureService", "motcua.v1.DossierService",
                              "motcua.v1.TaskService", "motcua.v1.AuditService"}) {
    Reply<int> health = HealthCheck(server().Channel("auditor"), service);
    ASSERT_RPC_OK(health);
    EXPECT_EQ(health.value, 1) << service << " not SERVING";
  }
}

}  // namespace
}  // namespace motcua::itest
