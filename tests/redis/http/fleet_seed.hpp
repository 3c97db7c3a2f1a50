#pragma once
// The fleet the status page tests show: three clusters' drift scans and inventories as JSON written by
// the engine's own writers (engine::to_json), as the drift scan stores them. dev: all in sync; staging:
// unreachable, ingress-nginx declared but missing; prod: podinfo drifted (chart 6.4.0 where Git says
// 6.5.0, a diff with markup in it), a NotReady node, and an extra release whose name is markup.
// tests/redis/http/fixtures/fleet/ holds the same JSON for the browser test (fleet_ui_test.cpp checks
// that it is still what the writers produce).
#include <map>
#include <string>
#include <utility>

#include "engine/drift.hpp"
#include "engine/inventory.hpp"

namespace helmgate::test::fleet_seed {

inline constexpr const char* kHostileDiff =
    "--- live\n+++ desired\n-  image: <script>alert('diff')</script>\n+  image: ok & fine\n";

inline kube::HelmRecord record(const std::string& name, const std::string& ns, int64_t rev, const std::string& version,
                        const std::string& digest, const std::string& status = "deployed") {
  kube::HelmRecord r;
  r.name = name;
  r.namespace_ = ns;
  r.revision = rev;
  r.status = status;
  r.chart_name = name;
  r.chart_version = version;
  r.values_digest = digest;
  return r;
}

inline engine::ReleaseDrift release(const std::string& cluster, const std::string& ns, const std::string& name,
                             engine::DriftState state, std::optional<kube::HelmRecord> rec) {
  engine::ReleaseDrift r;
  r.id = cluster + "/" + ns + "/" + name;
  r.release_name = name;
  r.namespace_ = ns;
  r.state = state;
  r.record = std::move(rec);
  return r;
}

inline engine::Inventory inventory(const std::string& cluster, bool reachable, const std::string& version, int ready,
                            int not_ready) {
  engine::Inventory inv;
  inv.cluster = cluster;
  inv.reachable = reachable;
  inv.server_version = version;
  inv.observed_at = "2026-12-02T10:00:00Z";
  if (!reachable) inv.error = "connect to https://10.0.0.9:6443: connection refused";
  for (int i = 0; i < ready + not_ready; ++i) {
    engine::NodeInventory n;
    n.name = cluster + "-node-" + std::to_string(i);
    n.ready = i < ready;
    n.ready_status = n.ready ? "True" : "False";
    n.ready_reason = n.ready ? "KubeletReady" : "KubeletNotReady";
    n.ready_message = n.ready ? "" : "PLEG is not healthy <b>";
    n.kubelet_version = version;
    inv.nodes.push_back(n);
  }
  engine::ReleaseWorkloads rw;
  rw.release = "podinfo";
  rw.release_namespace = "apps";
  rw.workloads.push_back({"Deployment", "apps", "podinfo", 2, 1, 2, 1});
  inv.releases.push_back(rw);
  engine::HpaInventory h;
  h.namespace_ = "apps";
  h.name = "podinfo";
  h.target_kind = "Deployment";
  h.target_name = "podinfo";
  h.release = "podinfo";
  h.current_replicas = 2;
  h.desired_replicas = 3;
  h.min_replicas = 2;
  h.max_replicas = 5;
  h.last_scale_time = "2026-12-02T09:58:00Z";
  inv.hpas.push_back(h);
  return inv;
}

// cluster -> (drift JSON, inventory JSON)
inline std::map<std::string, std::pair<std::string, std::string>> clusters() {
  std::map<std::string, std::pair<std::string, std::string>> out;
  using S = engine::DriftState;
  for (const std::string c : {"dev", "staging", "prod"}) {
    engine::ClusterDrift d;
    d.cluster = c;
    d.observed_at = "2026-12-02T10:00:01Z";
    d.duration_ms = c == "prod" ? 2500 : 1200;
    auto podinfo = release(c, "apps", "podinfo", S::in_sync, record("podinfo", "apps", 4, "6.5.0", "sha256:aaa"));
    auto ingress = release(c, "ingress", "ingress-nginx", S::in_sync, record("ingress-nginx", "ingress", 2, "4.10.0", "sha256:bbb"));
    if (c == "staging") {
      ingress.state = S::missing;
      ingress.record.reset();
      ingress.reasons = {"declared, but Helm has no record of it"};
    }
    if (c == "prod") {
      podinfo.state = S::drifted;
      podinfo.record->chart_version = "6.4.0";
      podinfo.reasons = {"the live Deployment apps/podinfo differs"};
      podinfo.resources.push_back({"apps/Deployment/apps/podinfo", "apps/v1 Deployment apps/podinfo", "changed", kHostileDiff});
    }
    d.releases = {podinfo, ingress};
    if (c == "prod") {
      d.releases.push_back(release(c, "default", "<script>alert(1)</script>", S::extra,
                                   record("<script>alert(1)</script>", "default", 1, "1.0.0", "sha256:ccc")));
    }
    auto inv = c == "staging" ? inventory(c, false, "", 0, 0)
                              : inventory(c, true, c == "prod" ? "v1.31.2\"x\\y" : "v1.31.2", 2, c == "prod" ? 1 : 0);
    out[c] = {engine::to_json(d), engine::to_json(inv)};
  }
  return out;
}

// When each was stored (ms since the epoch): 2026-12-02T10:00:01Z and 10:00:00Z.
inline constexpr int64_t kDriftAtMs = 1'796'205'601'000;
inline constexpr int64_t kInventoryAtMs = 1'796'205'600'000;

}  // namespace helmgate::test::fleet_seed
