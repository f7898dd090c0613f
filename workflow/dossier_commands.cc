#include "workflow/dossier_commands.h"

#include "absl/strings/str_cat.h"
#include "proto/error_reason.h"
#include "proto/proto_time.h"
#include "workflow/access.h"
#include "workflow/applier.h"
#include "workflow/events.h"
#include "workflow/history.h"
#include "workflow/records.h"
#include "workflow/validation.h"

namespace motcua::workflow {
namespace {

constexpr int kMaxAttachments = 20;

v1::Dossier Same(const v1::Dossier& d) { return d; }

}  // namespace

absl::Status DossierCommands::StageAttachments(
    int existing, const google::protobuf::RepeatedPtrField<v1::AttachmentUpload>& uploads,
    absl::Time now, v1::HistoryEvent& event, Change& change) {
  const EngineOptions& options = ctx_.options;
  if (existing + uploads.size() > kMaxAttachments) {
    return WithReason(absl::InvalidArgumentError(absl::StrCat(
                          "Hồ sơ chỉ được có tối đa ", kMaxAttachments, " tệp đính kèm")),
                      v1::ATTACHMENT_INVALID, "attachments");
  }
  int64_t total = 0;
  for (int i = 0; i < uploads.size(); ++i) {
    const v1::AttachmentUpload& up = uploads[i];
    const std::string field = absl::StrCat("attachments[", i, "]");
    total += static_cast<int64_t>(up.content().size());
    if (up.name().empty() || up.name().size() > 255) {
      return WithReason(
          absl::InvalidArgumentError("Tệp đính kèm phải có tên (tối đa 255 ký tự)"),
          v1::ATTACHMENT_INVALID, field + ".name");
    }
    if (up.content().empty()) {
      return WithReason(absl::InvalidArgumentError(absl::StrCat("Tệp \"", up.name(), "\" rỗng")),
                        v1::ATTACHMENT_INVALID, field + ".content");
    }
    if (static_cast<int64_t>(up.content().size()) > options.max_attachment_bytes) {
      return WithReason(absl::InvalidArgumentError(absl::StrCat(
                            "Tệp \"", up.name(), "\" vượt quá dung lượng cho phép ",
                            options.max_attachment_bytes >> 20, " MB")),
                        v1::ATTACHMENT_INVALID, field + ".content");
    }
  }
  if (total > options.max_request_attachment_bytes) {
    return WithReason(
        absl::InvalidArgumentError(absl::StrCat("Tổng dung lượng tệp đính kèm vượt quá ",
                                                options.max_request_attachment_bytes >> 20,
                                                " MB")),
        v1::ATTACHMENT_INVALID, "attachments");
  }
  for (const auto& up : uploads) {
    v1::Attachment* a = event.add_attachments();
    a->set_id(absl::StrCat("a", existing + event.attachments_size()));
    a->set_name(up.name());
    a->set_media_type(up.media_type().empty() ? "application/octet-stream" : up.media_type());
    a->set_size_bytes(static_cast<int64_t>(up.content().size()));
    a->set_sha256(Sha256Hex(up.content()));
    *a->mutable_added_at() = ToProto(now);
    event.add_attachment_sha256(a->sha256());
    change.files.emplace_back(a->id(), up.content());
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Dossier> DossierCommands::Submit(const Principal& caller,
                                                    const v1::SubmitDossierRequest& request) {
  if (absl::Status s = RequireRole(caller, {v1::ROLE_PORTAL}, "submit dossiers"); !s.ok()) return s;
  return ctx_.runner->Run<v1::Dossier>(
      caller, "SubmitDossier", request, request.request_id(), "",
      [&]() -> absl::StatusOr<Change> {
        const absl::Time now = ctx_.clock->Now();
        if (request.procedure_code().empty()) {
          return WithReason(absl::InvalidArgumentError(
                                "Thiếu mã thủ tục (procedure_code), ví dụ \"2.001914\""),
                            v1::FIELD_REQUIRED, "procedure_code");
        }
        auto proc = ctx_.catalog.FindEffective(
            request.procedure_code(), absl::FormatTime("%Y-%m-%d", now, WorkCalendar::VietnamTime()));
        if (!proc.ok()) return proc.status();
        const v1::ProcedureDefinition& def = (*proc)->definition();
        if (absl::Status s = ValidateUnitCode(request.unit_code()); !s.ok()) return s;
        if (request.channel() < v1::CHANNEL_IN_PERSON || request.channel() > v1::CHANNEL_POST) {
          return WithReason(absl::InvalidArgumentError(
                                "channel must be CHANNEL_IN_PERSON, CHANNEL_ONLINE or CHANNEL_POST"),
                            request.channel() == v1::CHANNEL_UNSPECIFIED ? v1::FIELD_REQUIRED
                                                                         : v1::FIELD_INVALID,
                            "channel");
        }
        if (absl::Status s = ValidateApplicant(request.applicant()); !s.ok()) return s;
        if (absl::Status s = ValidateForm(def, request.form(), true); !s.ok()) return s;

        Change change;
        change.procedure = *proc;
        // The day's number is taken in the commit, so a refusal takes none.
        const std::string day = absl::FormatTime("%y%m%d", now, WorkCalendar::VietnamTime());
        change.code_counter = storage::JoinKey({request.unit_code(), day});
        change.code_prefix = absl::StrCat(request.unit_code(), "-", day, "-");

        v1::HistoryEvent event = EventBy(caller, kActionSubmitted, request.request_id(), now);
        v1::Opening* opening = event.mutable_opening();
        opening->set_procedure_code(def.code());
        opening->set_procedure_version(def.version());
        opening->set_unit_code(request.unit_code());
        opening->set_channel(request.channel());
        *opening->mutable_applicant() = request.applicant();
        SetEventForm(request.form(), &event);
        if (absl::Status s = StageAttachments(0, request.attachments(), now, event, change);
            !s.ok()) {
          return s;
        }
        if (absl::Status s = ArmTimers(**proc, def.initial_state(), request.form(),
                                       *ctx_.calendar, now, &event);
            !s.ok()) {
          return s;
        }
        change.events.push_back(std::move(event));
        return change;
      },
      Same);
}

absl::StatusOr<DossierCommands::ApplicantStep> DossierCommands::ApplicantChange(
    const Principal& caller, const std::string& code, int64_t expected_version,
    v1::Trigger trigger) {
  auto d = LoadDossier(*ctx_.store, code);
  if (!d.ok()) return d.status();
  if (absl::Status s = CanActForApplicant(caller, *d); !s.ok()) return s;
  if (absl::Status s = CheckVersion(*d, expected_version); !s.ok()) return s;
  auto proc = ctx_.catalog.Find(d->procedure_code(), d->procedure_version());
  if (!proc.ok()) return proc.status();
  const v1::TransitionDefinition* t = (*proc)->Transition(d->state(), trigger);
  if (t == nullptr) {
    const std::string message =
        trigger == v1::TRIGGER_WITHDRAW
            ? absl::StrCat("Hồ sơ ", d->code(), " đang ở trạng thái \"",
                           (*proc)->State(d->state())->title(), "\", không thể rút")
            : absl::StrCat("Hồ sơ ", d->code(), " không ở trạng thái chờ bổ sung");
    return WithMetadata(
        WithReason(absl::FailedPreconditionError(message), v1::STATE_NOT_ALLOWED), "state",
        d->state());
  }
  ApplicantStep step;
  step.transition = t;
  step.change.procedure = *std::move(proc);
  step.change.dossier = *std::move(d);
  return step;
}

absl::StatusOr<v1::Dossier> DossierCommands::Withdraw(const Principal& caller,
                                                      const v1::WithdrawDossierRequest& request) {
  if (absl::Status s = RequireRole(caller, {v1::ROLE_PORTAL}, "withdraw dossiers"); !s.ok()) return s;
  return ctx_.runner->Run<v1::Dossier>(
      caller, "WithdrawDossier", request, request.request_id(), request.code(),
      [&]() -> absl::StatusOr<Change> {
        auto change = ApplicantChange(caller, request.code(), request.expected_version(),
                                      v1::TRIGGER_WITHDRAW);
        if (!change.ok()) return change.status();
        auto event = TransitionEvent(caller, *change->transition, request.request_id(),
                                     *change->change.procedure, change->change.dossier,
                                     *ctx_.calendar, ctx_.clock->Now());
        if (!event.ok()) return event.status();
        event->set_comment(request.reason());
        change->change.events.push_back(*std::move(event));
        return std::move(change->change);
      },
      Same);
}

absl::StatusOr<v1::Dossier> DossierCommands::AddSupplement(
    const Principal& caller, const v1::AddSupplementRequest& request) {
  if (absl::Status s = RequireRole(caller, {v1::ROLE_PORTAL}, "add supplements"); !s.ok()) return s;
  return ctx_.runner->Run<v1::Dossier>(
      caller, "AddSupplement", request, request.request_id(), request.code(),
      [&]() -> absl::StatusOr<Change> {
        auto applicant = ApplicantChange(caller, request.code(), request.expected_version(),
                                         v1::TRIGGER_SUPPLEMENT);
        if (!applicant.ok()) return applicant.status();
        Change& change = applicant->change;
        const Procedure& proc = *change.procedure;
        const v1::Dossier& d = change.dossier;
        if (request.form().empty() && request.attachments().empty()) {
          return WithReason(absl::InvalidArgumentError(
                                "Bổ sung hồ sơ cần ít nhất một thông tin hoặc tệp đính kèm"),
                            v1::FIELD_REQUIRED, "form");
        }
        if (absl::Status s = ValidateForm(proc.definition(), request.form(), false); !s.ok()) {
          return s;
        }
        const absl::Time now = ctx_.clock->Now();
        auto event = TransitionEvent(caller, *applicant->transition, request.request_id(), proc,
                                     d, *ctx_.calendar, now, request.form());
        if (!event.ok()) return event.status();
        event->set_comment(request.note());
        if (absl::Status s = StageAttachments(d.attachments_size(), request.attachments(), now,
                                              *event, change);
            !s.ok()) {
          return s;
        }
        change.events.push_back(*std::move(event));
        return std::move(change);
      },
      Same);
}

}  // namespace motcua::workflow
