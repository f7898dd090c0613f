#include "workflow/validation.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "proto/error_reason.h"
#include "workflow/events.h"
#include "workflow/work_calendar.h"

namespace motcua::workflow {
absl::Status CheckVersion(const v1::Dossier& d, int64_t expected) {
  if (expected != d.version()) {
    return WithMetadata(
        WithReason(absl::AbortedError(absl::StrCat(
                       "dossier ", d.code(), " is at version ", d.version(), ", not ", expected,
                       ": someone changed it; read it again and retry")),
                   v1::DOSSIER_VERSION_STALE, "expected_version"),
        "current_version", absl::StrCat(d.version()));
  }
  return absl::OkStatus();
}

bool AllNonBlank(const google::protobuf::RepeatedPtrField<std::string>& items) {
  if (items.empty()) return false;
  for (const auto& s : items) {
    if (absl::StripAsciiWhitespace(s).empty()) return false;
  }
  return true;
}

absl::Status ValidateUnitCode(absl::string_view unit) {
  if (unit.empty() || unit.size() > 32) {
    return WithReason(
        absl::InvalidArgumentError("unit_code (mã đơn vị) là bắt buộc, tối đa 32 ký tự"),
        unit.empty() ? v1::FIELD_REQUIRED : v1::FIELD_INVALID, "unit_code");
  }
  for (char c : unit) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') {
      return WithReason(absl::InvalidArgumentError(absl::StrCat(
                            "unit_code \"", unit, "\" chỉ được gồm chữ, số và các ký tự - . _")),
                        v1::FIELD_INVALID, "unit_code");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateApplicant(const v1::Applicant& a) {
  const std::string& id = a.id_number();
  if (id.size() != 12 || !std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return WithReason(absl::InvalidArgumentError(
                          "Số định danh cá nhân (applicant.id_number) phải gồm đúng 12 chữ số"),
                      id.empty() ? v1::FIELD_REQUIRED : v1::FIELD_INVALID,
                      "applicant.id_number");
  }
  if (absl::StripAsciiWhitespace(a.full_name()).empty()) {
    return WithReason(
        absl::InvalidArgumentError("Thiếu họ và tên người nộp hồ sơ (applicant.full_name)"),
        v1::FIELD_REQUIRED, "applicant.full_name");
  }
  const struct {
    const std::string& value;
    size_t limit;
    const char* field;
  } kLimits[] = {{a.full_name(), 200, "applicant.full_name"},
                 {a.address(), 500, "applicant.address"},
                 {a.email(), 200, "applicant.email"},
                 {a.phone(), 32, "applicant.phone"}};
  for (const auto& limit : kLimits) {
    if (limit.value.size() > limit.limit) {
      return WithReason(
          absl::InvalidArgumentError(absl::StrCat("Thông tin người nộp hồ sơ quá dài (",
                                                  limit.field, ": tối đa ", limit.limit, " byte)")),
          v1::FIELD_INVALID, limit.field);
    }
  }
  return absl::OkStatus();
}

// Form fields must be those the procedure declares; required ones present.
absl::Status ValidateForm(const v1::ProcedureDefinition& def,
                          const google::protobuf::Map<std::string, std::string>& form,
                          bool check_required) {
  for (const auto& [name, value] : form) {
    bool known = false;
    for (const auto& f : def.form_fields()) known |= f.name() == name;
    if (!known) {
      return WithReason(absl::InvalidArgumentError(absl::StrCat(
                            "Trường \"", name, "\" không thuộc biểu mẫu của thủ tục ", def.code())),
                        v1::FORM_FIELD_INVALID, absl::StrCat("form.", name));
    }
    if (value.size() > 2000) {
      return WithReason(absl::InvalidArgumentError(absl::StrCat("Trường \"", name, "\" quá dài")),
                        v1::FORM_FIELD_INVALID, absl::StrCat("form.", name));
    }
  }
  // A deadline a timer reads must be a time, or the timer could never fire.
  for (const auto& t : def.transitions()) {
    if (!t.timer().has_at_form_field()) continue;
    auto it = form.find(t.timer().at_form_field());
    if (it == form.end()) continue;
    if (auto at = ParseDeadline(it->second); !at.ok()) {
      return WithReason(absl::InvalidArgumentError(absl::StrCat(
                            "Trường ", it->first, ": ", at.status().message())),
                        v1::FORM_FIELD_INVALID, absl::StrCat("form.", it->first));
    }
  }
  if (!check_required) return absl::OkStatus();
  for (const auto& f : def.form_fields()) {
    auto it = form.find(f.name());
    if (f.required() && (it == form.end() || absl::StripAsciiWhitespace(it->second).empty())) {
      return WithReason(absl::InvalidArgumentError(absl::StrCat(
                            "Thiếu thông tin bắt buộc: ", f.title(), " (", f.name(), ")")),
                        v1::FORM_FIELD_REQUIRED, absl::StrCat("form.", f.name()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int> PageSize(int requested, int default_size, int max_size) {
  if (requested < 0) {
    return WithReason(absl::InvalidArgumentError("page_size must not be negative"),
                      v1::FIELD_INVALID, "page_size");
  }
  if (requested == 0) return default_size;
  return std::min(requested, max_size);
}

absl::StatusOr<std::optional<absl::Time>> ParseDay(absl::string_view text, absl::string_view field,
                                                   bool end_of_day) {
  if (text.empty()) return std::optional<absl::Time>();
  absl::CivilDay day;
  if (!ParseIsoDate(std::string_view(text.data(), text.size()), &day)) {
    return WithReason(absl::InvalidArgumentError(absl::StrCat(
                          field, " must be a date YYYY-MM-DD, got \"", text, "\"")),
                      v1::FIELD_INVALID, field);
  }
  absl::Time t = absl::FromCivil(end_of_day ? day + 1 : day, WorkCalendar::VietnamTime());
  return std::optional<absl::Time>(end_of_day ? t - absl::Microseconds(1) : t);
}

}  // namespace motcua::workflow
