#include "adapters/backup_service.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "adapters/call.h"
#include "adapters/grpc_status.h"
#include "adapters/log.h"
#include "motcua/v1/backup_service.grpc.pb.h"
#include "proto/error_reason.h"
#include "workflow/access.h"

namespace motcua::adapters {
namespace {

using workflow::Principal;
using bs = v1::BackupService;

// Job kinds.
constexpr char kBackup[] = "backup";
constexpr char kVerify[] = "verify_backups";
constexpr char kExport[] = "export_offline";
constexpr char kDrill[] = "restore_drill";

// Which job a call starts, and how people see it described.
struct JobStart {
  const char* kind;
  std::string description;
};

// A job that runs `body` on the request it was started with, reporting
// through the manager's Progress, and logs why it failed.
template <typename Request, typename Body>
workflow::JobRunner Runner(Body body) {
  return [body](const workflow::Job& job,
                workflow::JobControl& control) -> absl::StatusOr<v1::OperationResult> {
    Request request;
    if (!request.ParseFromString(job.request)) {
      return absl::DataLossError(absl::StrCat("the request of ", job.operation, " is unreadable"));
    }
    storage::Progress progress = [&control](absl::string_view stage, int64_t done,
                                            int64_t total) {
      return control.Report(stage, done, total);
    };
    absl::StatusOr<v1::OperationResult> result = body(job, request, progress);
    if (!result.ok() && !absl::IsCancelled(result.status())) {
      Log(LogLevel::kError, "backup_job_failed",
          {{"operation", job.operation},
           {"kind", Request::descriptor()->name()},
           {"error", std::string(result.status().message())}});
    }
    return result;
  };
}

// The response of a job that made or checked these records.
absl::StatusOr<v1::OperationResult> WithRecords(
    absl::StatusOr<std::vector<v1::BackupRecord>> records) {
  if (!records.ok()) return records.status();
  v1::OperationResult result;
  for (v1::BackupRecord& r : *records) *result.add_backups() = std::move(r);
  return result;
}

absl::StatusOr<std::vector<v1::BackupRecord>> One(absl::StatusOr<v1::BackupRecord> record) {
  if (!record.ok()) return record.status();
  return std::vector<v1::BackupRecord>{*std::move(record)};
}

}  // namespace

std::map<std::string, workflow::JobRunner> BackupJobs(storage::BackupManager* manager) {
  using storage::Progress;
  using workflow::Job;
  return {
      {kBackup, Runner<v1::RunBackupRequest>(
                    [manager](const Job& job, const v1::RunBackupRequest&, const Progress& p) {
                      return WithRecords(One(manager->RunBackup(job.started_by, p)));
                    })},
      {kVerify, Runner<v1::VerifyBackupsRequest>(
                    [manager](const Job&, const v1::VerifyBackupsRequest& r, const Progress& p) {
                      return WithRecords(manager->Verify(r.offline_dir(), p));
                    })},
      {kExport, Runner<v1::ExportOfflineRequest>(
                    [manager](const Job& job, const v1::ExportOfflineRequest& r, const Progress& p) {
                      return WithRecords(
                          One(manager->ExportOffline(job.started_by, r.destination_dir(), p)));
                    })},
      {kDrill, Runner<v1::RunRestoreDrillRequest>(
                   [manager](const Job& job, const v1::RunRestoreDrillRequest& r,
                             const Progress& p) -> absl::StatusOr<v1::OperationResult> {
                     auto drill = manager->RunDrill(job.started_by, r.offline_dir(), p);
                     if (!drill.ok()) return drill.status();
                     v1::OperationResult result;
                     *result.mutable_drill() = *std::move(drill);
                     return result;
                   })},
  };
}

namespace {

class BackupService final
    : public bs::WithRawCallbackMethod_GetBackupStatus<bs::WithRawCallbackMethod_ListBackups<
          bs::WithRawCallbackMethod_RunBackup<bs::WithRawCallbackMethod_VerifyBackups<
              bs::WithRawCallbackMethod_ExportOffline<bs::WithRawCallbackMethod_ConfirmDetached<
                  bs::WithRawCallbackMethod_RunRestoreDrill<bs::Service>>>>>>> {
 public:
  BackupService(storage::BackupManager* manager, workflow::Engine* engine,
                PrincipalResolver* identity, WorkPool* pool,
                const workflow::PageTokens* page_tokens)
      : manager_(manager),
        engine_(engine),
        identity_(identity),
        pool_(pool),
        page_tokens_(page_tokens) {}

  grpc::ServerUnaryReactor* GetBackupStatus(grpc::CallbackServerContext* context,
                                            const grpc::ByteBuffer* in,
                                            grpc::ByteBuffer* out) override {
    return Unary<v1::GetBackupStatusRequest>(
        context, in, out, kReaders, "read the backup status",
        [this](const Principal&, const v1::GetBackupStatusRequest&) { return manager_->Status(); });
  }

  grpc::ServerUnaryReactor* ListBackups(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* in,
                                        grpc::ByteBuffer* out) override {
    return Unary<v1::ListBackupsRequest>(
        context, in, out, kReaders, "list backups",
        [this](const Principal& caller, const v1::ListBackupsRequest& r) {
          return ListPage(caller, r);
        });
  }

  grpc::ServerUnaryReactor* ConfirmDetached(grpc::CallbackServerContext* context,
                                            const grpc::ByteBuffer* in,
                                            grpc::ByteBuffer* out) override {
    return Unary<v1::ConfirmDetachedRequest>(
        context, in, out, {v1::ROLE_ADMIN}, "record custody of an offline copy",
        [this](const Principal& caller, const v1::ConfirmDetachedRequest& r) {
          return manager_->ConfirmDetached(caller.subject, r.copy_id(), r.detached_by(),
                                           r.kept_at());
        });
  }

  grpc::ServerUnaryReactor* RunBackup(grpc::CallbackServerContext* context,
                                      const grpc::ByteBuffer* in, grpc::ByteBuffer* out) override {
    return StartJob<v1::RunBackupRequest>(
        context, in, out, "run a backup",
        [](const v1::RunBackupRequest&) -> absl::StatusOr<JobStart> {
          return JobStart{kBackup, "Back up the data (copy 2)"};
        });
  }

  grpc::ServerUnaryReactor* VerifyBackups(grpc::CallbackServerContext* context,
                                          const grpc::ByteBuffer* in,
                                          grpc::ByteBuffer* out) override {
    return StartJob<v1::VerifyBackupsRequest>(
        context, in, out, "verify backups",
        [](const v1::VerifyBackupsRequest& r) -> absl::StatusOr<JobStart> {
          return JobStart{kVerify, r.offline_dir().empty()
                                       ? std::string("Verify the backups")
                                       : absl::StrCat("Verify the backups and the offline copy at ",
                                                      r.offline_dir())};
        });
  }

  grpc::ServerUnaryReactor* ExportOffline(grpc::CallbackServerContext* context,
                                          const grpc::ByteBuffer* in,
                                          grpc::ByteBuffer* out) override {
    return StartJob<v1::ExportOfflineRequest>(
        context, in, out, "export an offline copy",
        [](const v1::ExportOfflineRequest& r) -> absl::StatusOr<JobStart> {
          if (r.destination_dir().empty()) {
            return WithReason(absl::InvalidArgumentError(
                                  "destination_dir is required: the directory where the "
                                  "medium is mounted"),
                              v1::FIELD_REQUIRED, "destination_dir");
          }
          return JobStart{kExport, absl::StrCat("Export an offline copy to ", r.destination_dir())};
        });
  }

  grpc::ServerUnaryReactor* RunRestoreDrill(grpc::CallbackServerContext* context,
                                            const grpc::ByteBuffer* in,
                                            grpc::ByteBuffer* out) override {
    return StartJob<v1::RunRestoreDrillRequest>(
        context, in, out, "run a restore drill",
        [](const v1::RunRestoreDrillRequest& r) -> absl::StatusOr<JobStart> {
          return JobStart{kDrill, r.offline_dir().empty()
                                      ? std::string("Restore drill from the newest verified backup")
                                      : absl::StrCat("Restore drill from the offline copy at ",
                                                     r.offline_dir())};
        });
  }

 private:
  // Who may read the status and the catalog.
  static constexpr v1::Role kReaders[] = {v1::ROLE_ADMIN, v1::ROLE_AUDITOR};

  // A quick call on the pool for a caller whose role is in `allowed`.
  template <typename Request, typename Body>
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* context, const grpc::ByteBuffer* in,
                                  grpc::ByteBuffer* out, absl::Span<const v1::Role> allowed,
                                  const char* action, Body body) {
    return ServeOnPool<Request>(
        pool_, identity_, context, in, out,
        [allowed = std::vector<v1::Role>(allowed.begin(), allowed.end()), action, body](
            const Principal& caller, const Request& r) {
          using Response = typename std::decay_t<decltype(body(caller, r))>::value_type;
          if (absl::Status s = workflow::RequireRole(caller, allowed, action); !s.ok()) {
            return absl::StatusOr<Response>(s);
          }
          return absl::StatusOr<Response>(body(caller, r));
        });
  }

