#include "runners/drift_runner.hpp"

#include <chrono>

#include "runners/drift_fleet.hpp"

namespace helmgate::runners {

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

DriftScan scan_cluster(const config::Repo& rc, const config::Cluster& c, engine::Workspace& ws) {
  return std::move(scan_clusters({{&rc, &c}}, ws).front());
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

std::string scan_costs(const RenderCounts& r, const std::vector<DriftScan>& scans) {
  std::string out = "renders: " + std::to_string(r.keys) + " distinct for " + std::to_string(r.releases) + " releases, " +
                    std::to_string(r.rendered) + " helm runs, " + std::to_string(r.cache_hits) + " cached, " +
                    std::to_string(r.failed) + " failed, last at " + std::to_string(r.last_ms) + " ms\n";
  for (const auto& s : scans) {
    const auto& q = s.requests;
    out += s.cluster + ": " + std::to_string(q.total) + " requests: " + std::to_string(q.gets) + " GET, " +
           std::to_string(q.list_pages) + " list pages (" + std::to_string(q.list_hits) + " objects listed, " +
           std::to_string(q.rereads) + " read again), " + std::to_string(q.dry_runs) + " dry-runs, " +
           std::to_string(q.connections) + " connections, " + std::to_string(s.duration_ms) + " ms\n";
  }
  return out;
}

}  // namespace helmgate::runners
