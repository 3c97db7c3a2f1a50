#pragma once
// Validation of a change's head renders against one configured cluster, as a preview (and a drift job)
// runs it: with the cluster's preview credential only (pull-request content never meets the deploy
// credential); without one, the offline checks alone and a note saying why. A cluster that does not
// answer is one error, not a finding per object.
#include <chrono>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/error.hpp"
#include "diff/normalize.hpp"
#include "engine/render_diff.hpp"
#include "engine/validate.hpp"

namespace helmgate::engine {

// The head renders of one cluster.
std::vector<RenderedRelease> releases_of_cluster(const std::vector<HeadRender>& head, const std::string& cluster);

// Whether a cluster is validated at all: it has a credential of either kind (a cluster with neither is
// rendered only).
bool validates(const config::Cluster& c);

core::Result<ClusterValidation> validate_on_cluster(const config::Cluster& c, const std::vector<RenderedRelease>& releases,
                                                    const diff::Redactor& redactor,
                                                    std::chrono::milliseconds kube_timeout);

}  // namespace helmgate::engine
