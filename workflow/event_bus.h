#ifndef MOTCUA_WORKFLOW_EVENT_BUS_H_
#define MOTCUA_WORKFLOW_EVENT_BUS_H_

// Fans committed history events out to watchers (private to workflow/).

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "motcua/v1/dossier.pb.h"
#include "workflow/engine.h"

namespace motcua::workflow {

class EventBus {
 public:
  class Queue;
  // A feed of one dossier's events (dossier_code set) or of every dossier of
  // a unit. Register before reading stored events to replay, then Prepend
  // them, so no event falls between the replay and the live feed.
  std::shared_ptr<Queue> Register(std::string dossier_code, std::string unit);
  void Publish(const v1::HistoryEvent& event, absl::string_view unit);

 private:
  absl::Mutex mu_;
  std::vector<std::weak_ptr<Queue>> queues_ ABSL_GUARDED_BY(mu_);
};

class EventBus::Queue : public EventSubscription {
 public:
  Queue(std::string dossier_code, std::string unit)
      : dossier_code_(std::move(dossier_code)), unit_(std::move(unit)) {}
  absl::StatusOr<bool> Next(v1::HistoryEvent* event, absl::Duration timeout) override;
  // Delivers `replay` (in log order) first; live events up to its last
  // log_sequence are dropped, so nothing arrives twice.
  void Prepend(std::vector<v1::HistoryEvent> replay);
  bool Wants(const v1::HistoryEvent& event, absl::string_view unit) const;
  void Push(const v1::HistoryEvent& event);

 private:
  // A watcher that stops reading must not hold memory without bound.
  static constexpr size_t kMaxPending = 10000;
  bool Ready() const ABSL_SHARED_LOCKS_REQUIRED(mu_) { return !pending_.empty() || overflowed_; }
  const std::string dossier_code_;
  const std::string unit_;
  absl::Mutex mu_;
  std::deque<v1::HistoryEvent> pending_ ABSL_GUARDED_BY(mu_);
  int64_t replayed_up_to_ ABSL_GUARDED_BY(mu_) = 0;   // log_sequence
  int64_t delivered_up_to_ ABSL_GUARDED_BY(mu_) = 0;  // log_sequence
  bool overflowed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace motcua::workflow

#endif  // MOTCUA_WORKFLOW_EVENT_BUS_H_
