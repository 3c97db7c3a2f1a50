#pragma once
// The fleet as the status page, the fleet API and the metrics read it: the drift and inventory JSON each
// scan stored per cluster (queue::FleetStore, written by engine::write_json(ClusterDrift / Inventory)),
// parsed here with core/json (handlers do not include the engine). Everything in it came from Git or a
// cluster: it is data to escape, never markup.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "queue/fleet_store.hpp"

namespace helmgate::handlers {

struct ResourceView {
  std::string key, object, change, diff;  // diff: redacted by the scan, as stored
};

struct ReleaseView {
  std::string id, name, namespace_, state;  // state: in_sync drifted missing failed extra unknown
  std::vector<std::string> reasons;
  std::vector<ResourceView> resources;
  bool has_helm = false;  // Helm's latest record
  int64_t revision = 0;
  std::string status, chart, chart_version, app_version, values_digest, last_deployed;
  std::string error;
};

struct NodeView {
  std::string name, ready_status, reason, message, kubelet_version;
  bool ready = false, unschedulable = false;
  int64_t alloc_cpu_milli = 0, alloc_memory = 0, req_cpu_milli = 0, req_memory = 0, pods = 0;
};

struct WorkloadView {
  std::string kind, namespace_, name;
  int64_t desired = 0, ready = 0, updated = 0, available = 0;
};

struct ReleaseWorkloadsView {
  std::string release, namespace_;
  bool ready = false;
  std::vector<WorkloadView> workloads;
};

struct HpaView {
  std::string namespace_, name, target, release, last_scale_time;
  int64_t current = 0, desired = 0, min = 0, max = 0;
};

struct ClusterView {
  std::string name;
  // Inventory (has_inventory false: no scan stored one yet).
  bool has_inventory = false;
  bool reachable = false;
  std::string error, server_version, inventory_observed_at;
  int64_t inventory_at_ms = 0;
  int64_t nodes_count = 0, nodes_ready = 0;
  std::vector<NodeView> nodes;
  std::vector<ReleaseWorkloadsView> workloads;
  int64_t unattributed_workloads = 0;
  std::vector<HpaView> hpas;
  std::vector<std::string> inventory_errors;
  // Drift.
  bool has_drift = false;
  std::string drift_error, drift_observed_at;
  int64_t drift_at_ms = 0, drift_duration_ms = 0;
  std::map<std::string, int64_t> counts;  // state -> releases
  std::vector<ReleaseView> releases;
  // A stored document that could not be read (not JSON, wrong shape): what and why.
  std::vector<std::string> problems;

  const ReleaseView* find_release(const std::string& namespace_, const std::string& name) const;
  std::string scanned_at() const;  // the drift scan's observed_at, else the inventory's, else ""
};

// One cluster from what is stored for it (either entry may be absent).
ClusterView parse_cluster(const std::string& name, const queue::FleetEntry* inventory, const queue::FleetEntry* drift);

struct FleetView {
  std::vector<ClusterView> clusters;  // sorted by name
  const ClusterView* find(const std::string& name) const;
};

// Every cluster with a stored inventory or drift scan.
core::Result<FleetView> load_fleet(queue::FleetStore& store);
// One cluster; nullopt when nothing is stored for it.
core::Result<std::optional<ClusterView>> load_cluster(queue::FleetStore& store, const std::string& name);

// Add-ons in sync: one release name across the clusters.
struct AddonCell {
  std::string cluster, namespace_, state;  // state "" : not declared on that cluster
  std::string chart_version, values_digest;
  int64_t revision = 0;
  bool differs = false;  // drifted, failed or missing: the cluster runs something other than Git declares
};
struct AddonView {
  std::string release;
  std::vector<AddonCell> cells;  // one per cluster of the fleet, in fleet order
  std::vector<std::string> differs_from_git;  // clusters whose cell differs
  bool declared_everywhere = false;           // declared (not only extra) on every cluster with a drift scan
  std::vector<std::string> missing_on;        // clusters where it is declared but Helm has no record
  bool versions_differ = false;               // the chart versions seen across clusters are not all equal
  bool attention() const { return !differs_from_git.empty() || (declared_everywhere && !missing_on.empty()); }
};
std::vector<AddonView> addons(const FleetView& fleet);

}  // namespace helmgate::handlers
