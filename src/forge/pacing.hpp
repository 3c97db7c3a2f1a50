#pragma once
// Pacing and failure handling shared by the forge clients: a clock that tests can drive, the write
// limiter (one per identity, GitHub's secondary limits: ≤ 80 content-creating requests a minute,
// ≤ 100 concurrent), the forge's own rate-limit headers, and the retry policy for 403/429/5xx.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace helmgate::forge {

// Real time by default; tests substitute one whose sleep only advances a counter.
class Clock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  virtual time_point now() = 0;
  virtual std::chrono::system_clock::time_point wall_now() = 0;  // to read x-ratelimit-reset (epoch seconds)
  virtual void sleep_until(time_point t) = 0;
  void sleep_for(std::chrono::milliseconds d) { sleep_until(now() + d); }
};
std::shared_ptr<Clock> system_clock();

struct LimiterOptions {
  int max_writes_per_window = 80;
  std::chrono::milliseconds window{60'000};
  int max_concurrent = 100;
  // false: no sliding window, only max_concurrent. For forges without GitHub's secondary limits
  // (Gitea): pacing them to 80 writes a minute held a job's worker for up to a minute once a burst
  // of previews (7 writes each) filled the window (bench/loop: one preview in twenty took 42-50 s).
  bool windowed = true;
};

// Every content-creating request (POST, PATCH, PUT, DELETE) of one identity goes through one
// WriteLimiter, whichever repository or job it serves: GitHub counts secondary limits per identity.
// Sliding window: a write is granted at the earliest time at which the last max_writes_per_window
// grants, itself included, fit inside one window (when options.windowed). Thread-safe.
class WriteLimiter {
 public:
  explicit WriteLimiter(LimiterOptions options = {}, std::shared_ptr<Clock> clock = system_clock());

  // Held for the duration of one request; releases its concurrency slot when destroyed.
  class Permit {
   public:
    Permit() = default;
    explicit Permit(WriteLimiter* owner) : owner_(owner) {}
    Permit(Permit&& o) noexcept : owner_(o.owner_) { o.owner_ = nullptr; }
    Permit& operator=(Permit&& o) noexcept;
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    ~Permit();

   private:
    WriteLimiter* owner_ = nullptr;
  };

  // Blocks until a write may start.
  Permit acquire();

  int in_flight() const;
  int64_t granted() const;  // total grants so far

 private:
  void release();

  LimiterOptions options_;
  std::shared_ptr<Clock> clock_;
  mutable std::mutex mu_;
  std::condition_variable slot_freed_;
  std::deque<Clock::time_point> recent_;  // the last max_writes_per_window grant times, ascending
  int in_flight_ = 0;
  int64_t granted_ = 0;
};

// What the forge last said about this identity's primary rate limit (x-ratelimit-* headers).
struct RateLimitSnapshot {
  bool known = false;
  int64_t limit = -1;
  int64_t remaining = -1;
  int64_t reset_epoch = 0;  // seconds since the epoch at which remaining is restored
  std::string resource;     // "core", ...
};

struct RetryPolicy {
  int max_attempts = 6;
  std::chrono::milliseconds initial_backoff{1'000};  // 5xx and dropped connections: doubled per attempt
  std::chrono::milliseconds max_backoff{60'000};
  std::chrono::milliseconds secondary_limit_wait{60'000};  // 403 "secondary rate limit" without Retry-After
  std::chrono::milliseconds max_wait{15 * 60'000};         // longer waits fail now instead (errc::unavailable)
};

}  // namespace helmgate::forge
