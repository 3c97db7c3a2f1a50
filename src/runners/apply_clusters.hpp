#pragma once
// The cluster side of an apply job, apart from the work per cluster: which clusters a job applies, the
// order `requires` imposes (each cluster in its own thread, a cluster waiting for those it requires), and
// the job's outcome from the typed result.
#include <functional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/error.hpp"
#include "engine/apply_result.hpp"
#include "queue/queue.hpp"

namespace helmgate::runners {

// chosen empty: every configured cluster as configured. Otherwise exactly those (a person chose them):
// applied regardless of auto_apply, and `requires` naming a cluster outside them is dropped.
core::Result<std::vector<config::Cluster>> clusters_to_apply(const config::Repo& repo, const std::vector<std::string>& chosen);

// Runs apply for every cluster, a cluster with `requires` after those clusters and only when
// applied_cleanly says they reached the commit (else it is blocked). Results in start order.
std::vector<engine::ClusterResult> run_in_order(const std::vector<config::Cluster>& clusters,
                                                const std::function<engine::ClusterResult(const config::Cluster&)>& apply,
                                                const std::function<bool(const std::string&)>& applied_cleanly,
                                                const std::string& commit);

// succeeded (the result JSON) when every cluster applied, was skipped or superseded; superseded when every
// cluster already ran a newer commit; else a retry when some failure may pass, or a permanent failure.
queue::RunOutcome apply_outcome(const engine::ApplyResult& result);

}  // namespace helmgate::runners
