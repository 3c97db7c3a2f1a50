#include "handlers/fleet_view.hpp"

#include <algorithm>
#include <set>

#include "core/json.hpp"
#include "core/time.hpp"

namespace helmgate::handlers {
namespace {

namespace json = core::json;
using json::Value;

std::string str(const Value& v, const char* key) {
  if (!v.IsObject()) return {};
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

int64_t num(const Value& v, const char* key) {
  if (!v.IsObject()) return 0;
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsNumber()) return 0;
  if (it->value.IsInt64()) return it->value.GetInt64();
  return static_cast<int64_t>(it->value.GetDouble());
}

bool boolean(const Value& v, const char* key) {
  if (!v.IsObject()) return false;
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}

const Value* array(const Value& v, const char* key) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsArray() ? &it->value : nullptr;
}

std::vector<std::string> strings(const Value& v, const char* key) {
  std::vector<std::string> out;
  if (const Value* a = array(v, key)) {
    for (const auto& s : a->GetArray()) {
      if (s.IsString()) out.emplace_back(s.GetString(), s.GetStringLength());
    }
  }
  return out;
}

void read_inventory(ClusterView& c, const Value& d) {
  c.has_inventory = true;
  c.reachable = boolean(d, "reachable");
  c.error = str(d, "error");
  c.server_version = str(d, "server_version");
  c.inventory_observed_at = str(d, "observed_at");
  c.unattributed_workloads = num(d, "unattributed_workloads");
  c.inventory_errors = strings(d, "errors");
  if (const Value* nodes = json::find(d, "nodes"); nodes != nullptr && nodes->IsObject()) {
    c.nodes_count = num(*nodes, "count");
    c.nodes_ready = num(*nodes, "ready");
    if (const Value* items = array(*nodes, "items")) {
      for (const auto& n : items->GetArray()) {
        NodeView v;
        v.name = str(n, "name");
        v.ready = boolean(n, "ready");
        v.ready_status = str(n, "ready_status");
        v.reason = str(n, "reason");
        v.message = str(n, "message");
        v.unschedulable = boolean(n, "unschedulable");
        v.kubelet_version = str(n, "kubelet_version");
        v.alloc_cpu_milli = num(n, "allocatable_cpu_milli");
        v.alloc_memory = num(n, "allocatable_memory_bytes");
        v.req_cpu_milli = num(n, "requested_cpu_milli");
        v.req_memory = num(n, "requested_memory_bytes");
        v.pods = num(n, "pods");
        c.nodes.push_back(std::move(v));
      }
    }
  }
  if (const Value* rels = array(d, "releases")) {
    for (const auto& r : rels->GetArray()) {
      ReleaseWorkloadsView v;
      v.release = str(r, "release");
      v.namespace_ = str(r, "namespace");
      v.ready = boolean(r, "ready");
      if (const Value* ws = array(r, "workloads")) {
        for (const auto& w : ws->GetArray()) {
          v.workloads.push_back(WorkloadView{str(w, "kind"), str(w, "namespace"), str(w, "name"), num(w, "desired"),
                                             num(w, "ready"), num(w, "updated"), num(w, "available")});
        }
      }
      c.workloads.push_back(std::move(v));
    }
  }
  if (const Value* hpas = array(d, "hpas")) {
    for (const auto& h : hpas->GetArray()) {
      HpaView v;
      v.namespace_ = str(h, "namespace");
      v.name = str(h, "name");
      v.target = str(h, "target");
      v.release = str(h, "release");
      v.last_scale_time = str(h, "last_scale_time");
      v.current = num(h, "current");
      v.desired = num(h, "desired");
      v.min = num(h, "min");
      v.max = num(h, "max");
      c.hpas.push_back(std::move(v));
    }
  }
}

void read_drift(ClusterView& c, const Value& d) {
  c.has_drift = true;
  c.drift_error = str(d, "error");
  c.drift_observed_at = str(d, "observed_at");
  c.drift_duration_ms = num(d, "duration_ms");
  if (const Value* counts = json::find(d, "counts"); counts != nullptr && counts->IsObject()) {
    for (const auto& m : counts->GetObject()) {
      if (m.value.IsInt64()) c.counts[std::string(m.name.GetString(), m.name.GetStringLength())] = m.value.GetInt64();
    }
  }
  if (const Value* rels = array(d, "releases")) {
    for (const auto& r : rels->GetArray()) {
      ReleaseView v;
      v.id = str(r, "id");
      v.name = str(r, "release");
      v.namespace_ = str(r, "namespace");
      v.state = str(r, "state");
      if (v.state.empty()) v.state = "unknown";
      v.reasons = strings(r, "reasons");
      v.error = str(r, "error");
      if (const Value* res = array(r, "resources")) {
        for (const auto& x : res->GetArray()) {
          v.resources.push_back(ResourceView{str(x, "key"), str(x, "object"), str(x, "change"), str(x, "diff")});
        }
      }
      if (const Value* h = json::find(r, "helm"); h != nullptr && h->IsObject()) {
        v.has_helm = true;
        v.revision = num(*h, "revision");
        v.status = str(*h, "status");
        v.chart = str(*h, "chart");
        v.chart_version = str(*h, "chart_version");
        v.app_version = str(*h, "app_version");
        v.values_digest = str(*h, "values_digest");
        v.last_deployed = str(*h, "last_deployed");
      }
      c.releases.push_back(std::move(v));
    }
  }
}

bool parse_entry(ClusterView& c, const queue::FleetEntry& e, const char* what, json::Document& doc) {
  if (auto err = json::parse(doc, e.json)) {
    c.problems.push_back(std::string("stored ") + what + " is not JSON: " + *err);
    return false;
  }
  if (!doc.IsObject()) {
    c.problems.push_back(std::string("stored ") + what + " is not a JSON object");
    return false;
  }
  return true;
}

}  // namespace

