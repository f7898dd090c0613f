#ifndef MOTCUA_ADAPTERS_TLS_H_
#define MOTCUA_ADAPTERS_TLS_H_

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include "absl/status/statusor.h"

namespace motcua::adapters {

// Paths of the PEM files a client presents.
struct ClientIdentityFiles {
  std::string ca_cert;  // trust anchor for the server's certificate
  std::string cert;     // the client's certificate (role, unit, subject)
  std::string key;      // its private key
};

// The files of a development client created by signing::EnsureDevPki:
// <pki_dir>/ca.crt and <pki_dir>/clients/<name>.{crt,key}.
ClientIdentityFiles DevClientFiles(const std::string& pki_dir, const std::string& name);

// Mutual-TLS channel credentials. Fails with NOT_FOUND naming the missing
// file when one cannot be read.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ClientCredentials(
    const ClientIdentityFiles& files);

// Paths of the PEM files the server presents and trusts.
struct ServerIdentityFiles {
  std::string cert;                    // the server's certificate (and issuers)
  std::string key;                     // its private key
  std::vector<std::string> client_ca;  // CAs that issue callers' certificates
};

// The server's files in a development PKI: <pki_dir>/server.{crt,key},
// clients issued by <pki_dir>/ca.crt.
ServerIdentityFiles DevServerFiles(const std::string& pki_dir);

// Mutual-TLS server credentials: callers must present a certificate issued
// by one of `files.client_ca`. NOT_FOUND naming a file that cannot be read;
// INVALID_ARGUMENT naming both files when the key is not the certificate's.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(
    const ServerIdentityFiles& files);

}  // namespace motcua::adapters

#endif  // MOTCUA_ADAPTERS_TLS_H_
