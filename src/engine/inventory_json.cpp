// JSON of an inventory (engine/inventory.hpp), the shape /api/v1/clusters/{name} serves.
#include "engine/inventory.hpp"

namespace helmgate::engine {

void write_json(core::json::Writer& w, const Inventory& inv) {
  using core::json::kv;
  using core::json::write_str;
  w.StartObject();
  kv(w, "cluster", inv.cluster);
  kv(w, "reachable", inv.reachable);
  if (!inv.error.empty()) kv(w, "error", inv.error);
  kv(w, "server_version", inv.server_version);
  kv(w, "observed_at", inv.observed_at);
  kv(w, "duration_ms", inv.duration_ms);
  write_str(w, "nodes");
  w.StartObject();
  kv(w, "count", static_cast<int64_t>(inv.nodes.size()));
  kv(w, "ready", static_cast<int64_t>(inv.nodes_ready()));
  write_str(w, "items");
  w.StartArray();
  for (const auto& n : inv.nodes) {
    w.StartObject();
    kv(w, "name", n.name);
    kv(w, "ready", n.ready);
    kv(w, "ready_status", n.ready_status);
    kv(w, "reason", n.ready_reason);
    kv(w, "message", n.ready_message);
    kv(w, "unschedulable", n.unschedulable);
    kv(w, "kubelet_version", n.kubelet_version);
    kv(w, "allocatable_cpu_milli", n.allocatable_cpu_milli);
    kv(w, "allocatable_memory_bytes", n.allocatable_memory_bytes);
    kv(w, "requested_cpu_milli", n.requested_cpu_milli);
    kv(w, "requested_memory_bytes", n.requested_memory_bytes);
    kv(w, "pods", n.pods);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  write_str(w, "releases");
  w.StartArray();
  for (const auto& r : inv.releases) {
    w.StartObject();
    kv(w, "release", r.release);
    kv(w, "namespace", r.release_namespace);
    kv(w, "ready", r.all_ready());
    write_str(w, "workloads");
    w.StartArray();
    for (const auto& x : r.workloads) {
      w.StartObject();
      kv(w, "kind", x.kind);
      kv(w, "namespace", x.namespace_);
      kv(w, "name", x.name);
      kv(w, "desired", x.desired);
      kv(w, "ready", x.ready);
      kv(w, "updated", x.updated);
      kv(w, "available", x.available);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  kv(w, "unattributed_workloads", static_cast<int64_t>(inv.unattributed_workloads));
  write_str(w, "hpas");
  w.StartArray();
  for (const auto& h : inv.hpas) {
    w.StartObject();
    kv(w, "namespace", h.namespace_);
    kv(w, "name", h.name);
    kv(w, "target", h.target_kind + "/" + h.target_name);
    kv(w, "release", h.release);
    kv(w, "release_namespace", h.release_namespace);
    kv(w, "current", h.current_replicas);
    kv(w, "desired", h.desired_replicas);
    kv(w, "min", h.min_replicas);
    kv(w, "max", h.max_replicas);
    kv(w, "last_scale_time", h.last_scale_time);
    w.EndObject();
  }
  w.EndArray();
  write_str(w, "errors");
  w.StartArray();
  for (const auto& e : inv.errors) write_str(w, e);
  w.EndArray();
  w.EndObject();
}

std::string to_json(const Inventory& inv) {
  rapidjson::StringBuffer sb;
  core::json::Writer w(sb);
  write_json(w, inv);
  return sb.GetString();
}

}  // namespace helmgate::engine
