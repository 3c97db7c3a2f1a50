#pragma once
// A clock whose sleeps return at once and only move its time on, recording how long each was; and a probe
// of a limiter's concurrency cap.
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "forge/pacing.hpp"

namespace helmgate::test {

class FakeClock final : public forge::Clock {
 public:
  time_point now() override {
    std::lock_guard lock(mu_);
    return t_;
  }
  std::chrono::system_clock::time_point wall_now() override {
    std::lock_guard lock(mu_);
    return wall0_ + std::chrono::duration_cast<std::chrono::system_clock::duration>(t_ - t0_);
  }
  void sleep_until(time_point t) override {
    std::lock_guard lock(mu_);
    if (t > t_) {
      sleeps_.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(t - t_));
      t_ = t;
    }
  }
  void advance(std::chrono::milliseconds d) {
    std::lock_guard lock(mu_);
    t_ += d;
  }
  std::vector<std::chrono::milliseconds> sleeps() {
    std::lock_guard lock(mu_);
    return sleeps_;
  }
  void clear_sleeps() {
    std::lock_guard lock(mu_);
    sleeps_.clear();
  }
  double seconds() {
    std::lock_guard lock(mu_);
    return std::chrono::duration<double>(t_ - t0_).count();
  }

 private:
  std::mutex mu_;
  time_point t0_ = std::chrono::steady_clock::now();
  time_point t_ = t0_;
  std::chrono::system_clock::time_point wall0_ = std::chrono::system_clock::now();
  std::vector<std::chrono::milliseconds> sleeps_;
};

// The most permits `limiter` had out at once while `threads` threads each took `per_thread` of them, one
// after another, holding each for 2 ms.
inline int peak_in_flight(forge::WriteLimiter& limiter, int threads, int per_thread) {
  std::atomic<int> now{0}, peak{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i) {
        auto permit = limiter.acquire();
        const int n = ++now;
        int p = peak.load();
        while (n > p && !peak.compare_exchange_weak(p, n)) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        --now;
      }
    });
  }
  for (auto& t : pool) t.join();
  return peak.load();
}

}  // namespace helmgate::test
