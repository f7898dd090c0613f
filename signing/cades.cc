#include "signing/cades.h"

#include <openssl/asn1.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/ts.h>

#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "signing/openssl_util.h"
#include "signing/signed_data.h"

namespace motcua::signing {
namespace {

constexpr size_t kSha256Size = 32;

using AttrStackPtr = std::unique_ptr<STACK_OF(X509_ATTRIBUTE), void (*)(STACK_OF(X509_ATTRIBUTE)*)>;

void FreeAttrStack(STACK_OF(X509_ATTRIBUTE) * attrs) {
  sk_X509_ATTRIBUTE_pop_free(attrs, X509_ATTRIBUTE_free);
}

// The signing-certificate-v2 attribute comes from CMS_CADES; signingTime is
// only ever added by CMS_SignerInfo_sign, which we never call, and the
// S/MIME capabilities are left out as PAdES does not want them.
constexpr unsigned int kSignerFlags = CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;

// An empty detached SignedData; CMS_PARTIAL keeps OpenSSL from finalising
// (and signing) it.
absl::StatusOr<CmsPtr> NewSignedData() {
  CmsPtr cms(CMS_sign(nullptr, nullptr, nullptr, nullptr, CMS_DETACHED | CMS_BINARY | CMS_PARTIAL));
  if (cms == nullptr) return OpenSslError("CMS_sign");
  return cms;
}

// Adds a SignerInfo for `signer` with SHA-256. CMS_add1_signer only compares
// the key with the certificate's, so the public key stands in for a private
// key held elsewhere.
absl::StatusOr<CMS_SignerInfo*> AddSigner(CMS_ContentInfo* cms, X509* signer, unsigned int flags) {
  CMS_SignerInfo* si = CMS_add1_signer(cms, signer, X509_get0_pubkey(signer), EVP_sha256(), flags);
  if (si == nullptr) return OpenSslError("CMS_add1_signer");
  return si;
}

// DER of the signed attributes as the SET that is signed (RFC 5652 §5.4):
// PKCS7_ATTR_SIGN sorts the elements as DER requires, as i2d of the whole
// SignerInfo does, so both encodings agree.
absl::StatusOr<std::string> EncodeSignedAttributes(CMS_SignerInfo* si) {
  std::unique_ptr<STACK_OF(X509_ATTRIBUTE), void (*)(STACK_OF(X509_ATTRIBUTE)*)> attrs(
      sk_X509_ATTRIBUTE_new_null(),
      [](STACK_OF(X509_ATTRIBUTE) * s) { sk_X509_ATTRIBUTE_free(s); });
  if (attrs == nullptr) return OpenSslError("sk_X509_ATTRIBUTE_new_null");
  for (int i = 0; i < CMS_signed_get_attr_count(si); ++i) {
    if (sk_X509_ATTRIBUTE_push(attrs.get(), CMS_signed_get_attr(si, i)) <= 0) {
      return OpenSslError("sk_X509_ATTRIBUTE_push");
    }
  }
  unsigned char* der = nullptr;
  int len = ASN1_item_i2d(reinterpret_cast<ASN1_VALUE*>(attrs.get()), &der,
                          ASN1_ITEM_rptr(PKCS7_ATTR_SIGN));
  if (len <= 0) return OpenSslError("encoding the signed attributes");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

absl::StatusOr<std::string> EncodeCms(CMS_ContentInfo* cms) {
  unsigned char* der = nullptr;
  int len = i2d_CMS_ContentInfo(cms, &der);
  if (len <= 0) return OpenSslError("i2d_CMS_ContentInfo");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

// `der` as a CMS object. Without `certificates` (for reading the SignerInfo,
// not for re-encoding) the certificate set is left out: decoding it is the
// slow part (signed_data.h).
absl::StatusOr<CmsPtr> Decode(absl::string_view der, bool certificates) {
  CmsPtr cms;
  if (certificates) {
    cms = DecodeCms(der);
  } else if (std::optional<SignedDataParts> parts = ReadSignedData(der)) {
    cms = std::move(parts->cms);
  }
  if (cms == nullptr) return absl::InvalidArgumentError("not a DER CMS ContentInfo");
  return cms;
}

absl::StatusOr<CMS_SignerInfo*> OnlySignerInfo(CMS_ContentInfo* cms) {
  STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms);
  if (infos == nullptr || sk_CMS_SignerInfo_num(infos) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("the CMS must hold exactly one SignerInfo");
  }
  return sk_CMS_SignerInfo_value(infos, 0);
}

// Checks that `token` is a time-stamp token over SHA-256 of `signature_value`.
absl::Status CheckTimestampImprint(absl::string_view token, absl::string_view signature_value) {
  const auto* p = reinterpret_cast<const unsigned char*>(token.data());
  std::unique_ptr<PKCS7, OpenSslDeleter<PKCS7_free>> p7(
      d2i_PKCS7(nullptr, &p, static_cast<long>(token.size())));
  std::unique_ptr<TS_TST_INFO, OpenSslDeleter<TS_TST_INFO_free>> info(
      p7 != nullptr ? PKCS7_to_TS_TST_INFO(p7.get()) : nullptr);
  if (info == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError("the time-stamp token is not an RFC 3161 token");
  }
  TS_MSG_IMPRINT* imprint = TS_TST_INFO_get_msg_imprint(info.get());
  const X509_ALGOR* algo = TS_MSG_IMPRINT_get_algo(imprint);
  const ASN1_OCTET_STRING* hashed = TS_MSG_IMPRINT_get_msg(imprint);
  const std::string expected = Sha256(signature_value);
  if (OBJ_obj2nid(algo->algorithm) != NID_sha256 ||
      absl::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(hashed)),
                        static_cast<size_t>(ASN1_STRING_length(hashed))) != expected) {
    return absl::InvalidArgumentError(
        "the time-stamp token is not over SHA-256 of this signature value");
  }
  return absl::OkStatus();
}

absl::Status AddTimestampAttribute(CMS_SignerInfo* si, absl::string_view token) {
  // A SEQUENCE-typed attribute value holds its whole DER encoding.
  if (CMS_unsigned_add1_attr_by_NID(si, NID_id_smime_aa_timeStampToken, V_ASN1_SEQUENCE,
                                    token.data(), static_cast<int>(token.size())) != 1) {
    return OpenSslError("adding the signature-time-stamp attribute");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> PrepareSignedAttributes(X509* signer,
                                                    absl::string_view document_sha256) {
  if (document_sha256.size() != kSha256Size) {
    return absl::InvalidArgumentError(
        absl::StrCat("a SHA-256 digest has 32 bytes, not ", document_sha256.size()));
  }
  absl::StatusOr<CmsPtr> cms = NewSignedData();
  if (!cms.ok()) return cms.status();
  absl::StatusOr<CMS_SignerInfo*> si = AddSigner(cms->get(), signer, kSignerFlags | CMS_CADES);
  if (!si.ok()) return si.status();
  if (CMS_signed_add1_attr_by_NID(*si, NID_pkcs9_contentType, V_ASN1_OBJECT,
                                  OBJ_nid2obj(NID_pkcs7_data), -1) != 1 ||
      CMS_signed_add1_attr_by_NID(*si, NID_pkcs9_messageDigest, V_ASN1_OCTET_STRING,
                                  document_sha256.data(),
                                  static_cast<int>(document_sha256.size())) != 1) {
    return OpenSslError("adding content-type and message-digest");
  }
  return EncodeSignedAttributes(*si);
}

bool VerifySignatureValue(X509* signer, absl::string_view der_signed_attributes,
                          absl::string_view signature_value) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  bool ok =
      ctx != nullptr &&
      EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, X509_get0_pubkey(signer)) ==
          1 &&
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature_value.data()),
                       signature_value.size(),
                       reinterpret_cast<const unsigned char*>(der_signed_attributes.data()),
                       der_signed_attributes.size()) == 1;
  ERR_clear_error();
  return ok;
}

