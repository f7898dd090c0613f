// motcuad --config: a production start uses only what the configuration
// names. The Department's PKI here is made with the openssl command (not the
// development PKI): a CA whose key is not on the server, a server certificate
// for localhost, an administrator's client certificate.

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <google/protobuf/text_format.h>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "motcua/v1/config.pb.h"
#include "storage/files.h"
#include "tests/integration/cli_runner.h"
#include "tests/integration/client.h"
#include "tests/integration/fixtures.h"
#include "tests/integration/server_process.h"
#include "workflow/history.h"

namespace motcua::itest {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr int kServing = 1;

// SHA-256 of every file under `dir`, by path: what "changes no file" means.
std::map<std::string, std::string> HashTree(const fs::path& dir) {
  std::map<std::string, std::string> hashes;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    auto bytes = storage::ReadWholeFile(entry.path().string());
    hashes[entry.path().string()] = bytes.ok() ? workflow::Sha256Hex(*bytes) : "unreadable";
  }
  return hashes;
}

class ProductionConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/motcua-prod-XXXXXX";
    root_ = mkdtemp(tmpl);
    etc_ = root_ / "etc";
    fs::create_directories(etc_);
    // The CA's key stays in a directory that is removed before the start,
    // as it stays with the Department's CA, never on the server.
    const std::string script = absl::StrCat(
        "set -e; cd ", etc_.string(), "; mkdir -p ../ca-private\n",
        "openssl req -x509 -newkey rsa:2048 -nodes -days 30 -keyout ../ca-private/ca.key ",
        "  -out ca.crt -subj '/C=VN/O=So Giao duc va Dao tao/CN=SGDDT Root CA' 2>/dev/null\n",
        "sign() {  # name subject extensions\n",
        "  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout $1.key ",
        "    -out $1.csr -subj \"$2\" 2>/dev/null\n",
        "  printf '%s\\n' \"$3\" > $1.ext\n",
        "  openssl x509 -req -in $1.csr -CA ca.crt -CAkey ../ca-private/ca.key -CAcreateserial ",
        "    -days 30 -extfile $1.ext -out $1.crt 2>/dev/null\n",
        "  rm $1.csr $1.ext; chmod 600 $1.key\n",
        "}\n",
        "sign server '/CN=localhost' 'subjectAltName=DNS:localhost,IP:127.0.0.1\n",
        "extendedKeyUsage=serverAuth'\n",
        "sign admin '/CN=admin.sgddt/OU=admin' 'extendedKeyUsage=clientAuth'\n",
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key ",
        "  -out /dev/null -subj /CN=other 2>/dev/null\n",
        "rm -rf ../ca-private ca.srl\n",
        "openssl rand -hex 32 > ../offline.key; chmod 600 ../offline.key\n");
    ASSERT_EQ(std::system(("bash -c " + Quote(script)).c_str()), 0);
    ASSERT_FALSE(fs::exists(etc_ / "ca.key"));
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }

  static std::string Quote(const std::string& text) {
    std::string quoted = "'";
    for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return quoted + "'";
  }

  // A configuration with paths relative to etc/, and `tls_key` as the
  // server's key.
  std::string WriteConfig(const std::string& tls_key = "server.key") {
    const fs::path path = etc_ / "motcuad.textproto";
    std::ofstream out(path);
    out << "listen: \"127.0.0.1:0\"\n"
        << "data_dir: \"../var/data\"\n"
        << "tls { certificate: \"server.crt\" private_key: \"" << tls_key << "\"\n"
        << "      client_ca: \"ca.crt\" }\n"
        << "signature_trust_anchors: \"ca.crt\"\n"
        << "tsa_url: \"http://127.0.0.1:9/tsa\"\n"
        << "units { code: \"QN-SGDDT\" name: \"Sở Giáo dục và Đào tạo Quảng Ninh\"\n"
        << "        parent: \"Ủy ban nhân dân tỉnh Quảng Ninh\" place: \"Quảng Ninh\"\n"
        << "        signer_titles { key: \"head\" value: \"Giám đốc\" } }\n"
        << "backup_policy {\n"
        << "  backup { path: \"../var/backup\" medium: MEDIUM_SECOND_DISK max_age { seconds: 93600 }\n"
        << "           keep_last: 3 }\n"
        << "  offline { medium: MEDIUM_REMOVABLE max_age { seconds: 604800 } key_file: "
           "\"../offline.key\" }\n"
        << "  drill_path: \"../var/drill\"\n"
        << "}\n";
    return path.string();
  }

  fs::path root_;
  fs::path etc_;
};

