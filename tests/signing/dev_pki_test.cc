#include "signing/dev/dev_pki.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/signing/signing_test_util.h"
#include "tests/signing/verifier_fixtures.h"

namespace motcua::signing {
namespace {

namespace fs = std::filesystem;

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

X509Ptr LoadCert(const fs::path& path) {
  std::string pem = ReadAll(path);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
}

PkeyPtr LoadKey(const fs::path& path) {
  std::string pem = ReadAll(path);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  return PkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
}

// X509_verify_cert of `leaf` against `ca` alone, for `purpose`; optionally
// also checks the host name or IP address the way a TLS client would.
// Returns the OpenSSL verify error string, "ok" on success.
std::string Verify(const fs::path& ca, const fs::path& leaf, int purpose,
                   const std::string& host = "", const std::string& ip = "") {
  X509Ptr ca_cert = LoadCert(ca);
  X509Ptr leaf_cert = LoadCert(leaf);
  if (ca_cert == nullptr || leaf_cert == nullptr) return "unreadable certificate";
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), &X509_STORE_free);
  X509_STORE_add_cert(store.get(), ca_cert.get());
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(),
                                                                      &X509_STORE_CTX_free);
  X509_STORE_CTX_init(ctx.get(), store.get(), leaf_cert.get(), nullptr);
  X509_STORE_CTX_set_purpose(ctx.get(), purpose);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  if (!host.empty()) X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
  if (!ip.empty()) X509_VERIFY_PARAM_set1_ip_asc(param, ip.c_str());
  if (X509_verify_cert(ctx.get()) == 1) return "ok";
  return X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
}

class DevPkiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/dev_pki_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    dir_ = root_ / "pki";  // not there yet: EnsureDevPki creates it
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  // Every regular file under dir_ except the lock, path -> contents.
  std::map<std::string, std::string> Snapshot() const {
    std::map<std::string, std::string> files;
    for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
      if (!entry.is_regular_file() || entry.path().filename() == ".lock") continue;
      files[fs::relative(entry.path(), dir_).string()] = ReadAll(entry.path());
    }
    return files;
  }

  std::vector<std::string> ExpectedFiles() const {
    std::vector<std::string> files = {"ca.crt",   "ca.key",    "server.crt",    "server.key",
                                      "ocsp.crt", "ocsp.key",  "tsa.crt",       "tsa.key",
                                      "ca.crl",   "index.txt", "index.txt.attr"};
    for (const DevClient& client : DevClients()) {
      files.push_back("clients/" + client.name + ".crt");
      files.push_back("clients/" + client.name + ".key");
    }
    return files;
  }

  std::vector<std::string> ExpectedSignerFiles() const {
    std::vector<std::string> files;
    for (const DevSigner& signer : DevSigners()) {
      for (const char* ext : {".crt", ".key", ".p12"}) {
        files.push_back("signers/" + signer.name + ext);
      }
      files.push_back(signer.seal ? "images/" + signer.unit + "-seal.png"
                                  : "images/" + signer.name + "-signature.png");
    }
    return files;
  }

  fs::path root_;
  fs::path dir_;
};

// Starts from a copy of the PKI shared by the signing tests: RSA key
// generation makes a fresh PKI cost seconds, and these tests are about what
// a later call does with an existing one.
class ExistingDevPkiTest : public DevPkiTest {
 protected:
  void SetUp() override {
    DevPkiTest::SetUp();
    fs::copy(testing_util::SharedDevPki(), dir_, fs::copy_options::recursive);
  }
};

TEST(DevClientsTest, NamesAndSubjectsAreUniqueAndComplete) {
  std::set<std::string> names;
  std::set<std::string> subjects;
  for (const DevClient& client : DevClients()) {
    EXPECT_TRUE(names.insert(client.name).second) << client.name;
    EXPECT_TRUE(subjects.insert(client.subject).second) << client.subject;
    EXPECT_FALSE(client.role.empty()) << client.name;
  }
  EXPECT_EQ(DevClients().size(), 10u);
}

