#include "workflow/timers.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "workflow/applier.h"
#include "workflow/events.h"
#include "workflow/records.h"

namespace motcua::workflow {
namespace {

using storage::Family;

// Timers fired at once: enough to fill the Journal's group commits.
constexpr int kParallel = 32;

const Principal& System() {
  static const Principal* system = new Principal{"system", v1::ROLE_UNSPECIFIED, "", ""};
  return *system;
}

}  // namespace

absl::StatusOr<int> TimerService::FireDue(int limit) {
  std::vector<std::pair<TimedRef, std::string>> due;
  const std::string end = TimedKeysAfter(ctx_.clock->Now());
  absl::Status s = ctx_.store->Scan(Family::kTimers, "", "", false,
                                    [&](absl::string_view key, absl::string_view) {
    if (key >= end || static_cast<int>(due.size()) >= limit) return false;
    TimedRef ref;
    if (ParseTimedKey(key, &ref)) due.emplace_back(std::move(ref), std::string(key));
    return true;
  });
  if (!s.ok()) return s;

  std::atomic<size_t> next{0};
  absl::Mutex mu;
  absl::Status first_error;
  auto work = [&] {
    for (size_t i = next++; i < due.size(); i = next++) {
      if (absl::Status fired = Fire(due[i].first, due[i].second); !fired.ok()) {
        absl::MutexLock lock(&mu);
        if (first_error.ok()) {
          first_error = absl::Status(fired.code(), absl::StrCat("timer ", due[i].first.id,
                                                                " of dossier ",
                                                                due[i].first.dossier_code, ": ",
                                                                fired.message()));
        }
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 1; t < std::min<int>(kParallel, static_cast<int>(due.size())); ++t) {
    threads.emplace_back(work);
  }
  work();
  for (auto& thread : threads) thread.join();
  if (!first_error.ok()) return first_error;
  return static_cast<int>(due.size());
}

int64_t TimerService::CountDue(int64_t limit) {
  const std::string end = TimedKeysAfter(ctx_.clock->Now());
  int64_t due = 0;
  ctx_.store->Scan(Family::kTimers, "", "", false, [&](absl::string_view key, absl::string_view) {
    if (key >= end) return false;
    return ++due < limit;
  }).IgnoreError();
  return due;
}

absl::Status TimerService::Fire(const TimedRef& ref, const std::string& key) {
  absl::MutexLock lock(&ctx_.runner->DossierLock(ref.dossier_code));
  Change change;
  auto d = LoadDossier(*ctx_.store, ref.dossier_code);
  if (!d.ok() && !absl::IsNotFound(d.status())) return d.status();
  const v1::Timer* timer = nullptr;
  if (d.ok()) {
    for (const v1::Timer& t : d->timers()) {
      if (t.id() == ref.id) timer = &t;
    }
  }
  if (timer == nullptr) {
    change.writes.Delete(Family::kTimers, key);  // stale: nothing to fire
  } else {
    // The firing removes the timer from the dossier, and so its key.
    auto proc = ctx_.catalog.Find(d->procedure_code(), d->procedure_version());
    if (!proc.ok()) return proc.status();
    const absl::Time now = ctx_.clock->Now();
    const std::string request_id = absl::StrCat("timer:", timer->id());
    if (timer->kind() == v1::Timer::KIND_OVERDUE) {
      change.events.push_back(EventBy(System(), kActionOverdue, request_id, now));
    } else if (timer->kind() == v1::Timer::KIND_APOLOGY_REMINDER) {
      change.events.push_back(EventBy(System(), kActionApologyReminder, request_id, now));
    } else {
      const v1::TransitionDefinition* t = (*proc)->TransitionById(timer->transition());
      if (t == nullptr || t->from_state() != d->state()) {
        return absl::InternalError(absl::StrCat("armed in state \"", d->state(),
                                                "\" for transition \"", timer->transition(),
                                                "\", which does not leave it"));
      }
      auto event = TransitionEvent(System(), *t, request_id, **proc, *d, *ctx_.calendar, now);
      if (!event.ok()) return event.status();
      change.events.push_back(*std::move(event));
    }
    change.procedure = *std::move(proc);
    change.dossier = *std::move(d);
  }
  auto committed = ctx_.journal->Commit(std::move(change));
  return committed.status();
}

}  // namespace motcua::workflow
