#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "fake_clock.hpp"
#include "forge/pacing.hpp"

using namespace helmgate;
using namespace std::chrono_literals;

namespace {

// Largest number of times inside any half-open window [t, t + window).
size_t max_in_window(std::vector<double> times, double window) {
  std::sort(times.begin(), times.end());
  size_t best = 0;
  for (size_t i = 0, j = 0; i < times.size(); ++i) {
    while (j < times.size() && times[j] < times[i] + window) ++j;
    best = std::max(best, j - i);
  }
  return best;
}

}  // namespace

TEST_CASE("limiter: 500 writes in a burst keep to 80 per minute", "[unit][forge]") {
  auto clock = std::make_shared<test::FakeClock>();
  forge::WriteLimiter limiter({80, 60s, 100}, clock);
  std::vector<double> granted;
  for (int i = 0; i < 500; ++i) {
    auto permit = limiter.acquire();
    granted.push_back(clock->seconds());
  }
  CHECK(limiter.granted() == 500);
  CHECK(max_in_window(granted, 60.0) == 80);  // the full rate is used, never more
  // 500 writes at 80 a minute: the 481st cannot start before six full windows have passed.
  CHECK(granted.back() >= 360.0);
  CHECK(granted.back() < 361.0);  // and the limiter adds no slack of its own
  CHECK(granted[79] == 0.0);      // the first 80 go at once
  CHECK(granted[80] >= 60.0);
}

TEST_CASE("limiter: never more than max_concurrent writes in flight", "[unit][forge]") {
  forge::WriteLimiter limiter({1000, 60s, 3});
  const int peak = test::peak_in_flight(limiter, 12, 5);
  CHECK(peak == 3);
  CHECK(limiter.in_flight() == 0);
  CHECK(limiter.granted() == 60);
}

TEST_CASE("limiter: writes from many threads still keep to the rate", "[unit][forge]") {
  // The window is short here so the threads really wait on the real clock; the count per window is
  // what is asserted, not how long it took.
  forge::WriteLimiter limiter({10, 1000ms, 100});
  std::mutex mu;
  std::vector<double> times;
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 4; ++i) {
        auto permit = limiter.acquire();
        std::lock_guard lock(mu);
        times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
    });
  }
  for (auto& t : threads) t.join();
  REQUIRE(times.size() == 32);
  // A thread may return from its sleep late (a loaded machine), never early: allow 200 ms of lateness.
  CHECK(max_in_window(times, 0.8) <= 10);
  std::sort(times.begin(), times.end());
  CHECK(times[30] >= 3.0);  // the 31st grant waits for three full windows
}
