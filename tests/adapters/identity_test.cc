#include "adapters/identity.h"

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/server_context.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/test/server_context_test_spouse.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "adapters/tls.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "signing/dev/dev_pki.h"

namespace motcua::adapters {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using workflow::Principal;

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

v1::Role RoleOfWord(const std::string& word) {
  if (word == "portal") return v1::ROLE_PORTAL;
  if (word == "officer") return v1::ROLE_OFFICER;
  if (word == "clerk") return v1::ROLE_CLERK;
  if (word == "auditor") return v1::ROLE_AUDITOR;
  if (word == "admin") return v1::ROLE_ADMIN;
  return v1::ROLE_UNSPECIFIED;
}

// A self-signed certificate whose subject has exactly `entries` (NID, value),
// for subjects the dev PKI never issues.
std::string SelfSignedPem(const std::vector<std::pair<int, std::string>>& entries) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const auto& [nid, value] : entries) {
    X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(value.data()),
                               static_cast<int>(value.size()), -1, 0);
  }
  X509_set_issuer_name(cert.get(), name);
  X509_set_version(cert.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_sign(cert.get(), key.get(), EVP_sha256());
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  PEM_write_bio_X509(bio.get(), cert.get());
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

// One dev PKI for the whole suite: issuing it is the slow part.
class IdentityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string tmpl = ::testing::TempDir() + "/identity_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = new fs::path(tmpl);
    ASSERT_TRUE(signing::EnsureDevPki(dir_->string()).ok());
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
    dir_ = nullptr;
  }
  static fs::path ClientCert(const std::string& name) {
    return *dir_ / "clients" / (name + ".crt");
  }

  static fs::path* dir_;
};
fs::path* IdentityTest::dir_ = nullptr;

TEST_F(IdentityTest, EveryDevClient_ParsesToExpectedPrincipal) {
  for (const signing::DevClient& client : signing::DevClients()) {
    absl::StatusOr<Principal> principal =
        PrincipalFromCertificatePem(ReadAll(ClientCert(client.name)));
    ASSERT_TRUE(principal.ok()) << client.name << ": " << principal.status();
    EXPECT_EQ(principal->subject, client.subject) << client.name;
    EXPECT_EQ(principal->role, RoleOfWord(client.role)) << client.name;
    EXPECT_NE(principal->role, v1::ROLE_UNSPECIFIED) << client.name;
    EXPECT_EQ(principal->unit, client.unit) << client.name;
    EXPECT_EQ(principal->position, client.position) << client.name;
  }
}

TEST_F(IdentityTest, HeadOfHanoi_HasUnitAndPosition) {
  absl::StatusOr<Principal> principal = PrincipalFromCertificatePem(ReadAll(ClientCert("head")));
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->subject, "head.hn");
  EXPECT_EQ(principal->role, v1::ROLE_OFFICER);
  EXPECT_EQ(principal->unit, "HN-SGDDT");
  EXPECT_EQ(principal->position, "head");
}

TEST(PrincipalFromCertificatePemTest, UnknownOu_IsRejectedNamingIt) {
  std::string pem =
      SelfSignedPem({{NID_commonName, "x.hn"}, {NID_organizationalUnitName, "wizard"}});
  absl::StatusOr<Principal> principal = PrincipalFromCertificatePem(pem);
  ASSERT_FALSE(principal.ok());
  EXPECT_EQ(principal.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(principal.status().message()), HasSubstr("wizard"));
}

TEST(PrincipalFromCertificatePemTest, NoCn_IsRejectedNamingCn) {
  std::string pem =
      SelfSignedPem({{NID_organizationalUnitName, "officer"}, {NID_organizationName, "HN-SGDDT"}});
  absl::StatusOr<Principal> principal = PrincipalFromCertificatePem(pem);
  ASSERT_FALSE(principal.ok());
  EXPECT_EQ(principal.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(principal.status().message()), HasSubstr("CN"));
}

TEST(PrincipalFromCertificatePemTest, NoOu_IsRejectedNamingOu) {
  std::string pem = SelfSignedPem({{NID_commonName, "x.hn"}});
  absl::StatusOr<Principal> principal = PrincipalFromCertificatePem(pem);
  ASSERT_FALSE(principal.ok());
  EXPECT_EQ(principal.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(principal.status().message()), HasSubstr("OU"));
}

TEST(PrincipalFromCertificatePemTest, RepeatedOu_IsRejected) {
  std::string pem = SelfSignedPem({{NID_commonName, "x.hn"},
                                   {NID_organizationalUnitName, "portal"},
                                   {NID_organizationalUnitName, "admin"}});
  absl::StatusOr<Principal> principal = PrincipalFromCertificatePem(pem);
  ASSERT_FALSE(principal.ok());
  EXPECT_EQ(principal.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(principal.status().message()), HasSubstr("more than one OU"));
}

