#ifndef MOTCUA_ADAPTERS_SERVER_DEV_MODE_H_
#define MOTCUA_ADAPTERS_SERVER_DEV_MODE_H_

// `motcuad --dev`: the only way the server ever creates keys and
// certificates. It makes (or repairs) a development PKI, describes it as an
// ordinary ServerConfig, and adds what production takes from outside: the
// units' seal keys as PKCS#12 files and a time-stamping authority in process.

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "motcua/v1/config.pb.h"
#include "workflow/result_documents.h"

namespace motcua::adapters {

struct DevModeOptions {
  std::string data_dir = "var/data";
  // Created if missing (signing/dev/dev_pki.h).
  std::string pki_dir = "var/pki";
  std::string listen = "127.0.0.1:50051";
  std::string metrics_listen;
  // Text-format BackupPolicy. Empty: the development policy beside the data
  // dir, with an offline key it creates.
  std::string backup_policy;
  // Anchors for signatures (and *.crl there). Empty: <pki_dir>/ca.crt.
  std::string trust_dir;
  // A real TSA. Empty: the development PKI's TSA, in process.
  std::string tsa_url;
};

// Creates or repairs the development PKI and returns the configuration that
// names its files, as a production file would. Errors of EnsureDevPki and of
// reading the backup policy.
absl::StatusOr<v1::ServerConfig> PrepareDevConfig(const DevModeOptions& options);

// What development adds to OpenResultDocumentsOptions(config): each unit's
// seal-<unit>.p12 key, the development CA issuing CRLs on request (fresh
// evidence for every document) and, without a TSA URL, the development TSA.
absl::Status AddDevSigning(const DevModeOptions& options,
                           workflow::ResultDocumentsOptions& documents);

// Runs EnsureDevPki every `every` until destroyed. The development CRL is
// valid 7 days and renewed when 2 remain: without this, approvals would stop
// with UNAVAILABLE ("revocation cannot be established") a week after the
// server's last start.
class DevPkiRefresher {
 public:
  DevPkiRefresher(std::string pki_dir, absl::Duration every);
  ~DevPkiRefresher();

 private:
  void Run(const std::string& pki_dir, absl::Duration every);

  absl::Mutex mutex_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace motcua::adapters

#endif  // MOTCUA_ADAPTERS_SERVER_DEV_MODE_H_
