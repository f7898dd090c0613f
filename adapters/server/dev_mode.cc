#include "adapters/server/dev_mode.h"

#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "adapters/log.h"
#include "signing/dev/dev_pki.h"
#include "signing/dev/local_tsa.h"
#include "signing/signing_key.h"
#include "storage/backup_policy.h"
#include "storage/offline_copy.h"

namespace motcua::adapters {

namespace fs = std::filesystem;

absl::StatusOr<v1::ServerConfig> PrepareDevConfig(const DevModeOptions& options) {
  const std::string& pki = options.pki_dir;
  if (absl::Status s = signing::EnsureDevPki(pki); !s.ok()) return s;
  v1::ServerConfig config;
  config.set_listen(options.listen);
  config.set_metrics_listen(options.metrics_listen);
  config.set_data_dir(options.data_dir);
  v1::TlsConfig& tls = *config.mutable_tls();
  tls.set_certificate(pki + "/server.crt");
  tls.set_private_key(pki + "/server.key");
  tls.add_client_ca(pki + "/ca.crt");
  config.add_manifest_trust_anchors(pki + "/ca.crt");

  // The anchors sign nothing themselves: the PKI directory as a whole also
  // holds the server's TLS certificate, so only its CA is trusted.
  config.add_crl_files(pki + "/ca.crl");
  if (options.trust_dir.empty()) {
    config.add_signature_trust_anchors(pki + "/ca.crt");
  } else {
    config.add_signature_trust_anchors(options.trust_dir);
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(options.trust_dir, ec)) {
      if (entry.path().extension() == ".crl") config.add_crl_files(entry.path().string());
    }
  }
  config.set_tsa_url(options.tsa_url);

  for (const signing::DevUnit& dev : signing::DevUnits()) {
    v1::UnitProfile& unit = *config.add_units();
    unit.set_code(dev.code);
    unit.set_name(dev.name);
    unit.set_parent(dev.parent);
    unit.set_place(dev.place);
    (*unit.mutable_signer_titles())["head"] = dev.head_title;
    unit.set_seal_image(absl::StrCat(pki, "/images/", dev.code, "-seal.png"));
    for (const signing::DevClient& client : signing::DevClients()) {
      const std::string image = absl::StrCat(pki, "/images/", client.name, "-signature.png");
      if (client.unit == dev.code && fs::exists(image)) {
        (*unit.mutable_signature_images())[client.subject] = image;
      }
    }
  }

  if (options.backup_policy.empty()) {
    const std::string var_dir = fs::path(options.data_dir).parent_path().string();
    *config.mutable_backup_policy() = storage::DefaultBackupPolicy(var_dir.empty() ? "." : var_dir);
    // Development only: a key of its own, outside the data dir.
    if (absl::Status s = storage::EnsureOfflineKey(config.backup_policy().offline().key_file());
        !s.ok()) {
      return s;
    }
  } else {
    auto policy = storage::LoadBackupPolicy(options.backup_policy);
    if (!policy.ok()) return policy.status();
    *config.mutable_backup_policy() = *std::move(policy);
  }
  return config;
}

absl::Status AddDevSigning(const DevModeOptions& options,
                           workflow::ResultDocumentsOptions& documents) {
  for (const signing::DevSigner& signer : signing::DevSigners()) {
    if (!signer.seal) continue;
    auto key = signing::SigningKey::LoadPkcs12(
        absl::StrCat(options.pki_dir, "/signers/", signer.name, ".p12"),
        signing::kDevPkcs12Password);
    if (!key.ok()) return key.status();
    documents.seal_keys[signer.unit] = std::shared_ptr<const signing::SigningKey>(*std::move(key));
  }
  auto checker = signing::WithDevCrlIssuer(*documents.revocation, options.pki_dir);
  if (!checker.ok()) return checker.status();
  documents.revocation = *std::move(checker);
  if (options.tsa_url.empty()) {
    auto tsa = signing::OpenLocalTimestampAuthority(options.pki_dir + "/tsa.crt",
                                                    options.pki_dir + "/tsa.key");
    if (!tsa.ok()) return tsa.status();
    documents.timestamps = *std::move(tsa);
  }
  return absl::OkStatus();
}

DevPkiRefresher::DevPkiRefresher(std::string pki_dir, absl::Duration every)
    : thread_([this, pki_dir = std::move(pki_dir), every] { Run(pki_dir, every); }) {}

DevPkiRefresher::~DevPkiRefresher() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  thread_.join();
}

void DevPkiRefresher::Run(const std::string& pki_dir, absl::Duration every) {
  absl::MutexLock lock(&mutex_);
  while (!mutex_.AwaitWithTimeout(absl::Condition(&stopping_), every)) {
    mutex_.Unlock();
    absl::Status s = signing::EnsureDevPki(pki_dir);
    if (!s.ok()) Log(LogLevel::kError, "dev_pki_refresh_failed", {{"error", s.ToString()}});
    mutex_.Lock();
  }
}

}  // namespace motcua::adapters
