#include "forge/pacing.hpp"

#include <thread>

namespace helmgate::forge {

namespace {

class SystemClock final : public Clock {
 public:
  time_point now() override { return std::chrono::steady_clock::now(); }
  std::chrono::system_clock::time_point wall_now() override { return std::chrono::system_clock::now(); }
  void sleep_until(time_point t) override { std::this_thread::sleep_until(t); }
};

}  // namespace

std::shared_ptr<Clock> system_clock() {
  static auto clock = std::make_shared<SystemClock>();
  return clock;
}

WriteLimiter::WriteLimiter(LimiterOptions options, std::shared_ptr<Clock> clock)
    : options_(options), clock_(std::move(clock)) {
  if (options_.max_writes_per_window < 1) options_.max_writes_per_window = 1;
  if (options_.max_concurrent < 1) options_.max_concurrent = 1;
}

WriteLimiter::Permit& WriteLimiter::Permit::operator=(Permit&& o) noexcept {
  if (this != &o) {
    if (owner_) owner_->release();
    owner_ = o.owner_;
    o.owner_ = nullptr;
  }
  return *this;
}

WriteLimiter::Permit::~Permit() {
  if (owner_) owner_->release();
}

WriteLimiter::Permit WriteLimiter::acquire() {
  Clock::time_point at;
  {
    std::unique_lock lock(mu_);
    slot_freed_.wait(lock, [&] { return in_flight_ < options_.max_concurrent; });
    ++in_flight_;
    // Reserve the grant time under the lock, sleep outside it: concurrent callers queue up in order
    // and none of them holds the others while waiting.
    at = clock_->now();
    if (!options_.windowed) {
      ++granted_;
      return Permit(this);
    }
    if (!recent_.empty() && recent_.back() > at) at = recent_.back();
    if (static_cast<int>(recent_.size()) >= options_.max_writes_per_window) {
      auto oldest_in_window = recent_[recent_.size() - static_cast<size_t>(options_.max_writes_per_window)];
      if (oldest_in_window + options_.window > at) at = oldest_in_window + options_.window;
    }
    recent_.push_back(at);
    while (static_cast<int>(recent_.size()) > options_.max_writes_per_window) recent_.pop_front();
    ++granted_;
  }
  if (at > clock_->now()) clock_->sleep_until(at);
  return Permit(this);
}

void WriteLimiter::release() {
  {
    std::lock_guard lock(mu_);
    --in_flight_;
  }
  slot_freed_.notify_one();
}

int WriteLimiter::in_flight() const {
  std::lock_guard lock(mu_);
  return in_flight_;
}

int64_t WriteLimiter::granted() const {
  std::lock_guard lock(mu_);
  return granted_;
}

}  // namespace helmgate::forge
