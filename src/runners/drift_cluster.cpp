#include "runners/drift_cluster.hpp"

#include <filesystem>
#include <cstdint>
#include <map>

#include "core/private_files.hpp"
#include "core/redact.hpp"
#include "engine/cluster.hpp"
#include "engine/drift_reads.hpp"
#include "engine/inventory.hpp"
#include "engine/release_records.hpp"
#include "kube/client.hpp"

namespace helmgate::runners {

namespace fs = std::filesystem;

namespace {

void cluster_failed(DriftScan& s, const std::string& why, const std::vector<engine::DesiredRelease>& declared) {
  s.drift.error = why;
  for (const auto& d : declared) {
    engine::ReleaseDrift r;
    r.id = d.id;
    r.release_name = d.release_name;
    r.namespace_ = d.namespace_;
    r.error = why;
    s.drift.releases.push_back(std::move(r));
  }
}

void count(ScanRequests& q, const kube::Client& client) {
  q.total += client.requests_sent();
  q.connections += client.connections_opened();
}

void compare(ClusterScan& c, const ClusterHooks& hooks, const FleetScanOptions& options) {
  DriftScan& s = c.scan;
  const config::Cluster& cfg = *c.config;
  core::ensure_private_dir(c.work);
  auto open = engine::open_cluster(cfg, engine::Credential::preview, c.work);
  if (!open) {
    s.inventory.error = open.error().code == core::errc::not_found
                            ? "cluster " + cfg.name + " has no preview credential (preview_kubeconfig or preview_kubeconfig_env)"
                            : open.error().message;
    cluster_failed(s, s.inventory.error, hooks.declared());
    return;
  }
  {
    kube::Client client(cfg.name, open->kubeconfig, engine::inventory_client_options());
    s.inventory = engine::read_inventory(client);
    count(s.requests, client);
  }
  if (!s.inventory.reachable) {
    cluster_failed(s, "cluster " + cfg.name + " is not reachable: " + s.inventory.error, hooks.declared());
    return;
  }
  kube::Client client(cfg.name, open->kubeconfig);
  // Helm's records while the renders go on; the comparison waits for discovery, then release by release.
  auto records = engine::read_release_records(client, cfg.drift.namespaces);
  const auto& declared = hooks.declared();
  if (!c.head_error.empty()) {
    s.drift.error = "the deploy branch could not be read: " + c.head_error;
    count(s.requests, client);
    return;
  }
  std::map<std::string, size_t> per_namespace;
  for (const auto& d : declared) ++per_namespace[d.namespace_];
  engine::LiveReads reads(client, std::move(per_namespace), options.reads);
  engine::DriftCounters counters;
  engine::DriftOptions o;
  o.ignore = cfg.drift.ignore;
  o.redactor = &c.redactor;
  o.concurrency = options.compare_concurrency;
  o.reads = &reads;
  o.counters = &counters;
  s.drift = engine::detect_drift(&client, declared, hooks.ready, records, o);
  count(s.requests, client);
  s.requests.gets = counters.gets;
  s.requests.list_pages = reads.lists();
  s.requests.list_hits = counters.list_hits;
  s.requests.rereads = counters.rereads;
  s.requests.dry_runs = counters.dry_runs;
}

}  // namespace

engine::DesiredRelease identity_of(const release::Release& r) {
  engine::DesiredRelease d;
  d.id = r.id();
  d.release_name = r.release_name;
  d.namespace_ = r.target_namespace;
  return d;
}

void init_cluster(ClusterScan& c, const config::Repo& repo, const config::Cluster& cluster, const engine::Workspace& ws) {
  c.repo = &repo;
  c.config = &cluster;
  c.scan.repo = repo.name;
  c.scan.cluster = cluster.name;
  c.scan.drift.cluster = cluster.name;
  c.scan.inventory.cluster = cluster.name;
  if (!repo.token.empty()) c.redactor.add_sensitive(repo.token);
  c.work = ws.cache_root + "/work/drift-" + core::sha256_hex(cluster.name + std::to_string(wall_ms()) + std::to_string(
                                                                 reinterpret_cast<uintptr_t>(&c))).substr(0, 16);
}

void run_cluster(ClusterScan& c, const ClusterHooks& hooks, const FleetScanOptions& options) {
  try {
    compare(c, hooks, options);
  } catch (const std::exception& e) {
    cluster_failed(c.scan, std::string("drift scan failed: ") + e.what(), {});
  }
}

DriftScan finish_cluster(ClusterScan& c) {
  DriftScan& s = c.scan;
  std::error_code ec;
  fs::remove_all(c.work, ec);
  s.drift.cluster = s.cluster;
  s.inventory.cluster = s.cluster;
  s.drift.error = c.redactor.scrub(s.drift.error);
  s.inventory.error = c.redactor.scrub(s.inventory.error);
  if (s.drift.observed_at.empty()) s.drift.observed_at = s.inventory.observed_at;
  s.drift.duration_ms = s.duration_ms;  // what helmgate_drift_scan_seconds shows: the whole scan
  return std::move(s);
}

}  // namespace helmgate::runners
