#ifndef MOTCUA_SIGNING_OPENSSL_UTIL_H_
#define MOTCUA_SIGNING_OPENSSL_UTIL_H_

// Owning pointers and error reporting for OpenSSL objects. Internal to
// signing/.

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace motcua::signing {

template <auto kFree>
struct OpenSslDeleter {
  template <typename T>
  void operator()(T* p) const {
    kFree(p);
  }
};
using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO_free_all>>;
using CmsPtr = std::unique_ptr<CMS_ContentInfo, OpenSslDeleter<CMS_ContentInfo_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, OpenSslDeleter<EVP_MD_CTX_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<X509_free>>;

// INTERNAL status "<what>: <OpenSSL reasons>", draining the thread's error
// queue so the next failure does not inherit stale entries.
absl::Status OpenSslError(absl::string_view what);

// The thread's OpenSSL error queue as short text for a person ("connect
// error (host=127.0.0.1:9)"; "unknown OpenSSL error" when empty), draining it.
std::string DrainOpenSslErrors();

// The URIs of `cert`'s Authority Information Access OCSP entries and of its
// CRL distribution points (full names only), in certificate order.
std::vector<std::string> OcspUrls(X509* cert);
std::vector<std::string> CrlUrls(X509* cert);

// SHA-256 of `data`, 32 raw bytes.
std::string Sha256(absl::string_view data);

// An ASN.1 time as absl::Time; nothing when absent or unreadable.
std::optional<absl::Time> AsnTime(const ASN1_TIME* time);
// "2026-11-23T10:00:00Z": how reports and messages show times.
std::string TimeText(absl::Time time);

}  // namespace motcua::signing

#endif  // MOTCUA_SIGNING_OPENSSL_UTIL_H_
