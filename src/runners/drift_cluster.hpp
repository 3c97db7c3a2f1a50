#pragma once
// The part of a fleet scan (runners/drift_fleet.hpp) that is one cluster's own: its private work directory
// and redactor, its reads (opened with the preview credential: the inventory, Helm's records) and the
// comparison of its releases as their renders become ready.
#include <functional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "diff/normalize.hpp"
#include "engine/drift.hpp"
#include "engine/workspace.hpp"
#include "release/release.hpp"
#include "runners/drift_fleet.hpp"
#include "runners/drift_runner.hpp"

namespace helmgate::runners {

struct ClusterScan {
  const config::Repo* repo = nullptr;
  const config::Cluster* config = nullptr;
  DriftScan scan;
  diff::Redactor redactor;
  std::string work;        // private: the cluster's kubeconfig files
  std::string head_error;  // the deploy branch could not be read (then nothing is compared)
  std::vector<engine::DesiredRelease> declared;  // the cluster's releases: id, name and namespace
};

struct ClusterHooks {
  // Blocks until the deploy branch was discovered; then ClusterScan::declared and head_error are set.
  std::function<const std::vector<engine::DesiredRelease>&()> declared;
  // Blocks until the n-th declared release is rendered.
  std::function<const engine::DesiredRelease&(size_t n)> ready;
};

void init_cluster(ClusterScan& c, const config::Repo& repo, const config::Cluster& cluster, const engine::Workspace& ws);
// Opens the cluster, reads its inventory and Helm's records, compares its releases. Never throws.
void run_cluster(ClusterScan& c, const ClusterHooks& hooks, const FleetScanOptions& options);
// The scan as stored: names, errors scrubbed, the work directory removed.
DriftScan finish_cluster(ClusterScan& c);

// A release as detect_drift names it before it is rendered.
engine::DesiredRelease identity_of(const release::Release& r);

}  // namespace helmgate::runners
