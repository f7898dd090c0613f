// motcuad: the motcua server. Two ways to start, never mixed:
//   motcuad --config /etc/motcua/motcuad.textproto   production: only what the
//       file names (proto/motcua/v1/config.proto); no key or certificate is
//       ever created or rewritten.
//   motcuad --dev   development: a local RocksDB under ./var/data, the
//       built-in procedures and unit profiles, a development PKI under
//       ./var/pki that it creates itself, a time-stamping authority in
//       process, and the default 3-2-1 policy (copy 2 under ./var/backup).

#include <malloc.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "adapters/backup_service.h"
#include "adapters/identity.h"
#include "adapters/log.h"
#include "adapters/metrics.h"
#include "adapters/server/dev_mode.h"
#include "adapters/server/server_config.h"
#include "adapters/server_metrics.h"
#include "adapters/services.h"
#include "adapters/tls.h"
#include "motcua/v1/backup_service.grpc.pb.h"
#include "motcua/v1/operations.grpc.pb.h"
#include "motcua/v1/service.grpc.pb.h"
#include "signing/document_verifier.h"
#include "signing/manifest_seal.h"
#include "signing/trust_store.h"
#include "storage/backup_manager.h"
#include "storage/files.h"
#include "storage/store.h"
#include "workflow/engine.h"
#include "workflow/integrity.h"
#include "workflow/page_token.h"
#include "workflow/work_calendar.h"

namespace {

using motcua::adapters::Log;
using motcua::adapters::LogLevel;
using motcua::v1::ServerConfig;

constexpr int kMaxServerThreads = 256;
// Changes waiting on durable commits: enough at once for group commit to
// fill each fsync; beyond the queue, callers are told to back off.
constexpr int kCommitThreads = 64;
constexpr size_t kMaxQueuedChanges = 4096;
// VerifyDocument calls at once (each may parse and hash 20 MiB, on the pool
// the changes need too); more are told to retry.
constexpr int kMaxConcurrentVerifications = 4;

struct Flags {
  std::string config;
  bool dev = false;
  motcua::adapters::DevModeOptions dev_options;
  int dev_pki_refresh_seconds = 6 * 3600;
  bool insecure = false;
  std::string port_file;
  std::string log_format = "json";
};

// Exit codes: 0 after a clean stop, 1 when the server cannot start, 2 for
// a command line that does not say how to start.
constexpr int kExitStartFailed = 1;
constexpr int kExitUsage = 2;

std::optional<int> ParseFlags(int argc, char** argv, Flags* flags) {
  CLI::App app(
      "motcuad, the motcua server. Start it for production with --config FILE, or for "
      "development with --dev (which alone creates a development PKI, unit profiles and a "
      "time-stamping authority).",
      "motcuad");
  // A flag given twice takes its last value, so a wrapper's defaults can be
  // overridden by appending.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  auto* config = app.add_option("--config", flags->config,
                                "production: the server configuration, a text-format "
                                "motcua.v1.ServerConfig (see docs/OPERATIONS.md)");
  auto* dev = app.add_flag("--dev", flags->dev, "development mode: everything under ./var");
  config->excludes(dev);
  motcua::adapters::DevModeOptions& d = flags->dev_options;
  auto dev_only = [&](CLI::Option* option) { option->needs(dev)->group("Development (--dev)"); };
  dev_only(app.add_option("--data-dir", d.data_dir, "RocksDB data directory")
               ->capture_default_str());
  dev_only(app.add_option("--pki-dir", d.pki_dir, "the development PKI, created if missing")
               ->capture_default_str());
  dev_only(app.add_option("--listen", d.listen, "address to serve on (port 0 picks one)")
               ->capture_default_str());
  dev_only(app.add_option("--metrics-listen", d.metrics_listen,
                          "address of the Prometheus /metrics endpoint (default: none)"));
  dev_only(app.add_option("--backup-policy", d.backup_policy,
                          "text-format motcua.v1.BackupPolicy (default: the development "
                          "policy beside the data dir)"));
  dev_only(app.add_option("--trust-dir", d.trust_dir,
                          "CA certificates signatures must chain to, and *.crl files "
                          "(default: <pki-dir>/ca.crt)"));
  dev_only(app.add_option("--tsa-url", d.tsa_url,
                          "an RFC 3161 TSA (http://...) instead of the development TSA"));
  dev_only(app.add_option("--dev-pki-refresh", flags->dev_pki_refresh_seconds,
                          "seconds between renewals of the development CRL and "
                          "expiring certificates")
               ->check(CLI::PositiveNumber)
               ->capture_default_str());
  dev_only(app.add_flag("--insecure", flags->insecure,
                        "no TLS; callers name themselves in metadata"));
  app.add_option("--port-file", flags->port_file, "write the bound port to FILE once serving");
  app.add_option("--log-format", flags->log_format,
                 "json: one JSON object per line, for collectors; text: key=value, for people")
      ->check(CLI::IsMember({"json", "text"}))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }
  if (!flags->dev && flags->config.empty()) {
    std::cerr << "motcuad: say how to start: --config FILE (production) or --dev "
                 "(development); --help lists the options\n";
    return kExitUsage;
  }
  return std::nullopt;
}

