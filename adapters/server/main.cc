// motcuad: the motcua server. With no flags it runs the embedded default:
// a local RocksDB under ./var/data, the built-in procedures, and a
// development PKI under ./var/pki that it creates itself, and the default
// 3-2-1 backup policy (copy 2 under ./var/backup, hourly).

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "adapters/backup_service.h"
#include "adapters/identity.h"
#include "adapters/services.h"
#include "adapters/tls.h"
#include "signing/dev_pki.h"
#include "signing/document_verifier.h"
#include "signing/manifest_seal.h"
#include "signing/revocation.h"
#include "signing/timestamp_client.h"
#include "signing/trust_store.h"
#include "storage/backup_manager.h"
#include "storage/backup_policy.h"
#include "storage/files.h"
#include "storage/store.h"
#include "workflow/engine.h"
#include "workflow/integrity.h"
#include "workflow/work_calendar.h"

namespace {

constexpr int kMaxServerThreads = 256;
// Changes waiting on durable commits: enough at once for group commit to
// fill each fsync; beyond the queue, callers are told to back off.
constexpr int kCommitThreads = 64;
constexpr size_t kMaxQueuedChanges = 4096;
// VerifyDocument calls at once (each may parse and hash 20 MiB, on the pool
// the changes need too); more are told to retry.
constexpr int kMaxConcurrentVerifications = 4;

struct Flags {
  std::string data_dir = "var/data";
  std::string pki_dir = "var/pki";
  std::string listen = "127.0.0.1:50051";
  std::string port_file;
  std::string backup_policy;
  std::string trust_dir;
  std::string tsa_url;
  std::string seal_keys;
  int dev_pki_refresh_seconds = 6 * 3600;
  bool insecure = false;
};

constexpr char kUsage[] =
    "usage: motcuad [--data-dir DIR] [--pki-dir DIR] [--listen HOST:PORT]\n"
    "               [--port-file FILE] [--backup-policy FILE] [--trust-dir DIR]\n"
    "               [--tsa-url URL] [--seal-keys FILE] [--dev-pki-refresh SECONDS]\n"
    "               [--insecure]\n"
    "  --data-dir   RocksDB data directory (default var/data)\n"
    "  --pki-dir    TLS files; a development PKI is created there if missing\n"
    "               (default var/pki)\n"
    "  --listen     address to serve on (default 127.0.0.1:50051; port 0 picks one)\n"
    "  --port-file  write the bound port to FILE once serving\n"
    "  --backup-policy  text-format motcua.v1.BackupPolicy (default: the\n"
    "               development policy, everything beside the data dir)\n"
    "  --trust-dir  CA certificates (PEM or DER files) signatures must chain to:\n"
    "               officers' and seals' certificates at approval, documents\n"
    "               given to VerifyDocument (default: <pki-dir>/ca.crt). CRLs\n"
    "               there (*.crl), and <pki-dir>/ca.crl, are the revocation\n"
    "               source of last resort after OCSP and CRL distribution points\n"
    "  --tsa-url    RFC 3161 time-stamping authority (http://...) for every\n"
    "               signature (PAdES B-T); default: the development PKI's TSA\n"
    "               (<pki-dir>/tsa.crt), inside the server\n"
    "  --seal-keys  units' seal keys on PKCS#11 tokens, one per line: \"<unit>\n"
    "               <module> <token label> <key label> <PIN file> [<chain PEM>]\"\n"
    "               (default: the development PKI's seal-<unit>.p12 keys)\n"
    "  --dev-pki-refresh  seconds between checks that renew the development\n"
    "               PKI's CRL (valid 7 days) and expiring certificates (default 21600)\n"
    "  --insecure   no TLS; callers name themselves in metadata. Development only.\n";

bool ParseFlags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    bool ok = true;
    std::string number;
    if (arg == "--data-dir") ok = value(&flags->data_dir);
    else if (arg == "--pki-dir") ok = value(&flags->pki_dir);
    else if (arg == "--listen") ok = value(&flags->listen);
    else if (arg == "--port-file") ok = value(&flags->port_file);
    else if (arg == "--backup-policy") ok = value(&flags->backup_policy);
    else if (arg == "--trust-dir") ok = value(&flags->trust_dir);
    else if (arg == "--tsa-url") ok = value(&flags->tsa_url);
    else if (arg == "--seal-keys") ok = value(&flags->seal_keys);
    else if (arg == "--dev-pki-refresh")
      ok = value(&number) && absl::SimpleAtoi(number, &flags->dev_pki_refresh_seconds) &&
           flags->dev_pki_refresh_seconds > 0;
    else if (arg == "--insecure") flags->insecure = true;
    else ok = false;
    if (!ok) {
      std::cerr << "motcuad: bad argument " << arg << "\n" << kUsage;
      return false;
    }
  }
  return true;
}

