#include "signing/dev/dev_pki.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/synchronization/mutex.h"
#include "signing/openssl_util.h"

namespace motcua::signing {
namespace {

using BignumPtr = std::unique_ptr<BIGNUM, OpenSslDeleter<BN_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, OpenSslDeleter<X509_EXTENSION_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, OpenSslDeleter<X509_NAME_free>>;
using CrlPtr = std::unique_ptr<X509_CRL, OpenSslDeleter<X509_CRL_free>>;
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, OpenSslDeleter<ASN1_INTEGER_free>>;
using Asn1TimePtr = std::unique_ptr<ASN1_TIME, OpenSslDeleter<ASN1_TIME_free>>;

constexpr char kCaCommonName[] = "motcua dev root CA";
constexpr char kServerCommonName[] = "localhost";
constexpr char kOcspCommonName[] = "motcua dev OCSP responder";
constexpr char kTsaCommonName[] = "motcua dev TSA";
// A CRL is re-issued when it would expire within kCrlRenewWithin, so one is
// always usable for days without anybody running EnsureDevPki.
constexpr absl::Duration kCrlValidity = absl::Hours(7 * 24);
constexpr absl::Duration kCrlRenewWithin = absl::Hours(2 * 24);
constexpr long kCaValidityDays = 3650;
constexpr long kLeafValidityDays = 730;
// Re-issue before expiry rather than after, so a long-lived dev checkout does
// not one day fail every handshake at once.
constexpr int kRenewWithinDays = 30;

// kSigner: document signing (officers' signatures, organisation seals).
enum class Profile { kRootCa, kServer, kClient, kSigner, kOcspResponder, kTsa };

// Signing keys are RSA-2048, the common case for Vietnamese signing
// certificates; TLS keys are P-256.
bool WantsRsa(Profile profile) { return profile == Profile::kSigner; }

struct KeyAndCert {
  PkeyPtr key;
  X509Ptr cert;
};

// openssl_util.h's error, named as the development PKI's.
absl::Status OpenSslError(absl::string_view what) {
  return signing::OpenSslError(absl::StrCat("dev PKI: ", what));
}

absl::Status ErrnoError(int error, absl::string_view what, const std::string& path) {
  return absl::ErrnoToStatus(error, absl::StrCat("dev PKI: ", what, " ", path));
}

// --- Files -----------------------------------------------------------------

// Returns nullopt when the file does not exist (the caller creates it); any
// other read failure is an error, so a permission problem never turns into a
// silently regenerated CA.
absl::StatusOr<std::optional<std::string>> ReadFileIfExists(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return ErrnoError(errno, "cannot open", path);
  }
  std::string contents;
  char buf[8192];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int error = errno;
      close(fd);
      return ErrnoError(error, "cannot read", path);
    }
    if (n == 0) break;
    contents.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return std::optional<std::string>(std::move(contents));
}

// The rename is durable only once the directory entry is.
absl::Status FsyncDirectoryOf(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(errno, "cannot open directory", dir);
  int rc = fsync(fd);
  int error = errno;
  close(fd);
  if (rc != 0) return ErrnoError(error, "cannot fsync directory", dir);
  return absl::OkStatus();
}

// Readers see either the old file or the complete new one, never a torn key.
// mkstemp creates the temporary with mode 0600, so a private key is never
// readable by others, not even for an instant.
absl::Status WriteFileAtomically(const std::string& path, std::string_view contents, mode_t mode) {
  std::string tmp = path + ".tmp.XXXXXX";
  int fd = mkstemp(tmp.data());
  if (fd < 0) return ErrnoError(errno, "cannot create temporary for", path);
  auto fail = [&](absl::string_view what) {
    int error = errno;
    close(fd);
    unlink(tmp.c_str());
    return ErrnoError(error, what, tmp);
  };
  if (fchmod(fd, mode) != 0) return fail("cannot chmod");
  size_t written = 0;
  while (written < contents.size()) {
    ssize_t n = write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("cannot write");
    written += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) return fail("cannot fsync");
  if (close(fd) != 0) {
    int error = errno;
    unlink(tmp.c_str());
    return ErrnoError(error, "cannot close", tmp);
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    int error = errno;
    unlink(tmp.c_str());
    return ErrnoError(error, "cannot rename onto", path);
  }
  return FsyncDirectoryOf(path);
}

// Holds an exclusive flock on <dir>/.lock for its lifetime. Without it, two
// processes starting at once (parallel tests, server and CLI) could each
// create a CA and leave certificates that chain to neither.
class DirectoryLock {
 public:
  static absl::StatusOr<DirectoryLock> Acquire(const std::string& dir) {
    std::string path = dir + "/.lock";
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return ErrnoError(errno, "cannot open lock file", path);
    while (flock(fd, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      int error = errno;
      close(fd);
      return ErrnoError(error, "cannot lock", path);
    }
    return DirectoryLock(fd);
  }
  DirectoryLock(DirectoryLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  DirectoryLock& operator=(DirectoryLock&&) = delete;
  ~DirectoryLock() {
    if (fd_ >= 0) close(fd_);  // closing releases the flock
  }

 private:
  explicit DirectoryLock(int fd) : fd_(fd) {}
  int fd_;
};

// --- PEM -------------------------------------------------------------------

absl::StatusOr<std::string> BioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len < 0) return OpenSslError("BIO_get_mem_data");
  return std::string(data, static_cast<size_t>(len));
}

absl::StatusOr<std::string> KeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpenSslError("PEM_write_bio_PrivateKey");
  }
  return BioContents(bio.get());
}

absl::StatusOr<std::string> CertToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return OpenSslError("PEM_write_bio_X509");
  }
  return BioContents(bio.get());
}

// What is on disk for one certificate/key pair. A member is null when its
// file is missing or does not parse.
struct StoredPair {
  PkeyPtr key;
  X509Ptr cert;
};

