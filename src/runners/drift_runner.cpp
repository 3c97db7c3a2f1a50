#include "runners/drift_runner.hpp"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "core/private_files.hpp"
#include "core/redact.hpp"
#include "engine/change.hpp"
#include "engine/chart_request.hpp"
#include "engine/cluster.hpp"
#include "engine/discovery.hpp"
#include "engine/drift_desired.hpp"
#include "engine/redaction.hpp"
#include "engine/release_records.hpp"
#include "kube/client.hpp"

namespace helmgate::runners {

namespace fs = std::filesystem;

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

namespace {

// The releases the deploy branch's head declares for the cluster, rendered. An error: the head could not be
// read at all (every release of the cluster is then unknown, and the drift says why).
core::Result<std::vector<engine::DesiredRelease>> desired_releases(const config::Repo& rc, const config::Cluster& c,
                                                                   engine::Workspace& ws, diff::Redactor& redactor,
                                                                   std::string& commit) {
  auto repo = ws.mirrors->open(config::fetch_url(rc));
  if (!repo) return core::Error(repo.error().code, "fetching " + core::redact_url(rc.url) + ": " + repo.error().message);
  auto head = repo->resolve("refs/heads/" + rc.deploy_branch);
  if (!head) return core::Error(head.error().code, "deploy branch " + rc.deploy_branch + ": " + head.error().message);
  commit = *head;
  std::vector<release::ClusterSpec> specs;
  for (auto& s : engine::cluster_specs(rc)) {
    if (s.name == c.name) specs.push_back(std::move(s));
  }
  engine::TenantRepos tenants(*ws.mirrors, rc.egress);
  auto dopt = engine::discover_options(std::move(specs), ws.cache_root, *ws.renderer, &rc);
  dopt.cache = ws.doc_cache;
  dopt.open_source = [&tenants](const std::string& url) { return tenants.open(url); };
  dopt.remote_urls = repo->remote_urls();
  auto change = engine::discover_commit(*repo, commit, dopt);
  if (!change) return change.error();
  std::vector<const release::Release*> mine;
  for (const auto& r : change->at_head.releases) {
    if (r.cluster != c.name) continue;
    engine::add_release_secrets(redactor, r, rc.sensitive_values);
    mine.push_back(&r);
  }
  engine::ChartSources src{&*repo, commit, ws.mirrors.get(), ws.trees_dir(), rc.egress};
  std::vector<engine::DesiredRelease> out(mine.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < mine.size(); i = next++) {
      auto request = engine::render_request(*mine[i], src);
      core::Result<render::RenderResult> rendered =
          request ? ws.renderer->render(*request) : core::Result<render::RenderResult>(request.error());
      out[i] = engine::desired_release(*mine[i], request, rendered);
    }
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < std::min<size_t>(4, mine.size()); ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  return out;
}

void cluster_failed(DriftScan& s, const std::string& why, const std::vector<engine::DesiredRelease>& desired) {
  s.drift.error = why;
  for (const auto& d : desired) {
    engine::ReleaseDrift r;
    r.id = d.id;
    r.release_name = d.release_name;
    r.namespace_ = d.namespace_;
    r.error = why;
    s.drift.releases.push_back(std::move(r));
  }
}

void scan_into(DriftScan& s, const config::Repo& rc, const config::Cluster& c, engine::Workspace& ws,
               diff::Redactor& redactor, const std::string& work) {
  auto desired = desired_releases(rc, c, ws, redactor, s.commit);
  auto open = engine::open_cluster(c, engine::Credential::preview, work);
  if (!open) {
    s.inventory.error = open.error().code == core::errc::not_found
                            ? "cluster " + c.name + " has no preview credential (preview_kubeconfig or preview_kubeconfig_env)"
                            : open.error().message;
    cluster_failed(s, s.inventory.error, desired ? *desired : std::vector<engine::DesiredRelease>{});
    return;
  }
  kube::Client client(c.name, open->kubeconfig, engine::inventory_client_options());
  s.inventory = engine::read_inventory(client);
  if (!s.inventory.reachable) {
    cluster_failed(s, "cluster " + c.name + " is not reachable: " + s.inventory.error,
                   desired ? *desired : std::vector<engine::DesiredRelease>{});
    return;
  }
  if (!desired) {
    s.drift.error = "the deploy branch could not be read: " + desired.error().message;
    return;
  }
  kube::Client diff_client(c.name, open->kubeconfig);
  engine::DriftOptions o;
  o.ignore = c.drift.ignore;
  o.redactor = &redactor;
  s.drift = engine::detect_drift(&diff_client, *desired, engine::read_release_records(diff_client, c.drift.namespaces), o);
}

}  // namespace

DriftScan scan_cluster(const config::Repo& rc, const config::Cluster& c, engine::Workspace& ws) {
  const auto start = std::chrono::steady_clock::now();
  DriftScan s;
  s.repo = rc.name;
  s.cluster = c.name;
  s.drift.cluster = c.name;
  s.inventory.cluster = c.name;
  diff::Redactor redactor;
  if (!rc.token.empty()) redactor.add_sensitive(rc.token);
  const std::string work = ws.cache_root + "/work/drift-" + core::sha256_hex(c.name + std::to_string(wall_ms())).substr(0, 16);
  try {
    core::ensure_private_dir(work);
    scan_into(s, rc, c, ws, redactor, work);
  } catch (const std::exception& e) {
    cluster_failed(s, std::string("drift scan failed: ") + e.what(), {});
  }
  std::error_code ec;
  fs::remove_all(work, ec);
  s.drift.cluster = c.name;
  s.inventory.cluster = c.name;
  s.drift.error = redactor.scrub(s.drift.error);
  s.inventory.error = redactor.scrub(s.inventory.error);
  if (s.drift.observed_at.empty()) s.drift.observed_at = s.inventory.observed_at;
  s.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  s.drift.duration_ms = s.duration_ms;  // what helmgate_drift_scan_seconds shows: the whole scan
  return s;
}

core::Result<void> store_scan(queue::FleetStore& store, const DriftScan& scan, int64_t at_ms) {
  if (auto r = store.put(queue::FleetKind::inventory, scan.cluster, engine::to_json(scan.inventory), at_ms); !r) return r;
  return store.put(queue::FleetKind::drift, scan.cluster, engine::to_json(scan.drift), at_ms);
}

std::string scan_summary(const DriftScan& scan) {
  std::string line = "drift scan " + scan.cluster + ":";
  const char* sep = " ";
  for (auto st : {engine::DriftState::in_sync, engine::DriftState::drifted, engine::DriftState::missing,
                  engine::DriftState::failed, engine::DriftState::extra, engine::DriftState::unknown}) {
    line += sep + std::to_string(scan.drift.count(st)) + " " + std::string(engine::to_string(st));
    sep = ", ";
  }
  line += " in " + std::to_string(scan.duration_ms) + " ms";
  if (!scan.commit.empty()) line += " at " + scan.commit.substr(0, 12);
  if (!scan.drift.error.empty()) line += " (" + scan.drift.error + ")";
  return line;
}

}  // namespace helmgate::runners
