#pragma once
// A cluster's apply lock while an apply holds it: extended by heartbeat every ttl/3 (a dead worker's lock
// expires after ttl), given back when the holder goes.
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "queue/apply_state.hpp"

namespace helmgate::runners {

class HeldLock {
 public:
  HeldLock(queue::ApplyState& state, std::string repo, std::string cluster, std::string token, std::chrono::milliseconds ttl);
  ~HeldLock();
  HeldLock(const HeldLock&) = delete;
  HeldLock& operator=(const HeldLock&) = delete;

 private:
  void heartbeat();
  queue::ApplyState& state_;
  std::string repo_, cluster_, token_;
  std::chrono::milliseconds ttl_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread beat_;
};

// Takes the cluster's lock for token, trying every 200 ms for at most wait: the held lock, or nullptr when
// another apply still holds it then; an error when the lock cannot be read.
core::Result<std::unique_ptr<HeldLock>> acquire_lock(queue::ApplyState& state, const std::string& repo,
                                                     const std::string& cluster, const std::string& token,
                                                     std::chrono::milliseconds wait, std::chrono::milliseconds ttl);

}  // namespace helmgate::runners