TEST_F(DevPkiTest, FirstCall_CreatesEveryFile) {
  ASSERT_TRUE(EnsureDevPki(dir_.string()).ok());
  std::map<std::string, std::string> files = Snapshot();
  std::vector<std::string> expected = ExpectedFiles();
  for (const std::string& name : ExpectedSignerFiles()) {
    if (std::find(expected.begin(), expected.end(), name) == expected.end()) {
      expected.push_back(name);  // units share one seal image
    }
  }
  for (const std::string& name : expected) {
    ASSERT_TRUE(files.count(name)) << name;
    EXPECT_FALSE(files[name].empty()) << name;
  }
  EXPECT_EQ(files.size(), expected.size()) << "no stray temporaries";
}

TEST_F(ExistingDevPkiTest, SecondCall_LeavesFilesByteIdentical) {
  ASSERT_TRUE(EnsureDevPki(dir_.string()).ok());
  std::map<std::string, std::string> before = Snapshot();
  std::map<std::string, struct stat> stats_before;
  for (const auto& [name, contents] : before) {
    ASSERT_EQ(stat((dir_ / name).c_str(), &stats_before[name]), 0);
  }

  ASSERT_TRUE(EnsureDevPki(dir_.string()).ok());

  EXPECT_EQ(Snapshot(), before);
  for (const auto& [name, st] : stats_before) {
    struct stat now;
    ASSERT_EQ(stat((dir_ / name).c_str(), &now), 0);
    EXPECT_EQ(now.st_ino, st.st_ino) << name << " was rewritten";
  }
}

TEST_F(ExistingDevPkiTest, DeletedClientCert_ReissuesOnlyIt) {
  ASSERT_TRUE(EnsureDevPki(dir_.string()).ok());
  std::map<std::string, std::string> before = Snapshot();
  fs::remove(dir_ / "clients/head.crt");

  ASSERT_TRUE(EnsureDevPki(dir_.string()).ok());

  std::map<std::string, std::string> after = Snapshot();
  ASSERT_TRUE(after.count("clients/head.crt"));
  for (const auto& [name, contents] : before) {
    if (name == "clients/head.crt") continue;
    EXPECT_EQ(after[name], contents) << name << " changed";
  }
  EXPECT_EQ(Verify(dir_ / "ca.crt", dir_ / "clients/head.crt", X509_PURPOSE_SSL_CLIENT), "ok");
  X509Ptr cert = LoadCert(dir_ / "clients/head.crt");
  PkeyPtr key = LoadKey(dir_ / "clients/head.key");
  ASSERT_NE(cert, nullptr);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1) << "kept key must match";
}

TEST_F(ExistingDevPkiTest, DeletedClientKey_ReissuesThatPair) {
  ASSERT_TRUE(EnsureDevPki(dir_.string()).ok());
  std::map<std::string, std::string> before = Snapshot();
  fs::remove(dir_ / "clients/clerk.key");

  ASSERT_TRUE(EnsureDevPki(dir_.string()).ok());

  std::map<std::string, std::string> after = Snapshot();
  EXPECT_NE(after["clients/clerk.crt"], before["clients/clerk.crt"]);
  EXPECT_EQ(after["clients/head.crt"], before["clients/head.crt"]);
  X509Ptr cert = LoadCert(dir_ / "clients/clerk.crt");
  PkeyPtr key = LoadKey(dir_ / "clients/clerk.key");
  ASSERT_NE(cert, nullptr);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
}

TEST_F(ExistingDevPkiTest, ServerCert_VerifiesAgainstCaForLocalhost) {
  ASSERT_TRUE(EnsureDevPki(dir_.string()).ok());
  const fs::path ca = dir_ / "ca.crt";
  const fs::path server = dir_ / "server.crt";
  EXPECT_EQ(Verify(ca, server, X509_PURPOSE_SSL_SERVER), "ok");
  EXPECT_EQ(Verify(ca, server, X509_PURPOSE_SSL_SERVER, "localhost"), "ok");
  EXPECT_EQ(Verify(ca, server, X509_PURPOSE_SSL_SERVER, "", "127.0.0.1"), "ok");
  EXPECT_EQ(Verify(ca, server, X509_PURPOSE_SSL_SERVER, "", "::1"), "ok");
  EXPECT_NE(Verify(ca, server, X509_PURPOSE_SSL_SERVER, "example.org"), "ok");
  EXPECT_NE(Verify(ca, server, X509_PURPOSE_SSL_CLIENT), "ok") << "serverAuth only";
}