absl::StatusOr<std::string> AssembleSignedData(X509* signer, const std::vector<X509*>& chain,
                                               absl::string_view der_signed_attributes,
                                               absl::string_view signature_value,
                                               absl::string_view timestamp_token) {
  if (!VerifySignatureValue(signer, der_signed_attributes, signature_value)) {
    return absl::InvalidArgumentError(
        "the signature value does not verify with the signer certificate's public key "
        "over these signed attributes (wrong key, or other attributes were signed)");
  }
  const auto* p = reinterpret_cast<const unsigned char*>(der_signed_attributes.data());
  AttrStackPtr attrs(reinterpret_cast<STACK_OF(X509_ATTRIBUTE)*>(
                         ASN1_item_d2i(nullptr, &p, static_cast<long>(der_signed_attributes.size()),
                                       ASN1_ITEM_rptr(PKCS7_ATTR_SIGN))),
                     FreeAttrStack);
  if (attrs == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError("the signed attributes are not a DER SET of attributes");
  }

  absl::StatusOr<CmsPtr> cms = NewSignedData();
  if (!cms.ok()) return cms.status();
  absl::StatusOr<CMS_SignerInfo*> si = AddSigner(cms->get(), signer, kSignerFlags | CMS_NOATTR);
  if (!si.ok()) return si.status();
  for (int i = 0; i < sk_X509_ATTRIBUTE_num(attrs.get()); ++i) {
    if (CMS_signed_add1_attr(*si, sk_X509_ATTRIBUTE_value(attrs.get(), i)) != 1) {
      return OpenSslError("CMS_signed_add1_attr");
    }
  }
  if (CMS_signed_get_attr_by_NID(*si, NID_pkcs9_messageDigest, -1) < 0 ||
      CMS_signed_get_attr_by_NID(*si, NID_pkcs9_contentType, -1) < 0) {
    return absl::InvalidArgumentError(
        "the signed attributes lack a message-digest or content-type");
  }
  // What the CMS will encode must be exactly what was signed.
  absl::StatusOr<std::string> reencoded = EncodeSignedAttributes(*si);
  if (!reencoded.ok()) return reencoded.status();
  if (*reencoded != der_signed_attributes) {
    return absl::InvalidArgumentError("the signed attributes are not in DER form");
  }
  for (X509* cert : chain) {
    if (X509_cmp(cert, signer) == 0) continue;
    if (CMS_add1_cert(cms->get(), cert) != 1) return OpenSslError("CMS_add1_cert");
  }
  if (ASN1_STRING_set(CMS_SignerInfo_get0_signature(*si), signature_value.data(),
                      static_cast<int>(signature_value.size())) != 1) {
    return OpenSslError("setting the signature value");
  }
  if (!timestamp_token.empty()) {
    if (absl::Status s = CheckTimestampImprint(timestamp_token, signature_value); !s.ok()) return s;
    if (absl::Status s = AddTimestampAttribute(*si, timestamp_token); !s.ok()) return s;
  }
  return EncodeCms(cms->get());
}

