#pragma once
// What helmgate applied where, in Redis (shared by every worker): per (repo, cluster) the last applied
// commit and whether it applied cleanly, the digest of every release it applied, and a lock so one
// apply at a time runs per (repo, cluster). Keys share the queue's hash tag ("{prefix}:apply:...").
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "queue/redis.hpp"

namespace helmgate::queue {

struct AppliedRecord {
  std::string commit;
  bool clean = false;  // every release applied without failure
  std::string job;
  int64_t at_ms = 0;
};

// Thread-safe (one connection behind a mutex).
class ApplyState {
 public:
  ApplyState(RedisUrl url, std::string key_prefix);

  core::Result<std::optional<AppliedRecord>> last_applied(const std::string& repo, const std::string& cluster);
  core::Result<void> record_applied(const std::string& repo, const std::string& cluster, const AppliedRecord& rec);

  // release id -> digest of what helmgate last applied.
  core::Result<std::map<std::string, std::string>> digests(const std::string& repo, const std::string& cluster);
  core::Result<void> set_digest(const std::string& repo, const std::string& cluster, const std::string& release_id,
                                const std::string& digest);  // empty digest: forget the release

  // true when taken; the lock expires after ttl so a dead worker cannot hold a cluster forever.
  core::Result<bool> try_lock(const std::string& repo, const std::string& cluster, const std::string& token,
                              std::chrono::milliseconds ttl);
  // Extends our own lock by ttl (a heartbeat while an apply runs); false when it is no longer ours.
  core::Result<bool> extend_lock(const std::string& repo, const std::string& cluster, const std::string& token,
                                 std::chrono::milliseconds ttl);
  core::Result<void> unlock(const std::string& repo, const std::string& cluster, const std::string& token);

 private:
  std::string key(const std::string& repo, const std::string& cluster, const char* what) const;
  std::mutex mu_;
  Redis redis_;
  std::string prefix_;
};

}  // namespace helmgate::queue
