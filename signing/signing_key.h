#ifndef MOTCUA_SIGNING_SIGNING_KEY_H_
#define MOTCUA_SIGNING_SIGNING_KEY_H_

// A private key that signs, with the certificate that names its holder and
// the issuers up to (not necessarily including) a trust anchor.
//
// Two sources: a PKCS#12 file (development, tests) and a PKCS#11 token
// through libp11 (organisation seals, HSMs). A token key never leaves the
// token: every signature is computed by it.
//
// Thread safety: all const methods may be called concurrently. Sign() on a
// token key is serialised internally (one PKCS#11 session per key).

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace motcua::signing {

// Where a key lives on a PKCS#11 token.
struct Pkcs11KeyRef {
  std::string module_path;  // e.g. /usr/lib/softhsm/libsofthsm2.so
  std::string token_label;  // CKA_LABEL of the token
  std::string key_label;    // CKA_LABEL of the private key
  std::string pin;          // user PIN
  // PEM file with the signer certificate first, then its issuers. Empty: the
  // certificate is the one on the token with the key's CKA_ID, no chain.
  std::string certificate_chain_path;
};

// The key an RFC 7512 PKCS#11 URI names, e.g.
//   pkcs11:token=HN-SGDDT;object=seal?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/motcua/seal.pin
// Path attributes: token, object (the key's label); query attributes:
// module-path, and pin-source=file:PATH (the PIN file, read here; trailing
// newline ignored) or pin-value. Values may be %-encoded. Other attributes
// are refused rather than ignored, so a URI never means less than it says.
// INVALID_ARGUMENT naming what is wrong; NOT_FOUND when the PIN file cannot
// be read.
absl::StatusOr<Pkcs11KeyRef> ParsePkcs11Uri(absl::string_view uri);

class SigningKey {
 public:
  // Loads the key, its certificate and the other certificates of a PKCS#12
  // file. INVALID_ARGUMENT when the file does not parse or the password is
  // wrong, NOT_FOUND when it is missing.
  static absl::StatusOr<std::unique_ptr<SigningKey>> LoadPkcs12(const std::string& path,
                                                                const std::string& password);

  // Opens the key `ref` names. NOT_FOUND naming the module, token or key
  // that is missing; PERMISSION_DENIED for a wrong or locked PIN.
  static absl::StatusOr<std::unique_ptr<SigningKey>> OpenPkcs11Key(const Pkcs11KeyRef& ref);

  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;
  ~SigningKey();

  // The signer's certificate (owned by this object).
  X509* certificate() const { return certificate_; }
  // Issuers of certificate(), nearest first; the signer is not among them.
  const std::vector<X509*>& chain() const { return chain_; }

  // SHA-256 of `data` signed with the key: RSA PKCS#1 v1.5, or ECDSA with a
  // DER-encoded (r, s). INTERNAL with the library's reason on failure.
  absl::StatusOr<std::string> Sign(absl::string_view data) const;

 private:
  struct Token;  // a PKCS#11 session kept open for the key's lifetime
  SigningKey(EVP_PKEY* key, X509* certificate, std::vector<X509*> chain,
             std::unique_ptr<Token> token);

  EVP_PKEY* key_;
  X509* certificate_;
  std::vector<X509*> chain_;
  std::unique_ptr<Token> token_;
};

}  // namespace motcua::signing

#endif  // MOTCUA_SIGNING_SIGNING_KEY_H_
