#pragma once
// The `apply` job: for a push to the deploy branch, bring every configured cluster to the pushed commit.
// Clusters run in parallel (a cluster with `requires` waits for those clusters in the same job); within a
// cluster one apply at a time (a Redis lock) in commit order (an apply for a commit that is an ancestor of
// the one already applied is superseded). Per release: the pure decision, then one action.
#include <chrono>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "queue/queue.hpp"

namespace helmgate::runners {

struct ApplyRunnerOptions {
  std::string helm;        // empty: $HELMGATE_HELM, else helm on PATH
  std::string kubectl;     // for kustomize overlays; empty: $HELMGATE_KUBECTL, else PATH
  std::string cache_root;  // mirrors, work trees, render cache; empty: $HELMGATE_CACHE_DIR or ~/.cache/helmgate
  std::chrono::milliseconds lock_wait{60'000};      // then the job retries later
  std::chrono::milliseconds lock_ttl{900'000};      // a dead worker's lock expires after this
  std::chrono::milliseconds helm_timeout{300'000};
  std::chrono::milliseconds connect_timeout{5'000};  // reachability probe per cluster
  size_t render_concurrency = 2;
};

queue::Runner make_apply_runner(const config::Config& cfg, ApplyRunnerOptions options = {});

}  // namespace helmgate::runners
