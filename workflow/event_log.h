#ifndef MOTCUA_WORKFLOW_EVENT_LOG_H_
#define MOTCUA_WORKFLOW_EVENT_LOG_H_

// Reading and checking the global event log the Journal writes (private to
// workflow/).

#include <vector>

#include "absl/status/statusor.h"
#include "motcua/v1/service.pb.h"
#include "workflow/engine_context.h"

namespace motcua::workflow {

class EventLog {
 public:
  explicit EventLog(EngineContext& ctx) : ctx_(ctx) {}

  // Events after `after` in log order, of `unit` only when set, looking at
  // no more than `limit` entries; *last is the last number looked at.
  absl::StatusOr<std::vector<v1::HistoryEvent>> Read(const storage::StoreReader& store,
                                                     int64_t after, absl::string_view unit,
                                                     int limit, int64_t* last) const;

  absl::StatusOr<v1::ListLogEventsResponse> List(const Principal& caller,
                                                 const v1::ListLogEventsRequest& request) const;
  absl::StatusOr<v1::VerifyEventLogResponse> Verify(const Principal& caller,
                                                    const v1::VerifyEventLogRequest& request) const;

 private:
  EngineContext& ctx_;
};

}  // namespace motcua::workflow

#endif  // MOTCUA_WORKFLOW_EVENT_LOG_H_