struct Backups {
  motcua::workflow::DossierIntegrity integrity;
  std::unique_ptr<motcua::storage::BackupManager> manager;
};

// The backup policy and the manager that keeps it. The manifest of every
// offline copy is sealed with the server's key and checked against its CA.
absl::StatusOr<std::unique_ptr<Backups>> OpenBackupManager(const Flags& flags,
                                                           motcua::storage::Store* store) {
  const std::string var_dir = std::filesystem::path(flags.data_dir).parent_path().string();
  motcua::storage::BackupManagerOptions options;
  if (flags.backup_policy.empty()) {
    options.policy = motcua::storage::DefaultBackupPolicy(var_dir.empty() ? "." : var_dir);
    // Development only: a key of its own, outside the data dir.
    if (absl::Status s = motcua::storage::EnsureOfflineKey(options.policy.offline().key_file());
        !s.ok()) {
      return s;
    }
  } else {
    auto policy = motcua::storage::LoadBackupPolicy(flags.backup_policy);
    if (!policy.ok()) return policy.status();
    options.policy = *policy;
  }
  options.live_dir = flags.data_dir;
  options.software_version = "motcua " MOTCUA_VERSION;
  const std::string key_file = flags.pki_dir + "/server.key";
  auto certificate = motcua::storage::ReadWholeFile(flags.pki_dir + "/server.crt");
  if (!certificate.ok()) return certificate.status();
  auto ca = motcua::storage::ReadWholeFile(flags.pki_dir + "/ca.crt");
  if (!ca.ok()) return ca.status();
  options.seal.certificate_pem = *certificate;
  options.seal.sign = [key_file](absl::string_view manifest) {
    return motcua::signing::SignBytes(key_file, manifest);
  };
  options.check = [ca = *ca](absl::string_view manifest, absl::string_view signature,
                             absl::string_view certificate_pem) {
    return motcua::signing::VerifySignedBytes(certificate_pem, ca, manifest, signature);
  };
  auto backups = std::make_unique<Backups>();
  backups->manager = std::make_unique<motcua::storage::BackupManager>(store, &backups->integrity,
                                                                      std::move(options));
  return backups;
}

// The anchors signatures must chain to, for approvals and for auditors
// alike. Not the PKI directory as a whole: it holds the server's TLS
// certificate, which signs no documents.
absl::StatusOr<motcua::signing::TrustStore> LoadSignatureTrust(const Flags& flags) {
  if (!flags.trust_dir.empty()) return motcua::signing::TrustStore::FromDirectory(flags.trust_dir);
  motcua::signing::TrustStore trust;
  if (absl::Status s = trust.AddAnchorsFrom(flags.pki_dir + "/ca.crt"); !s.ok()) return s;
  return trust;
}

