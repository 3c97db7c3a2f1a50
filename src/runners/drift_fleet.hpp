#pragma once
// One drift scan of several clusters together (issue 13): the deploy branch of each repository fetched
// and discovered once for all its scanned clusters; every distinct render (engine::render_share_key)
// made once, render_concurrency helm processes at a time, in release order across the clusters; meanwhile
// each cluster, on its own thread, is opened, its inventory and Helm's records read, and its releases
// compared (records, then the live objects by server-side dry-run) as soon as their render is ready,
// compare_concurrency at a time (its connections). A release whose render fails is unknown on its own;
// one cluster that cannot be reached does not hold up the others. One cluster (the schedule's scan) is
// the same code with one entry.
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "engine/drift_reads.hpp"
#include "engine/workspace.hpp"
#include "runners/drift_runner.hpp"

namespace helmgate::runners {

using ScanTarget = std::pair<const config::Repo*, const config::Cluster*>;

struct FleetScanOptions {
  size_t render_concurrency = 0;   // helm template processes at once; 0: twice the machine's cores
  size_t compare_concurrency = 4;  // releases of one cluster compared at once
  engine::LiveReadOptions reads;
};

// What the renders of one scan cost (the requests are counted per cluster, DriftScan::requests).
struct RenderCounts {
  size_t releases = 0;     // declared releases of the scanned clusters
  size_t keys = 0;         // distinct renders they need
  size_t rendered = 0;     // helm template runs
  size_t cache_hits = 0;   // of the renderer's cache (memory or disk)
  size_t failed = 0;       // renders that failed (their releases are unknown)
  int64_t last_ms = 0;     // when the last render finished, from the start of the scan
};

// The scans in the order of `targets`. Never throws.
std::vector<DriftScan> scan_clusters(const std::vector<ScanTarget>& targets, engine::Workspace& ws,
                                     const FleetScanOptions& options = {}, RenderCounts* counts = nullptr);

// "renders: <keys> distinct for <releases> releases, <rendered> helm runs, <hits> cached, <failed> failed,
// last at <ms> ms" and per cluster "<cluster>: <gets> GET, <lists> list pages (<hits> objects listed,
// <rereads> read again), <dry_runs> dry-runs, <connections> connections"
std::string scan_costs(const RenderCounts& renders, const std::vector<DriftScan>& scans);

}  // namespace helmgate::runners
