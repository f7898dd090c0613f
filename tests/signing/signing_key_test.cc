#include "signing/signing_key.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "signing/dev/dev_pki.h"
#include "tests/signing/signing_test_util.h"

namespace motcua::signing {
namespace {

using ::testing::HasSubstr;
using testing_util::Quote;
using testing_util::RunCommand;
using testing_util::SharedDevPki;
using testing_util::SoftHsmToken;
using testing_util::fs::path;

// Verifies `signature` over `data` with `openssl dgst` and the certificate's
// public key: an outside judge of Sign().
bool OpensslVerifies(X509* cert, const std::string& data, const std::string& signature) {
  testing_util::ScopedTempDir scratch("dgst");
  const path& dir = scratch.path();
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, X509_get0_pubkey(cert));
  char* pem = nullptr;
  long n = BIO_get_mem_data(bio, &pem);
  testing_util::WriteFileOrDie(dir / "pub.pem", std::string(pem, static_cast<size_t>(n)));
  BIO_free(bio);
  testing_util::WriteFileOrDie(dir / "data", data);
  testing_util::WriteFileOrDie(dir / "sig", signature);
  testing_util::CommandResult r = RunCommand(
      "openssl dgst -sha256 -verify " + Quote((dir / "pub.pem").string()) + " -signature " +
      Quote((dir / "sig").string()) + " " + Quote((dir / "data").string()));
  return r.exit_code == 0 && r.output.find("Verified OK") != std::string::npos;
}

std::string CommonName(X509* cert) {
  char cn[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn));
  return cn;
}

TEST(SigningKeyTest, Pkcs12_SignsSha256WithRsaVerifiableByOpenssl) {
  absl::StatusOr<std::unique_ptr<SigningKey>> key =
      SigningKey::LoadPkcs12((SharedDevPki() / "signers/head.p12").string(), kDevPkcs12Password);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(CommonName((*key)->certificate()), "head.hn");
  ASSERT_EQ((*key)->chain().size(), 1u);
  EXPECT_EQ(CommonName((*key)->chain()[0]), "motcua dev root CA");

  absl::StatusOr<std::string> signature = (*key)->Sign("hồ sơ 42");
  ASSERT_TRUE(signature.ok()) << signature.status();
  EXPECT_EQ(signature->size(), 256u) << "RSA-2048";
  EXPECT_TRUE(OpensslVerifies((*key)->certificate(), "hồ sơ 42", *signature));
  EXPECT_FALSE(OpensslVerifies((*key)->certificate(), "hồ sơ 43", *signature));
}

TEST(SigningKeyTest, Pkcs12_WrongPassword_IsInvalidArgument) {
  absl::StatusOr<std::unique_ptr<SigningKey>> key =
      SigningKey::LoadPkcs12((SharedDevPki() / "signers/head.p12").string(), "not the password");
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(key.status().message()), HasSubstr("wrong password"));
}

TEST(SigningKeyTest, Pkcs12_MissingFile_IsNotFound) {
  absl::StatusOr<std::unique_ptr<SigningKey>> key =
      SigningKey::LoadPkcs12((SharedDevPki() / "signers/nobody.p12").string(), "x");
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(key.status().message()), HasSubstr("nobody.p12"));
}

class Pkcs11KeyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { token_ = new SoftHsmToken(); }
  static void TearDownTestSuite() {
    delete token_;
    token_ = nullptr;
  }

  Pkcs11KeyRef Ref() const {
    return {testing_util::kSoftHsmModule, SoftHsmToken::kTokenLabel, SoftHsmToken::kKeyLabel,
            SoftHsmToken::kPin, ""};
  }

  static SoftHsmToken* token_;
};
SoftHsmToken* Pkcs11KeyTest::token_ = nullptr;

TEST_F(Pkcs11KeyTest, TokenKey_IsNeverExtractable) {
  testing_util::CommandResult r = RunCommand(token_->Tool() + " --list-objects --type privkey");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("never extractable"));
  EXPECT_THAT(r.output, HasSubstr("sensitive"));
}

