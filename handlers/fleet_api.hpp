#pragma once
// The fleet API and the fleet metrics, from what the scans stored (handlers/fleet_view.hpp):
//   GET /api/v1/fleet            every cluster (reachable, version, nodes, drift counts, scanned_at) and
//                                the add-ons view (per release name across clusters)
//   GET /api/v1/clusters/{name}  the inventory and drift scan of one cluster, as stored
//   GET /api/v1/drift            every release that is not in sync, on every cluster
// Read access: handlers/read_access.hpp. A cluster name from the URL passes core::names::cluster_name
// before any lookup (400), an unknown one is 404.
#include <string>

#include "handlers/fleet_view.hpp"
#include "handlers/routes.hpp"
#include "http/metrics.hpp"

namespace helmgate::handlers {

void install_fleet_api(http::Router& router, App& app);

std::string fleet_json(const FleetView& fleet);
std::string drift_json(const FleetView& fleet);
std::string cluster_json(const std::string& name, const std::optional<queue::FleetEntry>& inventory,
                         const std::optional<queue::FleetEntry>& drift);

// helmgate_cluster_up{cluster}, helmgate_cluster_info{cluster,version}, helmgate_cluster_nodes{cluster,state},
// helmgate_release_drifted{cluster,namespace,release}, helmgate_drift_scan_seconds{cluster}.
void write_fleet_metrics(http::PromWriter& w, const FleetView& fleet);

// Runs fn(store) on a query thread (the store blocks on Redis); 503 when serve has no fleet store.
void with_fleet(App& app, http::Responder respond, std::function<void(queue::FleetStore&, http::Responder)> fn);

}  // namespace helmgate::handlers
