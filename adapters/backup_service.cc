#include "adapters/backup_service.h"

#include "absl/strings/str_cat.h"
#include "adapters/grpc_status.h"
#include "motcua/v1/backup.grpc.pb.h"
#include "workflow/access.h"

namespace motcua::adapters {
namespace {

using Writer = grpc::ServerWriter<v1::BackupProgress>;

class BackupService final : public v1::BackupService::Service {
 public:
  BackupService(storage::BackupManager* manager, PrincipalResolver* identity)
      : manager_(manager), identity_(identity) {}

  grpc::Status GetBackupStatus(grpc::ServerContext* context, const v1::GetBackupStatusRequest*,
                               v1::BackupStatus* response) override {
    return Answer(Caller(*context, {v1::ROLE_ADMIN, v1::ROLE_AUDITOR}, "read the backup status"),
                  [&](const workflow::Principal&) { return Fill(manager_->Status(), response); });
  }

  grpc::Status ListBackups(grpc::ServerContext* context, const v1::ListBackupsRequest*,
                           v1::ListBackupsResponse* response) override {
    return Answer(Caller(*context, {v1::ROLE_ADMIN, v1::ROLE_AUDITOR}, "list backups"),
                  [&](const workflow::Principal&) { return Fill(manager_->List(), response); });
  }

  grpc::Status RunBackup(grpc::ServerContext* context, const v1::RunBackupRequest*,
                         Writer* writer) override {
    return Stream(*context, writer, "run a backup", [&](const std::string& who, auto progress) {
      auto record = manager_->RunBackup(who, progress);
      return Final(record, writer, [](v1::BackupProgress* p, const v1::BackupRecord& r) {
        *p->mutable_record() = r;
      });
    });
  }

  grpc::Status VerifyBackups(grpc::ServerContext* context, const v1::VerifyBackupsRequest* request,
                             Writer* writer) override {
    return Stream(*context, writer, "verify backups", [&](const std::string&, auto progress) {
      auto records = manager_->Verify(request->offline_dir(), progress);
      if (!records.ok()) return records.status();
      for (const auto& r : *records) {
        v1::BackupProgress p;
        p.set_stage("verified");
        *p.mutable_record() = r;
        writer->Write(p);
      }
      return absl::OkStatus();
    });
  }

  grpc::Status ExportOffline(grpc::ServerContext* context, const v1::ExportOfflineRequest* request,
                             Writer* writer) override {
    if (request->destination_dir().empty()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "destination_dir is required: the directory where the medium is mounted");
    }
    return Stream(*context, writer, "export an offline copy", [&](const std::string& who, auto progress) {
      auto record = manager_->ExportOffline(who, request->destination_dir(), progress);
      return Final(record, writer, [](v1::BackupProgress* p, const v1::BackupRecord& r) {
        *p->mutable_record() = r;
      });
    });
  }

  grpc::Status ConfirmDetached(grpc::ServerContext* context, const v1::ConfirmDetachedRequest* request,
                               v1::BackupRecord* response) override {
    return Answer(Caller(*context, {v1::ROLE_ADMIN}, "record custody of an offline copy"),
                  [&](const workflow::Principal& caller) {
                    return Fill(manager_->ConfirmDetached(caller.subject, request->copy_id(),
                                                          request->detached_by(), request->kept_at()),
                                response);
                  });
  }

  grpc::Status RunRestoreDrill(grpc::ServerContext* context, const v1::RunRestoreDrillRequest* request,
                               Writer* writer) override {
    return Stream(*context, writer, "run a restore drill", [&](const std::string& who, auto progress) {
      auto drill = manager_->RunDrill(who, request->offline_dir(), progress);
      return Final(drill, writer, [](v1::BackupProgress* p, const v1::DrillRecord& d) {
        *p->mutable_drill() = d;
      });
    });
  }

 private:
  absl::StatusOr<workflow::Principal> Caller(const grpc::ServerContext& context,
                                             std::initializer_list<v1::Role> allowed,
                                             absl::string_view action) {
    auto caller = identity_->Resolve(context);
    if (!caller.ok()) return caller.status();
    if (absl::Status s = workflow::RequireRole(*caller, allowed, action); !s.ok()) return s;
    return caller;
  }

  template <typename Body>
  grpc::Status Answer(const absl::StatusOr<workflow::Principal>& caller, Body body) {
    if (!caller.ok()) return ToGrpcStatus(caller.status());
    return ToGrpcStatus(body(*caller));
  }

  template <typename T, typename Response>
  static absl::Status Fill(absl::StatusOr<T> result, Response* response) {
    if (!result.ok()) return result.status();
    *response = *std::move(result);
    return absl::OkStatus();
  }

  template <typename T, typename Set>
  static absl::Status Final(const absl::StatusOr<T>& result, Writer* writer, Set set) {
    if (!result.ok()) return result.status();
    v1::BackupProgress last;
    last.set_stage("finished");
    set(&last, *result);
    writer->Write(last);
    return absl::OkStatus();
  }

  // Runs a long operation for an administrator, streaming its progress.
  template <typename Body>
  grpc::Status Stream(const grpc::ServerContext& context, Writer* writer, absl::string_view action,
                      Body body) {
    auto caller = Caller(context, {v1::ROLE_ADMIN}, action);
    if (!caller.ok()) return ToGrpcStatus(caller.status());
    storage::Progress progress = [writer](absl::string_view stage, int64_t done, int64_t total) {
      v1::BackupProgress p;
      p.set_stage(std::string(stage));
      p.set_done(done);
      p.set_total(total);
      writer->Write(p);
    };
    return ToGrpcStatus(body(caller->subject, progress));
  }

  storage::BackupManager* const manager_;
  PrincipalResolver* const identity_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeBackupService(storage::BackupManager* manager,
                                                 PrincipalResolver* identity) {
  return std::make_unique<BackupService>(manager, identity);
}

}  // namespace motcua::adapters
