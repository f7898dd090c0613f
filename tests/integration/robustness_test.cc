// Malformed, oversized and unauthenticated requests: each gets a clear error
// and the server keeps serving.

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/integration/fixtures.h"

namespace motcua::itest {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

class RobustnessTest : public SharedServerTest {
 protected:
  // The server answers a health check and a real query.
  void ExpectServing() {
    Reply<int> health = HealthCheck(server().Channel("auditor"));
    EXPECT_RPC_OK(health);
    EXPECT_EQ(health.value, 1) << "not SERVING";
    EXPECT_RPC_OK(server().As("auditor").GetProcedure(kProcedure));
  }
};

TEST_F(RobustnessTest, HealthCheck_WholeServer_Serving) {
  Reply<int> health = HealthCheck(server().Channel("portal"));
  ASSERT_RPC_OK(health);
  EXPECT_EQ(health.value, 1);  // SERVING
}

TEST_F(RobustnessTest, ServerReflection_ListServices_NamesMotcuaServices) {
  // ServerReflectionRequest { list_services = 7: "" }.
  const std::string list_services("\x3a\x00", 2);
  RawReply reply = CallRawStreamFirst(
      server().Channel("auditor"), "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
      list_services);
  ASSERT_RPC_OK(reply);
  for (const char* service :
       {"motcua.v1.DossierService", "motcua.v1.TaskService", "motcua.v1.ProcedureService",
        "motcua.v1.AuditService", "grpc.health.v1.Health"}) {
    EXPECT_NE(reply.bytes.find(service), std::string::npos) << service << " not listed";
  }
}

TEST_F(RobustnessTest, ListDossiers_NationalStatus99_InvalidArgument) {
  v1::ListDossiersRequest request;
  request.set_national_status(99);
  EXPECT_RPC_CODE(server().As("auditor").ListDossiers(request), grpc::StatusCode::INVALID_ARGUMENT);
  ExpectServing();
}

TEST_F(RobustnessTest, ListDossiers_GarbagePageToken_InvalidArgument) {
  v1::ListDossiersRequest request;
  request.set_page_token("%%not-a-page-token%%");
  EXPECT_RPC_CODE(server().As("auditor").ListDossiers(request), grpc::StatusCode::INVALID_ARGUMENT);
  ExpectServing();
}

TEST_F(RobustnessTest, ListDossiers_MalformedDate_InvalidArgument) {
  for (const char* bad : {"2025-13-45", "hôm qua", "25-07-01"}) {
    SCOPED_TRACE(bad);
    v1::ListDossiersRequest request;
    request.set_submitted_from(bad);
    EXPECT_RPC_CODE(server().As("auditor").ListDossiers(request),
                    grpc::StatusCode::INVALID_ARGUMENT);
  }
  ExpectServing();
}

TEST_F(RobustnessTest, ListDossiers_NonUtf8PageToken_RefusedAndServerAlive) {
  // Invalid UTF-8 in a proto3 string makes the request unparsable; the
  // caller must hear which message was malformed.
  v1::ListDossiersRequest request;
  request.set_page_token(std::string("tok\xff\xfe", 5));
  Reply<v1::ListDossiersResponse> reply = server().As("auditor").ListDossiers(request);
  EXPECT_EQ(reply.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(reply.status);
  EXPECT_NE(reply.status.error_message().find("motcua.v1.ListDossiersRequest"), std::string::npos)
      << Describe(reply.status);
  ExpectServing();
}

TEST_F(RobustnessTest, ListMyTasks_GarbagePageToken_InvalidArgument) {
  v1::ListMyTasksRequest request;
  request.set_page_token("garbage-token");
  EXPECT_RPC_CODE(server().As("receiver").ListMyTasks(request), grpc::StatusCode::INVALID_ARGUMENT);
  ExpectServing();
}

TEST_F(RobustnessTest, CompleteTask_EmptyTaskId_InvalidArgument) {
  v1::CompleteTaskRequest request;
  request.set_expected_version(1);
  request.set_decision(v1::DECISION_APPROVE);
  request.set_request_id(NewRequestId());
  EXPECT_RPC_CODE(server().As("receiver").CompleteTask(request),
                  grpc::StatusCode::INVALID_ARGUMENT);
  ExpectServing();
}

TEST_F(RobustnessTest, CompleteTask_UnknownTaskId_NotFound) {
  v1::CompleteTaskRequest request;
  request.set_task_id("HN-SGDDT-000101-9999/1");
  request.set_expected_version(1);
  request.set_decision(v1::DECISION_APPROVE);
  request.set_request_id(NewRequestId());
  EXPECT_RPC_CODE(server().As("receiver").CompleteTask(request), grpc::StatusCode::NOT_FOUND);
  ExpectServing();
}

TEST_F(RobustnessTest, CompleteTask_UnspecifiedDecision_InvalidArgument) {
  Reply<v1::Dossier> submitted = SubmitNew(server());
  ASSERT_RPC_OK(submitted);
  EXPECT_RPC_CODE(
      server().As("receiver").CompleteTask(Completion(submitted.value, v1::DECISION_UNSPECIFIED)),
      grpc::StatusCode::INVALID_ARGUMENT);
  Reply<v1::Dossier> now = Reread(server(), submitted.value.code());
  ASSERT_RPC_OK(now);
  EXPECT_EQ(now.value.version(), 1);
}

TEST_F(RobustnessTest, GetDossier_UnknownCode_NotFound) {
  EXPECT_RPC_CODE(server().As("auditor").GetDossier("HN-SGDDT-000101-9999"),
                  grpc::StatusCode::NOT_FOUND);
}

TEST_F(RobustnessTest, GetDossier_EmptyCode_InvalidArgument) {
  EXPECT_RPC_CODE(server().As("auditor").GetDossier(""), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(RobustnessTest, RawGarbageBytes_EveryMethod_RefusedAndServerAlive) {
  // Not protobuf: a length-delimited field whose length runs past the end,
  // an end-group tag with no group, and a varint that never ends.
  const std::string garbage[] = {
      std::string("\x0a\xff\xff\xff\xff\x0f"
                  "abc",
                  9),
      std::string("\x0c\x0c\x0c", 3),
      std::string(64, '\xff'),
  };
  const char* methods[] = {
      "/motcua.v1.DossierService/SubmitDossier",     "/motcua.v1.DossierService/GetDossier",
      "/motcua.v1.DossierService/ListDossiers",      "/motcua.v1.DossierService/AddSupplement",
      "/motcua.v1.TaskService/CompleteTask",         "/motcua.v1.TaskService/ClaimTask",
      "/motcua.v1.ProcedureService/DeployProcedure", "/motcua.v1.AuditService/GetDossierHistory",
  };
  for (const char* method : methods) {
    for (const std::string& bytes : garbage) {
      SCOPED_TRACE(method);
      RawReply reply = CallRaw(server().Channel("admin"), method, bytes);
      EXPECT_EQ(reply.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
          << Describe(reply.status);
    }
  }
  ExpectServing();
}

TEST_F(RobustnessTest, UnknownMethod_Unimplemented) {
  RawReply reply = CallRaw(server().Channel("admin"), "/motcua.v1.DossierService/Explode", "");
  EXPECT_EQ(reply.status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << Describe(reply.status);
  ExpectServing();
}

TEST_F(RobustnessTest, SubmitDossier_30MiBRequest_ResourceExhaustedAndServerAlive) {
  v1::SubmitDossierRequest request = ValidSubmission();
  for (int i = 0; i < 3; ++i) {
    v1::AttachmentUpload* upload = request.add_attachments();
    upload->set_name("part" + std::to_string(i) + ".pdf");
    upload->set_media_type("application/pdf");
    upload->set_content(std::string(10 * 1024 * 1024, static_cast<char>('a' + i)));
  }
  Reply<v1::Dossier> reply = server().As("portal").Submit(request);
  EXPECT_RPC_CODE(reply, grpc::StatusCode::RESOURCE_EXHAUSTED);
  ExpectServing();
}

class MutualTlsTest : public RobustnessTest {
 protected:
  // A call a valid client could make, over `credentials`.
  grpc::Status TryGetProcedure(const std::shared_ptr<grpc::ChannelCredentials>& credentials) {
    auto channel =
        grpc::CreateCustomChannel(server().target(), credentials, TestChannelArguments());
    Client client(channel);
    return client.GetProcedure(kProcedure).status;
  }

  static void ExpectConnectionRefused(const grpc::Status& status) {
    EXPECT_TRUE(status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                status.error_code() == grpc::StatusCode::UNAUTHENTICATED)
        << Describe(status);
  }
};

TEST_F(MutualTlsTest, ClientWithoutCertificate_Refused) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ReadFile(server().pki_dir() + "/ca.crt");
  ASSERT_FALSE(options.pem_root_certs.empty());
  ExpectConnectionRefused(TryGetProcedure(grpc::SslCredentials(options)));
  ExpectServing();
}

TEST_F(MutualTlsTest, ClientCertificateFromOtherCa_Refused) {
  // A CA of our own making issues a certificate that claims to be the portal.
  const std::string dir = server().scratch_dir();
  const std::string ca_key = dir + "/other-ca.key", ca_crt = dir + "/other-ca.crt";
  const std::string key = dir + "/impostor.key", csr = dir + "/impostor.csr";
  const std::string crt = dir + "/impostor.crt", ext = dir + "/impostor.ext";
  std::ofstream(ext) << "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
                        "extendedKeyUsage=clientAuth\n";
  ASSERT_EQ(RunOpenssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-keyout", ca_key, "-out", ca_crt, "-days", "2", "-subj",
                        "/CN=motcua dev root CA"}),
            0);
  ASSERT_EQ(
      RunOpenssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                  "-keyout", key, "-out", csr, "-subj", "/OU=portal/CN=portal.dichvucong"}),
      0);
  ASSERT_EQ(RunOpenssl({"x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key,
                        "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext}),
            0);

  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ReadFile(server().pki_dir() + "/ca.crt");
  options.pem_cert_chain = ReadFile(crt);
  options.pem_private_key = ReadFile(key);
  ASSERT_FALSE(options.pem_cert_chain.empty());
  ExpectConnectionRefused(TryGetProcedure(grpc::SslCredentials(options)));
  ExpectServing();
}

TEST_F(MutualTlsTest, PlaintextClient_Refused) {
  ExpectConnectionRefused(TryGetProcedure(grpc::InsecureChannelCredentials()));
  ExpectServing();
}

}  // namespace
}  // namespace motcua::itest
