#include "workflow/access.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "proto/error_reason.h"

namespace motcua::workflow {

absl::string_view RoleName(v1::Role role) {
  switch (role) {
    case v1::ROLE_PORTAL: return "portal";
    case v1::ROLE_OFFICER: return "officer";
    case v1::ROLE_CLERK: return "clerk";
    case v1::ROLE_AUDITOR: return "auditor";
    case v1::ROLE_ADMIN: return "admin";
    default: return "unknown";
  }
}

absl::Status RequireRole(const Principal& caller, absl::Span<const v1::Role> allowed,
                         absl::string_view action) {
  if (std::find(allowed.begin(), allowed.end(), caller.role) != allowed.end()) {
    return absl::OkStatus();
  }
  std::string roles;
  for (v1::Role r : allowed) absl::StrAppend(&roles, roles.empty() ? "" : ", ", RoleName(r));
  return WithMetadata(
      WithReason(absl::PermissionDeniedError(absl::StrCat(
                     "role ", RoleName(caller.role), " may not ", action, " (allowed: ", roles, ")")),
                 v1::ROLE_NOT_ALLOWED),
      "role", RoleName(caller.role));
}

absl::Status CanRead(const Principal& caller, const v1::Dossier& dossier) {
  switch (caller.role) {
    case v1::ROLE_AUDITOR:
    case v1::ROLE_ADMIN:
      return absl::OkStatus();
    case v1::ROLE_PORTAL:
      return CanActForApplicant(caller, dossier);
    case v1::ROLE_OFFICER:
    case v1::ROLE_CLERK:
      if (caller.unit == dossier.unit_code()) return absl::OkStatus();
      return WithReason(absl::PermissionDeniedError(absl::StrCat(
                            "dossier ", dossier.code(), " belongs to unit ", dossier.unit_code(),
                            ", not to your unit ", caller.unit)),
                        v1::UNIT_NOT_ALLOWED);
    default:
      return WithReason(absl::PermissionDeniedError("caller has no role"), v1::ROLE_NOT_ALLOWED);
  }
}

absl::Status CanActForApplicant(const Principal& caller, const v1::Dossier& dossier) {
  if (absl::Status s = RequireRole(caller, {v1::ROLE_PORTAL}, "act for an applicant"); !s.ok()) {
    return s;
  }
  if (caller.subject != dossier.submitted_by()) {
    return WithReason(absl::PermissionDeniedError(
                          absl::StrCat("dossier ", dossier.code(), " was filed by another portal")),
                      v1::UNIT_NOT_ALLOWED);
  }
  return absl::OkStatus();
}

absl::Status CanWork(const Principal& caller, const v1::Task& task) {
  if (caller.role != task.role()) {
    return WithReason(
        absl::PermissionDeniedError(absl::StrCat("task ", task.id(), " is for role ",
                                                 RoleName(task.role()), ", you are ",
                                                 RoleName(caller.role))),
        v1::ROLE_NOT_ALLOWED);
  }
  if (caller.unit != task.unit_code()) {
    return WithReason(
        absl::PermissionDeniedError(absl::StrCat("task ", task.id(), " belongs to unit ",
                                                 task.unit_code(), ", not to your unit ",
                                                 caller.unit)),
        v1::UNIT_NOT_ALLOWED);
  }
  if (!task.position().empty() && caller.position != task.position()) {
    return WithReason(
        absl::PermissionDeniedError(absl::StrCat("task ", task.id(), " is for position \"",
                                                 task.position(), "\", yours is \"",
                                                 caller.position, "\"")),
        v1::POSITION_NOT_ALLOWED);
  }
  return absl::OkStatus();
}

}  // namespace motcua::workflow