absl::StatusOr<StoredPair> LoadPair(const std::string& cert_path, const std::string& key_path) {
  absl::StatusOr<std::optional<std::string>> cert_pem = ReadFileIfExists(cert_path);
  if (!cert_pem.ok()) return cert_pem.status();
  absl::StatusOr<std::optional<std::string>> key_pem = ReadFileIfExists(key_path);
  if (!key_pem.ok()) return key_pem.status();
  StoredPair pair;
  if (cert_pem->has_value()) {
    BioPtr bio(BIO_new_mem_buf((*cert_pem)->data(), static_cast<int>((*cert_pem)->size())));
    if (bio == nullptr) return OpenSslError("BIO_new_mem_buf");
    pair.cert.reset(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  }
  if (key_pem->has_value()) {
    BioPtr bio(BIO_new_mem_buf((*key_pem)->data(), static_cast<int>((*key_pem)->size())));
    if (bio == nullptr) return OpenSslError("BIO_new_mem_buf");
    pair.key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  }
  ERR_clear_error();
  return pair;
}

// Writes the certificate, and the key too unless `key_is_new` is false (the
// key on disk was kept, so rewriting it would only churn the file).
absl::Status StorePair(const KeyAndCert& pair, bool key_is_new, const std::string& cert_path,
                       const std::string& key_path) {
  absl::StatusOr<std::string> cert_pem = CertToPem(pair.cert.get());
  if (!cert_pem.ok()) return cert_pem.status();
  if (key_is_new) {
    absl::StatusOr<std::string> key_pem = KeyToPem(pair.key.get());
    if (!key_pem.ok()) return key_pem.status();
    // Key first: a crash in between leaves an old certificate beside a new
    // key, which the next run sees as a mismatch and repairs.
    if (absl::Status s = WriteFileAtomically(key_path, *key_pem, 0600); !s.ok()) return s;
  }
  return WriteFileAtomically(cert_path, *cert_pem, 0644);
}

// --- Names -----------------------------------------------------------------

absl::Status AddNameEntry(X509_NAME* name, int nid, const std::string& value) {
  if (value.empty()) return absl::OkStatus();
  if (X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(value.data()),
                                 static_cast<int>(value.size()), -1, 0) != 1) {
    return OpenSslError(absl::StrCat("X509_NAME_add_entry_by_NID ", OBJ_nid2sn(nid)));
  }
  return absl::OkStatus();
}

absl::StatusOr<X509NamePtr> CommonNameOnly(const std::string& cn) {
  X509NamePtr name(X509_NAME_new());
  if (name == nullptr) return OpenSslError("X509_NAME_new");
  if (absl::Status s = AddNameEntry(name.get(), NID_commonName, cn); !s.ok()) return s;
  return name;
}

// Most significant first (O, OU, title, CN), the usual DN order; readers
// look entries up by type, so the order only matters for display.
absl::StatusOr<X509NamePtr> ClientName(const DevClient& client) {
  X509NamePtr name(X509_NAME_new());
  if (name == nullptr) return OpenSslError("X509_NAME_new");
  const std::pair<int, const std::string*> entries[] = {
      {NID_organizationName, &client.unit},
      {NID_organizationalUnitName, &client.role},
      {NID_title, &client.position},
      {NID_commonName, &client.subject},
  };
  for (const auto& [nid, value] : entries) {
    if (absl::Status s = AddNameEntry(name.get(), nid, *value); !s.ok()) return s;
  }
  return name;
}

// --- Issuing ---------------------------------------------------------------

absl::Status AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
  if (ext == nullptr || X509_add_ext(cert, ext.get(), -1) != 1) {
    return OpenSslError(absl::StrCat("extension ", OBJ_nid2sn(nid), "=", value));
  }
  return absl::OkStatus();
}

absl::Status AddExtensions(X509* cert, X509* issuer_cert, Profile profile,
                           const DevPkiOptions& urls) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer_cert, cert, nullptr, nullptr, 0);
  struct Ext {
    int nid;
    const char* value;
  };
  std::vector<Ext> exts;
  switch (profile) {
    case Profile::kRootCa:
      exts = {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
              {NID_key_usage, "critical,keyCertSign,cRLSign"},
              {NID_subject_key_identifier, "hash"}};
      break;
    case Profile::kServer:
      exts = {{NID_basic_constraints, "critical,CA:FALSE"},
              {NID_key_usage, "critical,digitalSignature"},
              {NID_ext_key_usage, "serverAuth"},
              {NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1"},
              {NID_subject_key_identifier, "hash"},
              {NID_authority_key_identifier, "keyid:always"}};
      break;
    case Profile::kClient:
      exts = {{NID_basic_constraints, "critical,CA:FALSE"},
              {NID_key_usage, "critical,digitalSignature"},
              {NID_ext_key_usage, "clientAuth"},
              {NID_subject_key_identifier, "hash"},
              {NID_authority_key_identifier, "keyid:always"}};
      break;
    case Profile::kSigner:
      // No extended key usage: NSS (pdfsig) checks signing certificates for
      // email-signer usage, which a clientAuth-only EKU would fail.
      exts = {{NID_basic_constraints, "critical,CA:FALSE"},
              {NID_key_usage, "critical,digitalSignature,nonRepudiation"},
              {NID_subject_key_identifier, "hash"},
              {NID_authority_key_identifier, "keyid:always"}};
      break;
    case Profile::kOcspResponder:
      // ocsp-nocheck: nobody asks the responder about its own certificate.
      exts = {{NID_basic_constraints, "critical,CA:FALSE"},
              {NID_key_usage, "critical,digitalSignature"},
              {NID_ext_key_usage, "OCSPSigning"},
              {NID_id_pkix_OCSP_noCheck, "ignored"},
              {NID_subject_key_identifier, "hash"},
              {NID_authority_key_identifier, "keyid:always"}};
      break;
    case Profile::kTsa:
      // RFC 3161 §2.3: the timeStamping extended key usage, critical.
      exts = {{NID_basic_constraints, "critical,CA:FALSE"},
              {NID_key_usage, "critical,digitalSignature,nonRepudiation"},
              {NID_ext_key_usage, "critical,timeStamping"},
              {NID_subject_key_identifier, "hash"},
              {NID_authority_key_identifier, "keyid:always"}};
      break;
  }
  // Certificates whose revocation a verifier checks name where to ask.
  const bool names_services = profile == Profile::kSigner || profile == Profile::kTsa;
  const std::string aia = "OCSP;URI:" + urls.ocsp_url;
  const std::string cdp = "URI:" + urls.crl_url;
  if (names_services && !urls.ocsp_url.empty()) {
    exts.push_back({NID_info_access, aia.c_str()});
  }
  if (names_services && !urls.crl_url.empty()) {
    exts.push_back({NID_crl_distribution_points, cdp.c_str()});
  }
  for (const Ext& ext : exts) {
    if (absl::Status s = AddExtension(cert, &ctx, ext.nid, ext.value); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// Issues a certificate for `subject` and `key` (a new key of the profile's
// kind when null),
// signed by `issuer`, or self-signed when `issuer` is null.
absl::StatusOr<KeyAndCert> Issue(const X509_NAME* subject, PkeyPtr key, const KeyAndCert* issuer,
                                 Profile profile, const DevPkiOptions& urls) {
  KeyAndCert out;
  if (key != nullptr) {
    out.key = std::move(key);
  } else {
    out.key.reset(WantsRsa(profile) ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256"));
    if (out.key == nullptr) return OpenSslError("generating a key");
  }
  out.cert.reset(X509_new());
  X509* cert = out.cert.get();
  if (cert == nullptr) return OpenSslError("X509_new");

  // 159 random bits: unique across re-issues without keeping a counter, and
  // positive in DER as RFC 5280 requires.
  BignumPtr serial(BN_new());
  if (serial == nullptr || BN_rand(serial.get(), 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) == nullptr) {
    return OpenSslError("serial number");
  }
  // Backdated by an hour: containers and hosts whose clocks differ a little
  // must still accept a certificate made a moment ago.
  const long days = profile == Profile::kRootCa ? kCaValidityDays : kLeafValidityDays;
  if (X509_set_version(cert, X509_VERSION_3) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(cert), -3600) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert), static_cast<int>(days), 0, nullptr) == nullptr ||
      X509_set_subject_name(cert, subject) != 1 ||
      X509_set_issuer_name(
          cert, issuer != nullptr ? X509_get_subject_name(issuer->cert.get()) : subject) != 1 ||
      X509_set_pubkey(cert, out.key.get()) != 1) {
    return OpenSslError("certificate fields");
  }
  X509* issuer_cert = issuer != nullptr ? issuer->cert.get() : cert;
  if (absl::Status s = AddExtensions(cert, issuer_cert, profile, urls); !s.ok()) return s;
  EVP_PKEY* signing_key = issuer != nullptr ? issuer->key.get() : out.key.get();
  if (X509_sign(cert, signing_key, EVP_sha256()) <= 0) return OpenSslError("X509_sign");
  return out;
}

// --- Reuse checks ----------------------------------------------------------

bool IsRsa2048(const EVP_PKEY* key) {
  return EVP_PKEY_is_a(key, "RSA") && EVP_PKEY_get_bits(key) == 2048;
}

bool IsP256(const EVP_PKEY* key) {
  char group[64];
  size_t len = 0;
  bool ok = EVP_PKEY_is_a(key, "EC") &&
            EVP_PKEY_get_group_name(key, group, sizeof(group), &len) == 1 &&
            std::string_view(group, len) == "prime256v1";
  ERR_clear_error();
  return ok;
}

bool ExpiresSoon(const X509* cert) {
  int days = 0;
  int seconds = 0;
  if (ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(cert)) != 1) return true;
  return days < kRenewWithinDays;
}

