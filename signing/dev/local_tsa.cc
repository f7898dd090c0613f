#include "signing/dev/local_tsa.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "signing/openssl_util.h"

namespace motcua::signing {
namespace {

using TsRespCtxPtr = std::unique_ptr<TS_RESP_CTX, OpenSslDeleter<TS_RESP_CTX_free>>;
using TsRespPtr = std::unique_ptr<TS_RESP, OpenSslDeleter<TS_RESP_free>>;
using Asn1ObjectPtr = std::unique_ptr<ASN1_OBJECT, OpenSslDeleter<ASN1_OBJECT_free>>;

// The example policy of openssl's tsa.cnf: a development TSA promises nothing.
constexpr char kPolicy[] = "1.2.3.4.1";

// A fresh random serial per token (RFC 3161 §2.4.2: unique per TSA).
ASN1_INTEGER* RandomSerial(TS_RESP_CTX* ctx, void*) {
  unsigned char bytes[8];
  ASN1_INTEGER* serial = ASN1_INTEGER_new();
  BIGNUM* bn = nullptr;
  if (serial != nullptr && RAND_bytes(bytes, sizeof(bytes)) == 1) {
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;  // positive, never zero
    bn = BN_bin2bn(bytes, sizeof(bytes), nullptr);
  }
  if (bn == nullptr || BN_to_ASN1_INTEGER(bn, serial) == nullptr) {
    BN_free(bn);
    ASN1_INTEGER_free(serial);
    TS_RESP_CTX_set_status_info(ctx, TS_STATUS_REJECTION, "no serial number");
    TS_RESP_CTX_add_failure_info(ctx, TS_INFO_ADD_INFO_NOT_AVAILABLE);
    return nullptr;
  }
  BN_free(bn);
  return serial;
}

class LocalAuthority : public TimestampAuthority {
 public:
  LocalAuthority(X509Ptr cert, PkeyPtr key, std::string name)
      : cert_(std::move(cert)), key_(std::move(key)), name_(std::move(name)) {}

  absl::StatusOr<std::string> Answer(absl::string_view request) const override {
    // A context holds one request's state, so each answer has its own.
    TsRespCtxPtr ctx(TS_RESP_CTX_new());
    Asn1ObjectPtr policy(OBJ_txt2obj(kPolicy, 1));
    if (ctx == nullptr || policy == nullptr ||
        TS_RESP_CTX_set_signer_cert(ctx.get(), cert_.get()) != 1 ||
        TS_RESP_CTX_set_signer_key(ctx.get(), key_.get()) != 1 ||
        TS_RESP_CTX_set_signer_digest(ctx.get(), EVP_sha256()) != 1 ||
        TS_RESP_CTX_set_ess_cert_id_digest(ctx.get(), EVP_sha256()) != 1 ||
        TS_RESP_CTX_set_def_policy(ctx.get(), policy.get()) != 1 ||
        TS_RESP_CTX_add_md(ctx.get(), EVP_sha256()) != 1 ||
        TS_RESP_CTX_set_accuracy(ctx.get(), 1, 0, 0) != 1) {
      return OpenSslError("setting up the time-stamp reply");
    }
    TS_RESP_CTX_set_serial_cb(ctx.get(), RandomSerial, nullptr);
    BioPtr in(BIO_new_mem_buf(request.data(), static_cast<int>(request.size())));
    TsRespPtr response(in != nullptr ? TS_RESP_create_response(ctx.get(), in.get()) : nullptr);
    if (response == nullptr) return OpenSslError("TS_RESP_create_response");
    unsigned char* der = nullptr;
    int len = i2d_TS_RESP(response.get(), &der);
    if (len <= 0) return OpenSslError("i2d_TS_RESP");
    std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
    OPENSSL_free(der);
    ERR_clear_error();  // a refused request's reasons are in the reply
    return out;
  }
  const std::string& name() const override { return name_; }

 private:
  const X509Ptr cert_;
  const PkeyPtr key_;
  const std::string name_;
};

absl::StatusOr<BioPtr> OpenPem(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    return absl::NotFoundError(absl::StrCat(path, " not found"));
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (bio == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
  }
  return bio;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TimestampAuthority>> OpenLocalTimestampAuthority(
    const std::string& cert_path, const std::string& key_path) {
  absl::StatusOr<BioPtr> cert_pem = OpenPem(cert_path);
  if (!cert_pem.ok()) return cert_pem.status();
  absl::StatusOr<BioPtr> key_pem = OpenPem(key_path);
  if (!key_pem.ok()) return key_pem.status();
  X509Ptr cert(PEM_read_bio_X509(cert_pem->get(), nullptr, nullptr, nullptr));
  PkeyPtr key(PEM_read_bio_PrivateKey(key_pem->get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (cert == nullptr || key == nullptr || X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat(cert_path, " and ", key_path, " are not a certificate and its key"));
  }
  // What TS_RESP_CTX_set_signer_cert will insist on for every answer.
  if (X509_check_purpose(cert.get(), X509_PURPOSE_TIMESTAMP_SIGN, 0) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat(cert_path,
                     " is not a time-stamping certificate (critical extended key usage "
                     "timeStamping only)"));
  }
  return std::make_unique<LocalAuthority>(std::move(cert), std::move(key),
                                          absl::StrCat("local TSA ", cert_path));
}

}  // namespace motcua::signing
