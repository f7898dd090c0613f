#ifndef MOTCUA_WORKFLOW_EVENTS_H_
#define MOTCUA_WORKFLOW_EVENTS_H_

// Deciding events (private to workflow/): what commands put in a history
// event before the Journal applies it.

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "motcua/v1/dossier.pb.h"
#include "workflow/principal.h"
#include "workflow/procedure.h"
#include "workflow/work_calendar.h"

namespace motcua::workflow {

// An event caused by `caller` at `now` through the call with `request_id`.
v1::HistoryEvent EventBy(const Principal& caller, std::string action,
                         const std::string& request_id, absl::Time now);

// An event firing `t` on `d`, with what the legal clock decides (the
// appointment a receipt sets or a resumption moves, the working time left at
// a pause), the form fields it changes, and the timers of the state it
// enters. INVALID_ARGUMENT when a
// timer's form field holds no time.
absl::StatusOr<v1::HistoryEvent> TransitionEvent(const Principal& caller, const v1::TransitionDefinition& t,
                                 const std::string& request_id, const Procedure& procedure,
                                 const v1::Dossier& d, const WorkCalendar& calendar,
                                 absl::Time now,
                                 const google::protobuf::Map<std::string, std::string>&
                                     form_changes = {});

// Arms in `event` the timers of `state`, due from `now` (or at the time a
// form field of `form` holds).
absl::Status ArmTimers(const Procedure& procedure, absl::string_view state,
                       const google::protobuf::Map<std::string, std::string>& form,
                       const WorkCalendar& calendar, absl::Time now, v1::HistoryEvent* event);

// A deadline written in a form field: an RFC 3339 time, or a date
// "YYYY-MM-DD" meaning the end of that day in Vietnam.
absl::StatusOr<absl::Time> ParseDeadline(absl::string_view text);

// Puts `form` in `event`, sorted by field name.
void SetEventForm(const google::protobuf::Map<std::string, std::string>& form,
                  v1::HistoryEvent* event);

}  // namespace motcua::workflow

#endif  // MOTCUA_WORKFLOW_EVENTS_H_
