#include "workflow/event_bus.h"

#include "absl/strings/str_cat.h"

namespace motcua::workflow {

std::shared_ptr<EventBus::Queue> EventBus::Register(std::string dossier_code, std::string unit) {
  auto queue = std::make_shared<Queue>(std::move(dossier_code), std::move(unit));
  absl::MutexLock lock(&mu_);
  std::erase_if(queues_, [](const std::weak_ptr<Queue>& q) { return q.expired(); });
  queues_.push_back(queue);
  return queue;
}

void EventBus::Publish(const v1::HistoryEvent& event, absl::string_view unit) {
  std::vector<std::shared_ptr<Queue>> targets;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& weak : queues_) {
      if (auto q = weak.lock(); q && q->Wants(event, unit)) targets.push_back(std::move(q));
    }
  }
  for (const auto& q : targets) q->Push(event);
}

bool EventBus::Queue::Wants(const v1::HistoryEvent& event, absl::string_view unit) const {
  return dossier_code_.empty() ? unit == unit_ : event.dossier_code() == dossier_code_;
}

void EventBus::Queue::Prepend(std::vector<v1::HistoryEvent> replay) {
  absl::MutexLock lock(&mu_);
  replayed_up_to_ = replay.empty() ? 0 : replay.back().log_sequence();
  std::erase_if(pending_,
                [&](const v1::HistoryEvent& e) { return e.log_sequence() <= replayed_up_to_; });
  pending_.insert(pending_.begin(), std::make_move_iterator(replay.begin()),
                  std::make_move_iterator(replay.end()));
}

void EventBus::Queue::Push(const v1::HistoryEvent& event) {
  absl::MutexLock lock(&mu_);
  if (overflowed_ || event.log_sequence() <= replayed_up_to_) return;
  if (pending_.size() >= kMaxPending) {
    overflowed_ = true;
    return;
  }
  pending_.push_back(event);
}

absl::StatusOr<bool> EventBus::Queue::Next(v1::HistoryEvent* event, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  if (!mu_.AwaitWithTimeout(absl::Condition(this, &Queue::Ready), timeout)) return false;
  if (pending_.empty()) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "this watch fell more than ", kMaxPending,
        " events behind and was stopped; watch again with after_log_sequence = ",
        delivered_up_to_, " (the last event received) to catch up"));
  }
  *event = std::move(pending_.front());
  pending_.pop_front();
  delivered_up_to_ = event->log_sequence();
  return true;
}

}  // namespace motcua::workflow
