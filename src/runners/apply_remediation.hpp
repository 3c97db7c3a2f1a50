#pragma once
// The apply job of a drift remediation (core::JobSpec::remediate, enqueued by the drift scheduler): only
// the named releases of the one cluster, applied again at the commit the cluster runs although Git did
// not change, with helm's --force-conflicts (the fields someone changed by hand are another field
// manager's now; a plain upgrade would fail with "conflict occurred while applying object").
#include <optional>
#include <string>
#include <vector>

#include "engine/apply_result.hpp"
#include "engine/plan.hpp"
#include "queue/apply_state.hpp"
#include "release/release.hpp"

namespace helmgate::runners {

engine::ClusterResult cluster_result(const std::string& name, engine::ClusterStatus status, std::string reason, bool retry);

// A remediation applies the commit the cluster already runs, nothing newer or older: skipped (with the
// reason) when helmgate recorded another commit for the cluster; nullopt when it may go on.
std::optional<engine::ClusterResult> remediation_skip(const std::string& cluster, const std::string& commit,
                                                      const std::optional<queue::AppliedRecord>& last);

// Of the releases a whole commit affects, those a remediation names.
std::vector<release::Affected> remediation_targets(std::vector<release::Affected> all, const std::vector<std::string>& ids);

// Turns "render unchanged" into an upgrade that overrides hand edits (--force-conflicts).
void remediate_plan(engine::PlannedRelease& plan);

}  // namespace helmgate::runners
