#pragma once
// The status page, served by `helmgate serve` (server-rendered HTML, handlers/ui/html.hpp):
//   GET /ui/                                           the fleet: a row per cluster, a column per add-on
//   GET /ui/drift                                      every release that is not in sync
//   GET /ui/clusters/{name}                            one cluster: releases, nodes, workloads, HPAs
//   GET /ui/clusters/{name}/releases/{namespace}/{release}   one release: state, Helm record, drift diff,
//                                                      the fleet's view of it, recent apply jobs of the cluster
//   GET /ui/jobs                                       recent jobs, with a replay button (API token typed in)
// Read access as the fleet API (handlers/read_access.hpp); a browser is asked for Basic auth.
#include <string>

#include "handlers/fleet_view.hpp"
#include "handlers/routes.hpp"

namespace helmgate::handlers {

void install_ui(http::Router& router, App& app);

namespace ui {
std::string overview_page(const FleetView& fleet);
std::string attention_page(const FleetView& fleet);
std::string cluster_page(const ClusterView& c);
// jobs: recent apply jobs that may have touched this cluster (its name in spec.clusters, or all clusters).
std::string release_page(const ClusterView& c, const ReleaseView& r, const FleetView* fleet,
                         const std::vector<queue::JobRecord>& jobs = {});
std::string jobs_page(const std::vector<queue::JobRecord>& jobs, const std::string& state_filter);
}  // namespace ui

}  // namespace helmgate::handlers