absl::StatusOr<std::string> SignDetached(const SigningKey& key, absl::string_view document_sha256) {
  absl::StatusOr<std::string> attributes =
      PrepareSignedAttributes(key.certificate(), document_sha256);
  if (!attributes.ok()) return attributes.status();
  absl::StatusOr<std::string> value = key.Sign(*attributes);
  if (!value.ok()) return value.status();
  return AssembleSignedData(key.certificate(), key.chain(), *attributes, *value);
}

absl::StatusOr<std::string> SignatureValue(absl::string_view cms_der) {
  absl::StatusOr<CmsPtr> cms = Decode(cms_der, /*certificates=*/false);
  if (!cms.ok()) return cms.status();
  absl::StatusOr<CMS_SignerInfo*> si = OnlySignerInfo(cms->get());
  if (!si.ok()) return si.status();
  const ASN1_OCTET_STRING* value = CMS_SignerInfo_get0_signature(*si);
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                     static_cast<size_t>(ASN1_STRING_length(value)));
}

absl::StatusOr<std::string> SignedMessageDigest(absl::string_view cms_der) {
  absl::StatusOr<CmsPtr> cms = Decode(cms_der, /*certificates=*/false);
  if (!cms.ok()) return cms.status();
  absl::StatusOr<CMS_SignerInfo*> si = OnlySignerInfo(cms->get());
  if (!si.ok()) return si.status();
  int at = CMS_signed_get_attr_by_NID(*si, NID_pkcs9_messageDigest, -1);
  const ASN1_OCTET_STRING* digest =
      at < 0 ? nullptr
             : static_cast<const ASN1_OCTET_STRING*>(X509_ATTRIBUTE_get0_data(
                   CMS_signed_get_attr(*si, at), 0, V_ASN1_OCTET_STRING, nullptr));
  if (digest == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError("the CMS has no message-digest attribute");
  }
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(digest)),
                     static_cast<size_t>(ASN1_STRING_length(digest)));
}

