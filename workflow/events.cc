#include "workflow/events.h"

#include <algorithm>

#include "proto/proto_time.h"

namespace motcua::workflow {

v1::HistoryEvent EventBy(const Principal& caller, std::string action,
                         const std::string& request_id, absl::Time now) {
  v1::HistoryEvent event;
  event.set_actor(caller.subject);
  event.set_actor_role(caller.role);
  event.set_action(std::move(action));
  event.set_request_id(request_id);
  *event.mutable_time() = ToProto(now);
  return event;
}

v1::HistoryEvent TransitionEvent(const Principal& caller, const v1::TransitionDefinition& t,
                                 const std::string& request_id, const Procedure& procedure,
                                 const v1::Dossier& d, const WorkCalendar& calendar,
                                 absl::Time now) {
  v1::HistoryEvent event = EventBy(caller, t.id(), request_id, now);
  const v1::Clock& clock = d.clock();
  switch (t.clock()) {
    case v1::CLOCK_ACTION_START:
      if (!clock.started()) {
        const v1::TimeLimit& limit = procedure.definition().time_limit();
        *event.mutable_appointment_at() = ToProto(
            calendar.Appointment(now, limit.working_days(), limit.after_15h_next_day()));
      }
      break;
    case v1::CLOCK_ACTION_PAUSE:
      if (clock.started() && !clock.paused()) {
        absl::Time due = FromProto(d.receipt().appointment_at());
        absl::Duration left = now <= due ? calendar.WorkingTimeBetween(now, due)
                                         : -calendar.WorkingTimeBetween(due, now);
        event.set_remaining_working_seconds(absl::ToInt64Seconds(left));
      }
      break;
    case v1::CLOCK_ACTION_RESUME:
      if (clock.paused() && clock.remaining_working_seconds_at_pause() > 0) {
        *event.mutable_appointment_at() = ToProto(calendar.AddWorkingTime(
            now, absl::Seconds(clock.remaining_working_seconds_at_pause())));
      }
      break;
    default:
      break;
  }
  return event;
}

void SetEventForm(const google::protobuf::Map<std::string, std::string>& form,
                  v1::HistoryEvent* event) {
  event->clear_form();
  for (const auto& [name, value] : form) {
    v1::FormValue* field = event->add_form();
    field->set_name(name);
    field->set_value(value);
  }
  std::sort(event->mutable_form()->begin(), event->mutable_form()->end(),
            [](const v1::FormValue& a, const v1::FormValue& b) { return a.name() < b.name(); });
}

}  // namespace motcua::workflow