// Asked about officers' and seals' certificates: OCSP and CRL distribution
// points they name, then the CRL files the operator keeps.
absl::StatusOr<std::shared_ptr<const motcua::signing::RevocationChecker>> OpenRevocationChecker(
    const Flags& flags) {
  motcua::signing::RevocationCheckerOptions options;
  options.crl_files.push_back(flags.pki_dir + "/ca.crl");
  if (!flags.trust_dir.empty()) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(flags.trust_dir, ec)) {
      if (entry.path().extension() == ".crl") options.crl_files.push_back(entry.path().string());
    }
  }
  auto checker = motcua::signing::RevocationChecker::Create(std::move(options));
  if (!checker.ok()) return checker.status();
  return std::shared_ptr<const motcua::signing::RevocationChecker>(*std::move(checker));
}

// Runs EnsureDevPki every `every` until destroyed. The development CRL is
// valid 7 days and renewed when 2 remain: without this, approvals would
// stop with UNAVAILABLE ("revocation cannot be established") a week after
// the server's last start.
class DevPkiRefresher {
 public:
  DevPkiRefresher(std::string dir, absl::Duration every)
      : thread_([this, dir = std::move(dir), every] { Run(dir, every); }) {}
  ~DevPkiRefresher() {
    {
      absl::MutexLock lock(&mutex_);
      stopping_ = true;
    }
    thread_.join();
  }

 private:
  void Run(const std::string& dir, absl::Duration every) {
    absl::MutexLock lock(&mutex_);
    while (!mutex_.AwaitWithTimeout(absl::Condition(&stopping_), every)) {
      mutex_.Unlock();
      absl::Status s = motcua::signing::EnsureDevPki(dir);
      if (!s.ok()) std::cerr << "event=dev_pki_refresh_failed error=\"" << s << "\"\n";
      mutex_.Lock();
    }
  }

  absl::Mutex mutex_;
  bool stopping_ = false;
  std::thread thread_;
};

