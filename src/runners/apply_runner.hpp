#pragma once
// The `apply` job: for a push to the deploy branch (or a `/helmgate apply`), bring the configured clusters
// to the pushed commit. Clusters run in parallel (a cluster with `requires` waits for those clusters in
// the same job); within a cluster one apply at a time (a Redis lock, extended while the apply runs) in
// commit order (an apply for a commit that is an ancestor of the one already applied is superseded). The
// work per release is the engine's: plan (render, digest, decide), then apply; a cluster's releases run
// clusters[].apply_concurrency at a time in spec.dependsOn order (apply_runner_releases.hpp).
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "engine/apply_result.hpp"
#include "queue/queue.hpp"

namespace helmgate::engine {
struct Workspace;  // engine/workspace.hpp
}  // namespace helmgate::engine

namespace helmgate::runners {

// Told about every apply that ran (the PR comment and commit statuses); never changes the outcome.
using ApplyReporter = std::function<void(queue::JobContext&, const engine::ApplyResult&, const queue::RunOutcome&)>;

struct ApplyRunnerOptions {
  std::string helm;        // empty: $HELMGATE_HELM, else helm on PATH
  std::string kubectl;     // for kustomize overlays; empty: $HELMGATE_KUBECTL, else PATH
  std::string cache_root;  // mirrors, work trees, render cache; empty: $HELMGATE_CACHE_DIR or ~/.cache/helmgate
  std::chrono::milliseconds lock_wait{60'000};      // then the job retries later
  std::chrono::milliseconds lock_ttl{120'000};      // a dead worker's lock expires after this; extended every ttl/3
  std::chrono::milliseconds helm_timeout{300'000};
  std::chrono::milliseconds connect_timeout{5'000};  // reachability probe per cluster
  size_t render_concurrency = 2;
  ApplyReporter report;  // optional
  // The worker's workspace, shared with the preview and command runners; null: one of the runner's own
  // from helm, kubectl, cache_root and render_concurrency.
  std::shared_ptr<engine::Workspace> workspace;
};

queue::Runner make_apply_runner(const config::Config& cfg, ApplyRunnerOptions options = {});

}  // namespace helmgate::runners
