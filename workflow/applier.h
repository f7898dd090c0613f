#ifndef MOTCUA_WORKFLOW_APPLIER_H_
#define MOTCUA_WORKFLOW_APPLIER_H_

// The only code that changes a dossier: it applies history events. Commands
// decide what happens and put every fact they decide (the appointment the
// calendar gave, the attachments, the signed document) in the event, so the
// state is a fold of the history and can be rebuilt from it.

#include <vector>

#include "absl/status/statusor.h"
#include "motcua/v1/dossier.pb.h"
#include "workflow/procedure.h"

namespace motcua::workflow {

// Event actions that are not transitions.
inline constexpr char kActionSubmitted[] = "submitted";
inline constexpr char kActionClaimTask[] = "claim_task";
// The legal clock passed the appointment (fired by the overdue timer).
inline constexpr char kActionOverdue[] = "overdue";
// A working day before the appointment, the clock still running.
inline constexpr char kActionApologyReminder[] = "apology_reminder";
// A pending document was issued (document workers, after its step).
inline constexpr char kActionDocumentIssued[] = "document_issued";
// An issued document's evidence was renewed (RenewDocuments operation).
inline constexpr char kActionDocumentRenewed[] = "document_renewed";

// Applies `event` to `dossier`, which runs on `procedure`. The event must
// carry its sequence and time; sets the dossier's history head to
// event.hash() (empty until the event is sealed). INTERNAL when the event
// does not fit the dossier (an unknown transition, a claim with no task).
absl::Status ApplyEvent(const Procedure& procedure, const v1::HistoryEvent& event,
                        v1::Dossier* dossier);

// The dossier as its history leaves it.
absl::StatusOr<v1::Dossier> ReplayHistory(const Procedure& procedure,
                                          const std::vector<v1::HistoryEvent>& events);

}  // namespace motcua::workflow

#endif  // MOTCUA_WORKFLOW_APPLIER_H_
