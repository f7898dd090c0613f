// SubmitDossier against the real server: what a valid submission returns,
// and how invalid ones are refused.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

#include "tests/integration/fixtures.h"

namespace motcua::itest {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

class SubmissionTest : public SharedServerTest {
 protected:
  // Number of dossiers of `applicant_id`, as the auditor sees them.
  int CountDossiersOf(const std::string& applicant_id) {
    v1::ListDossiersRequest request;
    request.set_applicant_id_number(applicant_id);
    Reply<std::vector<v1::Dossier>> all = server().As("auditor").ListAllDossiers(request);
    EXPECT_RPC_OK(all);
    return static_cast<int>(all.value.size());
  }
};

TEST_F(SubmissionTest, SubmitDossier_Valid_StartsSubmittedAtVersionOne) {
  v1::SubmitDossierRequest request = ValidSubmission(kUnitHn);
  Reply<v1::Dossier> reply = server().As("portal").Submit(request);
  ASSERT_RPC_OK(reply);
  const v1::Dossier& dossier = reply.value;
  EXPECT_EQ(dossier.state(), "submitted");
  EXPECT_EQ(dossier.national_status(), 1);
  EXPECT_EQ(dossier.version(), 1);
  EXPECT_EQ(dossier.procedure_code(), kProcedure);
  EXPECT_GE(dossier.procedure_version(), 1);
  EXPECT_EQ(dossier.unit_code(), kUnitHn);
  EXPECT_EQ(dossier.channel(), v1::CHANNEL_ONLINE);
  EXPECT_EQ(dossier.applicant().id_number(), request.applicant().id_number());
  EXPECT_EQ(dossier.applicant().full_name(), request.applicant().full_name());
  EXPECT_EQ(dossier.form().at("diploma_serial"), "A 0123456");
  EXPECT_EQ(dossier.submitted_by(), kPortalSubject);
  EXPECT_GT(dossier.submitted_at().seconds(), 0);
  EXPECT_EQ(dossier.history_length(), 1);
  EXPECT_FALSE(dossier.history_head().empty());
  EXPECT_FALSE(dossier.closed());
  EXPECT_FALSE(dossier.clock().started());
}

TEST_F(SubmissionTest, SubmitDossier_Valid_OpensReceivingOfficerTask) {
  Reply<v1::Dossier> reply = SubmitNew(server());
  ASSERT_RPC_OK(reply);
  const v1::Task& task = reply.value.task();
  EXPECT_THAT(task.id(), ::testing::StartsWith(reply.value.code() + "/"));
  EXPECT_GT(task.id().size(), reply.value.code().size() + 1) << "no step after the '/'";
  EXPECT_EQ(task.dossier_code(), reply.value.code());
  EXPECT_EQ(task.state(), "submitted");
  EXPECT_EQ(task.unit_code(), kUnitHn);
  EXPECT_EQ(task.role(), v1::ROLE_OFFICER);
  EXPECT_EQ(task.position(), "receiving");
  EXPECT_THAT(task.decisions(), UnorderedElementsAre(v1::DECISION_APPROVE, v1::DECISION_REJECT,
                                                     v1::DECISION_REQUEST_SUPPLEMENT));
  EXPECT_EQ(task.dossier_version(), 1);
  EXPECT_TRUE(task.claimed_by().empty());
}

TEST_F(SubmissionTest, SubmitDossier_Valid_CodeIsUnitDateAndSequence) {
  const std::string day_before = VnTodayYymmdd();
  Reply<v1::Dossier> reply = SubmitNew(server(), kUnitHp);
  const std::string day_after = VnTodayYymmdd();
  ASSERT_RPC_OK(reply);
  std::smatch match;
  const std::string& code = reply.value.code();
  ASSERT_TRUE(std::regex_match(code, match, std::regex(R"(HP-SGDDT-(\d{6})-(\d{4}))"))) << code;
  EXPECT_TRUE(match[1] == day_before || match[1] == day_after)
      << code << ": date is not today in Vietnam (" << day_before << ")";
  EXPECT_NE(match[2], "0000") << code;
}

TEST_F(SubmissionTest, SubmitDossier_Consecutive_GetIncreasingSequenceNumbers) {
  std::vector<int> sequence;
  for (int i = 0; i < 3; ++i) {
    Reply<v1::Dossier> reply = SubmitNew(server(), kUnitHn);
    ASSERT_RPC_OK(reply);
    const std::string& code = reply.value.code();
    ASSERT_GE(code.size(), 4u);
    sequence.push_back(std::stoi(code.substr(code.size() - 4)));
  }
  EXPECT_LT(sequence[0], sequence[1]);
  EXPECT_LT(sequence[1], sequence[2]);
}

struct RequiredField {
  const char* name;
  const char* title;  // FormField.title of 2.001914
};

void PrintTo(const RequiredField& field, std::ostream* os) { *os << field.name; }

class MissingRequiredFieldTest : public SubmissionTest,
                                 public ::testing::WithParamInterface<RequiredField> {};

TEST_P(MissingRequiredFieldTest, SubmitDossier_MissingField_InvalidArgumentNamingVietnameseTitle) {
  v1::SubmitDossierRequest request = ValidSubmission();
  request.mutable_form()->erase(GetParam().name);
  Reply<v1::Dossier> reply = server().As("portal").Submit(request);
  EXPECT_RPC_CODE(reply, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(reply.status.error_message(), HasSubstr(GetParam().title));
}

TEST_P(MissingRequiredFieldTest, SubmitDossier_EmptyField_InvalidArgumentNamingVietnameseTitle) {
  v1::SubmitDossierRequest request = ValidSubmission();
  (*request.mutable_form())[GetParam().name] = "";
  Reply<v1::Dossier> reply = server().As("portal").Submit(request);
  EXPECT_RPC_CODE(reply, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(reply.status.error_message(), HasSubstr(GetParam().title));
}

INSTANTIATE_TEST_SUITE_P(CopyFromRegister, MissingRequiredFieldTest,
                         ::testing::Values(RequiredField{"diploma_type", "Loại văn bằng"},
                                           RequiredField{"diploma_serial", "Số hiệu văn bằng"},
                                           RequiredField{"graduation_year", "Năm tốt nghiệp"},
                                           RequiredField{"school", "Trường"}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST_F(SubmissionTest, SubmitDossier_MissingFieldRefused_CreatesNoDossier) {
  v1::SubmitDossierRequest request = ValidSubmission();
  request.mutable_form()->erase("diploma_serial");
  ASSERT_EQ(server().As("portal").Submit(request).status.error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(CountDossiersOf(request.applicant().id_number()), 0);
}

TEST_F(SubmissionTest, SubmitDossier_MissingFullName_InvalidArgument) {
  v1::SubmitDossierRequest request = ValidSubmission();
  request.mutable_applicant()->clear_full_name();
  EXPECT_RPC_CODE(server().As("portal").Submit(request), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(SubmissionTest, SubmitDossier_IdNumberNotTwelveDigits_InvalidArgument) {
  for (const std::string bad : {"00112345678", "0011234567890", "00112345678X", ""}) {
    SCOPED_TRACE("id_number '" + bad + "'");
    v1::SubmitDossierRequest request = ValidSubmission();
    request.mutable_applicant()->set_id_number(bad);
    EXPECT_RPC_CODE(server().As("portal").Submit(request), grpc::StatusCode::INVALID_ARGUMENT);
  }
}

TEST_F(SubmissionTest, SubmitDossier_UnknownProcedure_NotFound) {
  v1::SubmitDossierRequest request = ValidSubmission();
  request.set_procedure_code("9.999999");
  EXPECT_RPC_CODE(server().As("portal").Submit(request), grpc::StatusCode::NOT_FOUND);
}

TEST_F(SubmissionTest, SubmitDossier_WithoutRequestId_InvalidArgument) {
  v1::SubmitDossierRequest request = ValidSubmission();
  request.clear_request_id();
  EXPECT_RPC_CODE(server().As("portal").Submit(request), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(SubmissionTest, SubmitDossier_Attachment_StoredWithSizeAndSha256) {
  std::string content(64 * 1024, '\0');
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 31 + 7);
  v1::SubmitDossierRequest request = ValidSubmission();
  v1::AttachmentUpload* upload = request.add_attachments();
  upload->set_name("cccd.pdf");
  upload->set_media_type("application/pdf");
  upload->set_content(content);

  Reply<v1::Dossier> reply = server().As("portal").Submit(request);
  ASSERT_RPC_OK(reply);
  ASSERT_EQ(reply.value.attachments_size(), 1);
  const v1::Attachment& attachment = reply.value.attachments(0);
  EXPECT_FALSE(attachment.id().empty());
  EXPECT_EQ(attachment.name(), "cccd.pdf");
  EXPECT_EQ(attachment.media_type(), "application/pdf");
  EXPECT_EQ(attachment.size_bytes(), static_cast<int64_t>(content.size()));
  EXPECT_EQ(attachment.sha256(), Sha256Hex(content));

  Reply<v1::AttachmentContent> fetched =
      server().As("portal").GetAttachment(reply.value.code(), attachment.id());
  ASSERT_RPC_OK(fetched);
  EXPECT_TRUE(fetched.value.content() == content) << "attachment bytes differ";
}

TEST_F(SubmissionTest, SubmitDossier_AttachmentOver10MiB_RefusedWithMessageAndNoDossier) {
  v1::SubmitDossierRequest request = ValidSubmission();
  v1::AttachmentUpload* upload = request.add_attachments();
  upload->set_name("scan.pdf");
  upload->set_media_type("application/pdf");
  upload->set_content(std::string(10 * 1024 * 1024 + 1, 'x'));

  Reply<v1::Dossier> reply = server().As("portal").Submit(request);
  EXPECT_TRUE(reply.status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED ||
              reply.status.error_code() == grpc::StatusCode::INVALID_ARGUMENT)
      << Describe(reply.status);
  EXPECT_FALSE(reply.status.error_message().empty());
  EXPECT_EQ(CountDossiersOf(request.applicant().id_number()), 0);
  Reply<int> health = HealthCheck(server().Channel("portal"));
  ASSERT_RPC_OK(health);
  EXPECT_EQ(health.value, 1);
}

}  // namespace
}  // namespace motcua::itest