TEST_F(ExistingDevPkiTest, ClientCerts_VerifyAgainstCaForClientAuthOnly) {
  ASSERT_TRUE(EnsureDevPki(dir_.string()).ok());
  for (const DevClient& client : DevClients()) {
    const fs::path cert = dir_ / "clients" / (client.name + ".crt");
    EXPECT_EQ(Verify(dir_ / "ca.crt", cert, X509_PURPOSE_SSL_CLIENT), "ok") << client.name;
    EXPECT_NE(Verify(dir_ / "ca.crt", cert, X509_PURPOSE_SSL_SERVER), "ok") << client.name;
  }
}

TEST_F(ExistingDevPkiTest, CaCert_IsSelfSignedRootNamedAndValidTenYears) {
  ASSERT_TRUE(EnsureDevPki(dir_.string()).ok());
  X509Ptr ca = LoadCert(dir_ / "ca.crt");
  ASSERT_NE(ca, nullptr);
  EXPECT_GE(X509_check_ca(ca.get()), 1);
  EXPECT_EQ(X509_check_issued(ca.get(), ca.get()), X509_V_OK);
  char cn[128] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(ca.get()), NID_commonName, cn, sizeof(cn));
  EXPECT_STREQ(cn, "motcua dev root CA");
  int days = 0;
  int seconds = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(ca.get())), 1);
  EXPECT_GE(days, 3640);
}

TEST_F(ExistingDevPkiTest, KeyFiles_AreOwnerReadWriteOnly) {
  ASSERT_TRUE(EnsureDevPki(dir_.string()).ok());
  std::vector<std::string> files = ExpectedFiles();
  for (const std::string& name : ExpectedSignerFiles()) files.push_back(name);
  for (const std::string& name : files) {
    if (fs::path(name).extension() != ".key" && fs::path(name).extension() != ".p12") continue;
    struct stat st;
    ASSERT_EQ(stat((dir_ / name).c_str(), &st), 0) << name;
    EXPECT_EQ(st.st_mode & 07777, 0600u) << name;
  }
}

TEST_F(ExistingDevPkiTest, Keys_AreP256) {
  ASSERT_TRUE(EnsureDevPki(dir_.string()).ok());
  for (const std::string& name : ExpectedFiles()) {
    if (fs::path(name).extension() != ".key") continue;
    PkeyPtr key = LoadKey(dir_ / name);
    ASSERT_NE(key, nullptr) << name;
    char group[64] = {};
    size_t len = 0;
    ASSERT_EQ(EVP_PKEY_get_group_name(key.get(), group, sizeof(group), &len), 1) << name;
    EXPECT_STREQ(group, "prime256v1") << name;
  }
}

TEST(DevSignersTest, OneSignerPerOfficerAndOneSealPerUnit) {
  std::vector<std::string> names;
  for (const DevSigner& signer : DevSigners()) names.push_back(signer.name);
  EXPECT_THAT(names, ::testing::ElementsAre("receiver", "receiver-b", "head", "receiver-hp",
                                            "head-hp", "seal-HN-SGDDT", "seal-HP-SGDDT"));
}

TEST_F(ExistingDevPkiTest, SignerCerts_AreRsa2048ForDocumentSigning) {
  ASSERT_TRUE(EnsureDevPki(dir_.string()).ok());
  for (const DevSigner& signer : DevSigners()) {
    const fs::path path = dir_ / "signers" / (signer.name + ".crt");
    EXPECT_EQ(Verify(dir_ / "ca.crt", path, X509_PURPOSE_SMIME_SIGN), "ok") << signer.name;
    X509Ptr cert = LoadCert(path);
    ASSERT_NE(cert, nullptr) << signer.name;
    const uint32_t usage = X509_get_key_usage(cert.get());
    EXPECT_TRUE(usage & KU_DIGITAL_SIGNATURE) << signer.name;
    EXPECT_TRUE(usage & KU_NON_REPUDIATION) << signer.name;
    EXPECT_LT(X509_get_ext_by_NID(cert.get(), NID_ext_key_usage, -1), 0) << "no EKU";
    EVP_PKEY* key = X509_get0_pubkey(cert.get());
    EXPECT_TRUE(EVP_PKEY_is_a(key, "RSA")) << signer.name;
    EXPECT_EQ(EVP_PKEY_get_bits(key), 2048) << signer.name;
    char org[128] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_organizationName, org,
                              sizeof(org));
    EXPECT_EQ(std::string(org), signer.unit) << signer.name;
  }
}

