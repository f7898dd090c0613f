#include "signing/signing_key.h"

#include <libp11.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include <cerrno>
#include <cstdio>
#include <mutex>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "signing/openssl_util.h"

namespace motcua::signing {

// A loaded PKCS#11 module with the slot list that owns the key's session.
// libp11 keys refer into the slot list, so it lives as long as the key.
struct SigningKey::Token {
  PKCS11_CTX* ctx = nullptr;
  PKCS11_SLOT* slots = nullptr;
  unsigned int slot_count = 0;
  // One session per key: PKCS#11 sessions are not to be shared by threads
  // signing at the same time.
  std::mutex sign_mutex;

  ~Token() {
    if (slots != nullptr) PKCS11_release_all_slots(ctx, slots, slot_count);
    if (ctx != nullptr) {
      PKCS11_CTX_unload(ctx);
      PKCS11_CTX_free(ctx);
    }
  }
};

namespace {

// CKR_PIN_INCORRECT, CKR_PIN_LOCKED, CKR_PIN_EXPIRED, CKR_PIN_LEN_RANGE
// (PKCS#11 v2.40 §3.6); libp11 reports a CKR as the OpenSSL error reason.
bool IsPinError(unsigned long reason) {
  return reason == 0xA0 || reason == 0xA4 || reason == 0xA3 || reason == 0xA2;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", path));
  std::string contents;
  char buf[8192];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) contents.append(buf, n);
  bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return absl::DataLossError(absl::StrCat("cannot read ", path));
  return contents;
}

// Every certificate in a PEM file, in file order.
absl::StatusOr<std::vector<X509Ptr>> ReadPemCertificates(const std::string& path) {
  absl::StatusOr<std::string> pem = ReadFile(path);
  if (!pem.ok()) return pem.status();
  BioPtr bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
  if (bio == nullptr) return OpenSslError("BIO_new_mem_buf");
  std::vector<X509Ptr> certs;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certs.emplace_back(cert);
  }
  ERR_clear_error();  // the read that ends the loop leaves "no start line"
  if (certs.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("no PEM certificate in ", path));
  }
  return certs;
}

}  // namespace

SigningKey::SigningKey(EVP_PKEY* key, X509* certificate, std::vector<X509*> chain,
                       std::unique_ptr<Token> token)
    : key_(key), certificate_(certificate), chain_(std::move(chain)), token_(std::move(token)) {}

SigningKey::~SigningKey() {
  // The key may refer to the token's session: free it first.
  EVP_PKEY_free(key_);
  X509_free(certificate_);
  for (X509* cert : chain_) X509_free(cert);
  token_.reset();
}

absl::StatusOr<std::unique_ptr<SigningKey>> SigningKey::LoadPkcs12(const std::string& path,
                                                                   const std::string& password) {
  absl::StatusOr<std::string> der = ReadFile(path);
  if (!der.ok()) return der.status();
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der->data());
  std::unique_ptr<PKCS12, OpenSslDeleter<PKCS12_free>> p12(
      d2i_PKCS12(nullptr, &p, static_cast<long>(der->size())));
  if (p12 == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a PKCS#12 file"));
  }
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  STACK_OF(X509)* others = nullptr;
  if (PKCS12_parse(p12.get(), password.c_str(), &key, &cert, &others) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat("cannot open PKCS#12 file ", path, ": wrong password or damaged file"));
  }
  PkeyPtr key_owner(key);
  X509Ptr cert_owner(cert);
  std::vector<X509*> chain;
  for (int i = 0; others != nullptr && i < sk_X509_num(others); ++i) {
    chain.push_back(sk_X509_value(others, i));
  }
  sk_X509_free(others);  // the certificates now belong to `chain`
  if (key == nullptr || cert == nullptr) {
    for (X509* c : chain) X509_free(c);
    return absl::InvalidArgumentError(
        absl::StrCat("PKCS#12 file ", path, " lacks a private key or its certificate"));
  }
  return std::unique_ptr<SigningKey>(
      new SigningKey(key_owner.release(), cert_owner.release(), std::move(chain), nullptr));
}

