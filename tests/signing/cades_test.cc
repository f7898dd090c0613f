#include "signing/cades.h"

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "signing/dev/dev_pki.h"
#include "signing/signing_key.h"
#include "tests/signing/signing_test_util.h"

namespace motcua::signing {
namespace {

using ::testing::HasSubstr;
using testing_util::CommandResult;
using testing_util::Quote;
using testing_util::ReadFileOrDie;
using testing_util::RunCommand;
using testing_util::SharedDevPki;
using testing_util::WriteFileOrDie;
using testing_util::fs::path;

std::string Digest(const std::string& data) {
  std::string digest(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         reinterpret_cast<unsigned char*>(digest.data()));
  return digest;
}

std::unique_ptr<SigningKey> LoadSigner(const std::string& name) {
  absl::StatusOr<std::unique_ptr<SigningKey>> key = SigningKey::LoadPkcs12(
      (SharedDevPki() / "signers" / (name + ".p12")).string(), kDevPkcs12Password);
  EXPECT_TRUE(key.ok()) << key.status();
  return key.ok() ? std::move(*key) : nullptr;
}

using CmsPtr = std::unique_ptr<CMS_ContentInfo, decltype(&CMS_ContentInfo_free)>;

CmsPtr Decode(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  return CmsPtr(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())),
                &CMS_ContentInfo_free);
}

class CadesTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = scratch_.path(); }

  // `openssl cms -verify` of a detached CMS over `content` against the dev
  // root; true when it says so.
  bool OpensslVerifies(const std::string& cms_der, const std::string& content) {
    WriteFileOrDie(dir_ / "sig.der", cms_der);
    WriteFileOrDie(dir_ / "doc.bin", content);
    CommandResult r = RunCommand(
        "openssl cms -verify -binary -inform DER -in " + Quote((dir_ / "sig.der").string()) +
        " -content " + Quote((dir_ / "doc.bin").string()) + " -CAfile " +
        Quote((SharedDevPki() / "ca.crt").string()) + " -purpose any -out /dev/null");
    last_output_ = r.output;
    return r.exit_code == 0 && r.output.find("Verification successful") != std::string::npos;
  }

  testing_util::ScopedTempDir scratch_{"cades"};
  path dir_;
  std::string last_output_;
};

TEST_F(CadesTest, SignDetached_VerifiesWithOpensslCmsOverTheDocument) {
  std::unique_ptr<SigningKey> key = LoadSigner("head");
  ASSERT_NE(key, nullptr);
  const std::string document = "%PDF-1.7 văn bản ký số";
  absl::StatusOr<std::string> cms = SignDetached(*key, Digest(document));
  ASSERT_TRUE(cms.ok()) << cms.status();
  EXPECT_TRUE(OpensslVerifies(*cms, document)) << last_output_;
  EXPECT_FALSE(OpensslVerifies(*cms, document + " ")) << "another document must fail";
}

TEST_F(CadesTest, SignDetached_VerifiesWithCmsVerifyAfterDecoding) {
  std::unique_ptr<SigningKey> key = LoadSigner("head-hp");
  ASSERT_NE(key, nullptr);
  const std::string document = "giấy chứng nhận";
  absl::StatusOr<std::string> der = SignDetached(*key, Digest(document));
  ASSERT_TRUE(der.ok()) << der.status();
  CmsPtr cms = Decode(*der);
  ASSERT_NE(cms, nullptr);
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), &X509_STORE_free);
  ASSERT_EQ(X509_STORE_add_cert(store.get(), key->chain()[0]), 1);
  X509_STORE_set_purpose(store.get(), X509_PURPOSE_ANY);
  auto verify = [&](const std::string& content) {
    std::unique_ptr<BIO, decltype(&BIO_free)> in(
        BIO_new_mem_buf(content.data(), static_cast<int>(content.size())), &BIO_free);
    return CMS_verify(cms.get(), nullptr, store.get(), in.get(), nullptr, CMS_BINARY);
  };
  EXPECT_EQ(verify(document), 1);
  EXPECT_NE(verify(document + "."), 1);
  ERR_clear_error();
}