TEST_F(ExistingDevPkiTest, SignerPkcs12_OpensWithDevPasswordAndHoldsPairAndCa) {
  ASSERT_TRUE(EnsureDevPki(dir_.string()).ok());
  X509Ptr ca = LoadCert(dir_ / "ca.crt");
  for (const DevSigner& signer : DevSigners()) {
    std::string der = ReadAll(dir_ / "signers" / (signer.name + ".p12"));
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    std::unique_ptr<PKCS12, decltype(&PKCS12_free)> p12(
        d2i_PKCS12(nullptr, &p, static_cast<long>(der.size())), &PKCS12_free);
    ASSERT_NE(p12, nullptr) << signer.name;
    EVP_PKEY* key = nullptr;
    X509* cert = nullptr;
    STACK_OF(X509)* others = nullptr;
    ASSERT_EQ(PKCS12_parse(p12.get(), kDevPkcs12Password, &key, &cert, &others), 1);
    PkeyPtr key_owner(key, &EVP_PKEY_free);
    X509Ptr cert_owner(cert, &X509_free);
    X509Ptr file_cert = LoadCert(dir_ / "signers" / (signer.name + ".crt"));
    EXPECT_EQ(X509_cmp(cert, file_cert.get()), 0) << signer.name;
    EXPECT_EQ(X509_check_private_key(cert, key), 1) << signer.name;
    ASSERT_EQ(sk_X509_num(others), 1) << signer.name;
    EXPECT_EQ(X509_cmp(sk_X509_value(others, 0), ca.get()), 0) << signer.name;
    sk_X509_pop_free(others, X509_free);
    std::string wrong = "wrong";
    EXPECT_NE(PKCS12_parse(p12.get(), wrong.c_str(), &key, &cert, &others), 1);
  }
}

// Decodes an 8-bit RGBA PNG without filters (what dev_pki writes) and
// returns its pixels; empty on anything else.
std::vector<std::array<uint8_t, 4>> DecodeRgbaPng(const std::string& png, uint32_t* width) {
  auto be32 = [&](size_t at) {
    return (uint32_t{static_cast<uint8_t>(png[at])} << 24) |
           (uint32_t{static_cast<uint8_t>(png[at + 1])} << 16) |
           (uint32_t{static_cast<uint8_t>(png[at + 2])} << 8) |
           uint32_t{static_cast<uint8_t>(png[at + 3])};
  };
  if (png.compare(0, 8, std::string("\x89PNG\r\n\x1a\n", 8)) != 0) return {};
  uint32_t w = 0, h = 0;
  std::string idat;
  for (size_t at = 8; at + 12 <= png.size();) {
    uint32_t len = be32(at);
    std::string type = png.substr(at + 4, 4);
    std::string data = png.substr(at + 8, len);
    uint32_t crc = static_cast<uint32_t>(
        crc32(0, reinterpret_cast<const Bytef*>(png.data() + at + 4), len + 4));
    if (crc != be32(at + 8 + len)) return {};
    if (type == "IHDR") {
      w = be32(at + 8);
      h = be32(at + 12);
      if (data[8] != 8 || data[9] != 6) return {};
    } else if (type == "IDAT") {
      idat += data;
    }
    at += 12 + len;
  }
  std::string raw(static_cast<size_t>(h) * (1 + 4 * w), '\0');
  uLongf raw_len = raw.size();
  if (uncompress(reinterpret_cast<Bytef*>(raw.data()), &raw_len,
                 reinterpret_cast<const Bytef*>(idat.data()), idat.size()) != Z_OK ||
      raw_len != raw.size()) {
    return {};
  }
  std::vector<std::array<uint8_t, 4>> pixels;
  for (uint32_t y = 0; y < h; ++y) {
    if (raw[y * (1 + 4 * w)] != 0) return {};
    for (uint32_t x = 0; x < w; ++x) {
      const char* p = raw.data() + y * (1 + 4 * w) + 1 + 4 * x;
      pixels.push_back({static_cast<uint8_t>(p[0]), static_cast<uint8_t>(p[1]),
                        static_cast<uint8_t>(p[2]), static_cast<uint8_t>(p[3])});
    }
  }
  *width = w;
  return pixels;
}

