#ifndef MOTCUA_WORKFLOW_INTEGRITY_H_
#define MOTCUA_WORKFLOW_INTEGRITY_H_

// Whether a store holds whole, untampered dossier data: what backups record
// and restores check (storage::ApplicationCheck).
//
// The audit-chain head of a store is the SHA-256, in hex, of one line per
// dossier in code order: "<code> <history_length> <history_head>\n". It
// commits to every dossier's hash-chained history, so two stores with the
// same head hold the same histories; a dossier or event removed, added or
// altered changes it.

#include "storage/restore.h"
#include "storage/store.h"

namespace motcua::workflow {

class DossierIntegrity : public storage::ApplicationCheck {
 public:
  // The head from the heads each dossier records.
  absl::StatusOr<storage::AppSummary> Summarize(storage::Store& store) override;
  // Recomputes every dossier's chain and every attachment's and signed
  // document's SHA-256, folds the recomputed heads, and opens the engine on
  // the store (no builtin procedures installed, so nothing is written). DATA_LOSS naming the
  // first dossier at fault.
  absl::StatusOr<storage::AppSummary> Verify(storage::Store& store,
                                             const storage::Progress& progress) override;
};

}  // namespace motcua::workflow

#endif  // MOTCUA_WORKFLOW_INTEGRITY_H_