std::string FirstOrEmpty(const std::vector<std::string>& items) {
  return items.empty() ? "" : items.front();
}

// True when `pair` can be kept: the key matches, `issuer` (the pair itself
// for the root) signed it, the subject is the expected one, a signing
// or TSA certificate names the wanted revocation URLs, and it is not about to
// expire. Anything else means re-issue.
bool Reusable(const KeyAndCert& pair, const KeyAndCert& issuer, const X509_NAME* subject,
              Profile profile, const DevPkiOptions& urls) {
  X509* cert = pair.cert.get();
  bool ok = X509_check_private_key(cert, pair.key.get()) == 1 &&
            X509_check_issued(issuer.cert.get(), cert) == X509_V_OK &&
            X509_verify(cert, X509_get0_pubkey(issuer.cert.get())) == 1 &&
            X509_NAME_cmp(X509_get_subject_name(cert), subject) == 0 && !ExpiresSoon(cert) &&
            ((profile != Profile::kSigner && profile != Profile::kTsa) ||
             (FirstOrEmpty(OcspUrls(cert)) == urls.ocsp_url &&
              FirstOrEmpty(CrlUrls(cert)) == urls.crl_url));
  ERR_clear_error();
  return ok;
}

// Reuses the pair at the given paths if Reusable, else issues and stores a
// new certificate. The key on disk is kept when it is of the profile's kind, so
// re-issuing after a lost certificate or a new CA rewrites only the .crt.
// `issuer` null: the root CA. `*issued` (if given) tells whether it issued.
absl::StatusOr<KeyAndCert> EnsurePair(const std::string& cert_path, const std::string& key_path,
                                      const X509_NAME* subject, const KeyAndCert* issuer,
                                      Profile profile, const DevPkiOptions& urls = {},
                                      bool* issued = nullptr) {
  if (issued != nullptr) *issued = false;
  absl::StatusOr<StoredPair> stored = LoadPair(cert_path, key_path);
  if (!stored.ok()) return stored.status();
  if (stored->key != nullptr && stored->cert != nullptr) {
    KeyAndCert pair{std::move(stored->key), std::move(stored->cert)};
    if (Reusable(pair, issuer != nullptr ? *issuer : pair, subject, profile, urls)) return pair;
    stored->key = std::move(pair.key);
  }
  PkeyPtr key;
  if (stored->key != nullptr &&
      (WantsRsa(profile) ? IsRsa2048(stored->key.get()) : IsP256(stored->key.get()))) {
    key = std::move(stored->key);
  }
  const bool key_is_new = key == nullptr;
  absl::StatusOr<KeyAndCert> fresh = Issue(subject, std::move(key), issuer, profile, urls);
  if (!fresh.ok()) return fresh.status();
  if (absl::Status s = StorePair(*fresh, key_is_new, cert_path, key_path); !s.ok()) return s;
  if (issued != nullptr) *issued = true;
  return fresh;
}

// --- PKCS#12 ---------------------------------------------------------------

// True when the PKCS#12 file at `path` opens with the dev password and holds
// exactly `pair`. PKCS#12 files have a random salt, so they are rewritten
// only when stale.
absl::StatusOr<bool> Pkcs12IsCurrent(const std::string& path, const KeyAndCert& pair) {
  absl::StatusOr<std::optional<std::string>> der = ReadFileIfExists(path);
  if (!der.ok()) return der.status();
  if (!der->has_value()) return false;
  const auto* p = reinterpret_cast<const unsigned char*>((*der)->data());
  std::unique_ptr<PKCS12, OpenSslDeleter<PKCS12_free>> p12(
      d2i_PKCS12(nullptr, &p, static_cast<long>((*der)->size())));
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  STACK_OF(X509)* others = nullptr;
  bool current =
      p12 != nullptr && PKCS12_parse(p12.get(), kDevPkcs12Password, &key, &cert, &others) == 1 &&
      key != nullptr && cert != nullptr && X509_cmp(cert, pair.cert.get()) == 0 &&
      EVP_PKEY_eq(key, pair.key.get()) == 1 && others != nullptr && sk_X509_num(others) == 1;
  EVP_PKEY_free(key);
  X509_free(cert);
  sk_X509_pop_free(others, X509_free);
  ERR_clear_error();
  return current;
}