absl::StatusOr<std::unique_ptr<SigningKey>> SigningKey::OpenPkcs11Key(const Pkcs11KeyRef& ref) {
  auto token = std::make_unique<Token>();
  token->ctx = PKCS11_CTX_new();
  if (token->ctx == nullptr) return OpenSslError("PKCS11_CTX_new");
  if (PKCS11_CTX_load(token->ctx, ref.module_path.c_str()) != 0) {
    ERR_clear_error();
    PKCS11_CTX_free(token->ctx);
    token->ctx = nullptr;
    return absl::NotFoundError(absl::StrCat("cannot load the PKCS#11 module ", ref.module_path));
  }
  if (PKCS11_enumerate_slots(token->ctx, &token->slots, &token->slot_count) != 0) {
    return OpenSslError(absl::StrCat("PKCS11_enumerate_slots in ", ref.module_path));
  }
  PKCS11_SLOT* slot = nullptr;
  for (unsigned int i = 0; i < token->slot_count; ++i) {
    PKCS11_TOKEN* t = token->slots[i].token;
    if (t != nullptr && t->initialized && t->label != nullptr && ref.token_label == t->label) {
      slot = &token->slots[i];
      break;
    }
  }
  if (slot == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no PKCS#11 token labelled '", ref.token_label, "' in ", ref.module_path));
  }
  if (PKCS11_login(slot, /*so=*/0, ref.pin.c_str()) != 0) {
    unsigned long reason = ERR_GET_REASON(ERR_peek_last_error());
    if (IsPinError(reason)) {
      ERR_clear_error();
      return absl::PermissionDeniedError(absl::StrCat("PKCS#11 login to token '", ref.token_label,
                                                      "' refused: wrong or locked PIN"));
    }
    return OpenSslError(absl::StrCat("PKCS#11 login to token '", ref.token_label, "'"));
  }
  PKCS11_KEY* keys = nullptr;
  unsigned int key_count = 0;
  if (PKCS11_enumerate_keys(slot->token, &keys, &key_count) != 0) {
    return OpenSslError(absl::StrCat("PKCS11_enumerate_keys on token '", ref.token_label, "'"));
  }
  PKCS11_KEY* key = nullptr;
  for (unsigned int i = 0; i < key_count; ++i) {
    if (keys[i].isPrivate && keys[i].label != nullptr && ref.key_label == keys[i].label) {
      key = &keys[i];
      break;
    }
  }
  if (key == nullptr) {
    return absl::NotFoundError(absl::StrCat("no private key labelled '", ref.key_label,
                                            "' on PKCS#11 token '", ref.token_label, "'"));
  }
  PkeyPtr pkey(PKCS11_get_private_key(key));
  if (pkey == nullptr) {
    return OpenSslError(absl::StrCat("PKCS11_get_private_key '", ref.key_label, "'"));
  }

  X509Ptr cert;
  std::vector<X509*> chain;
  if (!ref.certificate_chain_path.empty()) {
    absl::StatusOr<std::vector<X509Ptr>> certs = ReadPemCertificates(ref.certificate_chain_path);
    if (!certs.ok()) return certs.status();
    cert = std::move((*certs)[0]);
    for (size_t i = 1; i < certs->size(); ++i) chain.push_back((*certs)[i].release());
  } else {
    PKCS11_CERT* token_cert = PKCS11_find_certificate(key);
    if (token_cert == nullptr || token_cert->x509 == nullptr) {
      ERR_clear_error();
      return absl::NotFoundError(absl::StrCat("no certificate for key '", ref.key_label,
                                              "' on PKCS#11 token '", ref.token_label, "'"));
    }
    cert.reset(X509_dup(token_cert->x509));
    if (cert == nullptr) return OpenSslError("X509_dup");
  }
  // A certificate for another key would make every signature fail to verify
  // much later; say so now.
  if (EVP_PKEY_eq(X509_get0_pubkey(cert.get()), pkey.get()) != 1) {
    ERR_clear_error();
    for (X509* c : chain) X509_free(c);
    return absl::InvalidArgumentError(
        absl::StrCat("the certificate for key '", ref.key_label, "' does not match that key"));
  }
  return std::unique_ptr<SigningKey>(
      new SigningKey(pkey.release(), cert.release(), std::move(chain), std::move(token)));
}

