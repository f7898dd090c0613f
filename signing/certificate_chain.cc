#include "signing/certificate_chain.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509_vfy.h>

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/string_view.h"
#include "signing/openssl_util.h"

namespace motcua::signing {
namespace {

using StorePtr = std::unique_ptr<X509_STORE, OpenSslDeleter<X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OpenSslDeleter<X509_STORE_CTX_free>>;
// Borrows its certificates.
void FreeStack(STACK_OF(X509) * stack) { sk_X509_free(stack); }
using BorrowedStackPtr = std::unique_ptr<STACK_OF(X509), OpenSslDeleter<FreeStack>>;

}  // namespace

absl::StatusOr<CertificateChain> BuildChain(X509* leaf, const TrustStore& trust,
                                            STACK_OF(X509) * untrusted,
                                            const ChainOptions& options) {
  StorePtr store(X509_STORE_new());
  BorrowedStackPtr pool(sk_X509_new_null());
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (store == nullptr || pool == nullptr || ctx == nullptr) {
    return OpenSslError("building a certificate chain");
  }
  for (const TrustStore::Cert& anchor : trust.anchors()) {
    X509_STORE_add_cert(store.get(), anchor.get());
  }
  for (int i = 0; untrusted != nullptr && i < sk_X509_num(untrusted); ++i) {
    sk_X509_push(pool.get(), sk_X509_value(untrusted, i));
  }
  for (const TrustStore::Cert& cert : trust.intermediates()) sk_X509_push(pool.get(), cert.get());
  X509_VERIFY_PARAM* param = X509_STORE_get0_param(store.get());
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  if (options.ignore_validity) {
    // A set check time would override NO_CHECK_TIME.
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_NO_CHECK_TIME);
  } else {
    X509_VERIFY_PARAM_set_time(param, absl::ToTimeT(options.at));
  }
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf, pool.get()) != 1) {
    return OpenSslError("building a certificate chain");
  }
  if (X509_verify_cert(ctx.get()) != 1) {
    const int code = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return absl::FailedPreconditionError(X509_verify_cert_error_string(code));
  }
  CertificateChain chain;
  chain.certs_.reset(X509_STORE_CTX_get1_chain(ctx.get()));
  return chain;
}

bool IsMissingPath(const absl::Status& error) {
  for (int code :
       {X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
        X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
        X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE}) {
    if (error.message() == X509_verify_cert_error_string(code)) return true;
  }
  return false;
}

std::string CommonNameOf(const X509* cert) {
  const X509_NAME* name = X509_get_subject_name(cert);
  const int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (index < 0) return "";
  unsigned char* utf8 = nullptr;
  const int length =
      ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index)));
  if (length < 0) return "";
  std::string text(reinterpret_cast<char*>(utf8), static_cast<size_t>(length));
  OPENSSL_free(utf8);
  return text;
}

std::string CertificateSha256(const X509* cert) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(cert, EVP_sha256(), digest, &length) != 1) return "";
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(digest), length));
}

}  // namespace motcua::signing
