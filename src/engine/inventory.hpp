#pragma once
// The inventory of one cluster, for the fleet view: reachable (and why not), the server version, nodes
// (Ready with reason and message, kubelet version, allocatable CPU and memory against the requests of
// the pods bound to each), workloads per Helm release (Deployments, StatefulSets, DaemonSets: ready
// against desired, attributed by helm's meta.helm.sh/release-name and -namespace annotations) and the
// HorizontalPodAutoscalers (current/desired/min/max replicas, last scale time). Reads only: lists, page by
// page. A list the identity may not read is an error in `errors`, the rest is still reported.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "kube/client.hpp"

namespace helmgate::engine {

struct NodeInventory {
  std::string name;
  bool ready = false;
  std::string ready_status;   // the Ready condition's status: True, False, Unknown ("" when it has none)
  std::string ready_reason;   // KubeletReady, KubeletNotReady, NodeStatusUnknown, ...
  std::string ready_message;
  bool unschedulable = false;
  std::string kubelet_version;
  int64_t allocatable_cpu_milli = 0;
  int64_t allocatable_memory_bytes = 0;
  int64_t requested_cpu_milli = 0;      // sum of the effective requests of non-terminated pods bound here
  int64_t requested_memory_bytes = 0;
  int64_t pods = 0;
};

struct WorkloadInventory {
  std::string kind;  // Deployment, StatefulSet, DaemonSet
  std::string namespace_;
  std::string name;
  int64_t desired = 0;
  int64_t ready = 0;
  int64_t updated = 0;
  int64_t available = 0;
};

struct ReleaseWorkloads {
  std::string release;            // meta.helm.sh/release-name
  std::string release_namespace;  // meta.helm.sh/release-namespace
  std::vector<WorkloadInventory> workloads;
  bool all_ready() const;
};

struct HpaInventory {
  std::string namespace_, name;
  std::string target_kind, target_name;
  std::string release, release_namespace;  // from helm's annotations, when a release owns it
  int64_t current_replicas = 0;
  int64_t desired_replicas = 0;
  int64_t min_replicas = 1;
  int64_t max_replicas = 0;
  std::string last_scale_time;  // RFC 3339; "" when it never scaled
};

struct Inventory {
  std::string cluster;
  bool reachable = false;
  std::string error;           // why it is not reachable (short, no credential)
  std::string server_version;  // gitVersion
  std::vector<NodeInventory> nodes;
  std::vector<ReleaseWorkloads> releases;  // sorted by release namespace, then name
  size_t unattributed_workloads = 0;       // workloads no Helm release owns (not listed one by one)
  std::vector<HpaInventory> hpas;
  std::vector<std::string> errors;  // lists that failed (forbidden, ...), the rest still read
  std::string observed_at;          // RFC 3339 UTC, when the read started
  int64_t duration_ms = 0;
  size_t nodes_ready() const;
};

struct InventoryOptions {
  bool nodes = true;
  bool workloads = true;
  bool hpas = true;
};

// Client options for inventory reads: short connect and request timeouts, so an unreachable cluster is
// reported within seconds and does not hold up the others.
kube::ClientOptions inventory_client_options();

Inventory read_inventory(kube::Client& client, const InventoryOptions& options = {});

// A Kubernetes quantity ("100m", "1.5", "128Mi", "1G", "2e3") in milli-units (CPU) or units (memory);
// nullopt when it cannot be read. Rounds up, as the scheduler does.
std::optional<int64_t> parse_quantity_milli(std::string_view q);
std::optional<int64_t> parse_quantity(std::string_view q);

// Effective requests of one pod (JSON): max(sum of containers, largest init container) + overhead.
struct PodRequests {
  int64_t cpu_milli = 0;
  int64_t memory_bytes = 0;
};
PodRequests pod_requests(const core::json::Value& pod);

// {"cluster","reachable","error"?,"server_version","observed_at","duration_ms",
//  "nodes":{"count","ready","items":[{"name","ready","ready_status","reason","message","unschedulable",
//           "kubelet_version","allocatable_cpu_milli","allocatable_memory_bytes","requested_cpu_milli",
//           "requested_memory_bytes","pods"}]},
//  "releases":[{"release","namespace","ready","workloads":[{"kind","namespace","name","desired","ready","updated","available"}]}],
//  "unattributed_workloads","hpas":[{"namespace","name","target","release","release_namespace","current","desired",
//  "min","max","last_scale_time"}],"errors":[..]}
void write_json(core::json::Writer& w, const Inventory& inv);
std::string to_json(const Inventory& inv);

}  // namespace helmgate::engine
