#include "signing/manifest_seal.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"
#include "signing/certificate_chain.h"
#include "signing/openssl_util.h"
#include "signing/trust_store.h"

namespace motcua::signing {
namespace {


std::string OpenSslReason() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buffer[256];
  ERR_error_string_n(e, buffer, sizeof(buffer));
  return buffer;
}

X509Ptr ReadCertificate(absl::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

}  // namespace

absl::StatusOr<std::string> SignBytes(const std::string& key_file, absl::string_view data) {
  FILE* f = fopen(key_file.c_str(), "r");
  if (f == nullptr) return absl::NotFoundError(absl::StrCat("cannot open the key ", key_file));
  PkeyPtr key(PEM_read_PrivateKey(f, nullptr, nullptr, nullptr));
  fclose(f);
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(key_file, " holds no PEM private key: ", OpenSslReason()));
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
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
  X509Ptr cert = ReadCertificate(certificate_pem);
  TrustStore ca;
  if (cert == nullptr || !ca.AddAnchors(ca_certificate_pem).ok()) {
    return absl::InvalidArgumentError("the signer or CA certificate is not PEM");
  }
  if (auto chain = BuildChain(cert.get(), ca, nullptr, ChainOptions()); !chain.ok()) {
    return absl::PermissionDeniedError(
        absl::StrCat("the signer certificate is not trusted: ", chain.status().message()));
  }
  MdCtxPtr md(EVP_MD_CTX_new());
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
