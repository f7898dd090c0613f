#ifndef MOTCUA_WORKFLOW_DOSSIER_COMMANDS_H_
#define MOTCUA_WORKFLOW_DOSSIER_COMMANDS_H_

// What portals do to dossiers: submit, withdraw, supplement (private to
// workflow/). Each validates, decides its events and hands them to the
// Journal through the CommandRunner.

#include "absl/status/statusor.h"
#include "motcua/v1/service.pb.h"
#include "workflow/engine_context.h"

namespace motcua::workflow {

class DossierCommands {
 public:
  explicit DossierCommands(EngineContext& ctx) : ctx_(ctx) {}

  absl::StatusOr<v1::Dossier> Submit(const Principal& caller,
                                     const v1::SubmitDossierRequest& request);
  absl::StatusOr<v1::Dossier> Withdraw(const Principal& caller,
                                       const v1::WithdrawDossierRequest& request);
  absl::StatusOr<v1::Dossier> AddSupplement(const Principal& caller,
                                            const v1::AddSupplementRequest& request);

 private:
  // Checks `uploads` and puts them in `event` (metadata) and `change`
  // (bytes), numbered after the dossier's `existing` attachments.
  absl::Status StageAttachments(
      int existing, const google::protobuf::RepeatedPtrField<v1::AttachmentUpload>& uploads,
      absl::Time now, v1::HistoryEvent& event, Change& change);

  // The applicant's `trigger` on dossier `code` at `expected_version`, once
  // the caller may fire it: the change to fill, and the transition.
  struct ApplicantStep {
    Change change;
    const v1::TransitionDefinition* transition = nullptr;
  };
  absl::StatusOr<ApplicantStep> ApplicantChange(const Principal& caller, const std::string& code,
                                                int64_t expected_version, v1::Trigger trigger);

  EngineContext& ctx_;
};

}  // namespace motcua::workflow

#endif  // MOTCUA_WORKFLOW_DOSSIER_COMMANDS_H_
