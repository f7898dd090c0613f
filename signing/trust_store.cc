#include "signing/trust_store.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace motcua::signing {
namespace {

constexpr uintmax_t kMaxCertificateFile = 1u << 20;

}  // namespace

absl::StatusOr<std::vector<TrustStore::Cert>> TrustStore::ParseCertificates(
    absl::string_view data) {
  std::vector<Cert> certs;
  if (data.size() > static_cast<size_t>(INT32_MAX)) {
    return absl::InvalidArgumentError("certificate data too large");
  }
  if (absl::StrContains(data, "-----BEGIN CERTIFICATE-----")) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(data.data(), static_cast<int>(data.size())), &BIO_free);
    while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      certs.emplace_back(cert);
    }
    ERR_clear_error();  // the read that ends the loop leaves "no start line"
  } else {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(data.data());
    X509* cert = d2i_X509(nullptr, &p, static_cast<long>(data.size()));
    if (cert != nullptr) certs.emplace_back(cert);
  }
  if (certs.empty()) return absl::InvalidArgumentError("no certificate (PEM or DER) found");
  return certs;
}

absl::StatusOr<TrustStore> TrustStore::FromDirectory(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::NotFoundError(absl::StrCat("trust directory ", dir, " does not exist"));
  }
  std::vector<fs::path> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file(ec) && entry.file_size(ec) <= kMaxCertificateFile) {
      files.push_back(entry.path());
    }
  }
  if (ec) return absl::UnavailableError(absl::StrCat("cannot list ", dir, ": ", ec.message()));
  std::sort(files.begin(), files.end());
  TrustStore store;
  for (const fs::path& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream data;
    data << in.rdbuf();
    // Non-certificate files (keys, READMEs) are skipped, not errors.
    (void)store.AddAnchors(data.str());
  }
  if (store.anchors_.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("trust directory ", dir, " holds no PEM or DER certificate"));
  }
  return store;
}

absl::Status TrustStore::AddAnchors(absl::string_view data) {
  absl::StatusOr<std::vector<Cert>> certs = ParseCertificates(data);
  if (!certs.ok()) return certs.status();
  for (Cert& cert : *certs) anchors_.push_back(std::move(cert));
  return absl::OkStatus();
}

absl::Status TrustStore::AddAnchorsFrom(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    absl::StatusOr<TrustStore> dir = FromDirectory(path);
    if (!dir.ok()) return dir.status();
    for (Cert& cert : dir->anchors_) anchors_.push_back(std::move(cert));
    return absl::OkStatus();
  }
  if (!fs::is_regular_file(path, ec)) {
    return absl::NotFoundError(absl::StrCat("trust anchor file ", path, " does not exist"));
  }
  if (fs::file_size(path, ec) > kMaxCertificateFile) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is too large for a certificate file"));
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream data;
  data << in.rdbuf();
  if (!in) return absl::UnavailableError(absl::StrCat("cannot read ", path));
  absl::Status added = AddAnchors(data.str());
  if (!added.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", added.message()));
  return absl::OkStatus();
}

absl::Status TrustStore::AddIntermediates(absl::string_view data) {
  absl::StatusOr<std::vector<Cert>> certs = ParseCertificates(data);
  if (!certs.ok()) return certs.status();
  for (Cert& cert : *certs) intermediates_.push_back(std::move(cert));
  return absl::OkStatus();
}

}  // namespace motcua::signing
