#ifndef MOTCUA_ADAPTERS_VERIFY_REPORT_H_
#define MOTCUA_ADAPTERS_VERIFY_REPORT_H_

// The signature verifier's report (signing/verifier.h) as the API's
// VerifyDocumentResponse. A field-for-field mirror; text taken from a hostile
// PDF that is not UTF-8 is repaired (U+FFFD) so the response always
// serialises.

#include "motcua/v1/service.pb.h"
#include "signing/verifier.h"

namespace motcua::adapters {

v1::VerifyDocumentResponse ToProto(const signing::VerificationReport& report);

}  // namespace motcua::adapters

#endif  // MOTCUA_ADAPTERS_VERIFY_REPORT_H_