  // The catalog only grows (records are marked, never removed), so a page
  // resumes at offsets into its two lists, sealed in the token.
  absl::StatusOr<v1::ListBackupsResponse> ListPage(const Principal& caller,
                                                   const v1::ListBackupsRequest& r) {
    if (r.page_size() < 0) {
      return WithReason(absl::InvalidArgumentError("page_size must not be negative"),
                        v1::FIELD_INVALID, "page_size");
    }
    const int page_size = r.page_size() == 0 ? 100 : std::min(r.page_size(), 500);
    const std::string query = absl::StrCat("ListBackups\n", caller.subject);
    int records_from = 0, drills_from = 0;
    if (!r.page_token().empty()) {
      auto position = page_tokens_->Unseal(r.page_token(), query);
      if (!position.ok()) return position.status();
      if (!absl::SimpleAtoi(position->key, &drills_from)) {
        return WithReason(absl::InvalidArgumentError("page_token is not one this server returned"),
                          v1::PAGE_TOKEN_INVALID, "page_token");
      }
      records_from = position->part;
    }
    auto all = manager_->List();
    if (!all.ok()) return all.status();
    v1::ListBackupsResponse page;
    for (int i = records_from; i < all->records_size() && i < records_from + page_size; ++i) {
      *page.add_records() = all->records(i);
    }
    for (int i = drills_from; i < all->drills_size() && i < drills_from + page_size; ++i) {
      *page.add_drills() = all->drills(i);
    }
    const int records_next = records_from + page.records_size();
    const int drills_next = drills_from + page.drills_size();
    if (records_next < all->records_size() || drills_next < all->drills_size()) {
      page.set_next_page_token(
          page_tokens_->Seal(query, {records_next, absl::StrCat(drills_next)}));
    }
    return page;
  }

  // Starts the job `describe` names (or refuses the request) for an
  // administrator and answers with its operation at once.
  template <typename Request, typename Describe>
  grpc::ServerUnaryReactor* StartJob(grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* in, grpc::ByteBuffer* out,
                                     const char* action, Describe describe) {
    return Unary<Request>(
        context, in, out, {v1::ROLE_ADMIN}, action,
        [this, describe](const Principal& caller,
                         const Request& r) -> absl::StatusOr<v1::Operation> {
          absl::StatusOr<JobStart> start = describe(r);
          if (!start.ok()) return start.status();
          return engine_->StartJob(caller, start->kind, start->description, r, r.request_id());
        });
  }

  storage::BackupManager* const manager_;
  workflow::Engine* const engine_;
  PrincipalResolver* const identity_;
  WorkPool* const pool_;
  const workflow::PageTokens* const page_tokens_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeBackupService(storage::BackupManager* manager,
                                                 workflow::Engine* engine,
                                                 PrincipalResolver* identity, WorkPool* pool,
                                                 const workflow::PageTokens* page_tokens) {
  return std::make_unique<BackupService>(manager, engine, identity, pool, page_tokens);
}

}  // namespace motcua::adapters
