#pragma once
// Planning an apply: for each affected release of one cluster, what Git wants (rendered once, digested)
// against what the cluster has (helm's list, the digest helmgate recorded), decided by the pure
// apply::determine_release_action. No helm upgrade runs here; engine/apply.hpp runs the plan.
#include <map>
#include <string>
#include <vector>

#include "apply/decision.hpp"
#include "apply/helm.hpp"
#include "diff/normalize.hpp"
#include "engine/chart_request.hpp"
#include "engine/ownership.hpp"
#include "release/release.hpp"
#include "render/renderer.hpp"

namespace helmgate::engine {

struct PlannedRelease {
  std::string id, release_name, namespace_;
  bool present = false;    // declared at the commit being applied
  apply::Decision decision;
  apply::ReleaseSpec spec;  // what install/upgrade needs (chart, values, digest)
  std::string failure;      // could not be planned (unreadable, render failed, refused): nothing runs
};

// What the cluster has, read once per cluster.
struct Observed {
  std::map<std::string, apply::HelmRelease> helm;  // helm list, "namespace/name"
  std::map<std::string, std::string> digests;      // release id -> digest helmgate last applied
  bool prune = false;                              // the cluster's prune setting
};

// rules: the repository's ownership (engine/ownership.hpp): the owning entry's identity replaces Flux's
// serviceAccountName, and a release aimed where its team may not deploy is refused (nothing runs).
PlannedRelease plan_release(const release::Affected& a, const Observed& observed, const ChartSources& head,
                            render::Renderer& renderer, const std::string& commit, const OwnershipRules* rules = nullptr);

}  // namespace helmgate::engine
