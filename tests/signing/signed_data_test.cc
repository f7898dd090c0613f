#include "signing/signed_data.h"

#include <openssl/cms.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "signing/cades.h"
#include "signing/dev/dev_pki.h"
#include "signing/signing_key.h"
#include "tests/signing/signing_test_util.h"

namespace motcua::signing {
namespace {

using testing_util::SharedDevPki;

std::string Der(X509* cert) {
  unsigned char* der = nullptr;
  int len = i2d_X509(cert, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

std::string SignatureValue(CMS_ContentInfo* cms) {
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
  ASN1_OCTET_STRING* value = CMS_SignerInfo_get0_signature(si);
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                     static_cast<size_t>(ASN1_STRING_length(value)));
}

class SignedDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<SigningKey>> key = SigningKey::LoadPkcs12(
        (SharedDevPki() / "signers" / "head.p12").string(), kDevPkcs12Password);
    ASSERT_TRUE(key.ok()) << key.status();
    absl::StatusOr<std::string> cms = SignDetached(**key, std::string(32, '\x5a'));
    ASSERT_TRUE(cms.ok()) << cms.status();
    der_ = *cms;
    const auto* p = reinterpret_cast<const unsigned char*>(der_.data());
    whole_.reset(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der_.size())));
    ASSERT_NE(whole_, nullptr);
    STACK_OF(X509)* certs = CMS_get1_certs(whole_.get());
    ASSERT_NE(certs, nullptr);
    for (int i = 0; i < sk_X509_num(certs); ++i)
      expected_certs_.push_back(Der(sk_X509_value(certs, i)));
    sk_X509_pop_free(certs, X509_free);
    ASSERT_GE(expected_certs_.size(), 2u) << "the signer and its CA are embedded";
  }

  // What the slow way gives must be what ReadSignedData gives.
  void ExpectSameAsWhole(const std::optional<SignedDataParts>& parts) {
    ASSERT_TRUE(parts.has_value());
    ASSERT_NE(parts->cms, nullptr);
    EXPECT_EQ(OBJ_obj2nid(CMS_get0_type(parts->cms.get())), NID_pkcs7_signed);
    EXPECT_EQ(SignatureValue(parts->cms.get()), SignatureValue(whole_.get()));
    std::vector<std::string> got;
    for (const X509Ptr& cert : parts->certificates) got.push_back(Der(cert.get()));
    EXPECT_EQ(got, expected_certs_);
    CMS_SignerInfo* si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(parts->cms.get()), 0);
    X509* signer = nullptr;
    for (const X509Ptr& cert : parts->certificates) {
      if (CMS_SignerInfo_cert_cmp(si, cert.get()) == 0) signer = cert.get();
    }
    ASSERT_NE(signer, nullptr) << "the signer's certificate is among them";
    CMS_SignerInfo_set1_signer_cert(si, signer);
    EXPECT_EQ(CMS_SignerInfo_verify(si), 1) << "the signed attributes survive the split";
  }

  std::string der_;
  CmsPtr whole_{nullptr};
  std::vector<std::string> expected_certs_;
};

TEST_F(SignedDataTest, GivesWhatTheWholeDecodeGives) {
  std::optional<SignedDataParts> parts = ReadSignedData(der_);
  ExpectSameAsWhole(parts);
  STACK_OF(X509)* inside = CMS_get1_certs(parts->cms.get());
  EXPECT_TRUE(inside == nullptr || sk_X509_num(inside) == 0) << "the CMS object holds none";
  sk_X509_pop_free(inside, X509_free);
}

TEST_F(SignedDataTest, IgnoresTheZeroPaddingOfAPdfContents) {
  ExpectSameAsWhole(ReadSignedData(der_ + std::string(4096, '\0')));
}

TEST_F(SignedDataTest, IndefiniteLengthsAreDecodedTheSlowWay) {
  // The same SignedData with its outer SEQUENCE in BER's indefinite form.
  const auto* p = reinterpret_cast<const unsigned char*>(der_.data());
  long length = 0;
  int tag = 0, xclass = 0;
  ASSERT_EQ(ASN1_get_object(&p, &length, &tag, &xclass, static_cast<long>(der_.size())),
            V_ASN1_CONSTRUCTED);
  std::string body(reinterpret_cast<const char*>(p), static_cast<size_t>(length));
  ExpectSameAsWhole(ReadSignedData(std::string("\x30\x80", 2) + body + std::string(2, '\0')));
}

TEST_F(SignedDataTest, RefusesWhatIsNotACms) {
  EXPECT_FALSE(ReadSignedData("").has_value());
  EXPECT_FALSE(ReadSignedData("not DER at all").has_value());
  EXPECT_FALSE(ReadSignedData(der_.substr(0, der_.size() / 2)).has_value());
  EXPECT_FALSE(ReadSignedData(expected_certs_[0]).has_value()) << "a certificate is no CMS";
}

TEST_F(SignedDataTest, ACertificateThatDoesNotDecodeFailsTheWholeCms) {
  // Flip the first certificate's inner SEQUENCE tag into an INTEGER tag.
  size_t at = der_.find(expected_certs_[0]);
  ASSERT_NE(at, std::string::npos);
  std::string broken = der_;
  broken[at + 4] = 0x02;
  const auto* p = reinterpret_cast<const unsigned char*>(broken.data());
  CMS_ContentInfo* slow = d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(broken.size()));
  EXPECT_EQ(slow, nullptr) << "OpenSSL refuses it too";
  CMS_ContentInfo_free(slow);
  EXPECT_FALSE(ReadSignedData(broken).has_value());
}

TEST_F(SignedDataTest, DecodeCertificateCachesByExactBytes) {
  X509Ptr first = DecodeCertificate(expected_certs_[0]);
  X509Ptr second = DecodeCertificate(expected_certs_[0]);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first.get(), second.get()) << "decoded once";
  EXPECT_EQ(Der(first.get()), expected_certs_[0]);
  X509Ptr other = DecodeCertificate(expected_certs_[1]);
  ASSERT_NE(other, nullptr);
  EXPECT_NE(other.get(), first.get());
  EXPECT_EQ(DecodeCertificate(expected_certs_[0] + "x"), nullptr) << "trailing bytes";
  EXPECT_EQ(DecodeCertificate(expected_certs_[0].substr(1)), nullptr);
  EXPECT_EQ(DecodeCertificate(""), nullptr);
}

}  // namespace
}  // namespace motcua::signing