TEST_F(ExistingDevPkiTest, Images_AreBlueSignaturesAndRedSealsOnTransparent) {
  ASSERT_TRUE(EnsureDevPki(dir_.string()).ok());
  std::set<std::string> signature_images;
  for (const DevSigner& signer : DevSigners()) {
    const std::string name = signer.seal ? "images/" + signer.unit + "-seal.png"
                                         : "images/" + signer.name + "-signature.png";
    std::string png = ReadAll(dir_ / name);
    uint32_t width = 0;
    std::vector<std::array<uint8_t, 4>> pixels = DecodeRgbaPng(png, &width);
    ASSERT_FALSE(pixels.empty()) << name << " is not a valid RGBA PNG";
    size_t transparent = 0, inked = 0;
    for (const auto& px : pixels) {
      if (px[3] == 0) ++transparent;
      if (px[3] == 255) {
        ++inked;
        if (signer.seal) {
          EXPECT_GT(px[0], px[2]) << name << " ink is red";
        } else {
          EXPECT_GT(px[2], px[0]) << name << " ink is blue";
        }
      }
    }
    EXPECT_GT(transparent, pixels.size() / 2) << name;
    EXPECT_GT(inked, pixels.size() / 50) << name;
    if (!signer.seal) signature_images.insert(png);
  }
  EXPECT_EQ(signature_images.size(), 5u) << "each officer's scribble differs";
}

TEST_F(ExistingDevPkiTest, LostCaKey_ReissuesCaAndEveryCertificate) {
  ASSERT_TRUE(EnsureDevPki(dir_.string()).ok());
  std::map<std::string, std::string> before = Snapshot();
  fs::remove(dir_ / "ca.key");

  ASSERT_TRUE(EnsureDevPki(dir_.string()).ok());

  std::map<std::string, std::string> after = Snapshot();
  EXPECT_NE(after["ca.crt"], before["ca.crt"]);
  EXPECT_NE(after["server.crt"], before["server.crt"]);
  EXPECT_EQ(Verify(dir_ / "ca.crt", dir_ / "server.crt", X509_PURPOSE_SSL_SERVER), "ok");
  for (const DevClient& client : DevClients()) {
    const fs::path cert = dir_ / "clients" / (client.name + ".crt");
    EXPECT_EQ(Verify(dir_ / "ca.crt", cert, X509_PURPOSE_SSL_CLIENT), "ok") << client.name;
  }
}

TEST_F(ExistingDevPkiTest, CorruptCertificate_IsReissued) {
  ASSERT_TRUE(EnsureDevPki(dir_.string()).ok());
  std::ofstream(dir_ / "server.crt", std::ios::trunc) << "not a certificate";

  ASSERT_TRUE(EnsureDevPki(dir_.string()).ok());

  EXPECT_EQ(Verify(dir_ / "ca.crt", dir_ / "server.crt", X509_PURPOSE_SSL_SERVER), "ok");
}

TEST_F(DevPkiTest, ConcurrentCalls_AgreeOnOneCa) {
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] { ok[i] = EnsureDevPki(dir_.string()).ok(); });
  }
  for (std::thread& t : threads) t.join();
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(ok[i]) << i;
  EXPECT_EQ(Verify(dir_ / "ca.crt", dir_ / "server.crt", X509_PURPOSE_SSL_SERVER), "ok");
  for (const DevClient& client : DevClients()) {
    const fs::path cert = dir_ / "clients" / (client.name + ".crt");
    EXPECT_EQ(Verify(dir_ / "ca.crt", cert, X509_PURPOSE_SSL_CLIENT), "ok") << client.name;
  }
}

