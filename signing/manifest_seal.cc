#include "signing/manifest_seal.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"

namespace motcua::signing {
namespace {

template <typename T, void (*Free)(T*)>
using Owned = std::unique_ptr<T, std::integral_constant<decltype(Free), Free>>;
using Key = Owned<EVP_PKEY, EVP_PKEY_free>;
using Cert = Owned<X509, X509_free>;
using MdCtx = Owned<EVP_MD_CTX, EVP_MD_CTX_free>;
using Bio = Owned<BIO, BIO_free_all>;

std::string OpenSslReason() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buffer[256];
  ERR_error_string_n(e, buffer, sizeof(buffer));
  return buffer;
}

Cert ReadCertificate(absl::string_view pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return Cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

}  // namespace

absl::StatusOr<std::string> SignBytes(const std::string& key_file, absl::string_view data) {
  FILE* f = fopen(key_file.c_str(), "r");
  if (f == nullptr) return absl::NotFoundError(absl::StrCat("cannot open the key ", key_file));
  Key key(PEM_read_PrivateKey(f, nullptr, nullptr, nullptr));
  fclose(f);
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(key_file, " holds no PEM private key: ", OpenSslReason()));
  }
  MdCtx ctx(EVP_MD_CTX_new());
  size_t size = 0;
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &size, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) != 1) {
    return absl::InternalError(absl::StrCat("signing failed: ", OpenSslReason()));
  }
  std::string signature(size, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return absl::InternalError(absl::StrCat("signing failed: ", OpenSslReason()));
  }
  signature.resize(size);
  return signature;
}

absl::Status VerifySignedBytes(absl::string_view certificate_pem,
                               absl::string_view ca_certificate_pem, absl::string_view data,
                               absl::string_view signature) {
  Cert cert = ReadCertificate(certificate_pem);
  Cert ca = ReadCertificate(ca_certificate_pem);
  if (cert == nullptr || ca == nullptr) {
    return absl::InvalidArgumentError("the signer or CA certificate is not PEM");
  }
  Owned<X509_STORE, X509_STORE_free> store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), ca.get());
  Owned<X509_STORE_CTX, X509_STORE_CTX_free> ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr);
  if (X509_verify_cert(ctx.get()) != 1) {
    return absl::PermissionDeniedError(
        absl::StrCat("the signer certificate is not trusted: ",
                     X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()))));
  }
  MdCtx md(EVP_MD_CTX_new());
  if (EVP_DigestVerifyInit(md.get(), nullptr, EVP_sha256(), nullptr, X509_get0_pubkey(cert.get())) != 1 ||
      EVP_DigestVerify(md.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                       data.size()) != 1) {
    ERR_clear_error();
    return absl::DataLossError("the signature does not match the signed bytes");
  }
  return absl::OkStatus();
}

}  // namespace motcua::signing