TEST(PrincipalFromCertificatePemTest, EmbeddedNulInCn_IsRejected) {
  std::string pem = SelfSignedPem(
      {{NID_commonName, std::string("head.hn\0x", 9)}, {NID_organizationalUnitName, "officer"}});
  absl::StatusOr<Principal> principal = PrincipalFromCertificatePem(pem);
  ASSERT_FALSE(principal.ok());
  EXPECT_THAT(std::string(principal.status().message()), HasSubstr("NUL"));
}

TEST(PrincipalFromCertificatePemTest, GarbagePem_IsInvalidArgument) {
  for (const std::string& garbage :
       {std::string(), std::string("hello"),
        std::string("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")}) {
    absl::StatusOr<Principal> principal = PrincipalFromCertificatePem(garbage);
    ASSERT_FALSE(principal.ok()) << garbage;
    EXPECT_EQ(principal.status().code(), absl::StatusCode::kInvalidArgument) << garbage;
  }
}

TEST(PrincipalResolverTest, Insecure_ReadsIdentityFromMetadata) {
  PrincipalResolver resolver(/*insecure=*/true);
  grpc::ServerContext context;
  grpc::testing::ServerContextTestSpouse spouse(&context);
  spouse.AddClientMetadata("x-motcua-subject", "head.hn");
  spouse.AddClientMetadata("x-motcua-role", "officer");
  spouse.AddClientMetadata("x-motcua-unit", "HN-SGDDT");
  spouse.AddClientMetadata("x-motcua-position", "head");
  absl::StatusOr<Principal> principal = resolver.Resolve(context);
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->subject, "head.hn");
  EXPECT_EQ(principal->role, v1::ROLE_OFFICER);
  EXPECT_EQ(principal->unit, "HN-SGDDT");
  EXPECT_EQ(principal->position, "head");
}

TEST(PrincipalResolverTest, Insecure_MissingSubject_IsUnauthenticated) {
  PrincipalResolver resolver(/*insecure=*/true);
  grpc::ServerContext context;
  grpc::testing::ServerContextTestSpouse spouse(&context);
  spouse.AddClientMetadata("x-motcua-role", "officer");
  absl::StatusOr<Principal> principal = resolver.Resolve(context);
  ASSERT_FALSE(principal.ok());
  EXPECT_EQ(principal.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(principal.status().message()), HasSubstr("x-motcua-subject"));
}

TEST(PrincipalResolverTest, Insecure_UnknownRole_IsPermissionDenied) {
  PrincipalResolver resolver(/*insecure=*/true);
  grpc::ServerContext context;
  grpc::testing::ServerContextTestSpouse spouse(&context);
  spouse.AddClientMetadata("x-motcua-subject", "x");
  spouse.AddClientMetadata("x-motcua-role", "wizard");
  absl::StatusOr<Principal> principal = resolver.Resolve(context);
  ASSERT_FALSE(principal.ok());
  EXPECT_EQ(principal.status().code(), absl::StatusCode::kPermissionDenied);
}

TEST(PrincipalResolverTest, Secure_IgnoresMetadataWithoutCertificate) {
  PrincipalResolver resolver(/*insecure=*/false);
  grpc::ServerContext context;
  grpc::testing::ServerContextTestSpouse spouse(&context);
  spouse.AddClientMetadata("x-motcua-subject", "admin.it");
  spouse.AddClientMetadata("x-motcua-role", "admin");
  absl::StatusOr<Principal> principal = resolver.Resolve(context);
  ASSERT_FALSE(principal.ok());
  EXPECT_EQ(principal.status().code(), absl::StatusCode::kUnauthenticated);
}

// --- Over a real mutual-TLS connection ---------------------------------------

constexpr char kWhoAmI[] = "/motcua.test.Identity/WhoAmI";

// Answers every call with "subject|ROLE|unit|position" of the caller, or
// UNAUTHENTICATED with the resolver's message.
class WhoAmIService : public grpc::CallbackGenericService {
 public:
  explicit WhoAmIService(PrincipalResolver* resolver) : resolver_(resolver) {}

  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* context) override {
    class Reactor : public grpc::ServerGenericBidiReactor {
     public:
      Reactor(grpc::GenericCallbackServerContext* context, PrincipalResolver* resolver) {
        absl::StatusOr<Principal> principal = resolver->Resolve(*context);
        if (!principal.ok()) {
          Finish(grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                              std::string(principal.status().message())));
          return;
        }
        grpc::Slice slice(absl::StrCat(principal->subject, "|", v1::Role_Name(principal->role), "|",
                                       principal->unit, "|", principal->position));
        response_ = grpc::ByteBuffer(&slice, 1);
        StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
      }
      void OnDone() override { delete this; }

     private:
      grpc::ByteBuffer response_;
    };
    return new Reactor(context, resolver_);
  }

 private:
  PrincipalResolver* resolver_;
};

class MutualTlsTest : public IdentityTest {
 protected:
  void SetUp() override {
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> creds =
        ServerCredentials(DevServerFiles(dir_->string()));
    ASSERT_TRUE(creds.ok()) << creds.status();
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", *creds, &port_);
    builder.RegisterCallbackGenericService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown(std::chrono::system_clock::now());
  }

