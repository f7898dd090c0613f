#ifndef MOTCUA_TESTS_SIGNING_SIGNING_TEST_UTIL_H_
#define MOTCUA_TESTS_SIGNING_SIGNING_TEST_UTIL_H_

// Helpers shared by the signing tests: scratch directories, running the
// outside tools that judge our output, a development PKI made once per test
// binary, a SoftHSM2 token and an NSS database trusting the dev root.
// Header-only: the test glob compiles *_test.cc files only.

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "signing/dev/dev_pki.h"

namespace motcua::signing::testing_util {

namespace fs = std::filesystem;

inline std::string ReadFileOrDie(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void WriteFileOrDie(const fs::path& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  out.close();
  if (!out) ADD_FAILURE() << "cannot write " << path;
}

// A fresh directory under the test temp dir.
// The certificate and key of the development CA under `pki`; null when
// they cannot be read.
struct DevCa {
  std::unique_ptr<X509, decltype(&X509_free)> cert{nullptr, &X509_free};
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{nullptr, &EVP_PKEY_free};
};
inline DevCa LoadDevCa(const fs::path& pki) {
  DevCa ca;
  const std::string cert_pem = ReadFileOrDie(pki / "ca.crt");
  const std::string key_pem = ReadFileOrDie(pki / "ca.key");
  BIO* bio = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  ca.cert.reset(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  ca.key.reset(PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return ca;
}

inline fs::path MakeTempDir(const std::string& stem) {
  std::string tmpl = ::testing::TempDir() + "/" + stem + "_XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp " << tmpl;
  return tmpl;
}

// A fresh directory under the test temp dir, removed with its contents when
// this goes out of scope.
class ScopedTempDir {
 public:
  explicit ScopedTempDir(const std::string& stem) : path_(MakeTempDir(stem)) {}
  ~ScopedTempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;

  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs `command` with /bin/sh; callers quote their arguments.
inline CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) result.output.append(buf, n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

inline std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// One development PKI for all signing tests, kept under the temp dir across
// test processes (ctest runs each test in its own): RSA key generation makes
// a fresh one cost seconds. EnsureDevPki checks and repairs what it finds
// and locks the directory, so reuse and concurrent runs are safe.
inline const fs::path& SharedDevPki() {
  static const fs::path* const dir = [] {
    auto* path = new fs::path(fs::path(::testing::TempDir()) /
                              ("motcua_signing_tests_pki_" + std::to_string(getuid())));
    absl::Status status = EnsureDevPki(path->string());
    if (!status.ok()) ADD_FAILURE() << "EnsureDevPki: " << status;
    return path;
  }();
  return *dir;
}

// An NSS database (for pdfsig) trusting the dev root CA for everything. Made
// once per CA certificate: built aside, then renamed into place, so
// concurrent test processes never see a half-made one.
inline const fs::path& SharedNssDb() {
  static const fs::path* const dir = [] {
    const std::string ca = ReadFileOrDie(SharedDevPki() / "ca.crt");
    auto* path =
        new fs::path(SharedDevPki().parent_path() / ("motcua_signing_tests_nssdb_" +
                                                     std::to_string(std::hash<std::string>()(ca))));
    if (fs::exists(*path / "cert9.db")) return path;
    fs::path building = MakeTempDir("nssdb");
    CommandResult init =
        RunCommand("certutil -N -d sql:" + Quote(building.string()) + " --empty-password");
    CommandResult add = RunCommand("certutil -A -d sql:" + Quote(building.string()) +
                                   " -n motcua-dev-root -t CT,C,C -i " +
                                   Quote((SharedDevPki() / "ca.crt").string()));
    if (init.exit_code != 0 || add.exit_code != 0) {
      ADD_FAILURE() << "certutil: " << init.output << add.output;
    }
    std::error_code ec;
    fs::rename(building, *path, ec);
    if (ec) fs::remove_all(building, ec);  // another process got there first
    return path;
  }();
  return *dir;
}

inline CommandResult Pdfsig(const fs::path& pdf) {
  return RunCommand("pdfsig -nssdir sql:" + Quote(SharedNssDb().string()) + " " +
                    Quote(pdf.string()));
}

constexpr char kSoftHsmModule[] = "/usr/lib/softhsm/libsofthsm2.so";

// A SoftHSM2 token in its own directory with two keys generated on the
// token (sensitive, never extractable): RSA-2048 "seal-key" and ECDSA P-256
// "ec-key", each with a certificate issued by the dev root CA, stored on the
// token with the key's CKA_ID and written as a PEM chain (certificate, CA). Points SOFTHSM2_CONF at
// its config for the whole process: tests using it must not run in parallel threads.
class SoftHsmToken {
 public:
  static constexpr char kTokenLabel[] = "motcua-test";
  static constexpr char kKeyLabel[] = "seal-key";
  static constexpr char kEcKeyLabel[] = "ec-key";
  static constexpr char kPin[] = "123456";

  SoftHsmToken() : dir_(MakeTempDir("softhsm")) {
    fs::create_directories(dir_ / "tokens");
    WriteFileOrDie(dir_ / "softhsm2.conf", "directories.tokendir = " + (dir_ / "tokens").string() +
                                               "\nobjectstore.backend = file\nlog.level = ERROR\n");
    setenv("SOFTHSM2_CONF", (dir_ / "softhsm2.conf").c_str(), 1);
    Check(RunCommand(std::string("softhsm2-util --init-token --free --label ") + kTokenLabel +
                     " --pin " + kPin + " --so-pin 87654321"));
    AddKey("rsa:2048", "01", kKeyLabel);
    AddKey("EC:prime256v1", "02", kEcKeyLabel);
  }

  ~SoftHsmToken() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  SoftHsmToken(const SoftHsmToken&) = delete;
  SoftHsmToken& operator=(const SoftHsmToken&) = delete;

  std::string Tool() const {
    return std::string("pkcs11-tool --module ") + kSoftHsmModule + " --token-label " + kTokenLabel +
           " --login --pin " + kPin;
  }
  // Certificate and CA certificate for the key labelled `label`.
  fs::path chain_pem(const std::string& label = kKeyLabel) const {
    return dir_ / (label + "-chain.pem");
  }

 private:
  static void Check(const CommandResult& r) {
    if (r.exit_code != 0) ADD_FAILURE() << r.output;
  }

  void AddKey(const std::string& type, const std::string& id, const std::string& label) {
    Check(RunCommand(Tool() + " --keypairgen --key-type " + type + " --id " + id + " --label " +
                     label + " --usage-sign --sensitive"));
    const fs::path pub = dir_ / (label + "-pub.der");
    const fs::path cert = dir_ / (label + ".der");
    Check(RunCommand(Tool() + " --read-object --type pubkey --id " + id + " -o " +
                     Quote(pub.string())));
    IssueCertificate(pub, "HN-SGDDT token " + label, cert, chain_pem(label));
    Check(RunCommand(Tool() + " --write-object " + Quote(cert.string()) + " --type cert --id " +
                     id + " --label " + label));
  }

  // CN=`common_name`, O=HN-SGDDT, issued by the dev CA like a seal
  // certificate, for the public key in `pub_der`.
  void IssueCertificate(const fs::path& pub_der, const std::string& common_name,
                        const fs::path& cert_der, const fs::path& chain_pem) {
    std::string pub = ReadFileOrDie(pub_der);
    const auto* p = reinterpret_cast<const unsigned char*>(pub.data());
    EVP_PKEY* key = d2i_PUBKEY(nullptr, &p, static_cast<long>(pub.size()));
    DevCa dev_ca = LoadDevCa(SharedDevPki());
    X509* ca = dev_ca.cert.get();
    EVP_PKEY* ca_key = dev_ca.key.get();
    ASSERT_TRUE(key != nullptr && ca != nullptr && ca_key != nullptr);

    X509* cert = X509_new();
    X509_set_version(cert, X509_VERSION_3);
    // Random: a new token key each run must not reuse an issuer and serial.
    BIGNUM* serial = BN_new();
    BN_rand(serial, 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
    BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert));
    BN_free(serial);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 86400L * 30);
    X509_NAME* name = X509_NAME_new();
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>("HN-SGDDT"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                               0);
    X509_set_subject_name(cert, name);
    X509_NAME_free(name);
    X509_set_issuer_name(cert, X509_get_subject_name(ca));
    X509_set_pubkey(cert, key);
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, ca, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ku = X509V3_EXT_conf_nid(nullptr, &ctx, NID_key_usage,
                                             "critical,digitalSignature,nonRepudiation");
    X509_add_ext(cert, ku, -1);
    X509_EXTENSION_free(ku);
    X509_EXTENSION* aki =
        X509V3_EXT_conf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always");
    X509_add_ext(cert, aki, -1);
    X509_EXTENSION_free(aki);
    ASSERT_GT(X509_sign(cert, ca_key, EVP_sha256()), 0);

    unsigned char* der = nullptr;
    int len = i2d_X509(cert, &der);
    WriteFileOrDie(cert_der, std::string(reinterpret_cast<char*>(der), len));
    OPENSSL_free(der);
    BIO* out = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(out, cert);
    PEM_write_bio_X509(out, ca);
    char* data = nullptr;
    long n = BIO_get_mem_data(out, &data);
    WriteFileOrDie(chain_pem, std::string(data, static_cast<size_t>(n)));
    BIO_free(out);
    X509_free(cert);
    EVP_PKEY_free(key);
  }

  fs::path dir_;
};

// A throwaway RFC 3161 time-stamping authority issued by the dev CA and
// served by `openssl ts -reply`.
class TestTsa {
 public:
  explicit TestTsa(const fs::path& dir) : dir_(dir) {
    fs::create_directories(dir_);
    const fs::path& ca = SharedDevPki();
    WriteFileOrDie(dir_ / "ext.cnf", "extendedKeyUsage=critical,timeStamping\n");
    WriteFileOrDie(dir_ / "serial", "01\n");
    WriteFileOrDie(dir_ / "tsa.cnf",
                   "[ tsa ]\ndefault_tsa = tsa1\n[ tsa1 ]\nserial = " + (dir_ / "serial").string() +
                       "\nsigner_cert = " + certificate().string() +
                       "\nsigner_key = " + (dir_ / "tsa.key").string() +
                       "\nsigner_digest = sha256\ndefault_policy = 1.2.3.4.1\n"
                       "digests = sha256\naccuracy = secs:1\ness_cert_id_alg = sha256\n"
                       "ess_cert_id_chain = no\n");
    CommandResult req = RunCommand(
        "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj '/CN=test TSA'"
        " -keyout " +
        Quote((dir_ / "tsa.key").string()) + " -out " + Quote((dir_ / "tsa.csr").string()));
    if (req.exit_code != 0) ADD_FAILURE() << req.output;
    // A random serial: every run makes a new TSA under the same CA.
    CommandResult sign = RunCommand(
        "openssl x509 -req -days 30 -set_serial " + std::to_string(std::random_device()()) +
        " -in " + Quote((dir_ / "tsa.csr").string()) + " -CA " + Quote((ca / "ca.crt").string()) +
        " -CAkey " + Quote((ca / "ca.key").string()) + " -extfile " +
        Quote((dir_ / "ext.cnf").string()) + " -out " + Quote(certificate().string()));
    if (sign.exit_code != 0) ADD_FAILURE() << sign.output;
  }

  fs::path certificate() const { return dir_ / "tsa.crt"; }

  // The TSA's token (DER ContentInfo) for a DER TimeStampReq.
  std::string Stamp(const std::string& request) {
    WriteFileOrDie(dir_ / "req.tsq", request);
    CommandResult r = RunCommand("openssl ts -reply -config " + Quote((dir_ / "tsa.cnf").string()) +
                                 " -queryfile " + Quote((dir_ / "req.tsq").string()) +
                                 " -token_out -out " + Quote((dir_ / "token.der").string()));
    if (r.exit_code != 0) ADD_FAILURE() << r.output;
    return ReadFileOrDie(dir_ / "token.der");
  }

 private:
  fs::path dir_;
};

}  // namespace motcua::signing::testing_util

#endif  // MOTCUA_TESTS_SIGNING_SIGNING_TEST_UTIL_H_
