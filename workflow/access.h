#ifndef MOTCUA_WORKFLOW_ACCESS_H_
#define MOTCUA_WORKFLOW_ACCESS_H_

// Who may do what (private to workflow/). Every check returns OK or
// PERMISSION_DENIED with a reason a person can act on.


#include "absl/status/status.h"
#include "absl/types/span.h"
#include "motcua/v1/dossier.pb.h"
#include "workflow/principal.h"

namespace motcua::workflow {

absl::Status RequireRole(const Principal& caller, absl::Span<const v1::Role> allowed,
                         absl::string_view action);

// Portals: their own dossiers. Officers and clerks: their unit's. Auditors
// and admins: all.
absl::Status CanRead(const Principal& caller, const v1::Dossier& dossier);

// Only the portal that filed a dossier acts for its applicant.
absl::Status CanActForApplicant(const Principal& caller, const v1::Dossier& dossier);

// Officers act only on tasks of their unit, role and position.
absl::Status CanWork(const Principal& caller, const v1::Task& task);

absl::string_view RoleName(v1::Role role);

}  // namespace motcua::workflow

#endif  // MOTCUA_WORKFLOW_ACCESS_H_
