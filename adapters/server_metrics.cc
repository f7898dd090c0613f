#include "adapters/server_metrics.h"

#include <grpcpp/support/status.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "proto/proto_time.h"
#include "storage/backup_policy.h"

namespace motcua::adapters {
namespace {

using grpc::experimental::InterceptionHookPoints;

// The names gRPC gives its codes ("OK", "NOT_FOUND", ...), as Prometheus
// label values that read like the API documentation.
const char* CodeName(grpc::StatusCode code) {
  static const char* const kNames[] = {
      "OK",      "CANCELLED",         "UNKNOWN",          "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS",  "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",   "UNIMPLEMENTED",    "INTERNAL",
      "UNAVAILABLE", "DATA_LOSS",     "UNAUTHENTICATED"};
  const int index = static_cast<int>(code);
  return index >= 0 && index < 17 ? kNames[index] : "UNKNOWN";
}

// "/motcua.v1.DossierService/SubmitDossier" -> "SubmitDossier" keeps the
// label short; method names are unique across our services.
std::string ShortMethod(const char* full) {
  std::string method = full == nullptr ? "" : full;
  const size_t slash = method.rfind('/');
  return slash == std::string::npos ? method : method.substr(slash + 1);
}

class RequestInterceptor : public grpc::experimental::Interceptor {
 public:
  RequestInterceptor(std::string method, CounterFamily* requests, HistogramFamily* seconds)
      : method_(std::move(method)), requests_(requests), seconds_(seconds), start_(absl::Now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      requests_->WithLabels({method_, CodeName(status.error_code())}).Increment();
      seconds_->WithLabels({method_}).Observe(absl::ToDoubleSeconds(absl::Now() - start_));
    }
    methods->Proceed();
  }

 private:
  const std::string method_;
  CounterFamily* const requests_;
  HistogramFamily* const seconds_;
  const absl::Time start_;
};

class RequestInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  RequestInterceptorFactory(CounterFamily* requests, HistogramFamily* seconds)
      : requests_(requests), seconds_(seconds) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new RequestInterceptor(ShortMethod(info->method()), requests_, seconds_);
  }

 private:
  CounterFamily* const requests_;
  HistogramFamily* const seconds_;
};

// Counts what `inner` signs: one signature per signer of each finished
// document; a failed Complete or SignByServer counts as one failure.
const char* SignerName(v1::Signer signer) {
  return signer == v1::SIGNER_ACTOR ? "actor" : "unit_seal";
}

class CountingDocuments : public workflow::ResultDocuments {
 public:
  CountingDocuments(std::unique_ptr<workflow::ResultDocuments> inner, CounterFamily* signatures)
      : inner_(std::move(inner)), signatures_(signatures) {}

  absl::StatusOr<std::unique_ptr<workflow::PendingSignature>> Prepare(
      const workflow::DocumentRequest& request, const workflow::Principal& caller,
      absl::string_view certificate_pem) override {
    return inner_->Prepare(request, caller, certificate_pem);
  }
  absl::StatusOr<workflow::SignedDocument> Complete(const workflow::PendingSignature& pending,
                                                    absl::string_view signature_value) override {
    return Count(inner_->Complete(pending, signature_value), "actor");
  }
  absl::StatusOr<workflow::SignedDocument> SignByServer(
      const workflow::DocumentRequest& request) override {
    return Count(inner_->SignByServer(request), "unit_seal");
  }
  absl::StatusOr<std::string> RenewTimestamp(absl::string_view pdf) override {
    return inner_->RenewTimestamp(pdf);
  }

 private:
  absl::StatusOr<workflow::SignedDocument> Count(absl::StatusOr<workflow::SignedDocument> result,
                                                 const char* failed_kind) {
    if (!result.ok()) {
      signatures_->WithLabels({failed_kind, "failed"}).Increment();
    } else {
      for (const v1::DocumentSigner& signer : result->signers) {
        signatures_->WithLabels({SignerName(signer.signer()), "made"}).Increment();
      }
    }
    return result;
  }

  std::unique_ptr<workflow::ResultDocuments> inner_;
  CounterFamily* const signatures_;
};

