#ifndef MOTCUA_ADAPTERS_WORK_POOL_H_
#define MOTCUA_ADAPTERS_WORK_POOL_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace motcua::adapters {

// Threads that run calls which block on a durable commit, so gRPC's own
// callback threads never wait for an fsync. Many calls waiting at once is
// what lets the store group their commits into one fsync.
class WorkPool {
 public:
  // `threads` workers; at most `max_queued` calls wait for a worker.
  WorkPool(int threads, size_t max_queued);
  // Finishes queued work, then joins the workers.
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  // Queues `work`. False, without running it, when the queue is full: the
  // caller should answer RESOURCE_EXHAUSTED so clients back off.
  bool TrySchedule(std::function<void()> work);

  // Calls waiting for a worker now.
  size_t queued() const;

 private:
  void Run();
  bool HasWorkOrStop() const ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return stopping_ || !queue_.empty();
  }

  const size_t max_queued_;
  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace motcua::adapters

#endif  // MOTCUA_ADAPTERS_WORK_POOL_H_
