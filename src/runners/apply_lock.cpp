#include "runners/apply_lock.hpp"

#include <utility>

namespace helmgate::runners {

HeldLock::HeldLock(queue::ApplyState& state, std::string repo, std::string cluster, std::string token,
                   std::chrono::milliseconds ttl)
    : state_(state), repo_(std::move(repo)), cluster_(std::move(cluster)), token_(std::move(token)), ttl_(ttl),
      beat_([this] { heartbeat(); }) {}

HeldLock::~HeldLock() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  beat_.join();
  (void)state_.unlock(repo_, cluster_, token_);
}

void HeldLock::heartbeat() {
  std::unique_lock lk(mu_);
  while (!cv_.wait_for(lk, ttl_ / 3, [this] { return stop_; })) (void)state_.extend_lock(repo_, cluster_, token_, ttl_);
}

core::Result<std::unique_ptr<HeldLock>> acquire_lock(queue::ApplyState& state, const std::string& repo,
                                                     const std::string& cluster, const std::string& token,
                                                     std::chrono::milliseconds wait, std::chrono::milliseconds ttl) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    auto got = state.try_lock(repo, cluster, token, ttl);
    if (!got) return got.error();
    if (*got) return std::make_unique<HeldLock>(state, repo, cluster, token, ttl);
    if (std::chrono::steady_clock::now() > deadline) return std::unique_ptr<HeldLock>();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace helmgate::runners