// <stem>.p12: the signer's key and certificate with the CA certificate.
absl::Status EnsurePkcs12(const std::string& path, const std::string& friendly_name,
                          const KeyAndCert& pair, const KeyAndCert& ca) {
  absl::StatusOr<bool> current = Pkcs12IsCurrent(path, pair);
  if (!current.ok()) return current.status();
  if (*current) return absl::OkStatus();
  std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)> cas(
      sk_X509_new_null(), [](STACK_OF(X509) * s) { sk_X509_free(s); });
  if (cas == nullptr || sk_X509_push(cas.get(), ca.cert.get()) <= 0) {
    return OpenSslError("sk_X509_push");
  }
  std::unique_ptr<PKCS12, OpenSslDeleter<PKCS12_free>> p12(
      PKCS12_create(kDevPkcs12Password, friendly_name.c_str(), pair.key.get(), pair.cert.get(),
                    cas.get(), 0, 0, 0, 0, 0));
  if (p12 == nullptr) return OpenSslError("PKCS12_create");
  unsigned char* der = nullptr;
  int len = i2d_PKCS12(p12.get(), &der);
  if (len <= 0) return OpenSslError("i2d_PKCS12");
  std::string contents(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return WriteFileAtomically(path, contents, 0600);
}

// --- Sample images ---------------------------------------------------------

// An RGBA canvas of one colour whose alpha is the coverage of the shapes
// drawn, encoded as PNG (8-bit RGBA, no interlace).
class Canvas {
 public:
  Canvas(int width, int height, uint8_t r, uint8_t g, uint8_t b)
      : width_(width),
        height_(height),
        rgb_{r, g, b},
        alpha_(static_cast<size_t>(width) * height, 0.0) {}

  // Paints every pixel by the fraction of its 4x4 sample points `inside`.
  template <typename Inside>
  void Fill(Inside inside) {
    for (int y = 0; y < height_; ++y) {
      for (int x = 0; x < width_; ++x) {
        int hits = 0;
        for (int sy = 0; sy < 4; ++sy) {
          for (int sx = 0; sx < 4; ++sx) {
            hits += inside(x + (sx + 0.5) / 4, y + (sy + 0.5) / 4) ? 1 : 0;
          }
        }
        double& a = alpha_[static_cast<size_t>(y) * width_ + x];
        a = std::max(a, hits / 16.0);
      }
    }
  }

  // A round pen of `radius` at (cx, cy), with a soft one-pixel edge.
  void Dot(double cx, double cy, double radius) {
    for (int y = std::max(0, static_cast<int>(cy - radius - 1));
         y <= std::min(height_ - 1, static_cast<int>(cy + radius + 1)); ++y) {
      for (int x = std::max(0, static_cast<int>(cx - radius - 1));
           x <= std::min(width_ - 1, static_cast<int>(cx + radius + 1)); ++x) {
        double d = std::hypot(x + 0.5 - cx, y + 0.5 - cy);
        double cover = std::clamp(radius + 0.5 - d, 0.0, 1.0);
        double& a = alpha_[static_cast<size_t>(y) * width_ + x];
        a = std::max(a, cover);
      }
    }
  }

  absl::StatusOr<std::string> EncodePng() const {
    std::string raw;
    raw.reserve(static_cast<size_t>(height_) * (1 + 4 * width_));
    for (int y = 0; y < height_; ++y) {
      raw.push_back('\0');  // filter: none
      for (int x = 0; x < width_; ++x) {
        raw.append(
            {static_cast<char>(rgb_[0]), static_cast<char>(rgb_[1]), static_cast<char>(rgb_[2]),
             static_cast<char>(std::lround(alpha_[static_cast<size_t>(y) * width_ + x] * 255))});
      }
    }
    uLongf packed_size = compressBound(static_cast<uLong>(raw.size()));
    std::string packed(packed_size, '\0');
    if (compress2(reinterpret_cast<Bytef*>(packed.data()), &packed_size,
                  reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size()),
                  Z_DEFAULT_COMPRESSION) != Z_OK) {
      return absl::InternalError("dev PKI: zlib compress2 failed");
    }
    packed.resize(packed_size);

    std::string header;
    AppendBigEndian(&header, static_cast<uint32_t>(width_));
    AppendBigEndian(&header, static_cast<uint32_t>(height_));
    header.append({8, 6, 0, 0, 0});  // 8 bits, RGBA, deflate, filter 0, no interlace
    std::string png("\x89PNG\r\n\x1a\n", 8);
    AppendChunk(&png, "IHDR", header);
    AppendChunk(&png, "IDAT", packed);
    AppendChunk(&png, "IEND", "");
    return png;
  }

 private:
  static void AppendBigEndian(std::string* out, uint32_t v) {
    out->append({static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                 static_cast<char>(v)});
  }

  static void AppendChunk(std::string* png, const char type[5], const std::string& data) {
    AppendBigEndian(png, static_cast<uint32_t>(data.size()));
    std::string typed = std::string(type, 4) + data;
    png->append(typed);
    AppendBigEndian(png,
                    static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(typed.data()),
                                                static_cast<uInt>(typed.size()))));
  }

  int width_;
  int height_;
  uint8_t rgb_[3];
  std::vector<double> alpha_;
};

// A blue handwritten-looking scribble; `name` seeds its shape so signers'
// images differ, always the same for the same name.
absl::StatusOr<std::string> SignaturePng(const std::string& name) {
  uint32_t seed = 2166136261u;  // FNV-1a
  for (unsigned char c : name) seed = (seed ^ c) * 16777619u;
  auto param = [&](int i) { return ((seed >> (3 * i)) & 7) / 7.0; };
  constexpr double kPi = 3.14159265358979323846;
  Canvas canvas(360, 140, 0x1f, 0x3a, 0xb8);
  for (int i = 0; i <= 4000; ++i) {
    double t = i / 4000.0;
    double x = 30 + 290 * t + 22 * std::sin(2 * kPi * (5 + 2 * param(0)) * t);
    double y = 72 + (28 + 8 * param(1)) * std::sin(2 * kPi * (1.5 + param(2)) * t + param(3)) +
               20 * std::cos(2 * kPi * (5 + 2 * param(0)) * t);
    canvas.Dot(x, y, 2.2);
  }
  for (int i = 0; i <= 600; ++i) {  // the underline flourish
    double t = i / 600.0;
    canvas.Dot(60 + 260 * t, 118 - 10 * std::sin(kPi * t), 1.6);
  }
  return canvas.EncodePng();
}