TEST_F(CadesTest, SignDetached_IsPadesBaselineB) {
  std::unique_ptr<SigningKey> key = LoadSigner("head");
  ASSERT_NE(key, nullptr);
  const std::string digest = Digest("document");
  absl::StatusOr<std::string> der = SignDetached(*key, digest);
  ASSERT_TRUE(der.ok()) << der.status();
  CmsPtr cms = Decode(*der);
  ASSERT_NE(cms, nullptr);

  EXPECT_EQ(OBJ_obj2nid(CMS_get0_type(cms.get())), NID_pkcs7_signed);
  ASN1_OCTET_STRING** content = CMS_get0_content(cms.get());
  EXPECT_TRUE(content == nullptr || *content == nullptr) << "detached";
  STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms.get());
  ASSERT_EQ(sk_CMS_SignerInfo_num(infos), 1) << "exactly one SignerInfo";
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(infos, 0);

  EXPECT_LT(CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1), 0) << "no signingTime";
  EXPECT_GE(CMS_signed_get_attr_by_NID(si, NID_pkcs9_contentType, -1), 0);
  EXPECT_GE(CMS_signed_get_attr_by_NID(si, NID_id_smime_aa_signingCertificateV2, -1), 0);
  EXPECT_LT(CMS_signed_get_attr_by_NID(si, NID_id_smime_aa_signingCertificate, -1), 0);
  EXPECT_EQ(CMS_signed_get_attr_count(si), 3) << "content-type, message-digest, signing-cert-v2";
  int md = CMS_signed_get_attr_by_NID(si, NID_pkcs9_messageDigest, -1);
  ASSERT_GE(md, 0);
  ASN1_OCTET_STRING* value = static_cast<ASN1_OCTET_STRING*>(
      X509_ATTRIBUTE_get0_data(CMS_signed_get_attr(si, md), 0, V_ASN1_OCTET_STRING, nullptr));
  ASSERT_NE(value, nullptr);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                        ASN1_STRING_length(value)),
            digest);

  X509_ALGOR* digest_alg = nullptr;
  CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &digest_alg, nullptr);
  EXPECT_EQ(OBJ_obj2nid(digest_alg->algorithm), NID_sha256);

  STACK_OF(X509)* certs = CMS_get1_certs(cms.get());
  ASSERT_EQ(sk_X509_num(certs), 2) << "signer and CA";
  // A SET: DER orders it by encoding, not by role.
  EXPECT_TRUE(X509_cmp(sk_X509_value(certs, 0), key->certificate()) == 0 ||
              X509_cmp(sk_X509_value(certs, 1), key->certificate()) == 0);
  sk_X509_pop_free(certs, X509_free);
}

TEST_F(CadesTest, PrepareSignedAttributes_IsADeterministicDerSet) {
  std::unique_ptr<SigningKey> key = LoadSigner("head");
  ASSERT_NE(key, nullptr);
  absl::StatusOr<std::string> a = PrepareSignedAttributes(key->certificate(), Digest("x"));
  absl::StatusOr<std::string> b = PrepareSignedAttributes(key->certificate(), Digest("x"));
  absl::StatusOr<std::string> c = PrepareSignedAttributes(key->certificate(), Digest("y"));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(static_cast<unsigned char>((*a)[0]), 0x31) << "SET";
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
}

TEST_F(CadesTest, PrepareSignedAttributes_DigestOfWrongSize_IsInvalidArgument) {
  std::unique_ptr<SigningKey> key = LoadSigner("head");
  ASSERT_NE(key, nullptr);
  absl::StatusOr<std::string> attrs = PrepareSignedAttributes(key->certificate(), "short");
  ASSERT_FALSE(attrs.ok());
  EXPECT_EQ(attrs.status().code(), absl::StatusCode::kInvalidArgument);
}