// --- Revocation services ----------------------------------------------------

std::string FirstOcspUrl(X509* cert) {
  auto* info = static_cast<AUTHORITY_INFO_ACCESS*>(
      X509_get_ext_d2i(cert, NID_info_access, nullptr, nullptr));
  std::string url;
  if (info != nullptr && sk_ACCESS_DESCRIPTION_num(info) > 0) {
    ACCESS_DESCRIPTION* ad = sk_ACCESS_DESCRIPTION_value(info, 0);
    if (OBJ_obj2nid(ad->method) == NID_ad_OCSP && ad->location->type == GEN_URI) {
      url = reinterpret_cast<const char*>(
          ASN1_STRING_get0_data(ad->location->d.uniformResourceIdentifier));
    }
  }
  AUTHORITY_INFO_ACCESS_free(info);
  return url;
}

// `openssl crl` as the judge of ca.crl: its text, after verifying it with ca.crt.
std::string CrlText(const fs::path& dir) {
  testing_util::CommandResult r = testing_util::RunCommand(
      "openssl crl -inform DER -noout -text -in " + testing_util::Quote((dir / "ca.crl").string()) +
      " -CAfile " + testing_util::Quote((dir / "ca.crt").string()));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return r.output;
}

std::string SerialOf(const fs::path& cert) {
  testing_util::CommandResult r = testing_util::RunCommand("openssl x509 -noout -serial -in " +
                                                           testing_util::Quote(cert.string()));
  return r.output.substr(r.output.find('=') + 1, r.output.find('\n') - r.output.find('=') - 1);
}

TEST_F(ExistingDevPkiTest, ServiceCerts_TsaAndOcspResponderWithTheirUsages) {
  ASSERT_TRUE(EnsureDevPki(dir_.string()).ok());
  EXPECT_EQ(Verify(dir_ / "ca.crt", dir_ / "tsa.crt", X509_PURPOSE_TIMESTAMP_SIGN), "ok");
  EXPECT_EQ(Verify(dir_ / "ca.crt", dir_ / "ocsp.crt", X509_PURPOSE_OCSP_HELPER), "ok");
  X509Ptr tsa = LoadCert(dir_ / "tsa.crt");
  X509Ptr ocsp = LoadCert(dir_ / "ocsp.crt");
  int critical = -1;
  auto* eku = static_cast<EXTENDED_KEY_USAGE*>(
      X509_get_ext_d2i(tsa.get(), NID_ext_key_usage, &critical, nullptr));
  ASSERT_NE(eku, nullptr);
  EXPECT_EQ(critical, 1) << "RFC 3161 wants the timeStamping EKU critical";
  EXTENDED_KEY_USAGE_free(eku);
  EXPECT_EQ(X509_get_extended_key_usage(tsa.get()), static_cast<uint32_t>(XKU_TIMESTAMP));
  EXPECT_EQ(X509_get_extended_key_usage(ocsp.get()), static_cast<uint32_t>(XKU_OCSP_SIGN));
  EXPECT_GE(X509_get_ext_by_NID(ocsp.get(), NID_id_pkix_OCSP_noCheck, -1), 0);
}

TEST_F(ExistingDevPkiTest, IndexAndCrl_ListEverySignerAsValidAndNoneRevoked) {
  ASSERT_TRUE(EnsureDevPki(dir_.string()).ok());
  const std::string index = ReadAll(dir_ / "index.txt");
  for (const DevSigner& signer : DevSigners()) {
    const std::string serial = SerialOf(dir_ / "signers" / (signer.name + ".crt"));
    EXPECT_THAT(index, ::testing::HasSubstr("\t" + serial + "\tunknown\t")) << signer.name;
  }
  EXPECT_THAT(index, ::testing::HasSubstr(SerialOf(dir_ / "tsa.crt")));
  EXPECT_THAT(index, ::testing::Not(::testing::HasSubstr("\nR\t")));
  const std::string crl = CrlText(dir_);
  EXPECT_THAT(crl, ::testing::HasSubstr("No Revoked Certificates"));
  EXPECT_THAT(crl, ::testing::HasSubstr("Issuer: CN = motcua dev root CA"));
}

