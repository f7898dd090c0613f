#include "adapters/backup_service.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "adapters/call.h"
#include "adapters/grpc_status.h"
#include "motcua/v1/backup.grpc.pb.h"
#include "proto/error_reason.h"
#include "workflow/access.h"

namespace motcua::adapters {
namespace {

using workflow::Principal;
using bs = v1::BackupService;

// The last messages of a long operation: its result.
using Results = std::vector<v1::BackupProgress>;

// One "finished" message with `set` applied.
template <typename Set>
Results Finished(Set set) {
  v1::BackupProgress last;
  last.set_stage("finished");
  set(&last);
  return {last};
}

class BackupService final
    : public bs::WithRawCallbackMethod_GetBackupStatus<bs::WithRawCallbackMethod_ListBackups<
          bs::WithRawCallbackMethod_RunBackup<bs::WithRawCallbackMethod_VerifyBackups<
              bs::WithRawCallbackMethod_ExportOffline<bs::WithRawCallbackMethod_ConfirmDetached<
                  bs::WithRawCallbackMethod_RunRestoreDrill<bs::Service>>>>>>> {
 public:
  BackupService(storage::BackupManager* manager, PrincipalResolver* identity, WorkPool* pool,
                const workflow::PageTokens* page_tokens)
      : manager_(manager), identity_(identity), pool_(pool), page_tokens_(page_tokens) {}

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

  grpc::ServerWriteReactor<grpc::ByteBuffer>* RunBackup(grpc::CallbackServerContext* context,
                                                        const grpc::ByteBuffer* in) override {
    return Stream<v1::RunBackupRequest>(
        context, in, "run a backup",
        [this](const Principal& caller, const v1::RunBackupRequest&, storage::Progress progress)
            -> absl::StatusOr<Results> {
          auto record = manager_->RunBackup(caller.subject, progress);
          if (!record.ok()) return record.status();
          return Finished([&](v1::BackupProgress* p) { *p->mutable_record() = *record; });
        });
  }

  grpc::ServerWriteReactor<grpc::ByteBuffer>* VerifyBackups(grpc::CallbackServerContext* context,
                                                            const grpc::ByteBuffer* in) override {
    return Stream<v1::VerifyBackupsRequest>(
        context, in, "verify backups",
        [this](const Principal&, const v1::VerifyBackupsRequest& r, storage::Progress progress)
            -> absl::StatusOr<Results> {
          auto records = manager_->Verify(r.offline_dir(), progress);
          if (!records.ok()) return records.status();
          Results results;
          for (const v1::BackupRecord& record : *records) {
            v1::BackupProgress& p = results.emplace_back();
            p.set_stage("verified");
            *p.mutable_record() = record;
          }
          return results;
        });
  }

  grpc::ServerWriteReactor<grpc::ByteBuffer>* ExportOffline(grpc::CallbackServerContext* context,
                                                            const grpc::ByteBuffer* in) override {
    return Stream<v1::ExportOfflineRequest>(
        context, in, "export an offline copy",
        [this](const Principal& caller, const v1::ExportOfflineRequest& r,
               storage::Progress progress) -> absl::StatusOr<Results> {
          if (r.destination_dir().empty()) {
            return WithReason(absl::InvalidArgumentError(
                                  "destination_dir is required: the directory where the "
                                  "medium is mounted"),
                              v1::FIELD_REQUIRED, "destination_dir");
          }
          auto record = manager_->ExportOffline(caller.subject, r.destination_dir(), progress);
          if (!record.ok()) return record.status();
          return Finished([&](v1::BackupProgress* p) { *p->mutable_record() = *record; });
        });
  }

  grpc::ServerWriteReactor<grpc::ByteBuffer>* RunRestoreDrill(grpc::CallbackServerContext* context,
                                                              const grpc::ByteBuffer* in) override {
    return Stream<v1::RunRestoreDrillRequest>(
        context, in, "run a restore drill",
        [this](const Principal& caller, const v1::RunRestoreDrillRequest& r,
               storage::Progress progress) -> absl::StatusOr<Results> {
          auto drill = manager_->RunDrill(caller.subject, r.offline_dir(), progress);
          if (!drill.ok()) return drill.status();
          return Finished([&](v1::BackupProgress* p) { *p->mutable_drill() = *drill; });
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

  // Runs a long operation for an administrator on a thread of its own,
  // streaming its progress; the last messages carry the result.
  template <typename Request, typename Body>
  grpc::ServerWriteReactor<grpc::ByteBuffer>* Stream(grpc::CallbackServerContext* context,
                                                     const grpc::ByteBuffer* in,
                                                     std::string action, Body body) {
    return BlockingStream::Start(context, [this, in, action, body](BlockingStream& stream) {
      auto caller = identity_->Resolve(*stream.context());
      if (!caller.ok()) return ToGrpcStatus(caller.status());
      if (absl::Status s = workflow::RequireRole(*caller, {v1::ROLE_ADMIN}, action); !s.ok()) {
        return ToGrpcStatus(s);
      }
      Request request;
      if (absl::Status s = ParseRequest(*in, &request); !s.ok()) return ToGrpcStatus(s);
      storage::Progress progress = [&stream](absl::string_view stage, int64_t done,
                                             int64_t total) {
        v1::BackupProgress p;
        p.set_stage(std::string(stage));
        p.set_done(done);
        p.set_total(total);
        stream.Write(p);
      };
      absl::StatusOr<Results> results = body(*caller, request, progress);
      if (!results.ok()) {
        LogServerFault(results.status(), Request::descriptor()->name(), *caller);
        return ToGrpcStatus(results.status());
      }
      for (const v1::BackupProgress& p : *results) stream.Write(p);
      return grpc::Status::OK;
    });
  }

  storage::BackupManager* const manager_;
  PrincipalResolver* const identity_;
  WorkPool* const pool_;
  const workflow::PageTokens* const page_tokens_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeBackupService(storage::BackupManager* manager,
                                                 PrincipalResolver* identity, WorkPool* pool,
                                                 const workflow::PageTokens* page_tokens) {
  return std::make_unique<BackupService>(manager, identity, pool, page_tokens);
}

}  // namespace motcua::adapters