template <typename T>
absl::Status Assign(absl::StatusOr<T> family, T* out) {
  if (!family.ok()) return family.status();
  *out = *family;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServerMetrics>> ServerMetrics::Create() {
  std::unique_ptr<ServerMetrics> metrics(new ServerMetrics());
  MetricsRegistry& r = metrics->registry_;
  absl::Status s = Assign(r.AddCounter("motcua_grpc_requests_total",
                                       "gRPC calls finished, by method and status code",
                                       {"method", "code"}),
                          &metrics->requests_);
  if (s.ok()) {
    // 0.5 ms .. ~16 s: a read, a durable commit, a signed step, a backup.
    s = Assign(r.AddHistogram("motcua_grpc_request_seconds",
                              "Time from a call's arrival to its status, by method", {"method"},
                              ExponentialBuckets(0.0005, 2, 16)),
               &metrics->request_seconds_);
  }
  if (s.ok()) {
    s = Assign(r.AddCounter("motcua_signatures_total",
                            "Signatures on result documents: kind actor|unit_seal, outcome "
                            "made|failed",
                            {"kind", "outcome"}),
               &metrics->signatures_);
  }
  if (s.ok()) s = metrics->RegisterBackupMetrics();
  if (!s.ok()) return absl::InternalError(absl::StrCat("metrics: ", s.message()));
  return metrics;
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
ServerMetrics::InterceptorFactory() {
  return std::make_unique<RequestInterceptorFactory>(requests_, request_seconds_);
}

absl::Status ServerMetrics::WatchStore(const storage::Store* store) {
  struct Figure {
    MetricType type;
    const char* name;
    const char* help;
    double (*read)(const storage::StoreStats&);
  };
  static const Figure kFigures[] = {
      {MetricType::kCounter, "motcua_store_commits_total", "Durable commits that succeeded",
       [](const storage::StoreStats& s) { return double(s.commits); }},
      {MetricType::kCounter, "motcua_store_failed_commits_total", "Commits that failed",
       [](const storage::StoreStats& s) { return double(s.failed_commits); }},
      {MetricType::kCounter, "motcua_store_write_groups_total",
       "Group commits (one log write each); commits per group = grouped_writes / write_groups",
       [](const storage::StoreStats& s) { return double(s.write_groups); }},
      {MetricType::kCounter, "motcua_store_grouped_writes_total", "Commits carried by group commits",
       [](const storage::StoreStats& s) { return double(s.grouped_writes); }},
      {MetricType::kCounter, "motcua_store_wal_syncs_total", "fsyncs of the write-ahead log",
       [](const storage::StoreStats& s) { return double(s.wal_syncs); }},
      {MetricType::kCounter, "motcua_store_wal_sync_seconds_total", "Time spent in those fsyncs",
       [](const storage::StoreStats& s) { return s.wal_sync_seconds; }},
      {MetricType::kGauge, "motcua_store_wal_sync_p99_seconds",
       "99th percentile of an fsync since the server started",
       [](const storage::StoreStats& s) { return s.wal_sync_p99_seconds; }},
      {MetricType::kCounter, "motcua_store_stall_seconds_total",
       "Time writers were held back by RocksDB",
       [](const storage::StoreStats& s) { return s.stall_seconds; }},
      {MetricType::kGauge, "motcua_store_write_stopped", "1 while RocksDB stops all writes",
       [](const storage::StoreStats& s) { return s.write_stopped ? 1.0 : 0.0; }},
      {MetricType::kCounter, "motcua_store_compaction_read_bytes_total", "Bytes read by compaction",
       [](const storage::StoreStats& s) { return double(s.compaction_read_bytes); }},
      {MetricType::kCounter, "motcua_store_compaction_write_bytes_total",
       "Bytes written by compaction",
       [](const storage::StoreStats& s) { return double(s.compaction_write_bytes); }},
      {MetricType::kGauge, "motcua_store_running_compactions", "Compactions running now",
       [](const storage::StoreStats& s) { return double(s.running_compactions); }},
      {MetricType::kGauge, "motcua_store_pending_compaction_bytes",
       "Bytes compaction still has to rewrite (estimate)",
       [](const storage::StoreStats& s) { return double(s.pending_compaction_bytes); }},
  };
  for (const Figure& figure : kFigures) {
    auto read = figure.read;
    if (absl::Status s = registry_.AddCallback(figure.type, figure.name, figure.help, {}, {},
                                               [store, read] { return read(store->Stats()); });
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status ServerMetrics::WatchWorkPool(const WorkPool* pool) {
  return registry_.AddCallback(MetricType::kGauge, "motcua_work_pool_queued",
                               "Changes waiting for a commit thread", {}, {},
                               [pool] { return double(pool->queued()); });
}

absl::Status ServerMetrics::WatchEngine(workflow::Engine* engine) {
  // One status read serves every series of a scrape.
  struct Cached {
    absl::Mutex mu;
    absl::Time read = absl::InfinitePast();
    v1::EngineStatus status;
  };
  auto cached = std::make_shared<Cached>();
  auto read = [engine, cached](double (*pick)(const v1::EngineStatus&)) {
    return [engine, cached, pick] {
      absl::MutexLock lock(&cached->mu);
      if (absl::Now() - cached->read > absl::Seconds(1)) {
        const workflow::Principal self{"motcuad (metrics)", v1::ROLE_ADMIN, "", ""};
        auto status = engine->GetEngineStatus(self, v1::GetEngineStatusRequest());
        if (status.ok()) cached->status = *std::move(status);
        cached->read = absl::Now();
      }
      return pick(cached->status);
    };
  };
  const struct {
    MetricType type;
    const char* name;
    const char* help;
    double (*pick)(const v1::EngineStatus&);
  } kSeries[] = {
      {MetricType::kGauge, "motcua_event_log_head", "Number of the last event in the event log",
       [](const v1::EngineStatus& s) { return double(s.log_head()); }},
      {MetricType::kGauge, "motcua_timers_due", "Timers due and not yet fired",
       [](const v1::EngineStatus& s) { return double(s.timers_due()); }},
      {MetricType::kGauge, "motcua_documents_pending",
       "Documents waiting to be issued after their step",
       [](const v1::EngineStatus& s) { return double(s.documents_pending()); }},
      {MetricType::kGauge, "motcua_documents_oldest_pending_seconds",
       "How long the oldest pending document has waited",
       [](const v1::EngineStatus& s) { return s.oldest_pending_seconds(); }},
      {MetricType::kCounter, "motcua_documents_issued_total",
       "Documents issued after their step since the server started",
       [](const v1::EngineStatus& s) { return double(s.documents_issued()); }},
      {MetricType::kCounter, "motcua_document_failures_total",
       "Failed attempts to issue a document since the server started",
       [](const v1::EngineStatus& s) { return double(s.document_failures()); }},
      {MetricType::kGauge, "motcua_operations_running", "Long-running operations not finished",
       [](const v1::EngineStatus& s) { return double(s.operations_running()); }},
  };
  for (const auto& series : kSeries) {
    if (absl::Status s = registry_.AddCallback(series.type, series.name, series.help, {}, {},
                                               read(series.pick));
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

void ServerMetrics::SetBackupStatus(const v1::BackupStatus& status) {
  absl::MutexLock lock(&backup_mu_);
  backup_status_ = std::make_unique<v1::BackupStatus>(status);
}

absl::Status ServerMetrics::RegisterBackupMetrics() {
  absl::Status s = registry_.AddCallback(
      MetricType::kGauge, "motcua_backup_policy_compliant",
      "1 when the 3-2-1 policy is met, 0 when not (or not judged yet)", {}, {}, [this] {
        absl::MutexLock lock(&backup_mu_);
        return backup_status_ != nullptr && backup_status_->compliant() ? 1.0 : 0.0;
      });
  if (!s.ok()) return s;
  s = registry_.AddCollector(
      MetricType::kGauge, "motcua_backup_copy_counts",
      "1 when the copy counts toward the policy (live, backup, offline)", {"copy"}, [this] {
        absl::MutexLock lock(&backup_mu_);
        std::vector<MetricSample> samples;
        if (backup_status_ == nullptr) return samples;
        for (const v1::CopyStatus& copy : backup_status_->copies()) {
          samples.push_back({{storage::CopyName(copy.copy())}, copy.counts() ? 1.0 : 0.0});
        }
        return samples;
      });
  if (!s.ok()) return s;
  return registry_.AddCollector(
      MetricType::kGauge, "motcua_backup_copy_age_seconds",
      "Age of the newest copy of each kind (backup, offline); absent when there is none",
      {"copy"}, [this] {
        absl::MutexLock lock(&backup_mu_);
        std::vector<MetricSample> samples;
        if (backup_status_ == nullptr) return samples;
        const absl::Time now = absl::Now();
        for (const v1::CopyStatus& copy : backup_status_->copies()) {
          if (!copy.has_latest() || !copy.latest().has_created_at()) continue;
          samples.push_back(
              {{storage::CopyName(copy.copy())}, absl::ToDoubleSeconds(now - FromProto(copy.latest().created_at()))});
        }
        return samples;
      });
}

std::unique_ptr<workflow::ResultDocuments> ServerMetrics::CountSignatures(
    std::unique_ptr<workflow::ResultDocuments> documents) {
  return std::make_unique<CountingDocuments>(std::move(documents), signatures_);
}

}  // namespace motcua::adapters