int Fail(absl::string_view what, const absl::Status& status) {
  Log(LogLevel::kError, "start_failed", {{"step", what}, {"error", status.ToString()}});
  return kExitStartFailed;
}

// Anchors from files or directories of certificates.
absl::StatusOr<motcua::signing::TrustStore> LoadAnchors(
    const google::protobuf::RepeatedPtrField<std::string>& paths) {
  motcua::signing::TrustStore trust;
  for (const std::string& path : paths) {
    if (absl::Status s = trust.AddAnchorsFrom(path); !s.ok()) return s;
  }
  return trust;
}

// The PEM text of every file in `paths`, one after the other.
absl::StatusOr<std::string> ReadAll(const google::protobuf::RepeatedPtrField<std::string>& paths) {
  std::string pem;
  for (const std::string& path : paths) {
    auto text = motcua::storage::ReadWholeFile(path);
    if (!text.ok()) return text.status();
    pem += *text;
    if (!pem.empty() && pem.back() != '\n') pem += '\n';
  }
  return pem;
}

struct Backups {
  motcua::workflow::DossierIntegrity integrity;
  std::unique_ptr<motcua::storage::BackupManager> manager;
};

// The backup policy and the manager that keeps it. The manifest of every
// offline copy is sealed with the server's TLS key and checked against the
// CA that issued the server's certificate.
absl::StatusOr<std::unique_ptr<Backups>> OpenBackupManager(const ServerConfig& config,
                                                           motcua::storage::Store* store) {
  motcua::storage::BackupManagerOptions options;
  options.policy = config.backup_policy();
  options.live_dir = config.data_dir();
  options.software_version = "motcua " MOTCUA_VERSION;
  const std::string key_file = config.tls().private_key();
  auto certificate = motcua::storage::ReadWholeFile(config.tls().certificate());
  if (!certificate.ok()) return certificate.status();
  auto ca = ReadAll(config.manifest_trust_anchors().empty() ? config.tls().client_ca()
                                                            : config.manifest_trust_anchors());
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

// Health name of issuing documents after their step.
constexpr char kDocumentsHealth[] = "motcua.documents";

// The services whose health is reported by name, beside "" (the server).
const std::vector<std::string>& ServiceNames() {
  static const std::vector<std::string>* const kNames = new std::vector<std::string>{
      motcua::v1::ProcedureService::service_full_name(),
      motcua::v1::DossierService::service_full_name(),
      motcua::v1::TaskService::service_full_name(),
      motcua::v1::AuditService::service_full_name(),
      motcua::v1::OperationService::service_full_name(),
  };
  return *kNames;
}

int Serve(const ServerConfig& config, const Flags& flags) {
  // SIGTERM and SIGINT are taken by a thread below, which shuts down cleanly.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::shared_ptr<grpc::ServerCredentials> credentials;
  if (flags.insecure) {
    Log(LogLevel::kWarning, "insecure",
        {{"note", "no TLS, callers are trusted to name themselves: never outside development"}});
    credentials = grpc::InsecureServerCredentials();
  } else {
    motcua::adapters::ServerIdentityFiles files;
    files.cert = config.tls().certificate();
    files.key = config.tls().private_key();
    files.client_ca.assign(config.tls().client_ca().begin(), config.tls().client_ca().end());
    auto creds = motcua::adapters::ServerCredentials(files);
    if (!creds.ok()) return Fail("tls", creds.status());
    credentials = *creds;
  }

  // Signed results: officers' certificates must chain to the trust anchors;
  // each unit seals with its own key.
  auto document_options = motcua::workflow::OpenResultDocumentsOptions(config);
  if (!document_options.ok()) return Fail("documents", document_options.status());
  if (flags.dev) {
    if (absl::Status s = motcua::adapters::AddDevSigning(flags.dev_options, *document_options);
        !s.ok()) {
      return Fail("dev_signing", s);
    }
  }
  if (absl::Status s = motcua::workflow::CheckSealKeys(*document_options); !s.ok()) {
    return Fail("seal_keys", s);
  }
  for (const auto& unit : config.units()) {
    if (!document_options->seal_keys.contains(unit.code())) {
      Log(LogLevel::kWarning, "unit_without_seal_key",
          {{"unit", unit.code()}, {"note", "documents this unit must seal will be refused"}});
    }
  }
  auto metrics = motcua::adapters::ServerMetrics::Create();
  if (!metrics.ok()) return Fail("metrics", metrics.status());
  std::unique_ptr<motcua::workflow::ResultDocuments> documents = (*metrics)->CountSignatures(
      motcua::workflow::NewSignedResultDocuments(*std::move(document_options)));

  std::error_code mkdir_error;
  std::filesystem::create_directories(config.data_dir(), mkdir_error);
  if (mkdir_error) {
    return Fail("store", absl::UnavailableError(absl::StrCat("cannot create ", config.data_dir(),
                                                             ": ", mkdir_error.message())));
  }
  motcua::storage::StoreOptions store_options;
  store_options.idempotency_expired = motcua::workflow::IdempotencyRetention(
      config.idempotency_retention_days() > 0
          ? absl::Hours(24) * config.idempotency_retention_days()
          : motcua::workflow::kDefaultIdempotencyRetention);
  auto store = motcua::storage::Store::Open(config.data_dir(), store_options);
  if (!store.ok()) return Fail("store", store.status());
  auto backups = OpenBackupManager(config, store->get());
  if (!backups.ok()) return Fail("backup_policy", backups.status());

  motcua::workflow::SystemClock clock;
  motcua::workflow::EngineOptions engine_options;
  engine_options.jobs = motcua::adapters::BackupJobs((*backups)->manager.get());
  engine_options.documents = documents.get();
  engine_options.timer_poll = absl::Seconds(1);
  engine_options.document_workers = 2;
  auto engine = motcua::workflow::Engine::Open(store->get(), &clock,
                                               &motcua::workflow::WorkCalendar::Builtin(),
                                               engine_options);
  if (!engine.ok()) return Fail("engine", engine.status());

  auto verifier_trust = LoadAnchors(config.signature_trust_anchors());
  if (!verifier_trust.ok()) return Fail("signature_trust_anchors", verifier_trust.status());
  motcua::signing::DocumentVerifier verifier(*std::move(verifier_trust),
                                             kMaxConcurrentVerifications,
                                             absl::Seconds(config.max_revocation_age_seconds()));

  motcua::adapters::PrincipalResolver identity(flags.insecure);
  motcua::adapters::WorkPool pool(kCommitThreads, kMaxQueuedChanges);
  if (absl::Status s = (*metrics)->WatchStore(store->get()); !s.ok()) return Fail("metrics", s);
  if (absl::Status s = (*metrics)->WatchWorkPool(&pool); !s.ok()) return Fail("metrics", s);
  if (absl::Status s = (*metrics)->WatchEngine(engine->get()); !s.ok()) return Fail("metrics", s);
  std::unique_ptr<motcua::adapters::MetricsHttpServer> metrics_http;
  if (!config.metrics_listen().empty()) {
    auto http = motcua::adapters::MetricsHttpServer::Start(config.metrics_listen(),
                                                           &(*metrics)->registry());
    if (!http.ok()) return Fail("metrics_listen", http.status());
    metrics_http = *std::move(http);
  }
  auto services = motcua::adapters::MakeServices(engine->get(), &identity, &pool, &verifier);
  auto page_tokens = motcua::workflow::PageTokens::Open(store->get(), /*may_write=*/true);
  if (!page_tokens.ok()) return Fail("page_tokens", page_tokens.status());
  services.push_back(motcua::adapters::MakeBackupService(
      (*backups)->manager.get(), engine->get(), &identity, &pool, &*page_tokens));

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(config.listen(), credentials, &port);
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
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back((*metrics)->InterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return Fail("listen",
                absl::UnavailableError(absl::StrCat("cannot listen on ", config.listen())));
  }
  for (const std::string& name : ServiceNames()) {
    server->GetHealthCheckService()->SetServingStatus(name, true);
  }
  server->GetHealthCheckService()->SetServingStatus(kDocumentsHealth, true);
  if (!flags.port_file.empty()) {
    std::string tmp = flags.port_file + ".tmp";
    std::ofstream(tmp) << port << "\n";
    std::rename(tmp.c_str(), flags.port_file.c_str());
  }
  std::string host = config.listen().substr(0, config.listen().rfind(':'));
  Log(LogLevel::kInfo, "serving",
      {{"address", absl::StrCat(host, ":", port)},
       {"metrics_port", metrics_http ? metrics_http->port() : 0},
       {"data_dir", config.data_dir()},
       {"tls", flags.insecure ? "off" : "mutual"},
       {"db_sequence", (*store)->LatestSequenceNumber()}});

  // The policy's state is logged and shown by the health service as
  // "motcua.v1.BackupService": NOT_SERVING while the policy is not met.
  bool last_compliant = false;
  bool logged = false;
  (*backups)->manager->StartSchedule([&](const motcua::v1::BackupStatus& status) {
    (*metrics)->SetBackupStatus(status);
    server->GetHealthCheckService()->SetServingStatus(
        motcua::v1::BackupService::service_full_name(), status.compliant());
    if (logged && status.compliant() == last_compliant) return;
    logged = true;
    last_compliant = status.compliant();
    Log(status.compliant() ? LogLevel::kInfo : LogLevel::kWarning, "backup_policy",
        {{"status", status.compliant() ? "COMPLIANT" : "NOT_COMPLIANT"},
         {"reasons", absl::StrJoin(status.reasons(), "; ")}});
  }, [](const absl::StatusOr<motcua::v1::BackupRecord>& made) {
    if (!made.ok()) {
      Log(LogLevel::kError, "backup_failed", {{"error", made.status().ToString()}});
    } else {
      Log(made->verified_ok() ? LogLevel::kInfo : LogLevel::kError, "backup",
          {{"id", made->id()}, {"sequence", made->sequence_number()},
           {"verified", made->verified_ok()}});
    }
  });

  // Issuing documents after their step is shown by the health service as
  // "motcua.documents": NOT_SERVING while it keeps failing (a seal token
  // unplugged, a TSA down); the reason is logged once per change.
  absl::Notification stopping;
  std::thread documents_watch([&] {
    const motcua::workflow::Principal self{"motcuad", motcua::v1::ROLE_ADMIN, "", ""};
    std::string last_error;
    while (!stopping.WaitForNotificationWithTimeout(absl::Seconds(5))) {
      auto status = (*engine)->GetEngineStatus(self, motcua::v1::GetEngineStatusRequest());
      if (!status.ok()) continue;
      server->GetHealthCheckService()->SetServingStatus(kDocumentsHealth,
                                                        status->document_last_error().empty());
      if (status->document_last_error() == last_error) continue;
      last_error = status->document_last_error();
      Log(last_error.empty() ? LogLevel::kInfo : LogLevel::kWarning, "documents_issuing",
          {{"status", last_error.empty() ? "ok" : "failing"},
           {"pending", status->documents_pending()},
           {"error", last_error}});
    }
  });

  std::optional<motcua::adapters::DevPkiRefresher> refresher;
  if (flags.dev) {
    refresher.emplace(flags.dev_options.pki_dir, absl::Seconds(flags.dev_pki_refresh_seconds));
  }

  std::thread stopper([&] {
    int signal = 0;
    sigwait(&stop_signals, &signal);
    Log(LogLevel::kInfo, "stopping", {{"signal", signal}});
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  });
  server->Wait();
  stopper.join();
  stopping.Notify();
  documents_watch.join();
  // The engine first: its jobs use the backup manager. A job it stops runs
  // again at the next start.
  metrics_http.reset();
  engine->reset();
  (*backups)->manager.reset();
  Log(LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Large buffers (uploads, whole gRPC messages) come from mmap and go back
  // to the system when freed. By default glibc raises this threshold each
  // time such a block is freed, after which they stay in its arenas: 25
  // refused 12 MiB requests left the server at ~0.5 GiB resident (figures
  // and the allocators compared: docs/BENCHMARKS.md, scripts/bench-memory.sh).
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  Flags flags;
  if (std::optional<int> exit_code = ParseFlags(argc, argv, &flags)) return *exit_code;
  motcua::adapters::SetLogFormat(*motcua::adapters::ParseLogFormat(flags.log_format));

  absl::StatusOr<ServerConfig> config;
  if (flags.dev) {
    Log(LogLevel::kWarning, "starting",
        {{"mode", "development"},
         {"pki_dir", flags.dev_options.pki_dir},
         {"note", "development PKI, built-in unit profiles and an in-process TSA, created "
                  "here: never for production (use --config)"}});
    config = motcua::adapters::PrepareDevConfig(flags.dev_options);
  } else {
    Log(LogLevel::kInfo, "starting", {{"mode", "production"}, {"config", flags.config}});
    config = motcua::adapters::LoadServerConfig(flags.config);
  }
  if (!config.ok()) return Fail("config", config.status());
  return Serve(*config, flags);
}
