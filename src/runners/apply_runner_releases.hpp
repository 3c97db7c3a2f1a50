#pragma once
// One cluster's releases within an apply job: the affected set since the base, what the cluster has (helm's
// release records in the namespaces concerned, read through the API as `helm list` reads them but without a
// helm process; the recorded digests), then per release the engine's plan (render, digest, decision) and helm
// action, up to the cluster's apply_concurrency at once in the order dependsOn gives (engine/apply_order).
#include <functional>
#include <string>

#include "apply/helm.hpp"
#include "config/config.hpp"
#include "core/job.hpp"
#include "engine/apply_result.hpp"
#include "engine/change.hpp"
#include "engine/policy.hpp"
#include "git/repository.hpp"
#include "kube/kubeconfig.hpp"
#include "queue/apply_state.hpp"

namespace helmgate::engine {
struct Workspace;  // engine/workspace.hpp
}  // namespace helmgate::engine

namespace helmgate::runners {

struct ClusterReleases {
  const config::Cluster& cluster;
  const config::Repo& repo_cfg;
  const core::JobSpec& spec;
  const git::Repository& repo;
  engine::Discoveries& discoveries;
  engine::Workspace& ws;
  queue::ApplyState& state;
  const kube::Kubeconfig& kubeconfig;               // the deploy credential: helm's records are read with it
  std::string after;                               // the commit applied
  const engine::OwnershipRules* rules = nullptr;   // from the deploy branch: placement and identity
  std::function<bool()> superseded;                // a newer job took over: start nothing more
  std::function<void(const std::string&)> log;     // thread-safe
};

// Fills out.releases (in the affected set's order) and sets out.status/reason/retry on failures.
void apply_releases(const ClusterReleases& in, const std::string& base, const apply::HelmEnv& env,
                    engine::ClusterResult& out);

}  // namespace helmgate::runners