// A red round seal: a double ring around a five-pointed star.
absl::StatusOr<std::string> SealPng() {
  constexpr double kPi = 3.14159265358979323846;
  constexpr double kC = 120;
  Canvas canvas(240, 240, 0xd0, 0x10, 0x1c);
  canvas.Fill([&](double x, double y) {
    double r = std::hypot(x - kC, y - kC);
    return (r >= 108 && r <= 117) || (r >= 92 && r <= 95);
  });
  std::vector<std::pair<double, double>> star;
  for (int i = 0; i < 10; ++i) {
    double radius = i % 2 == 0 ? 60 : 24;
    double angle = -kPi / 2 + i * kPi / 5;
    star.emplace_back(kC + radius * std::cos(angle), kC + radius * std::sin(angle));
  }
  canvas.Fill([&](double x, double y) {
    bool inside = false;  // even-odd rule
    for (size_t i = 0, j = star.size() - 1; i < star.size(); j = i++) {
      auto [xi, yi] = star[i];
      auto [xj, yj] = star[j];
      if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  });
  return canvas.EncodePng();
}

// Writes `contents` to `path` unless the file already holds exactly that.
absl::Status EnsureFileContents(const std::string& path, const std::string& contents) {
  absl::StatusOr<std::optional<std::string>> existing = ReadFileIfExists(path);
  if (!existing.ok()) return existing.status();
  if (existing->has_value() && **existing == contents) return absl::OkStatus();
  return WriteFileAtomically(path, contents, 0644);
}

// Signers: one per officer, same stem and subject as the officer's client
// certificate; one seal per unit, O=CN=<unit>.
absl::StatusOr<X509NamePtr> SignerName(const DevSigner& signer) {
  if (signer.seal) {
    X509NamePtr name(X509_NAME_new());
    if (name == nullptr) return OpenSslError("X509_NAME_new");
    if (absl::Status s = AddNameEntry(name.get(), NID_organizationName, signer.unit); !s.ok()) {
      return s;
    }
    if (absl::Status s = AddNameEntry(name.get(), NID_commonName, signer.unit); !s.ok()) return s;
    return name;
  }
  for (const DevClient& client : DevClients()) {
    if (client.name == signer.name) return ClientName(client);
  }
  return absl::InternalError(absl::StrCat("dev PKI: no client for signer ", signer.name));
}

// Also appends every signer's certificate to `issued`.
absl::Status EnsureSigners(const std::string& dir, const KeyAndCert& ca, const DevPkiOptions& urls,
                           std::vector<X509Ptr>* issued) {
  const std::string signers_dir = dir + "/signers";
  const std::string images_dir = dir + "/images";
  for (const std::string& d : {signers_dir, images_dir}) {
    std::error_code ec;
    std::filesystem::create_directories(d, ec);
    if (ec) return ErrnoError(ec.value(), "cannot create directory", d);
  }
  for (const DevSigner& signer : DevSigners()) {
    absl::StatusOr<X509NamePtr> name = SignerName(signer);
    if (!name.ok()) return name.status();
    const std::string stem = signers_dir + "/" + signer.name;
    absl::StatusOr<KeyAndCert> pair =
        EnsurePair(stem + ".crt", stem + ".key", name->get(), &ca, Profile::kSigner, urls);
    if (!pair.ok()) return pair.status();
    X509_up_ref(pair->cert.get());
    issued->emplace_back(pair->cert.get());
    if (absl::Status s = EnsurePkcs12(stem + ".p12", signer.name, *pair, ca); !s.ok()) return s;
    if (!signer.seal) {
      absl::StatusOr<std::string> png = SignaturePng(signer.name);
      if (!png.ok()) return png.status();
      if (absl::Status s =
              EnsureFileContents(images_dir + "/" + signer.name + "-signature.png", *png);
          !s.ok()) {
        return s;
      }
    }
  }
  absl::StatusOr<std::string> seal = SealPng();
  if (!seal.ok()) return seal.status();
  for (const DevSigner& signer : DevSigners()) {
    if (!signer.seal) continue;
    if (absl::Status s = EnsureFileContents(images_dir + "/" + signer.unit + "-seal.png", *seal);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

// --- Certificate database and CRL ------------------------------------------

// One line of an `openssl ca` index: status V/R/E, expiry, revocation
// ("<UTCTime>[,<reason>]"), serial (upper-case hex), file ("unknown"),
// subject (one-line form).
struct IndexEntry {
  std::string status;
  std::string expiry;
  std::string revocation;
  std::string serial;
  std::string file;
  std::string subject;
  std::string Line() const {
    return absl::StrJoin({status, expiry, revocation, serial, file, subject}, "\t") + "\n";
  }
};

// The names `openssl ca` writes after a revocation time, by RFC 5280 code
// (7 is unused; 9 and 10 it does not know).
constexpr const char* kReasonNames[] = {
    "unspecified",          "keyCompromise",   "CACompromise", "affiliationChanged", "superseded",
    "cessationOfOperation", "certificateHold", nullptr,        "removeFromCRL"};

int ReasonCode(absl::string_view name) {
  for (int i = 0; i < static_cast<int>(std::size(kReasonNames)); ++i) {
    if (kReasonNames[i] != nullptr && name == kReasonNames[i]) return i;
  }
  return -1;
}

// index.txt's `text`, read from `path`.
absl::StatusOr<std::vector<IndexEntry>> ParseIndex(absl::string_view text,
                                                   const std::string& path) {
  std::vector<IndexEntry> entries;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::vector<std::string> fields = absl::StrSplit(line, '\t');
    if (fields.size() != 6) {
      return absl::DataLossError(absl::StrCat("dev PKI: malformed line in ", path, ": ", line));
    }
    entries.push_back({fields[0], fields[1], fields[2], fields[3], fields[4], fields[5]});
  }
  return entries;
}

absl::StatusOr<std::vector<IndexEntry>> ReadIndex(const std::string& path) {
  absl::StatusOr<std::optional<std::string>> text = ReadFileIfExists(path);
  if (!text.ok()) return text.status();
  return ParseIndex(text->value_or(""), path);
}

std::string IndexText(const std::vector<IndexEntry>& entries) {
  std::string text;
  for (const IndexEntry& entry : entries) text += entry.Line();
  return text;
}

absl::StatusOr<std::string> SerialHex(const X509* cert) {
  BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  char* hex = bn != nullptr ? BN_bn2hex(bn.get()) : nullptr;
  if (hex == nullptr) return OpenSslError("serial number to hex");
  std::string out = hex;
  OPENSSL_free(hex);
  return BN_is_zero(bn.get()) ? "00" : out;
}

absl::StatusOr<IndexEntry> ValidEntry(X509* cert) {
  absl::StatusOr<std::string> serial = SerialHex(cert);
  if (!serial.ok()) return serial.status();
  const ASN1_TIME* not_after = X509_get0_notAfter(cert);
  char* subject = X509_NAME_oneline(X509_get_subject_name(cert), nullptr, 0);
  if (subject == nullptr) return OpenSslError("X509_NAME_oneline");
  IndexEntry entry{"V",
                   std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(not_after)),
                               static_cast<size_t>(ASN1_STRING_length(not_after))),
                   "",
                   *serial,
                   "unknown",
                   subject};
  OPENSSL_free(subject);
  return entry;
}

// The revoked serials of `entries`, with time and reason, as a CRL signed
// by `ca`.
absl::StatusOr<std::string> MakeCrl(const std::vector<IndexEntry>& entries, const KeyAndCert& ca,
                                    absl::Time now) {
  CrlPtr crl(X509_CRL_new());
  Asn1TimePtr last(ASN1_TIME_new());
  Asn1TimePtr next(ASN1_TIME_new());
  if (crl == nullptr || last == nullptr || next == nullptr ||
      X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca.cert.get())) != 1 ||
      ASN1_TIME_set(last.get(), absl::ToTimeT(now)) == nullptr ||
      ASN1_TIME_set(next.get(), absl::ToTimeT(now + kCrlValidity)) == nullptr ||
      X509_CRL_set1_lastUpdate(crl.get(), last.get()) != 1 ||
      X509_CRL_set1_nextUpdate(crl.get(), next.get()) != 1) {
    return OpenSslError("CRL fields");
  }
  for (const IndexEntry& entry : entries) {
    if (entry.status != "R") continue;
    std::vector<std::string> revocation = absl::StrSplit(entry.revocation, ',');
    BIGNUM* bn = nullptr;
    std::unique_ptr<X509_REVOKED, OpenSslDeleter<X509_REVOKED_free>> revoked(X509_REVOKED_new());
    Asn1TimePtr when(ASN1_TIME_new());
    if (revoked == nullptr || when == nullptr || BN_hex2bn(&bn, entry.serial.c_str()) == 0 ||
        ASN1_TIME_set_string(when.get(), revocation[0].c_str()) != 1) {
      BN_free(bn);
      return absl::DataLossError(
          absl::StrCat("dev PKI: unreadable revoked entry in index.txt: ", entry.Line()));
    }
    BignumPtr serial_bn(bn);
    Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(serial_bn.get(), nullptr));
    if (serial == nullptr || X509_REVOKED_set_serialNumber(revoked.get(), serial.get()) != 1 ||
        X509_REVOKED_set_revocationDate(revoked.get(), when.get()) != 1) {
      return OpenSslError("CRL entry");
    }
    int reason = revocation.size() > 1 ? ReasonCode(revocation[1]) : -1;
    if (reason > 0) {  // RFC 5280 §5.3.1: omit the extension for "unspecified"
      std::unique_ptr<ASN1_ENUMERATED, OpenSslDeleter<ASN1_ENUMERATED_free>> code(
          ASN1_ENUMERATED_new());
      if (code == nullptr || ASN1_ENUMERATED_set(code.get(), reason) != 1 ||
          X509_REVOKED_add1_ext_i2d(revoked.get(), NID_crl_reason, code.get(), 0, 0) != 1) {
        return OpenSslError("CRL reason");
      }
    }
    if (X509_CRL_add0_revoked(crl.get(), revoked.release()) != 1) {
      return OpenSslError("X509_CRL_add0_revoked");
    }
  }
  // The CRL number must grow (RFC 5280 §5.2.3); seconds since the epoch do
  // without a counter file.
  Asn1IntegerPtr number(ASN1_INTEGER_new());
  if (number == nullptr || ASN1_INTEGER_set_int64(number.get(), absl::ToUnixSeconds(now)) != 1 ||
      X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, 0) != 1 ||
      X509_CRL_sort(crl.get()) != 1 || X509_CRL_sign(crl.get(), ca.key.get(), EVP_sha256()) <= 0) {
    return OpenSslError("signing the CRL");
  }
  unsigned char* der = nullptr;
  int len = i2d_X509_CRL(crl.get(), &der);
  if (len <= 0) return OpenSslError("i2d_X509_CRL");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