int Fail(std::string_view what, const absl::Status& status) {
  std::cerr << "event=start_failed step=" << what << " error=\"" << status << "\"\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) return 64;

  // SIGTERM and SIGINT are taken by a thread below, which shuts down cleanly.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // The server's key also seals backup manifests, so the PKI is needed
  // even without TLS.
  if (absl::Status s = motcua::signing::EnsureDevPki(flags.pki_dir); !s.ok()) {
    return Fail("pki", s);
  }
  std::shared_ptr<grpc::ServerCredentials> credentials;
  if (flags.insecure) {
    std::cerr << "WARNING: --insecure: no TLS, callers are trusted to name themselves. "
                 "Never use this outside development.\n";
    credentials = grpc::InsecureServerCredentials();
  } else {
    auto creds = motcua::adapters::ServerCredentials(flags.pki_dir);
    if (!creds.ok()) return Fail("tls", creds.status());
    credentials = *creds;
  }

  // Signed results: officers' certificates must chain to the trust anchors; the
  // units' seals are the development keys unless --seal-keys names tokens.
  auto document_options = motcua::workflow::DevResultDocumentsOptions(flags.pki_dir);
  if (!document_options.ok()) return Fail("documents", document_options.status());
  if (!flags.seal_keys.empty()) {
    auto keys = motcua::workflow::LoadSealKeys(flags.seal_keys);
    if (!keys.ok()) return Fail("seal_keys", keys.status());
    document_options->seal_keys = *std::move(keys);
  }
  auto signer_trust = LoadSignatureTrust(flags);
  if (!signer_trust.ok()) return Fail("trust_anchors", signer_trust.status());
  document_options->trust = std::make_shared<motcua::signing::TrustStore>(*std::move(signer_trust));
  auto revocation = OpenRevocationChecker(flags);
  if (!revocation.ok()) return Fail("revocation", revocation.status());
  document_options->revocation = *std::move(revocation);
  if (!flags.tsa_url.empty()) {
    document_options->timestamps = motcua::signing::HttpTimestampAuthority(flags.tsa_url);
  }
  if (absl::Status s = motcua::workflow::CheckSealKeys(*document_options); !s.ok()) {
    return Fail("seal_keys", s);
  }
  std::unique_ptr<motcua::workflow::ResultDocuments> documents =
      motcua::workflow::NewSignedResultDocuments(*std::move(document_options));

  auto store = motcua::storage::Store::Open(flags.data_dir);
  if (!store.ok()) return Fail("store", store.status());
  motcua::workflow::SystemClock clock;
  motcua::workflow::EngineOptions engine_options;
  engine_options.documents = documents.get();
  auto engine = motcua::workflow::Engine::Open(store->get(), &clock,
                                               &motcua::workflow::WorkCalendar::Builtin(),
                                               engine_options);
  if (!engine.ok()) return Fail("engine", engine.status());

  auto backups = OpenBackupManager(flags, store->get());
  if (!backups.ok()) return Fail("backup_policy", backups.status());

  auto verifier_trust = LoadSignatureTrust(flags);
  if (!verifier_trust.ok()) return Fail("trust_anchors", verifier_trust.status());
  motcua::signing::DocumentVerifier verifier(*std::move(verifier_trust),
                                             kMaxConcurrentVerifications);

  motcua::adapters::PrincipalResolver identity(flags.insecure);
  motcua::adapters::WorkPool pool(kCommitThreads, kMaxQueuedChanges);
  auto services = motcua::adapters::MakeServices(engine->get(), &identity, &pool, &verifier);
  services.push_back(motcua::adapters::MakeBackupService((*backups)->manager.get(), &identity));

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(flags.listen, credentials, &port);
  // Attachments are capped at 20 MiB per request; leave room for the rest.
  builder.SetMaxReceiveMessageSize(24 << 20);
  builder.SetMaxSendMessageSize(24 << 20);
  // A bounded pool: past it, calls are refused with RESOURCE_EXHAUSTED at
  // once instead of piling up threads until nothing finishes (a burst at
  // admission opening must degrade, not collapse). Enough threads stay busy
  // in fsync together for group commit to batch them.
  grpc::ResourceQuota quota("motcuad");
  quota.SetMaxThreads(kMaxServerThreads);
  builder.SetResourceQuota(quota);
  for (auto& service : services) builder.RegisterService(service.get());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return Fail("listen", absl::UnavailableError(absl::StrCat("cannot listen on ", flags.listen)));
  }
  if (!flags.port_file.empty()) {
    std::string tmp = flags.port_file + ".tmp";
    std::ofstream(tmp) << port << "\n";
    std::rename(tmp.c_str(), flags.port_file.c_str());
  }
  std::string host = flags.listen.substr(0, flags.listen.rfind(':'));
  std::cerr << "event=serving address=" << host << ":" << port << " data_dir=" << flags.data_dir
            << " tls=" << (flags.insecure ? "off" : "mutual") << " pki_dir=" << flags.pki_dir
            << " db_sequence=" << (*store)->LatestSequenceNumber() << "\n";

  // The policy's state is logged and shown by the health service as
  // "motcua.v1.BackupService": NOT_SERVING while the policy is not met.
  bool last_compliant = false;
  bool logged = false;
  (*backups)->manager->StartSchedule([&](const motcua::v1::BackupStatus& status) {
    server->GetHealthCheckService()->SetServingStatus("motcua.v1.BackupService", status.compliant());
    if (logged && status.compliant() == last_compliant) return;
    logged = true;
    last_compliant = status.compliant();
    std::cerr << "event=backup_policy status=" << (status.compliant() ? "COMPLIANT" : "NOT_COMPLIANT");
    for (const auto& reason : status.reasons()) std::cerr << " reason=\"" << reason << "\"";
    std::cerr << "\n";
  });

  DevPkiRefresher refresher(flags.pki_dir, absl::Seconds(flags.dev_pki_refresh_seconds));

  std::thread stopper([&] {
    int signal = 0;
    sigwait(&stop_signals, &signal);
    std::cerr << "event=stopping signal=" << signal << "\n";
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  });
  server->Wait();
  stopper.join();
  (*backups)->manager.reset();
  std::cerr << "event=stopped\n";
  return 0;
}