const ReleaseView* ClusterView::find_release(const std::string& ns, const std::string& release) const {
  for (const auto& r : releases) {
    if (r.namespace_ == ns && r.name == release) return &r;
  }
  return nullptr;
}

std::string ClusterView::scanned_at() const {
  if (!drift_observed_at.empty()) return drift_observed_at;
  if (!inventory_observed_at.empty()) return inventory_observed_at;
  return core::utc_rfc3339_ms(std::max(drift_at_ms, inventory_at_ms));
}

ClusterView parse_cluster(const std::string& name, const queue::FleetEntry* inventory, const queue::FleetEntry* drift) {
  ClusterView c;
  c.name = name;
  if (inventory != nullptr) {
    c.inventory_at_ms = inventory->at_ms;
    json::Document doc;
    if (parse_entry(c, *inventory, "inventory", doc)) read_inventory(c, doc);
  }
  if (drift != nullptr) {
    c.drift_at_ms = drift->at_ms;
    json::Document doc;
    if (parse_entry(c, *drift, "drift scan", doc)) read_drift(c, doc);
  }
  return c;
}

const ClusterView* FleetView::find(const std::string& name) const {
  for (const auto& c : clusters) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

core::Result<FleetView> load_fleet(queue::FleetStore& store) {
  auto inv = store.all(queue::FleetKind::inventory);
  if (!inv) return inv.error();
  auto drift = store.all(queue::FleetKind::drift);
  if (!drift) return drift.error();
  std::set<std::string> names;
  for (const auto& e : *inv) names.insert(e.cluster);
  for (const auto& e : *drift) names.insert(e.cluster);
  auto find = [](const std::vector<queue::FleetEntry>& v, const std::string& n) -> const queue::FleetEntry* {
    for (const auto& e : v) {
      if (e.cluster == n) return &e;
    }
    return nullptr;
  };
  FleetView f;
  for (const auto& n : names) f.clusters.push_back(parse_cluster(n, find(*inv, n), find(*drift, n)));
  return f;
}

core::Result<std::optional<ClusterView>> load_cluster(queue::FleetStore& store, const std::string& name) {
  auto inv = store.get(queue::FleetKind::inventory, name);
  if (!inv) return inv.error();
  auto drift = store.get(queue::FleetKind::drift, name);
  if (!drift) return drift.error();
  if (!inv->has_value() && !drift->has_value()) return std::optional<ClusterView>();
  return std::optional<ClusterView>(
      parse_cluster(name, inv->has_value() ? &**inv : nullptr, drift->has_value() ? &**drift : nullptr));
}

std::vector<AddonView> addons(const FleetView& fleet) {
  std::map<std::string, AddonView> by_name;
  size_t scanned = 0;
  for (const auto& c : fleet.clusters) {
    if (c.has_drift) ++scanned;
    for (const auto& r : c.releases) by_name[r.name].release = r.name;
  }
  std::vector<AddonView> out;
  for (auto& [name, a] : by_name) {
    size_t declared = 0;
    std::set<std::string> versions;
    for (const auto& c : fleet.clusters) {
      AddonCell cell;
      cell.cluster = c.name;
      // The declared release wins over an extra one of the same name in another namespace.
      const ReleaseView* pick = nullptr;
      for (const auto& r : c.releases) {
        if (r.name != name) continue;
        if (pick == nullptr || (pick->state == "extra" && r.state != "extra")) pick = &r;
      }
      if (pick != nullptr) {
        cell.namespace_ = pick->namespace_;
        cell.state = pick->state;
        cell.chart_version = pick->chart_version;
        cell.values_digest = pick->values_digest;
        cell.revision = pick->revision;
        cell.differs = pick->state == "drifted" || pick->state == "failed" || pick->state == "missing";
        if (pick->state != "extra") ++declared;
        if (pick->state == "missing") a.missing_on.push_back(c.name);
        if (cell.differs) a.differs_from_git.push_back(c.name);
        if (!pick->chart_version.empty()) versions.insert(pick->chart_version);
      }
      a.cells.push_back(std::move(cell));
    }
    a.declared_everywhere = scanned > 0 && declared == scanned;
    a.versions_differ = versions.size() > 1;
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace helmgate::handlers
