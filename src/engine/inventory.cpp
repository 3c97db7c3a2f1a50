#include "engine/inventory.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <map>

#include "core/time.hpp"
#include "kube/list.hpp"

namespace helmgate::engine {

namespace {

using kube::int_at;
using kube::map_value;
using kube::str_at;

constexpr const char* kReleaseName = "meta.helm.sh/release-name";
constexpr const char* kReleaseNamespace = "meta.helm.sh/release-namespace";

std::optional<long double> quantity_value(std::string_view q) {
  if (q.empty() || q.size() > 64) return std::nullopt;
  size_t i = 0;
  bool neg = false;
  if (q[i] == '+' || q[i] == '-') neg = q[i++] == '-';
  long double mant = 0;
  bool digits = false;
  for (; i < q.size() && q[i] >= '0' && q[i] <= '9'; ++i, digits = true) mant = mant * 10 + (q[i] - '0');
  if (i < q.size() && q[i] == '.') {
    long double scale = 0.1L;
    for (++i; i < q.size() && q[i] >= '0' && q[i] <= '9'; ++i, digits = true, scale /= 10) mant += (q[i] - '0') * scale;
  }
  if (!digits) return std::nullopt;
  std::string_view suffix = q.substr(i);
  long double mult = 1;
  // An exponent: e/E followed by an optional sign and digits (a lone "E" is exa).
  if (suffix.size() >= 2 && (suffix[0] == 'e' || suffix[0] == 'E') &&
      (std::isdigit(static_cast<unsigned char>(suffix[1])) != 0 || ((suffix[1] == '+' || suffix[1] == '-') && suffix.size() > 2))) {
    int exp = 0;
    size_t j = 1;
    bool eneg = suffix[j] == '-';
    if (suffix[j] == '+' || suffix[j] == '-') ++j;
    for (; j < suffix.size() && std::isdigit(static_cast<unsigned char>(suffix[j])) != 0 && exp < 100; ++j) exp = exp * 10 + (suffix[j] - '0');
    if (j != suffix.size()) return std::nullopt;
    mult = std::pow(10.0L, eneg ? -exp : exp);
  } else {
    static const std::pair<std::string_view, long double> kSuffixes[] = {
        {"", 1},          {"n", 1e-9L},       {"u", 1e-6L},       {"m", 1e-3L},       {"k", 1e3L},
        {"M", 1e6L},      {"G", 1e9L},        {"T", 1e12L},       {"P", 1e15L},       {"E", 1e18L},
        {"Ki", 1024.0L},  {"Mi", 1048576.0L}, {"Gi", 1073741824.0L}, {"Ti", 1099511627776.0L},
        {"Pi", 1125899906842624.0L},          {"Ei", 1152921504606846976.0L}};
    bool found = false;
    for (const auto& [s, m] : kSuffixes) {
      if (s == suffix) {
        mult = m;
        found = true;
        break;
      }
    }
    if (!found) return std::nullopt;
  }
  long double v = mant * mult;
  return neg ? -v : v;
}

std::optional<int64_t> rounded_up(std::optional<long double> v, long double scale) {
  if (!v) return std::nullopt;
  long double x = std::ceil(*v * scale - 1e-9L);
  if (x > 9.2e18L || x < -9.2e18L) return std::nullopt;
  return static_cast<int64_t>(x);
}

// requests[resource] of a container (limits stand in when requests are unset, as the API server defaults).
PodRequests container_requests(const core::json::Value& c) {
  PodRequests r;
  for (const char* part : {"resources.requests", "resources.limits"}) {
    const auto* m = core::json::find(c, part);
    if (m == nullptr || !m->IsObject()) continue;
    if (r.cpu_milli == 0) {
      if (auto v = core::json::get_string(*m, "cpu")) r.cpu_milli = parse_quantity_milli(*v).value_or(0);
    }
    if (r.memory_bytes == 0) {
      if (auto v = core::json::get_string(*m, "memory")) r.memory_bytes = parse_quantity(*v).value_or(0);
    }
  }
  return r;
}

kube::ListRequest all_of(const char* group_version_path, const std::string& plural, const char* field_selector = "") {
  kube::ListRequest r;
  r.group_version_path = group_version_path;
  r.plural = plural;
  r.field_selector = field_selector;
  r.page_size = 500;
  return r;
}

std::string short_error(std::string msg) {
  if (msg.size() > 300) msg = msg.substr(0, 300) + "...";
  return msg;
}

void read_nodes(kube::Client& client, Inventory& inv) {
  std::map<std::string, size_t> index;
  auto ok = kube::list_objects(client, all_of("/api/v1", "nodes"), [&](const core::json::Value& n) -> core::Result<void> {
    NodeInventory node;
    node.name = str_at(n, "metadata.name");
    node.unschedulable = core::json::get_bool(n, "spec.unschedulable").value_or(false);
    node.kubelet_version = str_at(n, "status.nodeInfo.kubeletVersion");
    node.allocatable_cpu_milli = parse_quantity_milli(str_at(n, "status.allocatable.cpu")).value_or(0);
    node.allocatable_memory_bytes = parse_quantity(str_at(n, "status.allocatable.memory")).value_or(0);
    if (const auto* conds = core::json::find(n, "status.conditions"); conds != nullptr && conds->IsArray()) {
      for (const auto& c : conds->GetArray()) {
        if (!c.IsObject() || str_at(c, "type") != "Ready") continue;
        node.ready_status = str_at(c, "status");
        node.ready_reason = str_at(c, "reason");
        node.ready_message = short_error(str_at(c, "message"));
        node.ready = node.ready_status == "True";
      }
    }
    index[node.name] = inv.nodes.size();
    inv.nodes.push_back(std::move(node));
    return {};
  });
  if (!ok) {
    inv.errors.push_back(short_error(ok.error().message));
    return;
  }
  // Requests of the pods bound to a node and not terminated (the scheduler's view of what is taken).
  kube::ListRequest pods = all_of("/api/v1", "pods", "status.phase!=Succeeded,status.phase!=Failed");
  auto pods_ok = kube::list_objects(client, pods, [&](const core::json::Value& p) -> core::Result<void> {
    auto it = index.find(str_at(p, "spec.nodeName"));
    if (it == index.end()) return {};
    auto req = pod_requests(p);
    auto& node = inv.nodes[it->second];
    node.requested_cpu_milli += req.cpu_milli;
    node.requested_memory_bytes += req.memory_bytes;
    ++node.pods;
    return {};
  });
  if (!pods_ok) inv.errors.push_back(short_error(pods_ok.error().message));
  std::sort(inv.nodes.begin(), inv.nodes.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
}

void read_workloads(kube::Client& client, Inventory& inv) {
  std::map<std::pair<std::string, std::string>, ReleaseWorkloads> by_release;
  for (const char* plural : {"deployments", "statefulsets", "daemonsets"}) {
    const std::string p = plural;
    auto ok = kube::list_objects(client, all_of("/apis/apps/v1", p), [&](const core::json::Value& o) -> core::Result<void> {
      std::string rel = map_value(o, "metadata.annotations", kReleaseName);
      std::string rel_ns = map_value(o, "metadata.annotations", kReleaseNamespace);
      if (rel.empty()) {
        ++inv.unattributed_workloads;
        return {};
      }
      WorkloadInventory w;
      w.namespace_ = str_at(o, "metadata.namespace");
      w.name = str_at(o, "metadata.name");
      if (p == "daemonsets") {
        w.kind = "DaemonSet";
        w.desired = int_at(o, "status.desiredNumberScheduled");
        w.ready = int_at(o, "status.numberReady");
        w.updated = int_at(o, "status.updatedNumberScheduled");
        w.available = int_at(o, "status.numberAvailable");
      } else {
        w.kind = p == "deployments" ? "Deployment" : "StatefulSet";
        w.desired = int_at(o, "spec.replicas", 1);
        w.ready = int_at(o, "status.readyReplicas");
        w.updated = int_at(o, "status.updatedReplicas");
        w.available = int_at(o, "status.availableReplicas");
      }
      auto& slot = by_release[{rel_ns.empty() ? w.namespace_ : rel_ns, rel}];
      slot.release = rel;
      slot.release_namespace = rel_ns.empty() ? w.namespace_ : rel_ns;
      slot.workloads.push_back(std::move(w));
      return {};
    });
    if (!ok) inv.errors.push_back(short_error(ok.error().message));
  }
  for (auto& [_, r] : by_release) {
    std::sort(r.workloads.begin(), r.workloads.end(), [](const auto& a, const auto& b) {
      return std::tie(a.kind, a.namespace_, a.name) < std::tie(b.kind, b.namespace_, b.name);
    });
    inv.releases.push_back(std::move(r));
  }
}

void read_hpas(kube::Client& client, Inventory& inv) {
  auto ok = kube::list_objects(client, all_of("/apis/autoscaling/v2", "horizontalpodautoscalers"),
                               [&](const core::json::Value& o) -> core::Result<void> {
    HpaInventory h;
    h.namespace_ = str_at(o, "metadata.namespace");
    h.name = str_at(o, "metadata.name");
    h.target_kind = str_at(o, "spec.scaleTargetRef.kind");
    h.target_name = str_at(o, "spec.scaleTargetRef.name");
    h.release = map_value(o, "metadata.annotations", kReleaseName);
    h.release_namespace = map_value(o, "metadata.annotations", kReleaseNamespace);
    h.min_replicas = int_at(o, "spec.minReplicas", 1);
    h.max_replicas = int_at(o, "spec.maxReplicas");
    h.current_replicas = int_at(o, "status.currentReplicas");
    h.desired_replicas = int_at(o, "status.desiredReplicas");
    h.last_scale_time = str_at(o, "status.lastScaleTime");
    inv.hpas.push_back(std::move(h));
    return {};
  });
  if (!ok) inv.errors.push_back(short_error(ok.error().message));
  std::sort(inv.hpas.begin(), inv.hpas.end(),
            [](const auto& a, const auto& b) { return std::tie(a.namespace_, a.name) < std::tie(b.namespace_, b.name); });
}

}  // namespace

bool ReleaseWorkloads::all_ready() const {
  return std::all_of(workloads.begin(), workloads.end(), [](const auto& w) { return w.ready >= w.desired; });
}

size_t Inventory::nodes_ready() const {
  return static_cast<size_t>(std::count_if(nodes.begin(), nodes.end(), [](const auto& n) { return n.ready; }));
}

kube::ClientOptions inventory_client_options() {
  kube::ClientOptions o;
  o.connect_timeout = std::chrono::milliseconds(3'000);
  o.request_timeout = std::chrono::milliseconds(20'000);
  return o;
}

std::optional<int64_t> parse_quantity_milli(std::string_view q) { return rounded_up(quantity_value(q), 1000); }
std::optional<int64_t> parse_quantity(std::string_view q) { return rounded_up(quantity_value(q), 1); }

PodRequests pod_requests(const core::json::Value& pod) {
  PodRequests sum, init;
  if (const auto* cs = core::json::find(pod, "spec.containers"); cs != nullptr && cs->IsArray()) {
    for (const auto& c : cs->GetArray()) {
      auto r = container_requests(c);
      sum.cpu_milli += r.cpu_milli;
      sum.memory_bytes += r.memory_bytes;
    }
  }
  if (const auto* cs = core::json::find(pod, "spec.initContainers"); cs != nullptr && cs->IsArray()) {
    for (const auto& c : cs->GetArray()) {
      auto r = container_requests(c);
      init.cpu_milli = std::max(init.cpu_milli, r.cpu_milli);
      init.memory_bytes = std::max(init.memory_bytes, r.memory_bytes);
    }
  }
  PodRequests out{std::max(sum.cpu_milli, init.cpu_milli), std::max(sum.memory_bytes, init.memory_bytes)};
  if (const auto* oh = core::json::find(pod, "spec.overhead"); oh != nullptr && oh->IsObject()) {
    out.cpu_milli += parse_quantity_milli(str_at(*oh, "cpu")).value_or(0);
    out.memory_bytes += parse_quantity(str_at(*oh, "memory")).value_or(0);
  }
  return out;
}

Inventory read_inventory(kube::Client& client, const InventoryOptions& options) {
  Inventory inv;
  inv.cluster = client.cluster();
  inv.observed_at = core::utc_now_rfc3339();
  auto start = std::chrono::steady_clock::now();
  auto version = client.server_version();
  if (!version) {
    inv.error = short_error(version.error().message);
  } else {
    inv.reachable = true;
    inv.server_version = *version;
    if (options.nodes) read_nodes(client, inv);
    if (options.workloads) read_workloads(client, inv);
    if (options.hpas) read_hpas(client, inv);
  }
  inv.duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  return inv;
}

}  // namespace helmgate::engine
