#include "signing/certificate_chain.h"

#include <openssl/x509.h>

#include "gtest/gtest.h"
#include "tests/signing/verifier_fixtures.h"

namespace motcua::signing {
namespace {

using fixtures::CertPem;
using fixtures::Pki;

std::string CommonName(X509* cert) {
  char cn[256] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn));
  return cn;
}

TEST(CertificateChainTest, ThroughTheStoresIntermediate_LeafToRoot) {
  TrustStore trust = Pki().RootStore();
  ASSERT_TRUE(trust.AddIntermediates(CertPem(Pki().intermediate.get())).ok());
  auto chain = BuildChain(Pki().leaf.get(), trust, nullptr, ChainOptions());
  ASSERT_TRUE(chain.ok()) << chain.status();
  ASSERT_EQ(chain->size(), 3);
  EXPECT_EQ(chain->leaf(), Pki().leaf.get());
  EXPECT_EQ(CommonName(chain->at(1)), "motcua issuing CA");
  EXPECT_EQ(CommonName(chain->at(2)), "motcua test root");
}

TEST(CertificateChainTest, ThroughAnIntermediateTheDocumentCarries) {
  STACK_OF(X509)* carried = sk_X509_new_null();
  sk_X509_push(carried, Pki().intermediate.get());
  auto chain = BuildChain(Pki().leaf.get(), Pki().RootStore(), carried, ChainOptions());
  sk_X509_free(carried);
  ASSERT_TRUE(chain.ok()) << chain.status();
  EXPECT_EQ(chain->size(), 3);
}

TEST(CertificateChainTest, IntermediateMissing_FailedPreconditionAndMissingPath) {
  auto chain = BuildChain(Pki().leaf.get(), Pki().RootStore(), nullptr, ChainOptions());
  EXPECT_EQ(chain.status().code(), absl::StatusCode::kFailedPrecondition) << chain.status();
  EXPECT_TRUE(IsMissingPath(chain.status())) << chain.status();
}

TEST(CertificateChainTest, AnotherRoot_MissingPath) {
  TrustStore other;
  ASSERT_TRUE(other.AddAnchors(CertPem(Pki().other_root.get())).ok());
  auto chain = BuildChain(Pki().signer.get(), other, nullptr, ChainOptions());
  EXPECT_TRUE(IsMissingPath(chain.status())) << chain.status();
}

TEST(CertificateChainTest, JudgedAtTheGivenTime) {
  ChainOptions before_the_root;  // the fixture's root is valid from a day ago
  before_the_root.at = absl::Now() - absl::Hours(24 * 2);
  auto chain = BuildChain(Pki().signer.get(), Pki().RootStore(), nullptr, before_the_root);
  EXPECT_EQ(chain.status().message(), "certificate is not yet valid");
  EXPECT_TRUE(BuildChain(Pki().signer.get(), Pki().RootStore(), nullptr, ChainOptions()).ok());
}

TEST(CertificateChainTest, IntermediateAsAnchor_EndsThere) {
  TrustStore trust;
  ASSERT_TRUE(trust.AddAnchors(CertPem(Pki().intermediate.get())).ok());
  auto chain = BuildChain(Pki().leaf.get(), trust, nullptr, ChainOptions());
  ASSERT_TRUE(chain.ok()) << chain.status();
  EXPECT_EQ(chain->size(), 2);
}

TEST(CertificateChainTest, Expired_RefusedNotAMissingPath_AcceptedIgnoringValidity) {
  auto now = BuildChain(Pki().expired.get(), Pki().RootStore(), nullptr, ChainOptions());
  EXPECT_EQ(now.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(now.status().message(), "certificate has expired");
  EXPECT_FALSE(IsMissingPath(now.status()));

  // The verifier's way: the path alone, validity judged by the caller.
  ChainOptions ignoring;
  ignoring.ignore_validity = true;
  EXPECT_TRUE(BuildChain(Pki().expired.get(), Pki().RootStore(), nullptr, ignoring).ok());
}

}  // namespace
}  // namespace motcua::signing
