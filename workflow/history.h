#ifndef MOTCUA_WORKFLOW_HISTORY_H_
#define MOTCUA_WORKFLOW_HISTORY_H_

// The hash chain of a dossier's history (private to workflow/).

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "motcua/v1/dossier.pb.h"
#include "motcua/v1/service.pb.h"
#include "motcua/v1/store.pb.h"

namespace motcua::workflow {

// SHA-256 of `bytes`, lowercase hex.
std::string Sha256Hex(absl::string_view bytes);

// Seals `event` (its previous_hash already set, hash empty) for storage and
// sets event->hash to the hash of the stored bytes.
v1::StoredEvent SealEvent(v1::HistoryEvent* event);

// Parses a stored event and fills in its hash (recomputed from the bytes).
absl::StatusOr<v1::HistoryEvent> OpenEvent(absl::string_view stored);

// Recomputes the chain over `stored` (in sequence order) and compares its
// end with the dossier's recorded head and length. Names the first broken
// event.
v1::VerifyDossierHistoryResponse VerifyChain(const std::vector<std::string>& stored,
                                             const v1::Dossier& dossier);

}  // namespace motcua::workflow

#endif  // MOTCUA_WORKFLOW_HISTORY_H_
