#ifndef MOTCUA_WORKFLOW_VALIDATION_H_
#define MOTCUA_WORKFLOW_VALIDATION_H_

// Checks of request fields shared by commands and queries (private to
// workflow/). Each error carries its ErrorInfo reason and field; messages a
// citizen may read are Vietnamese.

#include <optional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/map.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "motcua/v1/dossier.pb.h"
#include "motcua/v1/procedure.pb.h"

namespace motcua::workflow {

absl::Status ValidateUnitCode(absl::string_view unit);
absl::Status ValidateApplicant(const v1::Applicant& applicant);
// Form fields must be those the procedure declares; with `check_required`,
// the required ones present.
absl::Status ValidateForm(const v1::ProcedureDefinition& def,
                          const google::protobuf::Map<std::string, std::string>& form,
                          bool check_required);
// ABORTED (DOSSIER_VERSION_STALE, with current_version) unless equal.
absl::Status CheckVersion(const v1::Dossier& d, int64_t expected);
// Non-empty, and no item blank.
bool AllNonBlank(const google::protobuf::RepeatedPtrField<std::string>& items);
// The page size to use: `default_size` for 0, at most `max_size`.
absl::StatusOr<int> PageSize(int requested, int default_size, int max_size = 500);
// "YYYY-MM-DD" in Vietnam time: its first (or last) microsecond; nullopt
// for empty text.
absl::StatusOr<std::optional<absl::Time>> ParseDay(absl::string_view text,
                                                   absl::string_view field, bool end_of_day);

}  // namespace motcua::workflow

#endif  // MOTCUA_WORKFLOW_VALIDATION_H_
