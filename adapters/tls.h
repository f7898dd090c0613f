#ifndef MOTCUA_ADAPTERS_TLS_H_
#define MOTCUA_ADAPTERS_TLS_H_

#include <memory>
#include <string>

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

// Server credentials from <pki_dir>/server.{crt,key}; clients must present a
// certificate issued by <pki_dir>/ca.crt.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(
    const std::string& pki_dir);

}  // namespace motcua::adapters

#endif  // MOTCUA_ADAPTERS_TLS_H_
