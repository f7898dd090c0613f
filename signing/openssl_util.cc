#include "signing/openssl_util.h"

#include <openssl/err.h>
#include <openssl/sha.h>

#include "absl/strings/str_cat.h"

namespace motcua::signing {

absl::Status OpenSslError(absl::string_view what) {
  std::string detail;
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    absl::StrAppend(&detail, detail.empty() ? "" : "; ", buf);
  }
  return absl::InternalError(absl::StrCat(what, detail.empty() ? "" : ": ", detail));
}

std::string Sha256(absl::string_view data) {
  std::string digest(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         reinterpret_cast<unsigned char*>(digest.data()));
  return digest;
}

}  // namespace motcua::signing
