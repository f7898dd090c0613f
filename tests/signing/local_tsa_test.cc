#include "signing/dev/local_tsa.h"

#include <openssl/ts.h>

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "signing/cades.h"
#include "signing/dev/dev_pki.h"
#include "signing/signing_key.h"
#include "signing/timestamp_client.h"
#include "signing/trust_store.h"
#include "tests/signing/signing_test_util.h"

namespace motcua::signing {
namespace {

using ::testing::HasSubstr;
using testing_util::CommandResult;
using testing_util::Quote;
using testing_util::RunCommand;
using testing_util::SharedDevPki;
using testing_util::WriteFileOrDie;

std::unique_ptr<TimestampAuthority> DevTsa() {
  auto tsa = OpenLocalTimestampAuthority((SharedDevPki() / "tsa.crt").string(),
                                         (SharedDevPki() / "tsa.key").string());
  EXPECT_TRUE(tsa.ok()) << tsa.status();
  return tsa.ok() ? *std::move(tsa) : nullptr;
}

struct TokenFacts {
  std::string serial_hex;
  absl::Time gen_time;
};

TokenFacts Read(const std::string& token_der) {
  const auto* p = reinterpret_cast<const unsigned char*>(token_der.data());
  PKCS7* token = d2i_PKCS7(nullptr, &p, static_cast<long>(token_der.size()));
  TS_TST_INFO* info = token != nullptr ? PKCS7_to_TS_TST_INFO(token) : nullptr;
  TokenFacts facts;
  if (info != nullptr) {
    BIGNUM* serial = ASN1_INTEGER_to_BN(TS_TST_INFO_get_serial(info), nullptr);
    char* hex = BN_bn2hex(serial);
    facts.serial_hex = hex;
    OPENSSL_free(hex);
    BN_free(serial);
    struct tm tm = {};
    ASN1_TIME_to_tm(TS_TST_INFO_get_time(info), &tm);
    facts.gen_time = absl::FromTM(tm, absl::UTCTimeZone());
  }
  TS_TST_INFO_free(info);
  PKCS7_free(token);
  return facts;
}

class LocalTsaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tsa_ = DevTsa();
    ASSERT_NE(tsa_, nullptr);
    ASSERT_TRUE(trust_.AddAnchorsFrom((SharedDevPki() / "ca.crt").string()).ok());
  }
  TimestampOptions Checked() const {
    TimestampOptions options;
    options.trust = &trust_;
    return options;
  }

  testing_util::ScopedTempDir dir_{"motcua-local-tsa"};
  std::unique_ptr<TimestampAuthority> tsa_;
  TrustStore trust_;
};

TEST_F(LocalTsaTest, TokenPassesTheClientsChecksAndOpensslTsVerify) {
  const std::string value = "the signature value of a receipt";
  absl::StatusOr<std::string> token = RequestTimestamp(*tsa_, value, Checked());
  ASSERT_TRUE(token.ok()) << token.status();
  WriteFileOrDie(dir_.path() / "token.der", *token);
  WriteFileOrDie(dir_.path() / "value.bin", value);
  CommandResult judge = RunCommand(
      "openssl ts -verify -token_in -in " + Quote((dir_.path() / "token.der").string()) +
      " -data " + Quote((dir_.path() / "value.bin").string()) + " -CAfile " +
      Quote((SharedDevPki() / "ca.crt").string()));
  EXPECT_THAT(judge.output, HasSubstr("Verification: OK"));
  CommandResult text = RunCommand("openssl ts -reply -token_in -token_out -text -in " +
                                  Quote((dir_.path() / "token.der").string()));
  // Debian's openssl.cnf names 1.2.3.4.1 "tsa_policy1".
  EXPECT_THAT(text.output, ::testing::AnyOf(HasSubstr("Policy OID: 1.2.3.4.1"),
                                            HasSubstr("Policy OID: tsa_policy1")));
  EXPECT_THAT(text.output, HasSubstr("Hash Algorithm: sha256"));
  EXPECT_THAT(text.output, HasSubstr("Nonce: 0x"));
}

