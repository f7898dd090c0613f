#ifndef MOTCUA_WORKFLOW_KEYS_H_
#define MOTCUA_WORKFLOW_KEYS_H_

// Key layouts of the dossier data that more than the engine reads (private
// to workflow/). Dossiers are stored under their code.

#include <cstdint>
#include <string>

#include "storage/store.h"

namespace motcua::workflow {

// History events of a dossier, in sequence order.
inline std::string HistoryPrefix(absl::string_view code) { return storage::JoinKey({code, ""}); }
inline std::string HistoryKey(absl::string_view code, int64_t sequence) {
  return storage::JoinKey({code, storage::OrderedUint64(static_cast<uint64_t>(sequence))});
}
// Bytes of a dossier's attachment or document `id`.
inline std::string DocumentKey(absl::string_view code, absl::string_view id) {
  return storage::JoinKey({code, id});
}

}  // namespace motcua::workflow

#endif  // MOTCUA_WORKFLOW_KEYS_H_
