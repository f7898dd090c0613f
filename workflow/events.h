#ifndef MOTCUA_WORKFLOW_EVENTS_H_
#define MOTCUA_WORKFLOW_EVENTS_H_

// Deciding events (private to workflow/): what commands put in a history
// event before the Journal applies it.

#include <string>

#include "absl/time/time.h"
#include "motcua/v1/dossier.pb.h"
#include "workflow/principal.h"
#include "workflow/procedure.h"
#include "workflow/work_calendar.h"

namespace motcua::workflow {

// An event caused by `caller` at `now` through the call with `request_id`.
v1::HistoryEvent EventBy(const Principal& caller, std::string action,
                         const std::string& request_id, absl::Time now);

// An event firing `t` on `d`, with what the legal clock decides: the
// appointment a receipt sets or a resumption moves, the working time left at
// a pause.
v1::HistoryEvent TransitionEvent(const Principal& caller, const v1::TransitionDefinition& t,
                                 const std::string& request_id, const Procedure& procedure,
                                 const v1::Dossier& d, const WorkCalendar& calendar,
                                 absl::Time now);

// Puts `form` in `event`, sorted by field name.
void SetEventForm(const google::protobuf::Map<std::string, std::string>& form,
                  v1::HistoryEvent* event);

}  // namespace motcua::workflow

#endif  // MOTCUA_WORKFLOW_EVENTS_H_