TEST_F(ExistingDevPkiTest, Options_PutUrlsInSigningAndTsaCertsOnlyAndReissueWithSameKeys) {
  ASSERT_TRUE(EnsureDevPki(dir_.string()).ok());
  std::map<std::string, std::string> before = Snapshot();
  DevPkiOptions options{"http://127.0.0.1:1/ocsp", "http://127.0.0.1:1/ca.crl"};
  ASSERT_TRUE(EnsureDevPki(dir_.string(), options).ok());
  std::map<std::string, std::string> after = Snapshot();
  for (const DevSigner& signer : DevSigners()) {
    X509Ptr cert = LoadCert(dir_ / "signers" / (signer.name + ".crt"));
    EXPECT_EQ(FirstOcspUrl(cert.get()), options.ocsp_url) << signer.name;
    EXPECT_GE(X509_get_ext_by_NID(cert.get(), NID_crl_distribution_points, -1), 0);
    EXPECT_EQ(after["signers/" + signer.name + ".key"], before["signers/" + signer.name + ".key"]);
    // The new serial is in the index too, so the responder knows it.
    EXPECT_THAT(after["index.txt"],
                ::testing::HasSubstr(SerialOf(dir_ / "signers" / (signer.name + ".crt"))));
  }
  X509Ptr tsa = LoadCert(dir_ / "tsa.crt");
  EXPECT_EQ(FirstOcspUrl(tsa.get()), options.ocsp_url);
  X509Ptr server = LoadCert(dir_ / "server.crt");
  EXPECT_EQ(FirstOcspUrl(server.get()), "");
  X509Ptr responder = LoadCert(dir_ / "ocsp.crt");
  EXPECT_EQ(FirstOcspUrl(responder.get()), "") << "ocsp-nocheck: nobody asks about it";
  EXPECT_EQ(after["server.crt"], before["server.crt"]);
  // Same options again: nothing changes.
  ASSERT_TRUE(EnsureDevPki(dir_.string(), options).ok());
  EXPECT_EQ(Snapshot(), after);
  // Nor without options (a server starting on this PKI keeps the URLs).
  ASSERT_TRUE(EnsureDevPki(dir_.string()).ok());
  EXPECT_EQ(Snapshot(), after);
}

TEST_F(ExistingDevPkiTest, RevokeDevSigner_MarksIndexAndReissuesCrl) {
  ASSERT_TRUE(EnsureDevPki(dir_.string()).ok());
  const absl::Time when =
      absl::FromCivil(absl::CivilSecond(2026, 11, 21, 10, 0, 0), absl::UTCTimeZone());
  ASSERT_TRUE(RevokeDevSigner(dir_.string(), "head", CRL_REASON_KEY_COMPROMISE, when).ok());
  const std::string serial = SerialOf(dir_ / "signers/head.crt");
  EXPECT_THAT(ReadAll(dir_ / "index.txt"),
              ::testing::HasSubstr("\t261121100000Z,keyCompromise\t" + serial + "\t"));
  const std::string crl = CrlText(dir_);
  EXPECT_THAT(crl, ::testing::HasSubstr("Serial Number: " + serial));
  EXPECT_THAT(crl, ::testing::HasSubstr("Nov 21 10:00:00 2026 GMT"));
  EXPECT_THAT(crl, ::testing::HasSubstr("Key Compromise"));

  // EnsureDevPki keeps the revoked certificate and the CRL as they are.
  std::map<std::string, std::string> before = Snapshot();
  ASSERT_TRUE(EnsureDevPki(dir_.string()).ok());
  EXPECT_EQ(Snapshot(), before);
}

