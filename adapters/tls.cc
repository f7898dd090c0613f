#include "adapters/tls.h"

#include <fcntl.h>
#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace motcua::adapters {
namespace {

// Any failure to read is NOT_FOUND (the header's contract); the errno text
// in the message tells a missing file from a permission problem.
absl::StatusOr<std::string> ReadPem(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  std::string contents;
  char buf[8192];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int error = errno;
      close(fd);
      return absl::NotFoundError(absl::StrCat("cannot read ", path, ": ", std::strerror(error)));
    }
    if (n == 0) break;
    contents.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return contents;
}

// gRPC reports a key that does not belong to its certificate only as a
// failed handshake or a server that will not start, with the reason in its
// log; checking here turns that into an error naming both files.
absl::Status CheckKeyMatchesCertificate(const std::string& cert_pem, const std::string& cert_path,
                                        const std::string& key_pem, const std::string& key_path) {
  std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(
      BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())), &BIO_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(
      BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())), &BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      cert_bio ? PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr) : nullptr,
      &X509_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr) : nullptr,
      &EVP_PKEY_free);
  const bool matches =
      cert != nullptr && key != nullptr && X509_check_private_key(cert.get(), key.get()) == 1;
  ERR_clear_error();
  if (cert == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(cert_path, " is not a PEM certificate"));
  }
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(key_path, " is not a PEM private key"));
  }
  if (!matches) {
    return absl::InvalidArgumentError(
        absl::StrCat(key_path, " is not the private key of ", cert_path));
  }
  return absl::OkStatus();
}

}  // namespace

ClientIdentityFiles DevClientFiles(const std::string& pki_dir, const std::string& name) {
  return ClientIdentityFiles{
      .ca_cert = pki_dir + "/ca.crt",
      .cert = pki_dir + "/clients/" + name + ".crt",
      .key = pki_dir + "/clients/" + name + ".key",
  };
}

ServerIdentityFiles DevServerFiles(const std::string& pki_dir) {
  return ServerIdentityFiles{
      .cert = pki_dir + "/server.crt",
      .key = pki_dir + "/server.key",
      .client_ca = {pki_dir + "/ca.crt"},
  };
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ClientCredentials(
    const ClientIdentityFiles& files) {
  absl::StatusOr<std::string> ca = ReadPem(files.ca_cert);
  if (!ca.ok()) return ca.status();
  absl::StatusOr<std::string> cert = ReadPem(files.cert);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPem(files.key);
  if (!key.ok()) return key.status();
  if (absl::Status s = CheckKeyMatchesCertificate(*cert, files.cert, *key, files.key); !s.ok()) {
    return s;
  }
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = *std::move(ca);
  options.pem_private_key = *std::move(key);
  options.pem_cert_chain = *std::move(cert);
  return grpc::SslCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(
    const ServerIdentityFiles& files) {
  std::string client_ca;
  for (const std::string& path : files.client_ca) {
    absl::StatusOr<std::string> ca = ReadPem(path);
    if (!ca.ok()) return ca.status();
    client_ca += *ca;
    if (!client_ca.empty() && client_ca.back() != '\n') client_ca += '\n';
  }
  if (client_ca.empty()) {
    return absl::InvalidArgumentError("no client CA: nobody could be let in");
  }
  absl::StatusOr<std::string> cert = ReadPem(files.cert);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPem(files.key);
  if (!key.ok()) return key.status();
  if (absl::Status s = CheckKeyMatchesCertificate(*cert, files.cert, *key, files.key); !s.ok()) {
    return s;
  }
  // The caller's identity comes only from its certificate, so a client
  // without one (or with one the CA did not issue) must not get in at all.
  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = std::move(client_ca);
  options.pem_key_cert_pairs.push_back(
      grpc::SslServerCredentialsOptions::PemKeyCertPair{*std::move(key), *std::move(cert)});
  return grpc::SslServerCredentials(options);
}

}  // namespace motcua::adapters
