#ifndef MOTCUA_WORKFLOW_RECORDS_H_
#define MOTCUA_WORKFLOW_RECORDS_H_

// Reading dossiers and their histories back from the store (private to
// workflow/).

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "motcua/v1/dossier.pb.h"
#include "storage/store.h"

namespace motcua::workflow {

// NOT_FOUND (DOSSIER_NOT_FOUND) in Vietnamese; INVALID_ARGUMENT for no code.
absl::StatusOr<v1::Dossier> LoadDossier(const storage::StoreReader& store, absl::string_view code);

// A dossier's stored history events, as stored (for chain checks).
absl::StatusOr<std::vector<std::string>> LoadStoredHistory(const storage::StoreReader& store,
                                                           absl::string_view code);
// ... and opened, with their hashes.
absl::StatusOr<std::vector<v1::HistoryEvent>> LoadHistory(const storage::StoreReader& store,
                                                          absl::string_view code);

}  // namespace motcua::workflow

#endif  // MOTCUA_WORKFLOW_RECORDS_H_