absl::StatusOr<std::string> SigningKey::Sign(absl::string_view data) const {
  std::unique_lock<std::mutex> lock;
  if (token_ != nullptr) lock = std::unique_lock<std::mutex>(token_->sign_mutex);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr) return OpenSslError("EVP_MD_CTX_new");
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_) != 1) {
    return OpenSslError("EVP_DigestSignInit");
  }
  const auto* in = reinterpret_cast<const unsigned char*>(data.data());
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, in, data.size()) != 1) {
    return OpenSslError("EVP_DigestSign (size)");
  }
  std::string signature(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len, in,
                     data.size()) != 1) {
    return OpenSslError("EVP_DigestSign");
  }
  signature.resize(len);
  return signature;
}

namespace {

// %XX-decoded `text`; nullopt for a malformed escape.
std::optional<std::string> PercentDecode(absl::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    int value = 0;
    if (i + 2 >= text.size() || !absl::ascii_isxdigit(text[i + 1]) ||
        !absl::ascii_isxdigit(text[i + 2]) || !absl::SimpleHexAtoi(text.substr(i + 1, 2), &value)) {
      return std::nullopt;
    }
    out.push_back(static_cast<char>(value));
    i += 2;
  }
  return out;
}

}  // namespace

absl::StatusOr<Pkcs11KeyRef> ParsePkcs11Uri(absl::string_view uri) {
  constexpr absl::string_view kScheme = "pkcs11:";
  if (!absl::StartsWith(uri, kScheme)) {
    return absl::InvalidArgumentError(absl::StrCat("\"", uri, "\" is not a pkcs11: URI"));
  }
  uri.remove_prefix(kScheme.size());
  absl::string_view path = uri, query;
  if (size_t q = uri.find('?'); q != absl::string_view::npos) {
    path = uri.substr(0, q);
    query = uri.substr(q + 1);
  }
  Pkcs11KeyRef ref;
  std::string pin_file;
  bool has_pin = false;
  auto take = [&](absl::string_view attribute, bool in_query) -> absl::Status {
    if (attribute.empty()) return absl::OkStatus();
    size_t eq = attribute.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("pkcs11 URI: \"", attribute, "\" has no value"));
    }
    const absl::string_view name = attribute.substr(0, eq);
    std::optional<std::string> value = PercentDecode(attribute.substr(eq + 1));
    if (!value) {
      return absl::InvalidArgumentError(absl::StrCat("pkcs11 URI: bad %-escape in ", name));
    }
    if (!in_query && name == "token") ref.token_label = *value;
    else if (!in_query && name == "object") ref.key_label = *value;
    else if (in_query && name == "module-path") ref.module_path = *value;
    else if (in_query && name == "pin-value") ref.pin = *value, has_pin = true;
    else if (in_query && name == "pin-source" && absl::StartsWith(*value, "file:")) {
      pin_file = value->substr(5);
      has_pin = true;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("pkcs11 URI: attribute \"", name, "\" is not supported here (use token, "
                       "object; module-path, pin-source=file:PATH or pin-value)"));
    }
    return absl::OkStatus();
  };
  for (absl::string_view a : absl::StrSplit(path, ';')) {
    if (absl::Status s = take(a, false); !s.ok()) return s;
  }
  for (absl::string_view a : absl::StrSplit(query, '&')) {
    if (absl::Status s = take(a, true); !s.ok()) return s;
  }
  if (ref.module_path.empty() || ref.token_label.empty() || ref.key_label.empty() || !has_pin) {
    return absl::InvalidArgumentError(
        "pkcs11 URI: token, object, module-path and a PIN (pin-source=file:PATH) are required");
  }
  if (!pin_file.empty()) {
    auto pin = ReadFile(pin_file);
    if (!pin.ok()) return absl::NotFoundError(absl::StrCat("PIN file: ", pin.status().message()));
    ref.pin = std::string(absl::StripTrailingAsciiWhitespace(*pin));
  }
  return ref;
}

}  // namespace motcua::signing