TEST_F(LocalTsaTest, TokensHaveDistinctSerialsAndTheCurrentTime) {
  absl::Time before = absl::Now() - absl::Seconds(1);
  absl::StatusOr<std::string> first = RequestTimestamp(*tsa_, "a", Checked());
  absl::StatusOr<std::string> second = RequestTimestamp(*tsa_, "a", Checked());
  ASSERT_TRUE(first.ok() && second.ok());
  TokenFacts a = Read(*first), b = Read(*second);
  EXPECT_FALSE(a.serial_hex.empty());
  EXPECT_NE(a.serial_hex, b.serial_hex);
  EXPECT_GE(a.gen_time, before);
  EXPECT_LE(a.gen_time, absl::Now() + absl::Seconds(1));
}

TEST_F(LocalTsaTest, TimestampSignature_AddsATokenTheVerifierAccepts) {
  auto key = SigningKey::LoadPkcs12((SharedDevPki() / "signers" / "head.p12").string(),
                                    kDevPkcs12Password);
  ASSERT_TRUE(key.ok()) << key.status();
  absl::StatusOr<std::string> cms = SignDetached(**key, std::string(32, '\x11'));
  ASSERT_TRUE(cms.ok()) << cms.status();
  absl::StatusOr<std::string> stamped = TimestampSignature(*cms, *tsa_, Checked());
  ASSERT_TRUE(stamped.ok()) << stamped.status();
  EXPECT_GT(stamped->size(), cms->size());
}

TEST_F(LocalTsaTest, UnsupportedImprint_IsARejectionInTheReply) {
  // A request over SHA-1: the TSA answers, with status rejection.
  CommandResult query = RunCommand("printf v | openssl ts -query -sha1 -cert -out " +
                                   Quote((dir_.path() / "sha1.tsq").string()));
  ASSERT_EQ(query.exit_code, 0) << query.output;
  absl::StatusOr<std::string> reply =
      tsa_->Answer(testing_util::ReadFileOrDie(dir_.path() / "sha1.tsq"));
  ASSERT_TRUE(reply.ok()) << reply.status();
  const auto* p = reinterpret_cast<const unsigned char*>(reply->data());
  TS_RESP* response = d2i_TS_RESP(nullptr, &p, static_cast<long>(reply->size()));
  ASSERT_NE(response, nullptr);
  EXPECT_EQ(ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(response))),
            TS_STATUS_REJECTION);
  EXPECT_EQ(TS_RESP_get_token(response), nullptr);
  TS_RESP_free(response);
}

TEST_F(LocalTsaTest, Garbage_GetsNoToken) {
  absl::StatusOr<std::string> reply = tsa_->Answer("not a request");
  ASSERT_TRUE(reply.ok()) << reply.status();
  const auto* p = reinterpret_cast<const unsigned char*>(reply->data());
  TS_RESP* response = d2i_TS_RESP(nullptr, &p, static_cast<long>(reply->size()));
  ASSERT_NE(response, nullptr) << "an answer must be a TimeStampResp";
  EXPECT_EQ(TS_RESP_get_token(response), nullptr);
  TS_RESP_free(response);
}

TEST(LocalTsaOpenTest, RefusesWhatCannotTimeStamp) {
  const std::string pki = SharedDevPki().string();
  auto missing = OpenLocalTimestampAuthority(pki + "/nope.crt", pki + "/tsa.key");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  auto not_tsa =
      OpenLocalTimestampAuthority(pki + "/signers/head.crt", pki + "/signers/head.key");
  EXPECT_EQ(not_tsa.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(not_tsa.status().message()), HasSubstr("time-stamping"));
  auto mismatched = OpenLocalTimestampAuthority(pki + "/tsa.crt", pki + "/ocsp.key");
  EXPECT_EQ(mismatched.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace motcua::signing