// True when the CRL at `path` is signed by `ca`, lists exactly the revoked
// serials of `entries` and stays valid for a while.
absl::StatusOr<bool> CrlIsCurrent(const std::string& path, const std::vector<IndexEntry>& entries,
                                  const KeyAndCert& ca) {
  absl::StatusOr<std::optional<std::string>> der = ReadFileIfExists(path);
  if (!der.ok()) return der.status();
  if (!der->has_value()) return false;
  const auto* p = reinterpret_cast<const unsigned char*>((*der)->data());
  CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>((*der)->size())));
  int days = 0, seconds = 0;
  bool current =
      crl != nullptr && X509_CRL_verify(crl.get(), X509_get0_pubkey(ca.cert.get())) == 1 &&
      X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_subject_name(ca.cert.get())) == 0 &&
      X509_CRL_get0_nextUpdate(crl.get()) != nullptr &&
      ASN1_TIME_diff(&days, &seconds, nullptr, X509_CRL_get0_nextUpdate(crl.get())) == 1 &&
      absl::Hours(24) * days + absl::Seconds(seconds) >= kCrlRenewWithin;
  ERR_clear_error();
  if (!current) return false;
  std::vector<std::string> listed;
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl.get());
  for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
    BignumPtr bn(ASN1_INTEGER_to_BN(
        X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revoked, i)), nullptr));
    char* hex = bn != nullptr ? BN_bn2hex(bn.get()) : nullptr;
    if (hex == nullptr) return OpenSslError("CRL serial");
    listed.push_back(hex);
    OPENSSL_free(hex);
  }
  std::vector<std::string> wanted;
  for (const IndexEntry& entry : entries) {
    if (entry.status == "R") wanted.push_back(entry.serial);
  }
  std::sort(listed.begin(), listed.end());
  std::sort(wanted.begin(), wanted.end());
  return listed == wanted;
}