// Both token keys: RSA PKCS#1 v1.5 and ECDSA.
TEST_F(CadesTest, TwoPhase_TokenSignsAttributes_AssembledCmsVerifies) {
  testing_util::SoftHsmToken token;
  for (const char* label :
       {testing_util::SoftHsmToken::kKeyLabel, testing_util::SoftHsmToken::kEcKeyLabel}) {
    SCOPED_TRACE(label);
    absl::StatusOr<std::unique_ptr<SigningKey>> key = SigningKey::OpenPkcs11Key(
        {testing_util::kSoftHsmModule, testing_util::SoftHsmToken::kTokenLabel, label,
         testing_util::SoftHsmToken::kPin, token.chain_pem(label).string()});
    ASSERT_TRUE(key.ok()) << key.status();
    const std::string document = "quyết định";

    // Phase 1 (server): only the certificate is needed.
    absl::StatusOr<std::string> attrs =
        PrepareSignedAttributes((*key)->certificate(), Digest(document));
    ASSERT_TRUE(attrs.ok()) << attrs.status();
    // The holder of the key signs the attribute bytes.
    absl::StatusOr<std::string> value = (*key)->Sign(*attrs);
    ASSERT_TRUE(value.ok()) << value.status();
    // Phase 2 (server).
    EXPECT_TRUE(VerifySignatureValue((*key)->certificate(), *attrs, *value));
    absl::StatusOr<std::string> cms =
        AssembleSignedData((*key)->certificate(), (*key)->chain(), *attrs, *value);
    ASSERT_TRUE(cms.ok()) << cms.status();
    EXPECT_TRUE(OpensslVerifies(*cms, document)) << last_output_;
    EXPECT_FALSE(OpensslVerifies(*cms, "another document"));
  }
}

TEST_F(CadesTest, Assemble_ValueFromAnotherKey_IsInvalidArgument) {
  std::unique_ptr<SigningKey> head = LoadSigner("head");
  std::unique_ptr<SigningKey> other = LoadSigner("receiver");
  ASSERT_TRUE(head != nullptr && other != nullptr);
  absl::StatusOr<std::string> attrs = PrepareSignedAttributes(head->certificate(), Digest("d"));
  ASSERT_TRUE(attrs.ok());
  absl::StatusOr<std::string> value = other->Sign(*attrs);
  ASSERT_TRUE(value.ok());

  EXPECT_FALSE(VerifySignatureValue(head->certificate(), *attrs, *value));
  absl::StatusOr<std::string> cms =
      AssembleSignedData(head->certificate(), head->chain(), *attrs, *value);
  ASSERT_FALSE(cms.ok());
  EXPECT_EQ(cms.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(cms.status().message()), HasSubstr("does not verify"));
}

TEST_F(CadesTest, Assemble_ValueOverOtherAttributes_IsInvalidArgument) {
  std::unique_ptr<SigningKey> head = LoadSigner("head");
  ASSERT_NE(head, nullptr);
  absl::StatusOr<std::string> attrs = PrepareSignedAttributes(head->certificate(), Digest("d"));
  absl::StatusOr<std::string> other = PrepareSignedAttributes(head->certificate(), Digest("e"));
  ASSERT_TRUE(attrs.ok() && other.ok());
  absl::StatusOr<std::string> value = head->Sign(*other);
  ASSERT_TRUE(value.ok());
  EXPECT_FALSE(AssembleSignedData(head->certificate(), head->chain(), *attrs, *value).ok());
}

class TimestampTest : public CadesTest {
 protected:
  void SetUp() override {
    CadesTest::SetUp();
    tsa_ = std::make_unique<testing_util::TestTsa>(dir_ / "tsa");
  }
  std::string Stamp(const std::string& request) { return tsa_->Stamp(request); }

  std::unique_ptr<testing_util::TestTsa> tsa_;
};

