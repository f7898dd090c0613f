#ifndef MOTCUA_SIGNING_DSS_H_
#define MOTCUA_SIGNING_DSS_H_

// The PDF half of PAdES B-LT (ETSI EN 319 142-1 §5.4): validation data in
// the catalog's /DSS (Document Security Store), written as an incremental
// update so every signature already in the document stays valid. What goes
// in is the caller's business (long_term.h gathers it); this only writes.
//
// Thread-safe (each call works on its own document).

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace motcua::signing {

// DER blobs, each written as one stream of the /DSS array of its kind.
struct ValidationData {
  std::vector<std::string> certificates;    // /Certs
  std::vector<std::string> ocsp_responses;  // /OCSPs
  std::vector<std::string> crls;            // /CRLs
  bool empty() const { return certificates.empty() && ocsp_responses.empty() && crls.empty(); }
};

// `pdf` with `data` added to its /DSS in a new revision; entries of an
// existing /DSS are kept, blobs it already holds are not added twice, and
// when nothing is new `pdf` comes back unchanged (no empty revision). No
// /VRI: it is optional in PAdES and verifiers search the whole store.
// INVALID_ARGUMENT when `pdf` does not parse; INTERNAL for other PoDoFo
// failures.
absl::StatusOr<std::string> AddValidationData(absl::string_view pdf, const ValidationData& data);

}  // namespace motcua::signing

#endif  // MOTCUA_SIGNING_DSS_H_
