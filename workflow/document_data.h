#ifndef MOTCUA_WORKFLOW_DOCUMENT_DATA_H_
#define MOTCUA_WORKFLOW_DOCUMENT_DATA_H_

// What a procedure's document templates may show: the fields the engine
// gives every template (docs/TEMPLATES.md lists them), and their values for
// one dossier.

#include <string>

#include "absl/time/time.h"
#include "motcua/v1/dossier.pb.h"
#include "motcua/v1/procedure.pb.h"
#include "signing/documents.h"

namespace motcua::workflow {

// How a unit is named on its documents (from the server configuration).
struct UnitProfile {
  std::string name;        // e.g. "Sở Giáo dục và Đào tạo Hà Nội"
  std::string parent;      // optional, e.g. "Ủy ban nhân dân thành phố Hà Nội"
  std::string place;       // e.g. "Hà Nội"
  std::string head_title;  // e.g. "Giám đốc"
  std::string seal_png;    // the seal image (PNG bytes)
};

// The fields and lists templates of `procedure` may bind: the dossier's,
// the applicant's, the unit's, the receipt's, the decision's, and one
// "form.<name>" per form field.
signing::FieldCatalog DocumentFields(const v1::ProcedureDefinition& procedure);

// Their values for `dossier` as it stands (the transition's effects
// applied, or not yet for an officer's Prepare), for document `document_id`
// dated `time` (Vietnam time).
signing::DocumentData DocumentValues(const v1::ProcedureDefinition& procedure,
                                     const v1::Dossier& dossier, const UnitProfile& unit,
                                     const std::string& document_id, absl::Time time);

}  // namespace motcua::workflow

#endif  // MOTCUA_WORKFLOW_DOCUMENT_DATA_H_