TEST_F(ProductionConfigTest, StartAndStop_ChangesNoFileOfThePki) {
  const std::string config = WriteConfig();
  const auto before = HashTree(etc_);
  const auto offline_key_before = storage::ReadWholeFile((root_ / "offline.key").string());
  ASSERT_TRUE(offline_key_before.ok());
  {
    auto server = ServerProcess::StartWithConfig(config);
    ASSERT_TRUE(server.ok()) << server.status();
    EXPECT_THAT((*server)->LogTail(), HasSubstr("\"mode\":\"production\""));
    auto channel = (*server)->NewChannelWith((etc_ / "ca.crt").string(),
                                             (etc_ / "admin.crt").string(),
                                             (etc_ / "admin.key").string());
    auto health = HealthCheck(channel, "motcua.v1.DossierService");
    ASSERT_RPC_OK(health);
    EXPECT_EQ(health.value, kServing);
    auto stopped = (*server)->Stop();
    ASSERT_TRUE(stopped.ok()) << stopped.status();
    EXPECT_TRUE(WIFEXITED(*stopped) && WEXITSTATUS(*stopped) == 0) << (*server)->LogTail();
  }
  EXPECT_EQ(HashTree(etc_), before);
  EXPECT_EQ(storage::ReadWholeFile((root_ / "offline.key").string()).value_or(""),
            *offline_key_before);
  EXPECT_TRUE(fs::exists(root_ / "var" / "data")) << "the data dir named in the file is used";
  EXPECT_FALSE(fs::exists(etc_ / "ca.key"));
  EXPECT_FALSE(fs::exists(etc_ / "clients"));
}

TEST_F(ProductionConfigTest, ServerKeyNotTheCertificates_RefusesToStart) {
  const std::string config = WriteConfig("other.key");
  const auto before = HashTree(etc_);
  CliResult run = RunProgram(MOTCUAD_PATH, {"--config", config});
  EXPECT_EQ(run.exit_code, 1) << run;
  EXPECT_THAT(run.err, HasSubstr("other.key is not the private key of"));
  EXPECT_EQ(HashTree(etc_), before);
}

TEST_F(ProductionConfigTest, MissingFile_RefusesNamingFieldAndPath) {
  std::string config = WriteConfig();
  fs::remove(etc_ / "ca.crt");
  CliResult run = RunProgram(MOTCUAD_PATH, {"--config", config});
  EXPECT_EQ(run.exit_code, 1) << run;
  EXPECT_THAT(run.err, HasSubstr(absl::StrCat("tls.client_ca[0]: cannot read ", etc_.string(),
                                              "/ca.crt")));
  EXPECT_FALSE(fs::exists(etc_ / "ca.crt")) << "nothing is created in its place";
}

TEST_F(ProductionConfigTest, MissingOfflineKey_RefusesRatherThanCreatingOne) {
  const std::string config = WriteConfig();
  fs::remove(root_ / "offline.key");
  CliResult run = RunProgram(MOTCUAD_PATH, {"--config", config});
  EXPECT_EQ(run.exit_code, 1) << run;
  EXPECT_THAT(run.err, HasSubstr("backup_policy.offline.key_file: cannot read"));
  EXPECT_FALSE(fs::exists(root_ / "offline.key"));
}

TEST_F(ProductionConfigTest, SyntaxError_NamesLineAndColumn) {
  const fs::path path = etc_ / "broken.textproto";
  std::ofstream(path) << "listen: \"127.0.0.1:0\"\ndata_dir \"x\" {\n";
  CliResult run = RunProgram(MOTCUAD_PATH, {"--config", path.string()});
  EXPECT_EQ(run.exit_code, 1) << run;
  EXPECT_THAT(run.err, HasSubstr("line 2 column"));
}

// The example the operator's guide shows stays a valid configuration.
TEST(ServerConfigExampleTest, DocsExample_ParsesAsServerConfig) {
  const fs::path example = fs::path(__FILE__).parent_path() / ".." / ".." / "docs" / "examples" /
                           "motcuad.textproto";
  auto text = storage::ReadWholeFile(example.string());
  ASSERT_TRUE(text.ok()) << text.status();
  v1::ServerConfig config;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(*text, &config));
  EXPECT_EQ(config.units(0).signer_titles().at("head"), "Giám đốc");
  EXPECT_TRUE(config.seal_keys(0).has_pkcs11_uri());
  EXPECT_EQ(config.backup_policy().offline().medium(), v1::MEDIUM_REMOVABLE);
}

TEST(MotcuadFlagsTest, NoMode_SaysHowToChooseAndExits2) {
  CliResult run = RunProgram(MOTCUAD_PATH, {});
  EXPECT_EQ(run.exit_code, 2) << run;
  EXPECT_THAT(run.err, HasSubstr("--config FILE (production) or --dev"));
}

TEST(MotcuadFlagsTest, Help_ListsTheOptionsAndExits0) {
  CliResult run = RunProgram(MOTCUAD_PATH, {"--help"});
  EXPECT_EQ(run.exit_code, 0) << run;
  EXPECT_THAT(run.out, HasSubstr("--config"));
  EXPECT_THAT(run.out, HasSubstr("--dev"));
}

TEST(MotcuadFlagsTest, DevOptionWithConfig_IsRefused) {
  CliResult run =
      RunProgram(MOTCUAD_PATH, {"--config", "/nonexistent/motcuad.textproto", "--pki-dir", "pki"});
  EXPECT_EQ(run.exit_code, 2) << run;
  EXPECT_THAT(run.err, HasSubstr("--pki-dir"));
}

}  // namespace
}  // namespace motcua::itest
