#pragma once
// The fleet's view in Redis, shared by every serve and worker process (issue 13): per cluster the latest
// drift scan and inventory as the JSON the engine writes (engine::to_json(ClusterDrift), to_json(Inventory)),
// each with the time it was stored; and the scan schedule (a lease per cluster, so one scan runs per cluster
// and interval whatever the number of processes). Readers (handlers: /ui/, /api/v1/fleet) take the JSON as
// stored: nothing here parses it. Keys share the queue's hash tag ("{prefix}:fleet:...").
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "queue/redis.hpp"

namespace helmgate::queue {

// What one scan stored for one cluster.
enum class FleetKind { drift, inventory };
const char* fleet_kind_name(FleetKind k);

struct FleetEntry {
  std::string cluster;
  std::string json;    // as the engine wrote it
  int64_t at_ms = 0;   // when it was stored (ms since the epoch)
};

// Thread-safe (one connection behind a mutex).
class FleetStore {
 public:
  FleetStore(RedisUrl url, std::string key_prefix);

  core::Result<void> put(FleetKind kind, const std::string& cluster, const std::string& json, int64_t at_ms);
  core::Result<std::optional<FleetEntry>> get(FleetKind kind, const std::string& cluster);
  // Every cluster that has stored something of this kind, sorted by name.
  core::Result<std::vector<FleetEntry>> all(FleetKind kind);

  // The scan lease: true when this process may scan `cluster` now (nobody scanned it within `interval`).
  // The lease expires by itself, so the next scan is due `interval` after this one started.
  core::Result<bool> take_scan(const std::string& cluster, const std::string& owner, std::chrono::milliseconds interval);

  // Drift remediations of a cluster within the last hour (a sliding window): reserve_remediations grants
  // up to `wanted` of them, never more than max_per_hour in any hour whatever the number of processes
  // (one Lua script: count and add at once), and returns how many it granted.
  core::Result<int> reserve_remediations(const std::string& cluster, int wanted, int max_per_hour, int64_t now_ms);
  core::Result<int> remediations_last_hour(const std::string& cluster, int64_t now_ms);

 private:
  std::string key(const char* what) const;
  std::mutex mu_;
  Redis redis_;
  std::string prefix_;
};

}  // namespace helmgate::queue