// Brings index.txt up to date with `issued` (new certificates are added as
// valid; entries are never dropped unless `reset`, when the CA changed) and
// ca.crl up to date with index.txt.
absl::Status EnsureIndexAndCrl(const std::string& dir, const KeyAndCert& ca,
                               const std::vector<X509Ptr>& issued, bool reset) {
  const std::string index_path = dir + "/index.txt";
  if (absl::Status s = EnsureFileContents(index_path + ".attr", "unique_subject = no\n"); !s.ok()) {
    return s;
  }
  std::vector<IndexEntry> entries;
  std::string before;
  if (!reset) {
    absl::StatusOr<std::vector<IndexEntry>> read = ReadIndex(index_path);
    if (!read.ok()) return read.status();
    entries = *std::move(read);
    before = IndexText(entries);
  }
  for (const X509Ptr& cert : issued) {
    absl::StatusOr<IndexEntry> entry = ValidEntry(cert.get());
    if (!entry.ok()) return entry.status();
    bool known = std::any_of(entries.begin(), entries.end(),
                             [&](const IndexEntry& e) { return e.serial == entry->serial; });
    if (!known) entries.push_back(*std::move(entry));
  }
  const std::string text = IndexText(entries);
  if (reset || text != before) {
    if (absl::Status s = WriteFileAtomically(index_path, text, 0644); !s.ok()) return s;
  }
  absl::StatusOr<bool> current = CrlIsCurrent(dir + "/ca.crl", entries, ca);
  if (!current.ok()) return current.status();
  if (*current) return absl::OkStatus();
  absl::StatusOr<std::string> crl = MakeCrl(entries, ca, absl::Now());
  if (!crl.ok()) return crl.status();
  return WriteFileAtomically(dir + "/ca.crl", *crl, 0644);
}

absl::StatusOr<KeyAndCert> LoadExistingPair(const std::string& cert_path,
                                            const std::string& key_path) {
  absl::StatusOr<StoredPair> stored = LoadPair(cert_path, key_path);
  if (!stored.ok()) return stored.status();
  if (stored->cert == nullptr || (!key_path.empty() && stored->key == nullptr)) {
    return absl::NotFoundError(absl::StrCat("dev PKI: no usable ", cert_path));
  }
  return KeyAndCert{std::move(stored->key), std::move(stored->cert)};
}

}  // namespace

const std::vector<DevClient>& DevClients() {
  static const std::vector<DevClient>* const kClients = new std::vector<DevClient>{
      {"portal", "portal.dichvucong", "portal", "", ""},
      {"portal2", "portal.tuyensinh", "portal", "", ""},
      {"receiver", "receiver.hn", "officer", "HN-SGDDT", "receiving"},
      {"receiver-b", "receiver-b.hn", "officer", "HN-SGDDT", "receiving"},
      {"head", "head.hn", "officer", "HN-SGDDT", "head"},
      {"clerk", "clerk.hn", "clerk", "HN-SGDDT", ""},
      {"receiver-hp", "receiver.hp", "officer", "HP-SGDDT", "receiving"},
      {"head-hp", "head.hp", "officer", "HP-SGDDT", "head"},
      {"auditor", "auditor.thanhtra", "auditor", "", ""},
      {"admin", "admin.it", "admin", "", ""},
  };
  return *kClients;
}

const std::vector<DevUnit>& DevUnits() {
  static const std::vector<DevUnit>* const kUnits = new std::vector<DevUnit>{
      {"HN-SGDDT", "Sở Giáo dục và Đào tạo Hà Nội", "Ủy ban nhân dân thành phố Hà Nội", "Hà Nội",
       "Giám đốc"},
      {"HP-SGDDT", "Sở Giáo dục và Đào tạo Hải Phòng", "Ủy ban nhân dân thành phố Hải Phòng",
       "Hải Phòng", "Giám đốc"},
  };
  return *kUnits;
}

const std::vector<DevSigner>& DevSigners() {
  static const std::vector<DevSigner>* const kSigners = [] {
    auto* signers = new std::vector<DevSigner>;
    std::vector<std::string> units;
    for (const DevClient& client : DevClients()) {
      if (client.role != "officer") continue;
      signers->push_back({client.name, client.unit, false});
      if (std::find(units.begin(), units.end(), client.unit) == units.end()) {
        units.push_back(client.unit);
      }
    }
    for (const std::string& unit : units) signers->push_back({"seal-" + unit, unit, true});
    return signers;
  }();
  return *kSigners;
}

absl::Status EnsureDevPki(const std::string& dir) {
  // The revocation services the signing certificates already name were
  // chosen by whoever made them (a test, an operator): keep them, so a
  // server starting on this PKI does not strip them.
  DevPkiOptions current;
  const std::string stem = dir + "/signers/" + DevSigners().front().name;
  absl::StatusOr<StoredPair> stored = LoadPair(stem + ".crt", stem + ".key");
  if (stored.ok() && stored->cert != nullptr) {
    current.ocsp_url = FirstOrEmpty(OcspUrls(stored->cert.get()));
    current.crl_url = FirstOrEmpty(CrlUrls(stored->cert.get()));
  }
  return EnsureDevPki(dir, current);
}

absl::Status EnsureDevPki(const std::string& dir, const DevPkiOptions& options) {
  const std::string clients_dir = dir + "/clients";
  std::error_code ec;
  std::filesystem::create_directories(clients_dir, ec);
  if (ec) return ErrnoError(ec.value(), "cannot create directory", clients_dir);
  absl::StatusOr<DirectoryLock> lock = DirectoryLock::Acquire(dir);
  if (!lock.ok()) return lock.status();

  absl::StatusOr<X509NamePtr> ca_name = CommonNameOnly(kCaCommonName);
  if (!ca_name.ok()) return ca_name.status();
  bool new_ca = false;
  absl::StatusOr<KeyAndCert> ca = EnsurePair(dir + "/ca.crt", dir + "/ca.key", ca_name->get(),
                                             nullptr, Profile::kRootCa, {}, &new_ca);
  if (!ca.ok()) return ca.status();

  absl::StatusOr<X509NamePtr> server_name = CommonNameOnly(kServerCommonName);
  if (!server_name.ok()) return server_name.status();
  absl::StatusOr<KeyAndCert> server = EnsurePair(dir + "/server.crt", dir + "/server.key",
                                                 server_name->get(), &*ca, Profile::kServer);
  if (!server.ok()) return server.status();

  for (const DevClient& client : DevClients()) {
    absl::StatusOr<X509NamePtr> name = ClientName(client);
    if (!name.ok()) return name.status();
    const std::string stem = clients_dir + "/" + client.name;
    absl::StatusOr<KeyAndCert> pair =
        EnsurePair(stem + ".crt", stem + ".key", name->get(), &*ca, Profile::kClient);
    if (!pair.ok()) return pair.status();
  }
  std::vector<X509Ptr> issued;
  if (absl::Status s = EnsureSigners(dir, *ca, options, &issued); !s.ok()) return s;
  const std::pair<const char*, Profile> services[] = {{"ocsp", Profile::kOcspResponder},
                                                      {"tsa", Profile::kTsa}};
  for (const auto& [stem, profile] : services) {
    absl::StatusOr<X509NamePtr> name =
        CommonNameOnly(profile == Profile::kTsa ? kTsaCommonName : kOcspCommonName);
    if (!name.ok()) return name.status();
    absl::StatusOr<KeyAndCert> pair =
        EnsurePair(absl::StrCat(dir, "/", stem, ".crt"), absl::StrCat(dir, "/", stem, ".key"),
                   name->get(), &*ca, profile, options);
    if (!pair.ok()) return pair.status();
    if (profile == Profile::kTsa) {
      X509_up_ref(pair->cert.get());
      issued.emplace_back(pair->cert.get());
    }
  }
  return EnsureIndexAndCrl(dir, *ca, issued, new_ca);
}

