#include "workflow/document_data.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "proto/proto_time.h"
#include "workflow/work_calendar.h"

namespace motcua::workflow {
namespace {

// The fields every procedure's templates may bind, besides its form's.
constexpr const char* kFields[] = {"dossier.code",
                                   "document.id",
                                   "document.date",
                                   "document.date_long",
                                   "procedure.code",
                                   "procedure.name",
                                   "applicant.full_name",
                                   "applicant.address",
                                   "unit.code",
                                   "unit.name",
                                   "unit.parent",
                                   "unit.place",
                                   "unit.head_title",
                                   "receipt.received_at",
                                   "receipt.appointment_at",
                                   "receipt.received_by",
                                   "supplement.note",
                                   "supplement.requested_by",
                                   "supplement.requested_at"};

}  // namespace

signing::FieldCatalog DocumentFields(const v1::ProcedureDefinition& procedure) {
  signing::FieldCatalog catalog;
  for (const char* field : kFields) catalog.fields.insert(field);
  for (const v1::FormField& field : procedure.form_fields()) {
    catalog.fields.insert(absl::StrCat("form.", field.name()));
  }
  catalog.lists["attachments"] = {"name"};
  catalog.lists["rejection_reasons"] = {"text"};
  catalog.lists["supplement.missing_items"] = {"text"};
  return catalog;
}

signing::DocumentData DocumentValues(const v1::ProcedureDefinition& procedure, const v1::Dossier& d,
                                     const UnitProfile& unit, const std::string& document_id,
                                     absl::Time time) {
  signing::DocumentData data;
  auto& f = data.fields;
  f["dossier.code"] = d.code();
  f["document.id"] = document_id;
  const absl::CivilDay day = absl::ToCivilDay(time, WorkCalendar::VietnamTime());
  f["document.date"] = absl::StrFormat("%02d/%02d/%04d", day.day(), day.month(), day.year());
  f["document.date_long"] = signing::LongVietnameseDate(day);
  f["procedure.code"] = procedure.code();
  f["procedure.name"] = procedure.name();
  f["applicant.full_name"] = d.applicant().full_name();
  f["applicant.address"] = d.applicant().address();
  f["unit.code"] = d.unit_code();
  f["unit.name"] = unit.name.empty() ? d.unit_code() : unit.name;
  f["unit.parent"] = unit.parent;
  f["unit.place"] = unit.place;
  f["unit.head_title"] = unit.head_title;
  if (d.has_receipt()) {
    f["receipt.received_at"] = signing::FormatVietnamTime(FromProto(d.receipt().received_at()));
    f["receipt.appointment_at"] =
        signing::FormatVietnamTime(FromProto(d.receipt().appointment_at()));
    f["receipt.received_by"] = d.receipt().received_by();
  }
  const v1::SupplementRequest& supplement = d.pending_supplement();
  f["supplement.note"] = supplement.note();
  f["supplement.requested_by"] = supplement.requested_by();
  if (supplement.has_requested_at()) {
    f["supplement.requested_at"] = signing::FormatVietnamTime(FromProto(supplement.requested_at()));
  }
  for (const auto& [name, value] : d.form()) f[absl::StrCat("form.", name)] = value;
  auto& attachments = data.lists["attachments"];
  for (const auto& a : d.attachments()) attachments.push_back({{"name", a.name()}});
  auto& reasons = data.lists["rejection_reasons"];
  for (const std::string& r : d.rejection_reasons()) reasons.push_back({{"text", r}});
  auto& missing = data.lists["supplement.missing_items"];
  for (const std::string& m : supplement.missing_items()) missing.push_back({{"text", m}});
  return data;
}

}  // namespace motcua::workflow