absl::StatusOr<std::string> BuildTimestampRequest(absl::string_view signature_value) {
  const std::string digest = Sha256(signature_value);
  std::unique_ptr<TS_REQ, OpenSslDeleter<TS_REQ_free>> req(TS_REQ_new());
  std::unique_ptr<TS_MSG_IMPRINT, OpenSslDeleter<TS_MSG_IMPRINT_free>> imprint(
      TS_MSG_IMPRINT_new());
  std::unique_ptr<X509_ALGOR, OpenSslDeleter<X509_ALGOR_free>> algo(X509_ALGOR_new());
  std::unique_ptr<ASN1_INTEGER, OpenSslDeleter<ASN1_INTEGER_free>> nonce(ASN1_INTEGER_new());
  unsigned char nonce_bytes[8];
  if (req == nullptr || imprint == nullptr || algo == nullptr || nonce == nullptr ||
      X509_ALGOR_set0(algo.get(), OBJ_nid2obj(NID_sha256), V_ASN1_NULL, nullptr) != 1 ||
      TS_MSG_IMPRINT_set_algo(imprint.get(), algo.get()) != 1 ||
      TS_MSG_IMPRINT_set_msg(imprint.get(),
                             reinterpret_cast<unsigned char*>(const_cast<char*>(digest.data())),
                             static_cast<int>(digest.size())) != 1 ||
      TS_REQ_set_version(req.get(), 1) != 1 ||
      TS_REQ_set_msg_imprint(req.get(), imprint.get()) != 1 ||
      RAND_bytes(nonce_bytes, sizeof(nonce_bytes)) != 1) {
    return OpenSslError("building the time-stamp request");
  }
  // Positive and without a leading zero octet: DER wants the shortest form,
  // and a first byte of 0x00 (1 in 256) made requests TSAs reject.
  nonce_bytes[0] = static_cast<unsigned char>((nonce_bytes[0] & 0x7f) | 0x40);
  if (ASN1_STRING_set(nonce.get(), nonce_bytes, sizeof(nonce_bytes)) != 1 ||
      TS_REQ_set_nonce(req.get(), nonce.get()) != 1 || TS_REQ_set_cert_req(req.get(), 1) != 1) {
    return OpenSslError("building the time-stamp request");
  }
  unsigned char* der = nullptr;
  int len = i2d_TS_REQ(req.get(), &der);
  if (len <= 0) return OpenSslError("i2d_TS_REQ");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

absl::StatusOr<std::string> AddSignatureTimestamp(absl::string_view cms_der,
                                                  absl::string_view timestamp_token) {
  absl::StatusOr<CmsPtr> cms = Decode(cms_der, /*certificates=*/true);
  if (!cms.ok()) return cms.status();
  absl::StatusOr<CMS_SignerInfo*> si = OnlySignerInfo(cms->get());
  if (!si.ok()) return si.status();
  const ASN1_OCTET_STRING* value = CMS_SignerInfo_get0_signature(*si);
  absl::string_view signature_value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                                    static_cast<size_t>(ASN1_STRING_length(value)));
  if (absl::Status s = CheckTimestampImprint(timestamp_token, signature_value); !s.ok()) return s;
  if (absl::Status s = AddTimestampAttribute(*si, timestamp_token); !s.ok()) return s;
  return EncodeCms(cms->get());
}

}  // namespace motcua::signing
