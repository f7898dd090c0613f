#include "workflow/applier.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "proto/proto_time.h"

namespace motcua::workflow {
namespace {

void MoveClock(v1::ClockAction action, const v1::HistoryEvent& e, v1::Dossier* d) {
  v1::Clock* clock = d->mutable_clock();
  switch (action) {
    case v1::CLOCK_ACTION_START:
      if (!clock->started()) {
        clock->set_started(true);
        v1::Receipt* r = d->mutable_receipt();
        *r->mutable_received_at() = e.time();
        *r->mutable_appointment_at() = e.appointment_at();
        r->set_received_by(e.actor());
      }
      break;
    case v1::CLOCK_ACTION_PAUSE:
      if (clock->started() && !clock->paused()) {
        clock->set_paused(true);
        d->set_overdue(false);
        d->set_apology_due(false);
        *clock->mutable_paused_at() = e.time();
        clock->set_remaining_working_seconds_at_pause(e.remaining_working_seconds());
      }
      break;
    case v1::CLOCK_ACTION_RESUME:
      if (clock->paused()) {
        if (e.has_appointment_at()) *d->mutable_receipt()->mutable_appointment_at() = e.appointment_at();
        clock->set_paused(false);
        clock->clear_paused_at();
      }
      break;
    case v1::CLOCK_ACTION_STOP:
      if (clock->started() && !clock->has_stopped_at()) {
        *clock->mutable_stopped_at() = e.time();
        clock->set_finished_on_time(clock->paused()
                                        ? clock->remaining_working_seconds_at_pause() >= 0
                                        : FromProto(e.time()) <=
                                              FromProto(d->receipt().appointment_at()));
        clock->set_paused(false);
        d->set_overdue(false);
        d->set_apology_due(false);
      }
      break;
    default:
      break;
  }
}

void RemoveTimers(v1::Timer::Kind kind, v1::Dossier* d) {
  auto* timers = d->mutable_timers();
  timers->erase(std::remove_if(timers->begin(), timers->end(),
                               [kind](const v1::Timer& t) { return t.kind() == kind; }),
                timers->end());
}

void AddTimer(v1::Timer::Kind kind, absl::string_view name,
              const google::protobuf::Timestamp& due, v1::Dossier* d) {
  v1::Timer* timer = d->add_timers();
  timer->set_kind(kind);
  *timer->mutable_due_at() = due;
  timer->set_id(absl::StrCat(name, "@", absl::ToUnixMicros(FromProto(due))));
}

// The legal clock's timers: overdue at the appointment, the apology reminder
// a working day before it (armed by the event that set the appointment),
// both only while the clock runs.
void RearmClockTimers(const v1::HistoryEvent& e, v1::Dossier* d) {
  const v1::Clock& c = d->clock();
  const bool running = c.started() && !c.paused() && !c.has_stopped_at();
  RemoveTimers(v1::Timer::KIND_OVERDUE, d);
  if (running && !d->overdue()) {
    AddTimer(v1::Timer::KIND_OVERDUE, "overdue", d->receipt().appointment_at(), d);
  }
  if (!running || e.has_apology_reminder_at()) {
    RemoveTimers(v1::Timer::KIND_APOLOGY_REMINDER, d);
  }
  if (running && e.has_apology_reminder_at()) {
    AddTimer(v1::Timer::KIND_APOLOGY_REMINDER, "apology", e.apology_reminder_at(), d);
  }
  std::sort(d->mutable_timers()->begin(), d->mutable_timers()->end(),
            [](const v1::Timer& a, const v1::Timer& b) {
              const absl::Time x = FromProto(a.due_at()), y = FromProto(b.due_at());
              return x != y ? x < y : a.id() < b.id();
            });
}

void ApplyTrigger(v1::Trigger trigger, const v1::HistoryEvent& e, v1::Dossier* d) {
  switch (trigger) {
    case v1::TRIGGER_REQUEST_SUPPLEMENT: {
      d->set_supplement_request_count(d->supplement_request_count() + 1);
      v1::SupplementRequest* sr = d->mutable_pending_supplement();
      sr->Clear();
      *sr->mutable_missing_items() = e.missing_items();
      sr->set_note(e.comment());
      *sr->mutable_requested_at() = e.time();
      sr->set_requested_by(e.actor());
      break;
    }
    case v1::TRIGGER_SUPPLEMENT:
      d->clear_pending_supplement();
      break;
    case v1::TRIGGER_REJECT:
      *d->mutable_rejection_reasons() = e.reasons();
      break;
    default:
      break;
  }
}

// Puts the dossier in `state_id`, with the task an officer works there.
void EnterState(const Procedure& proc, absl::string_view state_id, const v1::HistoryEvent& e,
                v1::Dossier* d) {
  const v1::StateDefinition* to = proc.State(state_id);
  d->set_state(to->id());
  d->set_national_status(to->national_status());
  d->set_closed(to->terminal());
  d->clear_task();
  // Leaving a state cancels its timers; the event armed the new state's.
  RemoveTimers(v1::Timer::KIND_TRANSITION, d);
  for (const v1::Timer& timer : e.timers()) *d->add_timers() = timer;
  const TaskSpec* spec = proc.Task(to->id());
  if (spec == nullptr) return;
  v1::Task* task = d->mutable_task();
  task->set_id(absl::StrCat(d->code(), "/", e.sequence()));
  task->set_dossier_code(d->code());
  task->set_procedure_code(d->procedure_code());
  task->set_state(to->id());
  task->set_title(spec->title);
  task->set_unit_code(d->unit_code());
  task->set_role(spec->role);
  task->set_position(spec->position);
  for (v1::Trigger trigger :
       {v1::TRIGGER_APPROVE, v1::TRIGGER_REJECT, v1::TRIGGER_REQUEST_SUPPLEMENT}) {
    if (proc.Transition(to->id(), trigger) != nullptr) task->add_decisions(DecisionOf(trigger));
  }
  *task->mutable_created_at() = e.time();
}

absl::Status Unfit(const v1::HistoryEvent& e, absl::string_view why) {
  return absl::InternalError(absl::StrCat("event ", e.sequence(), " (\"", e.action(),
                                          "\") of dossier ", e.dossier_code(), ": ", why));
}

}  // namespace

absl::Status ApplyEvent(const Procedure& proc, const v1::HistoryEvent& e, v1::Dossier* d) {
  if (e.action() == kActionSubmitted) {
    const v1::Opening& o = e.opening();
    d->Clear();
    d->set_code(e.dossier_code());
    d->set_procedure_code(o.procedure_code());
    d->set_procedure_version(o.procedure_version());
    d->set_unit_code(o.unit_code());
    d->set_channel(o.channel());
    *d->mutable_applicant() = o.applicant();
    *d->mutable_submitted_at() = e.time();
    d->set_submitted_by(e.actor());
  } else if (d->code() != e.dossier_code() || e.sequence() != d->history_length() + 1) {
    return Unfit(e, absl::StrCat("does not follow event ", d->history_length()));
  }
  for (const v1::FormValue& field : e.form()) (*d->mutable_form())[field.name()] = field.value();
  for (const v1::Attachment& a : e.attachments()) *d->add_attachments() = a;

  if (e.action() == kActionSubmitted) {
    if (proc.State(proc.definition().initial_state()) == nullptr) {
      return Unfit(e, "the procedure has no initial state");
    }
    EnterState(proc, proc.definition().initial_state(), e, d);
  } else if (e.action() == kActionOverdue) {
    d->set_overdue(true);
  } else if (e.action() == kActionApologyReminder) {
    d->set_apology_due(true);
    RemoveTimers(v1::Timer::KIND_APOLOGY_REMINDER, d);
  } else if (e.action() == kActionDocumentIssued) {
    v1::Document* pending = nullptr;
    for (v1::Document& doc : *d->mutable_documents()) {
      if (doc.id() == e.document().id() && doc.pending()) pending = &doc;
    }
    if (pending == nullptr) return Unfit(e, "no such pending document");
    *pending = e.document();
  } else if (e.action() == kActionDocumentRenewed) {
    bool issued = false;
    for (const v1::Document& doc : d->documents()) {
      issued |= doc.id() == e.document().id() && !doc.pending();
    }
    if (!issued) return Unfit(e, "renews no issued document of the dossier");
  } else if (e.action() == kActionClaimTask) {
    if (!d->has_task()) return Unfit(e, "a claim, but no task is open");
    d->mutable_task()->set_claimed_by(e.actor());
  } else {
    const v1::TransitionDefinition* t = proc.TransitionById(e.action());
    if (t == nullptr) return Unfit(e, "the procedure has no such transition");
    if (t->from_state() != d->state()) {
      return Unfit(e, absl::StrCat("the transition leaves \"", t->from_state(),
                                   "\", the dossier is in \"", d->state(), "\""));
    }
    MoveClock(t->clock(), e, d);
    ApplyTrigger(t->trigger(), e, d);
    EnterState(proc, t->to_state(), e, d);
  }
  if (e.has_document() && e.action() != kActionDocumentIssued) {
    // A step that signs an earlier document further records it again, with
    // the same id and every signer so far.
    v1::Document* listed = nullptr;
    for (v1::Document& doc : *d->mutable_documents()) {
      if (doc.id() == e.document().id()) listed = &doc;
    }
    if (listed != nullptr && listed->pending()) return Unfit(e, "signs a document still pending");
    *(listed != nullptr ? listed : d->add_documents()) = e.document();
  }

  RearmClockTimers(e, d);
  // The engine's bookkeeping never makes a person's decision stale.
  if (e.action() != kActionDocumentIssued && e.action() != kActionDocumentRenewed &&
      e.action() != kActionOverdue && e.action() != kActionApologyReminder) {
    d->set_version(d->version() + 1);
  }
  *d->mutable_updated_at() = e.time();
  d->set_history_length(e.sequence());
  d->set_history_head(e.hash());
  if (d->has_task()) {
    d->mutable_task()->set_dossier_version(d->version());
    if (d->has_receipt()) *d->mutable_task()->mutable_appointment_at() = d->receipt().appointment_at();
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Dossier> ReplayHistory(const Procedure& procedure,
                                          const std::vector<v1::HistoryEvent>& events) {
  v1::Dossier dossier;
  for (const v1::HistoryEvent& event : events) {
    if (absl::Status s = ApplyEvent(procedure, event, &dossier); !s.ok()) return s;
  }
  return dossier;
}

}  // namespace motcua::workflow