absl::Status RevokeDevSigner(const std::string& dir, const std::string& name, int reason,
                             absl::Time when) {
  if (reason < 0 || reason >= static_cast<int>(std::size(kReasonNames)) ||
      kReasonNames[reason] == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("dev PKI: unknown CRL reason code ", reason));
  }
  if (name != kDevTsaName &&
      std::none_of(DevSigners().begin(), DevSigners().end(),
                   [&](const DevSigner& signer) { return signer.name == name; })) {
    return absl::NotFoundError(absl::StrCat("dev PKI: no development signer named '", name, "'"));
  }
  if (!std::filesystem::exists(dir + "/ca.crt")) {
    return absl::NotFoundError(absl::StrCat("dev PKI: no PKI in ", dir));
  }
  absl::StatusOr<DirectoryLock> lock = DirectoryLock::Acquire(dir);
  if (!lock.ok()) return lock.status();
  absl::StatusOr<KeyAndCert> ca = LoadExistingPair(dir + "/ca.crt", dir + "/ca.key");
  if (!ca.ok()) return ca.status();
  absl::StatusOr<KeyAndCert> signer = LoadExistingPair(
      name == kDevTsaName ? dir + "/tsa.crt" : dir + "/signers/" + name + ".crt", "");
  if (!signer.ok()) return signer.status();
  absl::StatusOr<IndexEntry> wanted = ValidEntry(signer->cert.get());
  if (!wanted.ok()) return wanted.status();
  absl::StatusOr<std::vector<IndexEntry>> entries = ReadIndex(dir + "/index.txt");
  if (!entries.ok()) return entries.status();
  auto it = std::find_if(entries->begin(), entries->end(),
                         [&](const IndexEntry& e) { return e.serial == wanted->serial; });
  if (it == entries->end()) it = entries->insert(entries->end(), *wanted);
  it->status = std::string(1, 'R');  // not = "R": GCC 12 warns falsely (-Wrestrict)
  // `openssl ca` writes UTCTime here, and `openssl ocsp` parses only that.
  it->revocation = absl::StrCat(absl::FormatTime("%y%m%d%H%M%SZ", when, absl::UTCTimeZone()),
                                reason > 0 ? absl::StrCat(",", kReasonNames[reason]) : "");
  if (absl::Status s = WriteFileAtomically(dir + "/index.txt", IndexText(*entries), 0644);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::string> crl = MakeCrl(*entries, *ca, absl::Now());
  if (!crl.ok()) return crl.status();
  return WriteFileAtomically(dir + "/ca.crl", *crl, 0644);
}

namespace {

class DevCrlIssuer : public CrlIssuer {
 public:
  DevCrlIssuer(std::string dir, KeyAndCert ca) : dir_(std::move(dir)), ca_(std::move(ca)) {}

  absl::StatusOr<std::string> IssueCrl(X509* issuer) const override {
    if (X509_cmp(issuer, ca_.cert.get()) != 0) {
      return absl::NotFoundError("dev PKI: not the development CA");
    }
    // Read whole each time: a file's mtime may not change between two
    // writes within one clock tick, its bytes do.
    const std::string index_path = dir_ + "/index.txt";
    absl::StatusOr<std::optional<std::string>> index = ReadFileIfExists(index_path);
    if (!index.ok()) return index.status();
    const std::string text = index->value_or("");
    const absl::Time now = absl::Now();
    absl::MutexLock lock(&mutex_);
    // Evidence is dated in whole seconds: a second CRL within the same one
    // would say the same unless a revocation was written since.
    if (!der_.empty() && absl::ToUnixSeconds(now) == issued_second_ && text == index_) {
      return der_;
    }
    absl::StatusOr<std::vector<IndexEntry>> entries = ParseIndex(text, index_path);
    if (!entries.ok()) return entries.status();
    absl::StatusOr<std::string> crl = MakeCrl(*entries, ca_, now);
    if (!crl.ok()) return crl.status();
    der_ = *crl;
    issued_second_ = absl::ToUnixSeconds(now);
    index_ = text;
    return crl;
  }

 private:
  const std::string dir_;
  const KeyAndCert ca_;
  mutable absl::Mutex mutex_;
  mutable std::string der_ ABSL_GUARDED_BY(mutex_);
  mutable int64_t issued_second_ ABSL_GUARDED_BY(mutex_) = 0;
  mutable std::string index_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace

absl::StatusOr<std::shared_ptr<const CrlIssuer>> OpenDevCrlIssuer(const std::string& dir) {
  if (!std::filesystem::exists(dir + "/ca.crt")) {
    return absl::NotFoundError(absl::StrCat("dev PKI: no PKI in ", dir));
  }
  absl::StatusOr<KeyAndCert> ca = LoadExistingPair(dir + "/ca.crt", dir + "/ca.key");
  if (!ca.ok()) return ca.status();
  return std::make_shared<const DevCrlIssuer>(dir, *std::move(ca));
}

absl::StatusOr<std::unique_ptr<RevocationChecker>> WithDevCrlIssuer(
    const RevocationChecker& checker, const std::string& dir) {
  absl::StatusOr<std::shared_ptr<const CrlIssuer>> issuer = OpenDevCrlIssuer(dir);
  if (!issuer.ok()) return issuer.status();
  RevocationCheckerOptions options = checker.options();
  options.crl_issuer = *std::move(issuer);
  return RevocationChecker::Create(std::move(options));
}

}  // namespace motcua::signing
