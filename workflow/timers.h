#ifndef MOTCUA_WORKFLOW_TIMERS_H_
#define MOTCUA_WORKFLOW_TIMERS_H_

// Fires the timers that fell due (private to workflow/). Each fires exactly
// once: its firing event and the removal of its key are one commit, so a
// crash before the commit leaves it armed (it fires after the restart) and
// one after leaves nothing to fire. A timer whose dossier left its state was
// removed with that change; a key found stale anyway is dropped.

#include "absl/status/statusor.h"
#include "workflow/engine_context.h"
#include "workflow/keys.h"

namespace motcua::workflow {

class TimerService {
 public:
  explicit TimerService(EngineContext& ctx) : ctx_(ctx) {}

  // Fires up to `limit` timers due at or before now, many at once (the
  // Journal commits them in groups). Returns how many keys it handled. On
  // errors, fires what it can and returns the first error.
  absl::StatusOr<int> FireDue(int limit);
  // Timers due now and not fired yet (at most `limit` counted).
  int64_t CountDue(int64_t limit);

 private:
  absl::Status Fire(const TimedRef& ref, const std::string& key);

  EngineContext& ctx_;
};

}  // namespace motcua::workflow

#endif  // MOTCUA_WORKFLOW_TIMERS_H_
