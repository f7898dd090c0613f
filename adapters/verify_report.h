#ifndef MOTCUA_ADAPTERS_VERIFY_REPORT_H_
#define MOTCUA_ADAPTERS_VERIFY_REPORT_H_

// The signature verifier's report (signing/verifier.h) as the API's
// VerifyDocumentResponse, and the dossier audit (workflow/dossier_audit.h)
// as VerifyDossierResponse. Field-for-field mirrors; text taken from a
// hostile PDF that is not UTF-8 is repaired (U+FFFD) so the response always
// serialises.

#include <string>

#include "motcua/v1/service.pb.h"
#include "signing/verifier.h"
#include "workflow/dossier_audit.h"

namespace motcua::adapters {

v1::VerifyDocumentResponse ToProto(const signing::VerificationReport& report);
// all_passed, history, documents and problems; the caller sets dossier_code.
v1::VerifyDossierResponse ToProto(const workflow::DossierAudit& audit);

// "TOTAL_PASSED" or "INDETERMINATE/TRY_LATER": the ETSI names people read.
std::string IndicationText(const v1::SignatureVerification& s);

}  // namespace motcua::adapters

#endif  // MOTCUA_ADAPTERS_VERIFY_REPORT_H_
