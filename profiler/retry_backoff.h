// The wait between a sender thread's failed attempts (the Pyroscope pusher,
// the OTLP exporter): exponential backoff from `initial` to `max`, reset
// after a success. While stopping, attempts are retried every 100 ms until
// the drain deadline instead of sleeping through it, and a stop request
// ends a backoff wait at once.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace golens::profiler {

class RetryBackoff {
 public:
  RetryBackoff(std::chrono::milliseconds initial, std::chrono::milliseconds max)
      : initial_(initial), max_(max), next_(initial) {}

  // Called with `lock` held (on `cv`'s mutex, which also guards `stopping`);
  // returns with it held.
  void Wait(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, const bool& stopping) {
    const bool was_stopping = stopping;
    auto until = std::chrono::steady_clock::now() + (was_stopping ? std::chrono::milliseconds(100) : next_);
    cv.wait_until(lock, until, [&] { return stopping != was_stopping; });
    next_ = std::min(max_, next_ * 2);
  }
  void Reset() { next_ = initial_; }

 private:
  std::chrono::milliseconds initial_, max_, next_;
};

}  // namespace golens::profiler
