#ifndef MOTCUA_ADAPTERS_SERVER_METRICS_H_
#define MOTCUA_ADAPTERS_SERVER_METRICS_H_

// The metrics motcuad exports on /metrics (adapters/metrics.h), by where
// they come from:
//   motcua_grpc_requests_total{method,code}, motcua_grpc_request_seconds{method}
//       every call, counted by a gRPC interceptor
//   motcua_store_*          commits, group commits, WAL fsyncs and their time,
//                           write stalls, compactions (storage::StoreStats)
//   motcua_signatures_total{kind,outcome}
//                           signatures made for result documents, or failed
//   motcua_backup_*         the 3-2-1 policy's state and each copy's age
//   motcua_work_pool_*      changes waiting for a commit thread
//   motcua_event_log_head, motcua_timers_due, motcua_documents_*,
//   motcua_operations_running
//                           the engine's own work (Engine::GetEngineStatus)
// Thread-safe. Everything watched must outlive the scrapes.

#include <memory>

#include <grpcpp/support/server_interceptor.h>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "adapters/metrics.h"
#include "adapters/work_pool.h"
#include "motcua/v1/backup.pb.h"
#include "storage/store.h"
#include "workflow/engine.h"
#include "workflow/result_documents.h"

namespace motcua::adapters {

class ServerMetrics {
 public:
  // INTERNAL if the families cannot be registered (a programming error).
  static absl::StatusOr<std::unique_ptr<ServerMetrics>> Create();
  ServerMetrics(const ServerMetrics&) = delete;
  ServerMetrics& operator=(const ServerMetrics&) = delete;

  const MetricsRegistry& registry() const { return registry_; }

  // For grpc::ServerBuilder::experimental().SetInterceptorCreators.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> InterceptorFactory();

  // Reads `store`'s statistics at every scrape.
  absl::Status WatchStore(const storage::Store* store);
  // Reads the queue length of `pool` at every scrape.
  absl::Status WatchWorkPool(const WorkPool* pool);
  // Reads the engine's status (at most once a second) at scrapes.
  absl::Status WatchEngine(workflow::Engine* engine);

  // The backup policy's latest verdict (BackupManager::StartSchedule's);
  // ages are computed at scrape time from it.
  void SetBackupStatus(const v1::BackupStatus& status);

  // `documents`, with every signature it makes or fails counted.
  std::unique_ptr<workflow::ResultDocuments> CountSignatures(
      std::unique_ptr<workflow::ResultDocuments> documents);

 private:
  ServerMetrics() = default;
  absl::Status RegisterBackupMetrics();

  MetricsRegistry registry_;
  CounterFamily* requests_ = nullptr;
  HistogramFamily* request_seconds_ = nullptr;
  CounterFamily* signatures_ = nullptr;
  absl::Mutex backup_mu_;
  std::unique_ptr<v1::BackupStatus> backup_status_ ABSL_GUARDED_BY(backup_mu_);
};

}  // namespace motcua::adapters

#endif  // MOTCUA_ADAPTERS_SERVER_METRICS_H_
