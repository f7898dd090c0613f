#include "adapters/server/server_config.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "storage/backup_policy.h"
#include "storage/files.h"

namespace motcua::adapters {
namespace {

namespace fs = std::filesystem;

// The first syntax error, with its place in the file.
class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (text_.empty()) text_ = absl::StrCat("line ", line + 1, " column ", column + 1, ": ", message);
  }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

// Every path field of `config`, made absolute against `base`.
void ResolvePaths(const fs::path& base, v1::ServerConfig& config) {
  auto resolve = [&](std::string* path) {
    if (!path->empty() && fs::path(*path).is_relative()) *path = (base / *path).lexically_normal();
  };
  auto resolve_all = [&](auto* paths) {
    for (std::string& path : *paths) resolve(&path);
  };
  resolve(config.mutable_data_dir());
  resolve(config.mutable_tls()->mutable_certificate());
  resolve(config.mutable_tls()->mutable_private_key());
  resolve_all(config.mutable_tls()->mutable_client_ca());
  resolve_all(config.mutable_signature_trust_anchors());
  resolve_all(config.mutable_crl_files());
  resolve_all(config.mutable_manifest_trust_anchors());
  for (v1::SealKey& seal : *config.mutable_seal_keys()) {
    resolve(seal.mutable_certificate_chain());
    if (seal.has_pkcs11()) {
      resolve(seal.mutable_pkcs11()->mutable_module());
      resolve(seal.mutable_pkcs11()->mutable_pin_file());
    }
  }
  for (v1::UnitProfile& unit : *config.mutable_units()) {
    resolve(unit.mutable_seal_image());
    for (auto& [name, path] : *unit.mutable_signature_images()) resolve(&path);
  }
  if (config.has_backup_policy()) {
    v1::BackupPolicy& policy = *config.mutable_backup_policy();
    resolve(policy.mutable_backup()->mutable_path());
    resolve(policy.mutable_offline()->mutable_key_file());
    resolve(policy.mutable_drill_path());
  }
}

// NOT_FOUND naming `field` and `path` unless `path` can be opened for
// reading (a file, or a directory of files).
absl::Status CheckReadable(absl::string_view field, const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(
        absl::StrCat(field, ": cannot read ", path, ": ", std::strerror(errno)));
  }
  close(fd);
  return absl::OkStatus();
}

absl::Status CheckReadableList(absl::string_view field,
                               const google::protobuf::RepeatedPtrField<std::string>& paths,
                               bool required) {
  if (required && paths.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": at least one is required"));
  }
  for (int i = 0; i < paths.size(); ++i) {
    if (absl::Status s = CheckReadable(absl::StrCat(field, "[", i, "]"), paths[i]); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status Check(v1::ServerConfig& config) {
  if (config.listen().empty()) return absl::InvalidArgumentError("listen is required");
  if (config.data_dir().empty()) return absl::InvalidArgumentError("data_dir is required");
  if (!config.has_tls()) return absl::InvalidArgumentError("tls is required");
  if (absl::Status s = CheckReadable("tls.certificate", config.tls().certificate()); !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckReadable("tls.private_key", config.tls().private_key()); !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckReadableList("tls.client_ca", config.tls().client_ca(), true);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckReadableList("signature_trust_anchors",
                                         config.signature_trust_anchors(), true);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckReadableList("crl_files", config.crl_files(), false); !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckReadableList("manifest_trust_anchors",
                                         config.manifest_trust_anchors(), false);
      !s.ok()) {
    return s;
  }
  if (!absl::StartsWith(config.tsa_url(), "http://")) {
    return absl::InvalidArgumentError(
        "tsa_url: an http:// URL of an RFC 3161 time-stamping authority is required");
  }
  for (int i = 0; i < config.seal_keys_size(); ++i) {
    const v1::SealKey& seal = config.seal_keys(i);
    const std::string field = absl::StrCat("seal_keys[", i, "]");
    if (!seal.certificate_chain().empty()) {
      if (absl::Status s = CheckReadable(field + ".certificate_chain", seal.certificate_chain());
          !s.ok()) {
        return s;
      }
    }
    if (seal.has_pkcs11()) {
      if (absl::Status s = CheckReadable(field + ".pkcs11.module", seal.pkcs11().module()); !s.ok()) {
        return s;
      }
      if (absl::Status s = CheckReadable(field + ".pkcs11.pin_file", seal.pkcs11().pin_file());
          !s.ok()) {
        return s;
      }
    }
  }
  for (int i = 0; i < config.units_size(); ++i) {
    const v1::UnitProfile& unit = config.units(i);
    const std::string field = absl::StrCat("units[", i, "]");
    if (!unit.seal_image().empty()) {
      if (absl::Status s = CheckReadable(field + ".seal_image", unit.seal_image()); !s.ok()) {
        return s;
      }
    }
    for (const auto& [name, path] : unit.signature_images()) {
      if (absl::Status s = CheckReadable(absl::StrCat(field, ".signature_images[", name, "]"), path);
          !s.ok()) {
        return s;
      }
    }
  }
  if (!config.has_backup_policy()) {
    return absl::InvalidArgumentError("backup_policy is required (the 3-2-1 rule)");
  }
  auto policy = storage::CompleteBackupPolicy(config.backup_policy());
  if (!policy.ok()) return absl::InvalidArgumentError(absl::StrCat("backup_policy: ", policy.status().message()));
  *config.mutable_backup_policy() = *std::move(policy);
  // Production never makes its own offline key: it is kept apart from the
  // data, and a new one would make every earlier offline copy unreadable.
  return CheckReadable("backup_policy.offline.key_file",
                       config.backup_policy().offline().key_file());
}

}  // namespace

absl::StatusOr<v1::ServerConfig> LoadServerConfig(const std::string& path) {
  auto in_file = [&](const absl::Status& status) {
    return absl::Status(status.code(), absl::StrCat(path, ": ", status.message()));
  };
  auto text = storage::ReadWholeFile(path);
  if (!text.ok()) return in_file(absl::NotFoundError(text.status().message()));
  v1::ServerConfig config;
  google::protobuf::TextFormat::Parser parser;
  FirstError errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(*text, &config)) {
    return in_file(absl::InvalidArgumentError(
        absl::StrCat("not a text-format motcua.v1.ServerConfig: ", errors.text())));
  }
  std::error_code ec;
  const fs::path absolute = fs::absolute(path, ec);
  ResolvePaths(absolute.parent_path(), config);
  if (absl::Status s = Check(config); !s.ok()) return in_file(s);
  return config;
}

}  // namespace motcua::adapters
