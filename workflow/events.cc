#include "workflow/events.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "proto/error_reason.h"
#include "proto/proto_time.h"

namespace motcua::workflow {
namespace {

// The apology reminder comes one working day before the appointment.
constexpr absl::Duration kApologyLead = absl::Hours(8);

}  // namespace

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

absl::StatusOr<absl::Time> ParseDeadline(absl::string_view text) {
  absl::CivilDay day;
  if (ParseIsoDate(std::string_view(text.data(), text.size()), &day)) {
    return absl::FromCivil(day + 1, WorkCalendar::VietnamTime());
  }
  absl::Time t;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, text, &t, &error)) return t;
  return absl::InvalidArgumentError(absl::StrCat(
      "\"", text, "\" không phải là ngày (YYYY-MM-DD) hoặc thời điểm (RFC 3339)"));
}

absl::Status ArmTimers(const Procedure& procedure, absl::string_view state,
                       const google::protobuf::Map<std::string, std::string>& form,
                       const WorkCalendar& calendar, absl::Time now, v1::HistoryEvent* event) {
  for (const v1::TransitionDefinition* t : procedure.Timers(state)) {
    const v1::TimerRule& rule = t->timer();
    absl::Time due;
    switch (rule.due_case()) {
      case v1::TimerRule::kAfterWorkingDays:
        due = calendar.AddWorkingTime(now, absl::Hours(8) * rule.after_working_days());
        break;
      case v1::TimerRule::kAfterWorkingHours:
        due = calendar.AddWorkingTime(now, absl::Hours(rule.after_working_hours()));
        break;
      case v1::TimerRule::kAfter:
        due = now + absl::Seconds(rule.after().seconds());
        break;
      case v1::TimerRule::kAtFormField: {
        auto it = form.find(rule.at_form_field());
        auto at = ParseDeadline(it == form.end() ? "" : it->second);
        if (!at.ok()) {
          return WithReason(absl::InvalidArgumentError(absl::StrCat(
                                "Trường ", rule.at_form_field(), ": ", at.status().message())),
                            v1::FORM_FIELD_INVALID, absl::StrCat("form.", rule.at_form_field()));
        }
        due = *at;
        break;
      }
      default:
        continue;  // refused at deploy
    }
    v1::Timer* timer = event->add_timers();
    timer->set_kind(v1::Timer::KIND_TRANSITION);
    timer->set_transition(t->id());
    *timer->mutable_due_at() = ToProto(due);
    timer->set_id(absl::StrCat(t->id(), "@", absl::ToUnixMicros(due)));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::HistoryEvent> TransitionEvent(const Principal& caller, const v1::TransitionDefinition& t,
                                 const std::string& request_id, const Procedure& procedure,
                                 const v1::Dossier& d, const WorkCalendar& calendar,
                                 absl::Time now,
                                 const google::protobuf::Map<std::string, std::string>&
                                     form_changes) {
  v1::HistoryEvent event = EventBy(caller, t.id(), request_id, now);
  if (!form_changes.empty()) SetEventForm(form_changes, &event);
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
  // The apology reminder follows a new appointment, a working day ahead of it.
  if (event.has_appointment_at()) {
    const absl::Duration left = calendar.WorkingTimeBetween(now, FromProto(event.appointment_at()));
    if (left > kApologyLead) {
      *event.mutable_apology_reminder_at() = ToProto(calendar.AddWorkingTime(now, left - kApologyLead));
    }
  }
  // The form as it will be: a supplement may correct a deadline field.
  google::protobuf::Map<std::string, std::string> form = d.form();
  for (const auto& [name, value] : form_changes) form[name] = value;
  if (absl::Status s = ArmTimers(procedure, t.to_state(), form, calendar, now, &event); !s.ok()) {
    return s;
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
