// `motcua backup ...`: the 3-2-1 policy from the operator's chair. Every
// subcommand talks to the server except `restore`, which works on files
// alone: at 2 a.m. the server may be the thing that is gone.

#include <filesystem>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/time_util.h"
#include "adapters/cli/commands.h"
#include "adapters/cli/format.h"
#include "proto/proto_time.h"
#include "signing/manifest_seal.h"
#include "storage/backup_policy.h"
#include "storage/files.h"
#include "storage/restore.h"
#include "workflow/integrity.h"

namespace motcua::cli {
namespace {

namespace fs = std::filesystem;

std::string MediumName(v1::Medium m) { return v1::Medium_Name(m); }

// The local restore's progress (a restore is never stopped half-way here).
bool ShowProgress(absl::string_view stage, int64_t done, int64_t total) {
  if (total > 0) {
    std::cerr << "  " << stage << " " << done << "/" << total << "\n";
  } else if (done > 0) {
    std::cerr << "  " << stage << " " << done << "\r" << std::flush;
  } else {
    std::cerr << "  " << stage << "\n";
  }
  return true;
}

std::string FormatRecord(const v1::BackupRecord& r) {
  Fields f;
  f.Add("copy", absl::StrCat(r.kind() == v1::BackupRecord::KIND_OFFLINE ? "offline " : "backup ", r.id()));
  f.Add("location", r.location());
  f.Add("created", FormatTime(r.created_at()));
  f.Add("created by", r.created_by());
  f.Add("sequence", absl::StrCat(r.sequence_number()));
  f.Add("audit head", r.audit_head());
  f.Add("dossiers", absl::StrCat(r.dossiers()));
  if (r.size_bytes() > 0) f.Add("size", absl::StrFormat("%.1f MiB", r.size_bytes() / 1048576.0));
  f.Add("verified", r.verified_ok() ? absl::StrCat("ok, ", FormatTime(r.verified_at()))
                                    : absl::StrCat("FAILED: ", r.verification_error()));
  if (!r.custody().detached_by().empty()) {
    f.Add("custody", absl::StrCat("detached by ", r.custody().detached_by(), ", kept at ",
                                  r.custody().kept_at()));
  }
  if (r.deleted()) f.Add("deleted", "yes (retention)");
  return f.Render();
}

std::string FormatDrill(const v1::DrillRecord& d) {
  Fields f;
  f.Add("drill", FormatTime(d.started_at()));
  f.Add("source", d.source());
  f.Add("result", d.ok() ? "ok" : absl::StrCat("FAILED: ", d.error()));
  f.Add("took", absl::StrFormat("%.1f s", absl::ToDoubleSeconds(FromProto(d.took()))));
  if (d.ok()) {
    f.Add("restored", absl::StrCat(d.dossiers(), " dossiers, ", d.documents(), " documents, sequence ",
                                   d.sequence_number()));
  }
  f.Add("run by", d.run_by());
  return f.Render();
}

std::string FormatStatus(const v1::BackupStatus& s) {
  std::string out = absl::StrCat("3-2-1 backup policy: ", s.compliant() ? "COMPLIANT" : "NOT COMPLIANT",
                                 "\n");
  for (const auto& r : s.reasons()) absl::StrAppend(&out, "  - ", r, "\n");
  for (const auto& w : s.warnings()) absl::StrAppend(&out, "  warning: ", w, "\n");
  absl::StrAppend(&out, "\n", absl::StrFormat("%-8s %-12s %-7s %-10s %-10s %-28s %s\n", "COPY",
                                              "MEDIUM", "COUNTS", "AGE", "MAX AGE", "LATEST",
                                              "VERIFIED"));
  for (const auto& c : s.copies()) {
    const bool has = c.has_latest();
    std::string verified = c.copy() == v1::CopyStatus::COPY_LIVE ? "-"
                           : !has             ? "never"
                           : c.latest().verified_ok()
                               ? absl::StrCat("ok ", FormatTime(c.latest().verified_at()))
                               : "FAILED";
    absl::StrAppend(
        &out, absl::StrFormat("%-8s %-12s %-7s %-10s %-10s %-28s %s\n", storage::CopyName(c.copy()), MediumName(c.medium()),
                              c.counts() ? "yes" : "NO",
                              c.copy() == v1::CopyStatus::COPY_LIVE ? "-" : has ? storage::HumanDuration(FromProto(c.age())) : "-",
                              c.has_max_age() ? storage::HumanDuration(FromProto(c.max_age())) : "-",
                              has ? c.latest().id() : "-", verified));
    if (!c.reason().empty()) absl::StrAppend(&out, "         ", c.reason(), "\n");
  }
  if (s.has_last_drill()) {
    absl::StrAppend(&out, "\nLast restore drill:\n", FormatDrill(s.last_drill()));
  }
  absl::StrAppend(&out, absl::StrFormat(
                            "\nPolicy: %d copies on %d media, %d offline; RTO %s; copy 2 at %s every %s, "
                            "keep %d; offline at most %s old%s\n",
                            s.policy().min_copies(), s.policy().min_media(),
                            s.policy().min_offline_copies(),
                            storage::HumanDuration(FromProto(s.policy().recovery_time_objective())),
                            s.policy().backup().path(),
                            storage::HumanDuration(FromProto(s.policy().backup().every())),
                            s.policy().backup().keep_last(),
                            storage::HumanDuration(FromProto(s.policy().offline().max_age())),
                            s.policy().legal_hold() ? "; LEGAL HOLD: nothing is deleted" : ""));
  return out;
}

void Print(const Context& context, const google::protobuf::Message& m, const std::string& text) {
  std::cout << (context.json() ? ToJson(m) : text);
  if (context.json()) std::cout << "\n";
}

// Starts an operation with `start`, follows it with a progress bar, and
// prints the records it made: exit 1 when a copy or drill failed its check.
// Interrupted, the operation goes on in the server (`motcua operations wait`).
template <typename Start>
absl::StatusOr<int> RunOperation(Context& context, Start start) {
  auto client = context.client();
  if (!client.ok()) return client.status();
  absl::StatusOr<v1::Operation> started = start(**client);
  if (!started.ok()) return started.status();
  std::cerr << started->name() << "\n";
  auto op = FollowOperation(context, **client, started->name());
  if (!op.ok()) return op.status();
  if (op->has_error()) {
    return absl::Status(static_cast<absl::StatusCode>(op->error().code()),
                        absl::StrCat(op->name(), ": ", op->error().message()));
  }
  int exit = kExitOk;
  for (const v1::BackupRecord& record : op->response().backups()) {
    Print(context, record, FormatRecord(record));
    if (!record.verified_ok()) exit = kExitCheckFailed;
  }
  if (op->response().has_drill()) {
    const v1::DrillRecord& drill = op->response().drill();
    Print(context, drill, FormatDrill(drill));
    if (!drill.ok()) exit = kExitCheckFailed;
  }
  if (op->response().backups().empty() && !op->response().has_drill()) {
    std::cout << "Nothing to report.\n";
  }
  return exit;
}


std::string AbsoluteOrEmpty(const std::string& dir) {
  return dir.empty() ? "" : fs::absolute(dir).string();
}

}  // namespace

namespace backup {

absl::StatusOr<int> Status(Context& context, const Args&) {
  auto client = context.client();
  if (!client.ok()) return client.status();
  auto status = (*client)->GetBackupStatus();
  if (!status.ok()) return status.status();
  Print(context, *status, FormatStatus(*status));
  return status->compliant() ? kExitOk : kExitCheckFailed;
}

absl::StatusOr<int> List(Context& context, const Args&) {
  auto client = context.client();
  if (!client.ok()) return client.status();
  auto list = (*client)->ListBackups();
  if (!list.ok()) return list.status();
  std::string text;
  for (const auto& r : list->records()) absl::StrAppend(&text, FormatRecord(r), "\n");
  for (const auto& d : list->drills()) absl::StrAppend(&text, FormatDrill(d), "\n");
  Print(context, *list, text.empty() ? "No backups yet.\n" : text);
  return kExitOk;
}

absl::StatusOr<int> Run(Context& context, const Args& args) {
  v1::RunBackupRequest request;
  request.set_request_id(RequestIdFrom(args));
  return RunOperation(context, [&](Client& c) { return c.RunBackup(request); });
}

absl::StatusOr<int> Verify(Context& context, const Args& args) {
  v1::VerifyBackupsRequest request;
  request.set_offline_dir(AbsoluteOrEmpty(args.offline));
  request.set_request_id(RequestIdFrom(args));
  return RunOperation(context, [&](Client& c) { return c.VerifyBackups(request); });
}

absl::StatusOr<int> ExportOffline(Context& context, const Args& args) {
  v1::ExportOfflineRequest request;
  request.set_destination_dir(fs::absolute(args.dir).string());
  request.set_request_id(RequestIdFrom(args));
  return RunOperation(context, [&](Client& c) { return c.ExportOffline(request); });
}

absl::StatusOr<int> ConfirmDetached(Context& context, const Args& args) {
  v1::ConfirmDetachedRequest request;
  request.set_copy_id(args.copy_id);
  request.set_detached_by(args.by);
  request.set_kept_at(args.kept_at);
  auto client = context.client();
  if (!client.ok()) return client.status();
  auto record = (*client)->ConfirmDetached(request);
  if (!record.ok()) return record.status();
  Print(context, *record, FormatRecord(*record));
  return kExitOk;
}

absl::StatusOr<int> Drill(Context& context, const Args& args) {
  v1::RunRestoreDrillRequest request;
  request.set_offline_dir(AbsoluteOrEmpty(args.offline));
  request.set_request_id(RequestIdFrom(args));
  return RunOperation(context, [&](Client& c) { return c.RunRestoreDrill(request); });
}

// Local: reads the copy's files, needs no server.
absl::StatusOr<int> Restore(Context& context, const Args& args) {
  const std::string& from = args.from;
  const std::string& to = args.to;
  workflow::DossierIntegrity integrity;
  const absl::Time start = absl::Now();
  absl::StatusOr<storage::RestoreResult> result;
  if (fs::exists(fs::path(from) / "manifest.json")) {
    if (args.key_file.empty()) return UsageError("restoring an offline copy needs --key-file FILE");
    auto key = storage::LoadOfflineKey(args.key_file);
    if (!key.ok()) return key.status();
    const std::string trust = args.trust.empty() ? "var/pki/ca.crt" : args.trust;
    auto ca = storage::ReadWholeFile(trust);
    if (!ca.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot read the CA that signs manifests (", ca.status().message(), "); pass --trust CA.pem"));
    }
    storage::ManifestCheck check = [ca = *ca](absl::string_view manifest, absl::string_view signature,
                                              absl::string_view certificate) {
      return signing::VerifySignedBytes(certificate, ca, manifest, signature);
    };
    result = storage::RestoreFromOffline(from, *key, to, check, integrity, ShowProgress);
  } else {
    result = storage::RestoreFromBackup(from, args.backup_id, to, integrity, ShowProgress);
  }
  if (!result.ok()) return result.status();
  v1::BackupRecord restored = result->source;
  restored.set_location(fs::absolute(to).string());
  // The restore itself just verified it, end to end.
  restored.set_verified_ok(true);
  *restored.mutable_verified_at() = google::protobuf::util::TimeUtil::GetCurrentTime();
  std::cout << "Restored and checked in " << absl::StrFormat("%.1f s", absl::ToDoubleSeconds(absl::Now() - start))
            << ": " << result->found.dossiers << " dossiers, " << result->found.documents
            << " documents, audit head matches.\n";
  Print(context, restored, FormatRecord(restored));
  std::cout << "Start the server on it: motcuad --data-dir " << to << "\n";
  return kExitOk;
}

}  // namespace backup
}  // namespace motcua::cli
