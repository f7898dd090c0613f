#include "workflow/procedure.h"

#include <deque>
#include <set>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/util/message_differencer.h"
#include "workflow/document_data.h"
#include "workflow/work_calendar.h"

namespace motcua::workflow {
namespace {

constexpr int kMaxWorkingDays = 365;

bool IsOfficerDecision(v1::Trigger t) {
  return t == v1::TRIGGER_APPROVE || t == v1::TRIGGER_REJECT ||
         t == v1::TRIGGER_REQUEST_SUPPLEMENT;
}

absl::Status Invalid(absl::string_view where, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
}

// A timer transition has exactly one due rule, in range; only it has one.
absl::Status CheckTimer(const v1::ProcedureDefinition& d, const v1::TransitionDefinition& t,
                        absl::string_view at) {
  if (t.trigger() != v1::TRIGGER_TIMER) {
    if (t.has_timer()) return Invalid(at, "has a timer but its trigger is not TRIGGER_TIMER");
    return absl::OkStatus();
  }
  const v1::TimerRule& rule = t.timer();
  switch (rule.due_case()) {
    case v1::TimerRule::kAfterWorkingDays:
      if (rule.after_working_days() < 1 || rule.after_working_days() > kMaxWorkingDays) {
        return Invalid(at, absl::StrCat("timer.after_working_days must be 1..", kMaxWorkingDays));
      }
      return absl::OkStatus();
    case v1::TimerRule::kAfterWorkingHours:
      if (rule.after_working_hours() < 1 || rule.after_working_hours() > kMaxWorkingDays * 8) {
        return Invalid(at, absl::StrCat("timer.after_working_hours must be 1..",
                                        kMaxWorkingDays * 8));
      }
      return absl::OkStatus();
    case v1::TimerRule::kAfter:
      if (rule.after().seconds() <= 0 || rule.after().nanos() != 0) {
        return Invalid(at, "timer.after must be a positive whole number of seconds");
      }
      return absl::OkStatus();
    case v1::TimerRule::kAtFormField:
      for (const auto& f : d.form_fields()) {
        if (f.name() == rule.at_form_field()) {
          if (!f.required()) {
            return Invalid(at, absl::StrCat("timer.at_form_field \"", f.name(),
                                            "\" must be a required form field"));
          }
          return absl::OkStatus();
        }
      }
      return Invalid(at, absl::StrCat("timer.at_form_field names unknown form field \"",
                                      rule.at_form_field(), "\""));
    default:
      return Invalid(at, "a TRIGGER_TIMER transition needs a timer with a due rule");
  }
}

// The person signs first, the organisation's seal last (Decree 30/2020
// Art. 32); each at most once, on the document the transition produces or
// signs further.
absl::Status CheckSignatures(const v1::TransitionDefinition& t, absl::string_view at) {
  bool actor = false, seal = false;
  if (!t.signatures().empty() && !IsOfficerDecision(t.trigger())) {
    return Invalid(at, "only an officer's decision can require signatures");
  }
  if (!t.signs_document().empty()) {
    if (!t.produces_document().empty()) {
      return Invalid(at, "produces_document and signs_document exclude each other");
    }
    if (t.signatures().empty()) {
      return Invalid(at, "signs_document needs the signatures this transition adds");
    }
    if (t.issue_after_commit() || t.issues_receipt()) {
      return Invalid(at, "signs_document: the next signer must find the document signed, so it "
                         "is signed before the commit (no issue_after_commit) and is no receipt");
    }
  }
  const std::string& document = DocumentKindOf(t);
  for (const auto& r : t.signatures()) {
    if (document.empty()) {
      return Invalid(at, "requires signatures but produces no document (produces_document)");
    }
    if (r.document() != document) {
      return Invalid(at, absl::StrCat("a signature is required on \"", r.document(),
                                      "\" but the transition ",
                                      t.produces_document().empty() ? "signs" : "produces", " \"",
                                      document, "\""));
    }
    switch (r.signer()) {
      case v1::SIGNER_ACTOR:
        if (actor) return Invalid(at, "requires the actor's signature twice");
        if (seal) return Invalid(at, "the actor must sign before the unit seal");
        actor = true;
        break;
      case v1::SIGNER_UNIT_SEAL:
        if (seal) return Invalid(at, "requires the unit seal twice");
        seal = true;
        break;
      default:
        return Invalid(at, "a signature requirement needs signer SIGNER_ACTOR or SIGNER_UNIT_SEAL");
    }
  }
  return absl::OkStatus();
}

// The slot of `tmpl` that `r` fills: the one it names, else the only slot
// for its signer.
absl::StatusOr<int> SlotOf(const v1::SignatureRequirement& r, const v1::DocumentTemplate& tmpl,
                           absl::string_view at) {
  int found = -1;
  for (int i = 0; i < tmpl.slots_size(); ++i) {
    const v1::SignatureSlot& slot = tmpl.slots(i);
    if (!r.slot().empty() ? slot.id() == r.slot() : slot.signer() == r.signer()) {
      if (found >= 0) {
        return Invalid(at, absl::StrCat("\"", tmpl.kind(), "\" has several slots for ",
                                        v1::Signer_Name(r.signer()),
                                        ": name the one it fills (signatures.slot)"));
      }
      found = i;
    }
  }
  if (found < 0) {
    return Invalid(at, r.slot().empty()
                           ? absl::StrCat("requires ", v1::Signer_Name(r.signer()), " on \"",
                                          tmpl.kind(), "\" but its template has no slot for it")
                           : absl::StrCat("names slot \"", r.slot(), "\", which \"", tmpl.kind(),
                                          "\"'s template does not have"));
  }
  if (tmpl.slots(found).signer() != r.signer()) {
    return Invalid(at, absl::StrCat("slot \"", r.slot(), "\" of \"", tmpl.kind(), "\" is for ",
                                    v1::Signer_Name(tmpl.slots(found).signer()), ", not ",
                                    v1::Signer_Name(r.signer())));
  }
  return found;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Procedure>> Procedure::Compile(
    v1::ProcedureDefinition definition) {
  std::shared_ptr<Procedure> p(new Procedure(std::move(definition)));
  if (absl::Status s = p->Index(); !s.ok()) return s;
  if (absl::Status s = p->CompileTemplates(); !s.ok()) return s;
  return std::shared_ptr<const Procedure>(std::move(p));
}

absl::Status Procedure::Index() {
  const v1::ProcedureDefinition& d = definition_;
  if (d.code().empty()) return Invalid("procedure", "code is required (e.g. \"2.001914\")");
  std::string where = absl::StrCat("procedure ", d.code());
  if (d.name().empty()) return Invalid(where, "name is required");
  if (!d.effective_from().empty()) {
    absl::CivilDay day;
    if (!ParseIsoDate(d.effective_from(), &day)) {
      return Invalid(where, absl::StrCat("effective_from \"", d.effective_from(),
                                         "\" is not a date YYYY-MM-DD"));
    }
  }
  int days = d.time_limit().working_days();
  if (days < 1 || days > kMaxWorkingDays) {
    return Invalid(where, absl::StrCat("time_limit.working_days must be 1..", kMaxWorkingDays,
                                       ", got ", days));
  }
  absl::flat_hash_set<std::string> form_names;
  for (const auto& f : d.form_fields()) {
    if (f.name().empty() || !form_names.insert(f.name()).second) {
      return Invalid(where, absl::StrCat("form field \"", f.name(), "\" is empty or repeated"));
    }
  }

  for (int i = 0; i < d.states_size(); ++i) {
    const auto& s = d.states(i);
    std::string at = absl::StrCat("state \"", s.id(), "\"");
    if (s.id().empty()) return Invalid(where, absl::StrCat("state #", i + 1, " has no id"));
    if (!states_.emplace(s.id(), i).second) return Invalid(at, "defined twice");
    if (s.national_status() < 1 || s.national_status() > 10) {
      return Invalid(at, absl::StrCat("national_status must map to a portal status 1..10, got ",
                                      s.national_status()));
    }
  }
  if (!states_.contains(d.initial_state())) {
    return Invalid(where, absl::StrCat("initial_state \"", d.initial_state(), "\" is not a state"));
  }

  absl::flat_hash_set<std::string> exits;  // "state/trigger"
  for (int i = 0; i < d.transitions_size(); ++i) {
    const auto& t = d.transitions(i);
    std::string at = absl::StrCat("transition \"", t.id(), "\"");
    if (t.id().empty()) return Invalid(where, absl::StrCat("transition #", i + 1, " has no id"));
    if (!transitions_.emplace(t.id(), i).second) return Invalid(at, "defined twice");
    const v1::StateDefinition* from = State(t.from_state());
    if (from == nullptr) return Invalid(at, absl::StrCat("unknown from_state \"", t.from_state(), "\""));
    if (State(t.to_state()) == nullptr) {
      return Invalid(at, absl::StrCat("unknown to_state \"", t.to_state(), "\""));
    }
    if (from->terminal()) return Invalid(at, "leaves a terminal state");
    if (t.trigger() == v1::TRIGGER_UNSPECIFIED) return Invalid(at, "has no trigger");
    if (!v1::Trigger_IsValid(t.trigger())) {
      return Invalid(at, absl::StrCat("unknown trigger ", t.trigger(), ": nobody may fire it"));
    }
    if (!v1::ClockAction_IsValid(t.clock())) {
      return Invalid(at, absl::StrCat("unknown clock action ", t.clock()));
    }
    if (IsOfficerDecision(t.trigger())) {
      if (t.role() != v1::ROLE_OFFICER && t.role() != v1::ROLE_CLERK) {
        return Invalid(at, "nobody may fire it: an officer decision needs role ROLE_OFFICER or "
                           "ROLE_CLERK");
      }
      TaskSpec spec{from->task_title(), t.role(), t.position()};
      auto [it, inserted] = tasks_.emplace(from->id(), spec);
      if (!inserted && (it->second.role != spec.role || it->second.position != spec.position)) {
        return Invalid(at, absl::StrCat("state \"", from->id(),
                                        "\" has one task; all its decisions need the same role "
                                        "and position"));
      }
    } else if (t.trigger() == v1::TRIGGER_TIMER || t.trigger() == v1::TRIGGER_SYSTEM) {
      if (t.role() != v1::ROLE_UNSPECIFIED || !t.position().empty()) {
        return Invalid(at, "is fired by the engine, not a person: leave role and position unset");
      }
    } else if (t.role() != v1::ROLE_PORTAL) {
      return Invalid(at, "nobody may fire it: applicant triggers need role ROLE_PORTAL");
    }
    if (absl::Status s = CheckSignatures(t, at); !s.ok()) return s;
    if (absl::Status s = CheckTimer(d, t, at); !s.ok()) return s;
    if (t.issue_after_commit()) {
      if (t.signatures().empty()) {
        return Invalid(at, "issue_after_commit needs a document the unit seal signs");
      }
      if (NeedsActorSignature(t)) {
        return Invalid(at, "issue_after_commit: an officer's signature cannot wait for the commit");
      }
    }
    if (!exits.insert(absl::StrCat(t.from_state(), "/", t.trigger())).second) {
      return Invalid(at, absl::StrCat("state \"", t.from_state(),
                                      "\" already has a transition for this trigger"));
    }
  }
  for (const auto& t : d.transitions()) {
    for (const auto& other : t.actor_differs_from()) {
      if (!transitions_.contains(other)) {
        return Invalid(absl::StrCat("transition \"", t.id(), "\""),
                       absl::StrCat("actor_differs_from names unknown transition \"", other, "\""));
      }
    }
  }

  // Every state must be reachable, and every non-terminal state must have a
  // way out: otherwise a dossier could sit there forever.
  absl::flat_hash_set<std::string> reached = {d.initial_state()};
  std::deque<std::string> queue = {d.initial_state()};
  while (!queue.empty()) {
    std::string s = queue.front();
    queue.pop_front();
    for (const auto& t : d.transitions()) {
      if (t.from_state() == s && reached.insert(t.to_state()).second) queue.push_back(t.to_state());
    }
  }
  for (const auto& s : d.states()) {
    std::string at = absl::StrCat("state \"", s.id(), "\"");
    if (!reached.contains(s.id())) return Invalid(at, "unreachable from the initial state");
    bool has_exit = false;
    for (const auto& t : d.transitions()) has_exit |= t.from_state() == s.id();
    if (!s.terminal() && !has_exit) return Invalid(at, "is not terminal but no transition leaves it");
    if (!s.task_title().empty() && !tasks_.contains(s.id())) {
      return Invalid(at, "has a task_title but no officer decision leaves it");
    }
    if (tasks_.contains(s.id()) && s.task_title().empty()) {
      return Invalid(at, "officers decide here, so it needs a task_title");
    }
  }
  return absl::OkStatus();
}

// Every document a transition produces or signs has a template. Its slots
// are filled in the template's order, people before the seal, each by some
// transition; and on every path a transition that signs a document further
// finds it with exactly the slots before its own filled.
absl::Status Procedure::CompileTemplates() {
  const v1::ProcedureDefinition& d = definition_;
  const signing::FieldCatalog catalog = DocumentFields(d);
  for (const v1::DocumentTemplate& t : d.templates()) {
    const std::string where = absl::StrCat("template \"", t.kind(), "\"");
    if (layouts_.contains(t.kind())) return Invalid(where, "kind defined twice");
    auto layout = signing::DocumentLayout::Compile(t, catalog);
    if (!layout.ok()) return layout.status();
    layouts_[t.kind()] = *std::move(layout);
    for (int i = 1; i < t.slots_size(); ++i) {
      if (t.slots(i - 1).signer() == v1::SIGNER_UNIT_SEAL &&
          t.slots(i).signer() != v1::SIGNER_UNIT_SEAL) {
        return Invalid(absl::StrCat(where, " slot \"", t.slots(i).id(), "\""),
                       absl::StrCat("a person would sign after the seal (slot \"",
                                    t.slots(i - 1).id(),
                                    "\"): the seal comes last (Decree 30/2020 Art. 32)"));
      }
    }
  }
  absl::flat_hash_map<std::string, absl::flat_hash_set<int>> filled;  // kind -> slots
  for (const auto& t : d.transitions()) {
    const std::string& kind = DocumentKindOf(t);
    if (kind.empty()) continue;
    const std::string at = absl::StrCat("transition \"", t.id(), "\"");
    auto layout = layouts_.find(kind);
    if (layout == layouts_.end()) {
      return Invalid(at, absl::StrCat(t.produces_document().empty() ? "signs" : "produces", " \"",
                                      kind, "\" but the definition has no template of that kind"));
    }
    const v1::DocumentTemplate& tmpl = layout->second->document_template();
    std::vector<int>& slots = slots_[t.id()];
    for (const auto& r : t.signatures()) {
      auto slot = SlotOf(r, tmpl, at);
      if (!slot.ok()) return slot.status();
      // A new document starts at its first slot; one signed further, at any.
      const int expected = !slots.empty()                     ? slots.back() + 1
                           : t.produces_document().empty() ? *slot
                                                            : 0;
      if (*slot != expected) {
        return Invalid(at, absl::StrCat("fills slot \"", tmpl.slots(*slot).id(), "\" of \"",
                                        kind, "\" out of turn: ",
                                        slots.empty() ? "a new document starts at its first slot"
                                                      : "a transition fills consecutive slots, in "
                                                        "the template's order"));
      }
      slots.push_back(*slot);
      filled[kind].insert(*slot);
    }
    // An officer signs what Prepare renders, before the transition fires:
    // the receipt's times do not exist yet.
    if (t.issues_receipt() && NeedsActorSignature(t)) {
      for (const std::string& field : layout->second->bound_fields()) {
        if (absl::StartsWith(field, "receipt.")) {
          return Invalid(at, absl::StrCat("the officer would sign \"", tmpl.kind(), "\" before ",
                                          field, " is known (it is set by this transition)"));
        }
      }
    }
  }
  for (const v1::DocumentTemplate& t : d.templates()) {
    for (int i = 0; i < t.slots_size(); ++i) {
      if (!filled[t.kind()].contains(i)) {
        return Invalid(absl::StrCat("template \"", t.kind(), "\" slot \"", t.slots(i).id(), "\""),
                       "no transition fills it (signatures.slot), so it would stay empty");
      }
    }
  }
  return CheckSigningOrder();
}

// Follows every path from the initial state, tracking per document kind how
// many slots the dossier's latest document of that kind has filled (-1: no
// such document yet), and refuses a signs_document transition reached with
// another count than its first slot.
absl::Status Procedure::CheckSigningOrder() const {
  const v1::ProcedureDefinition& d = definition_;
  std::set<std::string> kinds;
  for (const auto& t : d.transitions()) {
    if (!t.signs_document().empty()) kinds.insert(t.signs_document());
  }
  for (const std::string& kind : kinds) {
    absl::flat_hash_map<std::string, absl::flat_hash_set<int>> seen;  // state -> counts
    std::deque<std::pair<std::string, int>> queue = {{d.initial_state(), -1}};
    seen[d.initial_state()].insert(-1);
    while (!queue.empty()) {
      auto [state, count] = queue.front();
      queue.pop_front();
      for (const auto& t : d.transitions()) {
        if (t.from_state() != state) continue;
        int next = count;
        const std::vector<int>& slots = SlotsFilledBy(t);
        if (t.produces_document() == kind && !slots.empty()) {  // unsigned: none is made
          next = static_cast<int>(slots.size());
        } else if (t.signs_document() == kind) {
          if (count != slots.front()) {
            const v1::DocumentTemplate& tmpl = layouts_.at(kind)->document_template();
            std::string found = "without that document";
            if (count >= 0 && count < slots.front()) {
              found = absl::StrCat("with the document's slot \"", tmpl.slots(count).id(),
                                   "\" still to fill");
            } else if (count >= 0) {
              found = "with that slot already signed";
            }
            return Invalid(absl::StrCat("transition \"", t.id(), "\""),
                           absl::StrCat("signs slot \"", tmpl.slots(slots.front()).id(),
                                        "\" of \"", kind, "\", but a dossier can reach state \"",
                                        state, "\" ", found));
          }
          next = count + static_cast<int>(slots.size());
        }
        if (seen[t.to_state()].insert(next).second) queue.emplace_back(t.to_state(), next);
      }
    }
  }
  return absl::OkStatus();
}

const std::vector<int>& Procedure::SlotsFilledBy(const v1::TransitionDefinition& t) const {
  auto it = slots_.find(t.id());
  return it == slots_.end() ? kNoSlots : it->second;
}

const signing::DocumentLayout* Procedure::Layout(absl::string_view kind) const {
  auto it = layouts_.find(kind);
  return it == layouts_.end() ? nullptr : it->second.get();
}

const v1::StateDefinition* Procedure::State(absl::string_view id) const {
  auto it = states_.find(id);
  return it == states_.end() ? nullptr : &definition_.states(it->second);
}

const v1::TransitionDefinition* Procedure::Transition(absl::string_view state,
                                                      v1::Trigger trigger) const {
  for (const auto& t : definition_.transitions()) {
    if (t.from_state() == state && t.trigger() == trigger) return &t;
  }
  return nullptr;
}

const v1::TransitionDefinition* Procedure::TransitionById(absl::string_view id) const {
  auto it = transitions_.find(id);
  return it == transitions_.end() ? nullptr : &definition_.transitions(it->second);
}

std::vector<const v1::TransitionDefinition*> Procedure::Timers(absl::string_view state) const {
  std::vector<const v1::TransitionDefinition*> timers;
  for (const auto& t : definition_.transitions()) {
    if (t.from_state() == state && t.trigger() == v1::TRIGGER_TIMER) timers.push_back(&t);
  }
  return timers;
}

const TaskSpec* Procedure::Task(absl::string_view state) const {
  auto it = tasks_.find(state);
  return it == tasks_.end() ? nullptr : &it->second;
}

bool SameDefinition(const v1::ProcedureDefinition& a, const v1::ProcedureDefinition& b) {
  v1::ProcedureDefinition x = a, y = b;
  for (auto* d : {&x, &y}) {
    d->clear_version();
    d->clear_deployed_at();
    d->clear_deployed_by();
  }
  return google::protobuf::util::MessageDifferencer::Equals(x, y);
}

v1::Trigger TriggerOf(v1::Decision d) {
  switch (d) {
    case v1::DECISION_APPROVE: return v1::TRIGGER_APPROVE;
    case v1::DECISION_REJECT: return v1::TRIGGER_REJECT;
    case v1::DECISION_REQUEST_SUPPLEMENT: return v1::TRIGGER_REQUEST_SUPPLEMENT;
    default: return v1::TRIGGER_UNSPECIFIED;
  }
}

v1::Decision DecisionOf(v1::Trigger t) {
  switch (t) {
    case v1::TRIGGER_APPROVE: return v1::DECISION_APPROVE;
    case v1::TRIGGER_REJECT: return v1::DECISION_REJECT;
    case v1::TRIGGER_REQUEST_SUPPLEMENT: return v1::DECISION_REQUEST_SUPPLEMENT;
    default: return v1::DECISION_UNSPECIFIED;
  }
}

const std::string& DocumentKindOf(const v1::TransitionDefinition& t) {
  return t.produces_document().empty() ? t.signs_document() : t.produces_document();
}

bool NeedsActorSignature(const v1::TransitionDefinition& t) {
  for (const auto& r : t.signatures()) {
    if (r.signer() == v1::SIGNER_ACTOR) return true;
  }
  return false;
}

}  // namespace motcua::workflow
