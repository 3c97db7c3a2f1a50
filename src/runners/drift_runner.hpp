#pragma once
// The drift scan of one cluster (issue 13), a thin adapter over the engine: the deploy branch's head
// (the mirror fetched first) discovered whole, each release of the cluster rendered (the workspace's
// cached renderer), the cluster opened with the preview credential (read and dry-run only), Helm's records
// read from every namespace, engine::detect_drift with the cluster's ignore rules and a redactor of the
// releases' Secret values, engine::read_inventory. Both results go to queue::FleetStore with the time.
// Several clusters are scanned together by runners/drift_fleet.hpp (each shared render once); this is its
// one-cluster form. Never throws: a cluster that cannot be reached or opened gives an inventory with
// reachable=false and a drift whose error says why.
#include <cstdint>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "core/error.hpp"
#include "engine/drift.hpp"
#include "engine/inventory.hpp"
#include "engine/workspace.hpp"
#include "queue/fleet_store.hpp"

namespace helmgate::runners {

// The requests one cluster's scan made (kube::Client counts; the live comparison's own counters).
struct ScanRequests {
  size_t total = 0;        // HTTP requests of the scan's clients (inventory, records, live objects)
  size_t gets = 0;         // single live objects read
  size_t list_pages = 0;   // pages of the lists of live objects by namespace and type
  size_t list_hits = 0;    // live objects taken from those lists
  size_t rereads = 0;      // GETs after a listed object turned out changed, gone or not the release's
  size_t dry_runs = 0;
  size_t connections = 0;  // opened (keep-alive)
};

struct DriftScan {
  std::string repo, cluster;
  std::string commit;  // the deploy branch's head that was compared ("" when it could not be read)
  engine::ClusterDrift drift;  // its duration_ms is the whole scan's (duration_ms below)
  engine::Inventory inventory;
  int64_t duration_ms = 0;  // the whole scan: fetch, render, reads, comparison
  ScanRequests requests;
};

// One cluster: runners/drift_fleet.hpp's scan_clusters with one target.
DriftScan scan_cluster(const config::Repo& repo, const config::Cluster& cluster, engine::Workspace& ws);

// Stores the scan's drift and inventory JSON for its cluster, stamped at_ms.
core::Result<void> store_scan(queue::FleetStore& store, const DriftScan& scan, int64_t at_ms);

// "drift scan <cluster>: <n> in_sync, <n> drifted, ... in <ms> ms[ (error)]": the one log line per scan.
std::string scan_summary(const DriftScan& scan);

int64_t wall_ms();

}  // namespace helmgate::runners