TEST_F(Pkcs11KeyTest, TokenKey_SignsWithCertificateFromToken) {
  absl::StatusOr<std::unique_ptr<SigningKey>> key = SigningKey::OpenPkcs11Key(Ref());
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(CommonName((*key)->certificate()), "HN-SGDDT token seal-key");
  EXPECT_TRUE((*key)->chain().empty());
  absl::StatusOr<std::string> signature = (*key)->Sign("con dấu");
  ASSERT_TRUE(signature.ok()) << signature.status();
  EXPECT_TRUE(OpensslVerifies((*key)->certificate(), "con dấu", *signature));
  EXPECT_FALSE(OpensslVerifies((*key)->certificate(), "con dau", *signature));
}

TEST_F(Pkcs11KeyTest, EcTokenKey_SignsEcdsaVerifiableByOpenssl) {
  Pkcs11KeyRef ref = Ref();
  ref.key_label = SoftHsmToken::kEcKeyLabel;
  absl::StatusOr<std::unique_ptr<SigningKey>> key = SigningKey::OpenPkcs11Key(ref);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_TRUE(EVP_PKEY_is_a(X509_get0_pubkey((*key)->certificate()), "EC"));
  absl::StatusOr<std::string> signature = (*key)->Sign("con dấu");
  ASSERT_TRUE(signature.ok()) << signature.status();
  EXPECT_EQ((*signature)[0], '\x30') << "a DER ECDSA-Sig-Value";
  EXPECT_TRUE(OpensslVerifies((*key)->certificate(), "con dấu", *signature));
  EXPECT_FALSE(OpensslVerifies((*key)->certificate(), "con dau", *signature));
}

TEST_F(Pkcs11KeyTest, TokenKey_TakesCertificateChainFromPemFile) {
  Pkcs11KeyRef ref = Ref();
  ref.certificate_chain_path = token_->chain_pem().string();
  absl::StatusOr<std::unique_ptr<SigningKey>> key = SigningKey::OpenPkcs11Key(ref);
  ASSERT_TRUE(key.ok()) << key.status();
  ASSERT_EQ((*key)->chain().size(), 1u);
  EXPECT_EQ(CommonName((*key)->chain()[0]), "motcua dev root CA");
  absl::StatusOr<std::string> signature = (*key)->Sign("x");
  ASSERT_TRUE(signature.ok()) << signature.status();
  EXPECT_TRUE(OpensslVerifies((*key)->certificate(), "x", *signature));
}

TEST_F(Pkcs11KeyTest, ChainOfAnotherKey_IsInvalidArgument) {
  Pkcs11KeyRef ref = Ref();
  ref.certificate_chain_path = (SharedDevPki() / "signers/head.crt").string();
  absl::StatusOr<std::unique_ptr<SigningKey>> key = SigningKey::OpenPkcs11Key(ref);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(Pkcs11KeyTest, WrongPin_IsPermissionDeniedNamingTheToken) {
  Pkcs11KeyRef ref = Ref();
  ref.pin = "000000";
  absl::StatusOr<std::unique_ptr<SigningKey>> key = SigningKey::OpenPkcs11Key(ref);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), absl::StatusCode::kPermissionDenied) << key.status();
  EXPECT_THAT(std::string(key.status().message()), HasSubstr(SoftHsmToken::kTokenLabel));
}

TEST_F(Pkcs11KeyTest, UnknownToken_IsNotFoundNamingIt) {
  Pkcs11KeyRef ref = Ref();
  ref.token_label = "no-such-token";
  absl::StatusOr<std::unique_ptr<SigningKey>> key = SigningKey::OpenPkcs11Key(ref);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(key.status().message()), HasSubstr("no-such-token"));
}

TEST_F(Pkcs11KeyTest, UnknownKey_IsNotFoundNamingIt) {
  Pkcs11KeyRef ref = Ref();
  ref.key_label = "no-such-key";
  absl::StatusOr<std::unique_ptr<SigningKey>> key = SigningKey::OpenPkcs11Key(ref);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(key.status().message()), HasSubstr("no-such-key"));
}

TEST_F(Pkcs11KeyTest, MissingModule_IsNotFoundNamingIt) {
  Pkcs11KeyRef ref = Ref();
  ref.module_path = "/nonexistent/libpkcs11.so";
  absl::StatusOr<std::unique_ptr<SigningKey>> key = SigningKey::OpenPkcs11Key(ref);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(key.status().message()), HasSubstr("/nonexistent/libpkcs11.so"));
}

}  // namespace
}  // namespace motcua::signing
