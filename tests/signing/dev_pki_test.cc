#include "signing/dev_pki.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

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
    std::vector<std::string> files = {"ca.crt", "ca.key", "server.crt", "server.key"};
    for (const DevClient& client : DevClients()) {
      files.push_back("clients/" + client.name + ".crt");
      files.push_back("clients/" + client.name + ".key");
    }
    return files;
  }

  fs::path root_;
  fs::path dir_;
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
  for (const std::string& name : ExpectedFiles()) {
    ASSERT_TRUE(files.count(name)) << name;
    EXPECT_FALSE(files[name].empty()) << name;
  }
  EXPECT_EQ(files.size(), ExpectedFiles().size()) << "no stray temporaries";
}

TEST_F(DevPkiTest, SecondCall_LeavesFilesByteIdentical) {
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

TEST_F(DevPkiTest, DeletedClientCert_ReissuesOnlyIt) {
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

TEST_F(DevPkiTest, DeletedClientKey_ReissuesThatPair) {
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

TEST_F(DevPkiTest, ServerCert_VerifiesAgainstCaForLocalhost) {
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

TEST_F(DevPkiTest, ClientCerts_VerifyAgainstCaForClientAuthOnly) {
  ASSERT_TRUE(EnsureDevPki(dir_.string()).ok());
  for (const DevClient& client : DevClients()) {
    const fs::path cert = dir_ / "clients" / (client.name + ".crt");
    EXPECT_EQ(Verify(dir_ / "ca.crt", cert, X509_PURPOSE_SSL_CLIENT), "ok") << client.name;
    EXPECT_NE(Verify(dir_ / "ca.crt", cert, X509_PURPOSE_SSL_SERVER), "ok") << client.name;
  }
}

TEST_F(DevPkiTest, CaCert_IsSelfSignedRootNamedAndValidTenYears) {
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

TEST_F(DevPkiTest, KeyFiles_AreOwnerReadWriteOnly) {
  ASSERT_TRUE(EnsureDevPki(dir_.string()).ok());
  for (const std::string& name : ExpectedFiles()) {
    if (fs::path(name).extension() != ".key") continue;
    struct stat st;
    ASSERT_EQ(stat((dir_ / name).c_str(), &st), 0) << name;
    EXPECT_EQ(st.st_mode & 07777, 0600u) << name;
  }
}

TEST_F(DevPkiTest, Keys_AreP256) {
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

TEST_F(DevPkiTest, LostCaKey_ReissuesCaAndEveryCertificate) {
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

TEST_F(DevPkiTest, CorruptCertificate_IsReissued) {
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

TEST_F(DevPkiTest, UnwritableDirectory_FailsWithoutCrashing) {
  fs::path file = root_ / "plain-file";
  std::ofstream(file) << "x";
  absl::Status status = EnsureDevPki((file / "pki").string());
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("plain-file"));
}

}  // namespace
}  // namespace motcua::signing