  // Calls WhoAmI on 127.0.0.1 as the given client. `server_name`, if set, is
  // the name the client checks the server certificate against instead of
  // the address (no DNS lookup, which could leave the loopback).
  grpc::Status Call(const std::shared_ptr<grpc::ChannelCredentials>& creds, std::string* reply,
                    const std::string& server_name = "") {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);  // an http_proxy in the env must not interfere
    if (!server_name.empty()) args.SetSslTargetNameOverride(server_name);
    auto channel = grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port_), creds, args);
    grpc::GenericStub stub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    grpc::Slice slice(std::string("?"));
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&context, kWhoAmI, grpc::StubOptions(), &request, &response,
                   [&done](grpc::Status status) { done.set_value(std::move(status)); });
    grpc::Status status = done.get_future().get();
    if (status.ok()) {
      std::vector<grpc::Slice> slices;
      response.Dump(&slices);
      reply->clear();
      for (const grpc::Slice& s : slices) {
        reply->append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
    }
    return status;
  }

  PrincipalResolver resolver_{/*insecure=*/false};
  WhoAmIService service_{&resolver_};
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

TEST_F(MutualTlsTest, DevClients_AreResolvedFromTheirCertificates) {
  const std::pair<std::string, std::string> expected[] = {
      {"head", "head.hn|ROLE_OFFICER|HN-SGDDT|head"},
      {"portal", "portal.dichvucong|ROLE_PORTAL||"},
      {"clerk", "clerk.hn|ROLE_CLERK|HN-SGDDT|"},
  };
  for (const auto& [name, want] : expected) {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds =
        ClientCredentials(DevClientFiles(dir_->string(), name));
    ASSERT_TRUE(creds.ok()) << creds.status();
    std::string reply;
    grpc::Status status = Call(*creds, &reply);
    ASSERT_TRUE(status.ok()) << name << ": " << status.error_message();
    EXPECT_EQ(reply, want);
  }
}

TEST_F(MutualTlsTest, ServerName_LocalhostMatchesCertificate) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds =
      ClientCredentials(DevClientFiles(dir_->string(), "auditor"));
  ASSERT_TRUE(creds.ok()) << creds.status();
  std::string reply;
  grpc::Status status = Call(*creds, &reply, "localhost");
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(reply, "auditor.thanhtra|ROLE_AUDITOR||");
  EXPECT_FALSE(Call(*creds, &reply, "example.org").ok()) << "the name check must be real";
}

TEST_F(MutualTlsTest, SecondCallWithSameCertificate_GivesSameAnswer) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds =
      ClientCredentials(DevClientFiles(dir_->string(), "head-hp"));
  ASSERT_TRUE(creds.ok()) << creds.status();
  std::string first;
  std::string second;
  ASSERT_TRUE(Call(*creds, &first).ok());
  ASSERT_TRUE(Call(*creds, &second).ok());
  EXPECT_EQ(first, "head.hp|ROLE_OFFICER|HP-SGDDT|head");
  EXPECT_EQ(second, first);
}

TEST_F(MutualTlsTest, ClientOfAnotherCa_IsRefusedAtHandshake) {
  // A second, unrelated dev PKI: its clients must not get in.
  std::string tmpl = ::testing::TempDir() + "/identity_other_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  ASSERT_TRUE(signing::EnsureDevPki(tmpl).ok());
  ClientIdentityFiles files = DevClientFiles(tmpl, "admin");
  files.ca_cert = (*dir_ / "ca.crt").string();  // trusts our server, presents a foreign cert
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds = ClientCredentials(files);
  ASSERT_TRUE(creds.ok()) << creds.status();
  std::string reply;
  grpc::Status status = Call(*creds, &reply);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  std::error_code ec;
  fs::remove_all(tmpl, ec);
}

TEST_F(IdentityTest, ClientCredentials_MissingFile_IsNotFoundNamingPath) {
  ClientIdentityFiles files = DevClientFiles(dir_->string(), "nobody");
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds = ClientCredentials(files);
  ASSERT_FALSE(creds.ok());
  EXPECT_EQ(creds.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(creds.status().message()), HasSubstr(files.cert));
}

TEST_F(IdentityTest, ClientCredentials_KeyOfAnotherClient_IsInvalidArgument) {
  ClientIdentityFiles files = DevClientFiles(dir_->string(), "head");
  files.key = DevClientFiles(dir_->string(), "clerk").key;
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds = ClientCredentials(files);
  ASSERT_FALSE(creds.ok());
  EXPECT_EQ(creds.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(creds.status().message()), HasSubstr("clerk.key"));
}

TEST(ServerCredentialsTest, MissingDirectory_IsNotFoundNamingPath) {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> creds =
      ServerCredentials(DevServerFiles("/nonexistent/motcua-pki"));
  ASSERT_FALSE(creds.ok());
  EXPECT_EQ(creds.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(creds.status().message()), HasSubstr("/nonexistent/motcua-pki/ca.crt"));
}

}  // namespace
}  // namespace motcua::adapters
