#include "adapters/identity.h"

#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/auth_context.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace motcua::adapters {
namespace {

constexpr absl::string_view kSubjectHeader = "x-motcua-subject";
constexpr absl::string_view kRoleHeader = "x-motcua-role";
constexpr absl::string_view kUnitHeader = "x-motcua-unit";
constexpr absl::string_view kPositionHeader = "x-motcua-position";

// The OU words of signing::DevClients() and of any CA that issues for us.
absl::StatusOr<v1::Role> RoleFromWord(absl::string_view word) {
  if (word == "portal") return v1::ROLE_PORTAL;
  if (word == "officer") return v1::ROLE_OFFICER;
  if (word == "clerk") return v1::ROLE_CLERK;
  if (word == "auditor") return v1::ROLE_AUDITOR;
  if (word == "admin") return v1::ROLE_ADMIN;
  return absl::PermissionDeniedError(absl::StrCat(
      "unknown role \"", word, "\"; expected portal, officer, clerk, auditor or admin"));
}

// The value of the subject entry `nid`, nullopt if absent. Repeated entries
// are refused: with two OUs, which role the caller gets would depend on which
// one a reader happens to pick.
absl::StatusOr<std::optional<std::string>> SingleEntry(const X509_NAME* name, int nid,
                                                       absl::string_view label) {
  int index = X509_NAME_get_index_by_NID(name, nid, -1);
  if (index < 0) return std::optional<std::string>();
  if (X509_NAME_get_index_by_NID(name, nid, index) >= 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("certificate subject has more than one ", label, " entry"));
  }
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) {
    ERR_clear_error();
    return absl::PermissionDeniedError(
        absl::StrCat("certificate subject ", label, " is not a valid string"));
  }
  std::string value(reinterpret_cast<const char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  // An embedded NUL would let "head.hn\0x" pass as "head.hn" to C-string code.
  if (value.find('\0') != std::string::npos) {
    return absl::PermissionDeniedError(
        absl::StrCat("certificate subject ", label, " contains a NUL byte"));
  }
  if (value.empty()) return std::optional<std::string>();
  return std::optional<std::string>(std::move(value));
}

// Metadata value of `key`, nullopt if absent; duplicates are refused for the
// same reason as repeated subject entries.
absl::StatusOr<std::optional<std::string>> SingleHeader(const grpc::ServerContextBase& context,
                                                        absl::string_view key) {
  const auto& metadata = context.client_metadata();
  const grpc::string_ref ref(key.data(), key.size());
  auto [first, last] = metadata.equal_range(ref);
  if (first == last) return std::optional<std::string>();
  if (std::next(first) != last) {
    return absl::PermissionDeniedError(absl::StrCat("metadata ", key, " given more than once"));
  }
  std::string value(first->second.data(), first->second.size());
  if (value.empty()) return std::optional<std::string>();
  return std::optional<std::string>(std::move(value));
}

absl::StatusOr<workflow::Principal> FromMetadata(const grpc::ServerContextBase& context) {
  absl::StatusOr<std::optional<std::string>> subject = SingleHeader(context, kSubjectHeader);
  if (!subject.ok()) return subject.status();
  absl::StatusOr<std::optional<std::string>> role = SingleHeader(context, kRoleHeader);
  if (!role.ok()) return role.status();
  absl::StatusOr<std::optional<std::string>> unit = SingleHeader(context, kUnitHeader);
  if (!unit.ok()) return unit.status();
  absl::StatusOr<std::optional<std::string>> position = SingleHeader(context, kPositionHeader);
  if (!position.ok()) return position.status();
  if (!subject->has_value()) {
    return absl::UnauthenticatedError(
        absl::StrCat("insecure mode: metadata ", kSubjectHeader, " is required"));
  }
  if (!role->has_value()) {
    return absl::UnauthenticatedError(
        absl::StrCat("insecure mode: metadata ", kRoleHeader, " is required"));
  }
  absl::StatusOr<v1::Role> role_enum = RoleFromWord(**role);
  if (!role_enum.ok()) return role_enum.status();
  workflow::Principal principal;
  principal.subject = **std::move(subject);
  principal.role = *role_enum;
  principal.unit = std::move(*unit).value_or("");
  principal.position = std::move(*position).value_or("");
  return principal;
}

}  // namespace

absl::StatusOr<workflow::Principal> PrincipalFromCertificatePem(std::string_view pem) {
  if (pem.empty()) return absl::InvalidArgumentError("empty certificate");
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (bio == nullptr) return absl::InternalError("BIO_new_mem_buf failed");
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
  if (cert == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError("not a PEM-encoded X.509 certificate");
  }
  const X509_NAME* name = X509_get_subject_name(cert.get());

  absl::StatusOr<std::optional<std::string>> cn = SingleEntry(name, NID_commonName, "CN");
  if (!cn.ok()) return cn.status();
  absl::StatusOr<std::optional<std::string>> ou =
      SingleEntry(name, NID_organizationalUnitName, "OU");
  if (!ou.ok()) return ou.status();
  absl::StatusOr<std::optional<std::string>> o = SingleEntry(name, NID_organizationName, "O");
  if (!o.ok()) return o.status();
  absl::StatusOr<std::optional<std::string>> title = SingleEntry(name, NID_title, "title");
  if (!title.ok()) return title.status();

  if (!cn->has_value()) {
    return absl::PermissionDeniedError("certificate subject has no CN (the caller's name)");
  }
  if (!ou->has_value()) {
    return absl::PermissionDeniedError("certificate subject has no OU (the caller's role)");
  }
  absl::StatusOr<v1::Role> role = RoleFromWord(**ou);
  if (!role.ok()) {
    return absl::PermissionDeniedError(
        absl::StrCat("certificate subject OU: ", role.status().message()));
  }
  workflow::Principal principal;
  principal.subject = **std::move(cn);
  principal.role = *role;
  principal.unit = std::move(*o).value_or("");
  principal.position = std::move(*title).value_or("");
  return principal;
}

PrincipalResolver::PrincipalResolver(bool insecure) : insecure_(insecure) {}

absl::StatusOr<workflow::Principal> PrincipalResolver::Resolve(
    const grpc::ServerContextBase& context) {
  if (insecure_) return FromMetadata(context);
  return FromCertificate(context);
}

absl::StatusOr<workflow::Principal> PrincipalResolver::FromCertificate(
    const grpc::ServerContextBase& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  std::vector<grpc::string_ref> pems =
      auth != nullptr ? auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME)
                      : std::vector<grpc::string_ref>();
  if (pems.empty()) return absl::UnauthenticatedError("no client certificate");
  const absl::string_view pem(pems.front().data(), pems.front().size());
  {
    absl::MutexLock lock(&mu_);
    if (auto it = by_pem_.find(pem); it != by_pem_.end()) return it->second;
  }
  // Parsed outside the lock so a slow parse does not stall other calls; two
  // racing first calls for one certificate both parse, which is harmless.
  absl::StatusOr<workflow::Principal> principal =
      PrincipalFromCertificatePem(std::string_view(pem.data(), pem.size()));
  if (!principal.ok()) return principal.status();
  absl::MutexLock lock(&mu_);
  // Dropping everything is crude but keeps the bound trivially; the working
  // set refills from live callers within a few calls.
  if (by_pem_.size() >= kMaxCachedCertificates) by_pem_.clear();
  by_pem_.try_emplace(std::string(pem), *principal);
  return principal;
}

}  // namespace motcua::adapters