TEST_F(TimestampTest, AddSignatureTimestamp_TokenOverSignatureValue_IsUnsignedAttribute) {
  std::unique_ptr<SigningKey> key = LoadSigner("head");
  ASSERT_NE(key, nullptr);
  const std::string document = "B-T";
  absl::StatusOr<std::string> cms = SignDetached(*key, Digest(document));
  ASSERT_TRUE(cms.ok());
  absl::StatusOr<std::string> value = SignatureValue(*cms);
  ASSERT_TRUE(value.ok());
  absl::StatusOr<std::string> request = BuildTimestampRequest(*value);
  ASSERT_TRUE(request.ok()) << request.status();
  const std::string token = Stamp(*request);

  absl::StatusOr<std::string> stamped = AddSignatureTimestamp(*cms, token);
  ASSERT_TRUE(stamped.ok()) << stamped.status();
  EXPECT_TRUE(OpensslVerifies(*stamped, document)) << last_output_;
  CmsPtr decoded = Decode(*stamped);
  ASSERT_NE(decoded, nullptr);
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(decoded.get()), 0);
  int at = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1);
  ASSERT_GE(at, 0);

  // The token in the CMS is over the signature value, as `openssl ts` says.
  ASN1_TYPE* type = X509_ATTRIBUTE_get0_type(CMS_unsigned_get_attr(si, at), 0);
  ASSERT_EQ(type->type, V_ASN1_SEQUENCE);
  WriteFileOrDie(dir_ / "embedded.der",
                 std::string(reinterpret_cast<const char*>(type->value.sequence->data),
                             type->value.sequence->length));
  WriteFileOrDie(dir_ / "value.bin", *value);
  CommandResult r =
      RunCommand("openssl ts -verify -token_in -in " + Quote((dir_ / "embedded.der").string()) +
                 " -data " + Quote((dir_ / "value.bin").string()) + " -CAfile " +
                 Quote((SharedDevPki() / "ca.crt").string()) + " -untrusted " +
                 Quote(tsa_->certificate().string()));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("Verification: OK"));
}

TEST_F(TimestampTest, Assemble_WithToken_EmbedsIt) {
  std::unique_ptr<SigningKey> key = LoadSigner("head-hp");
  ASSERT_NE(key, nullptr);
  absl::StatusOr<std::string> attrs = PrepareSignedAttributes(key->certificate(), Digest("z"));
  ASSERT_TRUE(attrs.ok());
  absl::StatusOr<std::string> value = key->Sign(*attrs);
  ASSERT_TRUE(value.ok());
  absl::StatusOr<std::string> request = BuildTimestampRequest(*value);
  ASSERT_TRUE(request.ok());
  absl::StatusOr<std::string> cms =
      AssembleSignedData(key->certificate(), key->chain(), *attrs, *value, Stamp(*request));
  ASSERT_TRUE(cms.ok()) << cms.status();
  EXPECT_TRUE(OpensslVerifies(*cms, "z")) << last_output_;
  CmsPtr decoded = Decode(*cms);
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(decoded.get()), 0);
  EXPECT_GE(CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1), 0);
}

TEST_F(TimestampTest, TokenOverAnotherSignature_IsInvalidArgument) {
  std::unique_ptr<SigningKey> key = LoadSigner("head");
  ASSERT_NE(key, nullptr);
  absl::StatusOr<std::string> cms = SignDetached(*key, Digest("one"));
  ASSERT_TRUE(cms.ok());
  absl::StatusOr<std::string> request = BuildTimestampRequest("some other signature value");
  ASSERT_TRUE(request.ok());
  absl::StatusOr<std::string> stamped = AddSignatureTimestamp(*cms, Stamp(*request));
  ASSERT_FALSE(stamped.ok());
  EXPECT_EQ(stamped.status().code(), absl::StatusCode::kInvalidArgument);
}

// A random nonce whose first byte came out 0x00 (1 in 256) used to be
// written with a leading zero octet: not DER, so `openssl ts -reply` and
// d2i_TS_REQ rejected the request. 3000 requests all parse and re-encode to
// the same bytes.
TEST(TimestampRequestTest, NonceIsAlwaysMinimalDer) {
  for (int i = 0; i < 3000; ++i) {
    absl::StatusOr<std::string> request = BuildTimestampRequest("value");
    ASSERT_TRUE(request.ok()) << request.status();
    const auto* p = reinterpret_cast<const unsigned char*>(request->data());
    std::unique_ptr<TS_REQ, decltype(&TS_REQ_free)> parsed(
        d2i_TS_REQ(nullptr, &p, static_cast<long>(request->size())), &TS_REQ_free);
    ASSERT_NE(parsed, nullptr) << "request " << i << " is not DER";
    const ASN1_INTEGER* nonce = TS_REQ_get_nonce(parsed.get());
    ASSERT_NE(nonce, nullptr);
    EXPECT_GE(ASN1_STRING_length(nonce), 7) << "at least 56 random bits";
    unsigned char* der = nullptr;
    int len = i2d_TS_REQ(parsed.get(), &der);
    ASSERT_EQ(std::string(reinterpret_cast<char*>(der), len), *request);
    OPENSSL_free(der);
  }
}

}  // namespace
}  // namespace motcua::signing
