#include "workflow/page_token.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>
#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "proto/error_reason.h"

namespace motcua::workflow {
namespace {

constexpr char kKeyName[] = "page-token-key";
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

absl::Status Invalid() {
  return WithReason(absl::InvalidArgumentError(
                        "page_token is not one this server returned for this query (a token "
                        "only pages through the query and caller it came from)"),
                    v1::PAGE_TOKEN_INVALID, "page_token");
}

}  // namespace

absl::StatusOr<PageTokens> PageTokens::Open(storage::Store* store, bool may_write) {
  std::array<unsigned char, 32> key;
  auto stored = store->Get(storage::Family::kSequences, kKeyName);
  if (stored.ok() && stored->size() == key.size()) {
    std::memcpy(key.data(), stored->data(), key.size());
    return PageTokens(key);
  }
  if (stored.ok() || !absl::IsNotFound(stored.status())) {
    return stored.ok() ? absl::DataLossError("the stored page token key has the wrong size")
                       : stored.status();
  }
  if (RAND_bytes(key.data(), key.size()) != 1) {
    return absl::InternalError("no randomness for the page token key");
  }
  if (!may_write) return PageTokens(key);
  storage::WriteSet writes;
  writes.Put(storage::Family::kSequences, kKeyName,
             absl::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
  if (absl::Status s = store->Commit(writes); !s.ok()) return s;
  return PageTokens(key);
}

std::string PageTokens::Seal(absl::string_view query, const Position& position) const {
  const std::string plain = absl::StrCat(position.part, ":", position.key);
  std::string out(kNonceBytes + plain.size() + kTagBytes, '\0');
  auto* bytes = reinterpret_cast<unsigned char*>(out.data());
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int length = 0;
  // Failures here mean a broken OpenSSL: an empty token then simply fails
  // to open on the next call rather than leaking the key.
  if (ctx == nullptr || RAND_bytes(bytes, kNonceBytes) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), bytes) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &length,
                        reinterpret_cast<const unsigned char*>(query.data()),
                        static_cast<int>(query.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), bytes + kNonceBytes, &length,
                        reinterpret_cast<const unsigned char*>(plain.data()),
                        static_cast<int>(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), bytes + kNonceBytes + length, &length) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes,
                          bytes + kNonceBytes + plain.size()) != 1) {
    return "";
  }
  return absl::WebSafeBase64Escape(out);
}

absl::StatusOr<PageTokens::Position> PageTokens::Unseal(absl::string_view token,
                                                        absl::string_view query) const {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw) || raw.size() < kNonceBytes + kTagBytes + 2) {
    return Invalid();
  }
  auto* bytes = reinterpret_cast<unsigned char*>(raw.data());
  const size_t cipher_size = raw.size() - kNonceBytes - kTagBytes;
  std::string plain(cipher_size, '\0');
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int length = 0;
  if (ctx == nullptr ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), bytes) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &length,
                        reinterpret_cast<const unsigned char*>(query.data()),
                        static_cast<int>(query.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &length,
                        bytes + kNonceBytes, static_cast<int>(cipher_size)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes,
                          bytes + kNonceBytes + cipher_size) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()) + length,
                          &length) != 1) {
    return Invalid();
  }
  Position position;
  const size_t colon = plain.find(':');
  if (colon == std::string::npos || !absl::SimpleAtoi(plain.substr(0, colon), &position.part) ||
      position.part < 0) {
    return Invalid();
  }
  position.key = plain.substr(colon + 1);
  return position;
}

}  // namespace motcua::workflow
