#ifndef MOTCUA_WORKFLOW_TASK_COMMANDS_H_
#define MOTCUA_WORKFLOW_TASK_COMMANDS_H_

// What officers do with tasks: claim, prepare a signature, complete with a
// decision (private to workflow/).

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "motcua/v1/service.pb.h"
#include "workflow/engine_context.h"

namespace motcua::workflow {

class TaskCommands {
 public:
  explicit TaskCommands(EngineContext& ctx) : ctx_(ctx) {}

  absl::StatusOr<v1::Task> Claim(const Principal& caller, const v1::ClaimTaskRequest& request);
  absl::StatusOr<v1::Dossier> Complete(const Principal& caller,
                                       const v1::CompleteTaskRequest& request);
  absl::StatusOr<v1::SignatureChallenge> PrepareSignature(
      const Principal& caller, const v1::PrepareSignatureRequest& request);
  absl::StatusOr<v1::SignaturePreview> GetSignaturePreview(
      const Principal& caller, const v1::GetSignaturePreviewRequest& request);
  absl::StatusOr<v1::PrepareSignaturesResponse> PrepareSignatures(
      const Principal& caller, const v1::PrepareSignaturesRequest& request);
  absl::StatusOr<v1::CompleteTasksResponse> CompleteTasks(const Principal& caller,
                                                          const v1::CompleteTasksRequest& request);

 private:
  // A task's dossier, procedure and the transition `decision` fires, once
  // the caller may fire it at `expected_version`.
  struct Step {
    v1::Dossier dossier;
    std::shared_ptr<const Procedure> procedure;
    const v1::TransitionDefinition* transition = nullptr;
    // When the transition signs an earlier document further: the dossier's
    // latest of that kind (an index into its documents; -1: none).
    int document_so_far = -1;
    // The id of the document the step signs: the next new one, or that.
    std::string document_id;
    // `pdf_so_far`: PdfSoFar's bytes, which must outlive the request.
    DocumentRequest DocumentFor(const v1::Dossier& as, absl::Time time,
                                absl::string_view pdf_so_far) const;
  };
  absl::StatusOr<Step> LoadStep(const Principal& caller, const std::string& code,
                                const std::string& task_id, int64_t expected_version,
                                v1::Decision decision);
  // The stored bytes of the step's document_so_far; empty when it has none
  // (or it is still pending).
  absl::StatusOr<std::string> PdfSoFar(const Step& step);
  absl::Status CheckSeparationOfDuty(const Principal& caller, const v1::Dossier& d,
                                     const v1::TransitionDefinition& t);
  // Gets the document the step's transition requires signed (from the
  // caller's challenge, or by the server alone) and puts it in `event` and
  // `change`.
  absl::Status AddSignedDocument(const Principal& caller, const v1::CompleteTaskRequest& request,
                                 const Step& step, v1::HistoryEvent& event, Change& change);
  // Lists the step's document as pending in `event` and queues it for the
  // document workers in the same commit.
  void AddPendingDocument(const Step& step, v1::HistoryEvent& event, Change& change);

  EngineContext& ctx_;

  // Officers' signatures prepared and not yet completed, by challenge id.
  struct Challenge {
    std::string subject;
    std::string task_id;
    v1::Decision decision = v1::DECISION_UNSPECIFIED;
    int64_t version = 0;
    std::string document_id;
    std::string document_kind;
    absl::Time expires;
    std::shared_ptr<const PendingSignature> pending;
  };
  absl::Mutex challenges_mu_;
  absl::flat_hash_map<std::string, Challenge> challenges_ ABSL_GUARDED_BY(challenges_mu_);
};

}  // namespace motcua::workflow

#endif  // MOTCUA_WORKFLOW_TASK_COMMANDS_H_
