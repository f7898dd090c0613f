#include "adapters/work_pool.h"

#include <atomic>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace motcua::adapters {
namespace {

TEST(WorkPoolTest, TrySchedule_RunsEveryQueuedCall) {
  std::atomic<int> ran{0};
  {
    WorkPool pool(4, 1000);
    for (int i = 0; i < 500; ++i) ASSERT_TRUE(pool.TrySchedule([&] { ++ran; }));
  }  // the destructor finishes queued work
  EXPECT_EQ(ran.load(), 500);
}

TEST(WorkPoolTest, TrySchedule_QueueFull_RefusesWithoutRunning) {
  absl::Notification started, release;
  std::atomic<int> ran{0};
  {
    WorkPool pool(1, 2);
    // One call occupies the only worker; two more fill the queue.
    ASSERT_TRUE(pool.TrySchedule([&] {
      started.Notify();
      release.WaitForNotification();
      ++ran;
    }));
    started.WaitForNotification();
    ASSERT_TRUE(pool.TrySchedule([&] { ++ran; }));
    ASSERT_TRUE(pool.TrySchedule([&] { ++ran; }));
    EXPECT_FALSE(pool.TrySchedule([&] { ran += 100; }));
    release.Notify();
  }
  EXPECT_EQ(ran.load(), 3);
}

}  // namespace
}  // namespace motcua::adapters