// The CRL issuer in the process: each answer is issued when asked, and a
// revocation written since counts at once.
TEST_F(ExistingDevPkiTest, CrlIssuer_IssuesWhenAskedAndSeesARevocationAtOnce) {
  absl::StatusOr<std::shared_ptr<const CrlIssuer>> issuer = OpenDevCrlIssuer(dir_.string());
  ASSERT_TRUE(issuer.ok()) << issuer.status();
  RevocationCheckerOptions options;
  options.crl_issuer = *issuer;
  absl::StatusOr<std::unique_ptr<RevocationChecker>> checker = RevocationChecker::Create(options);
  ASSERT_TRUE(checker.ok()) << checker.status();
  X509Ptr ca = LoadCert(dir_ / "ca.crt");
  X509Ptr head = LoadCert(dir_ / "signers/head.crt");

  const absl::Time asked = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  RevocationCheck good = (*checker)->Check(head.get(), ca.get());
  ASSERT_EQ(good.evidence.status, RevocationStatus::kGood) << good.detail;
  EXPECT_GE(good.evidence.this_update, asked);
  EXPECT_THAT(good.detail, ::testing::HasSubstr("the CRL issuer in the process"));
  ASSERT_EQ(good.crls.size(), 1u);
  EXPECT_NE(good.crls[0], ReadAll(dir_ / "ca.crl")) << "a new CRL, not the file's";

  ASSERT_TRUE(RevokeDevSigner(dir_.string(), "head", CRL_REASON_KEY_COMPROMISE).ok());
  RevocationCheck revoked = (*checker)->Check(head.get(), ca.get());
  EXPECT_EQ(revoked.evidence.status, RevocationStatus::kRevoked) << revoked.detail;
  EXPECT_EQ(revoked.evidence.reason, CRL_REASON_KEY_COMPROMISE);

  // It speaks only for the development CA.
  EXPECT_EQ((*issuer)->IssueCrl(head.get()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(OpenDevCrlIssuer((root_ / "none").string()).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(ExistingDevPkiTest, AgedCrl_IsRenewedOnlyWhenLessThanTwoDaysRemain) {
  ASSERT_TRUE(EnsureDevPki(dir_.string()).ok());
  fixtures::WriteAgedDevCrl(dir_.string(), absl::Hours(72));
  const std::string three_days = ReadAll(dir_ / "ca.crl");
  ASSERT_TRUE(EnsureDevPki(dir_.string()).ok());
  EXPECT_EQ(ReadAll(dir_ / "ca.crl"), three_days) << "3 days left: kept";

  fixtures::WriteAgedDevCrl(dir_.string(), absl::Hours(30));
  ASSERT_TRUE(EnsureDevPki(dir_.string()).ok());
  std::optional<absl::Duration> left = fixtures::CrlValidFor((dir_ / "ca.crl").string());
  ASSERT_TRUE(left.has_value());
  EXPECT_GT(*left, absl::Hours(24 * 7) - absl::Hours(1)) << "30 hours left: renewed for 7 days";
  EXPECT_THAT(CrlText(dir_), ::testing::HasSubstr("Issuer: CN = motcua dev root CA"));
}

TEST_F(ExistingDevPkiTest, NewCa_StartsAFreshIndexAndCrl) {
  ASSERT_TRUE(RevokeDevSigner(dir_.string(), "head", CRL_REASON_KEY_COMPROMISE).ok());
  const std::string old_serial = SerialOf(dir_ / "signers/head.crt");
  fs::remove(dir_ / "ca.key");
  ASSERT_TRUE(EnsureDevPki(dir_.string()).ok());
  const std::string index = ReadAll(dir_ / "index.txt");
  EXPECT_THAT(index, ::testing::Not(::testing::HasSubstr(old_serial)));
  EXPECT_THAT(index, ::testing::HasSubstr(SerialOf(dir_ / "signers/head.crt")));
  EXPECT_THAT(CrlText(dir_), ::testing::HasSubstr("No Revoked Certificates"));  // and it verifies
}

TEST_F(ExistingDevPkiTest, RevokeDevSigner_UnknownNameOrReason_Fails) {
  EXPECT_EQ(RevokeDevSigner(dir_.string(), "nobody", CRL_REASON_KEY_COMPROMISE).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(RevokeDevSigner(dir_.string(), "head", 7).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RevokeDevSigner((root_ / "none").string(), "head", 1).code(),
            absl::StatusCode::kNotFound);
}

TEST_F(DevPkiTest, UnwritableDirectory_FailsWithoutCrashing) {
  fs::path file = root_ / "plain-file";
  std::ofstream(file) << "x";
  absl::Status status = EnsureDevPki((file / "pki").string());
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("plain-file"));
}

}  // namespace
}  // namespace motcua::signing
