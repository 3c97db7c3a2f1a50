#pragma once
// The `preview` job: a PR was opened or pushed to. Render what the change touches (run_preview), validate
// the head rendering against every cluster that has a kubeconfig (findings + live diff), then post ONE
// preview comment on the PR (upserted by marker, split into parts) and a commit status per cluster.
// A job superseded by a newer push stops and posts nothing: the newer job owns the comment.
#include <chrono>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "queue/queue.hpp"
#include "runners/forge_access.hpp"
#include "runners/preview_comment.hpp"

namespace helmgate::engine {
struct Workspace;  // engine/workspace.hpp
}  // namespace helmgate::engine

namespace helmgate::runners {

struct PreviewRunnerOptions {
  std::string helm;        // empty: $HELMGATE_HELM, else PATH
  std::string kubectl;     // empty: $HELMGATE_KUBECTL, else PATH
  std::string cache_root;  // empty: default_cache_dir()
  size_t render_concurrency = 2;
  std::chrono::milliseconds kube_timeout{10'000};  // per API request of the validation
  std::string marker_key = "preview";              // one preview comment per PR
  // The worker's workspace, shared with the apply and command runners; null: one of the runner's own
  // from helm, kubectl, cache_root and render_concurrency.
  std::shared_ptr<engine::Workspace> workspace;
};

queue::Runner make_preview_runner(const config::Config& cfg, ForgeAccess forges, PreviewRunnerOptions options = {});

}  // namespace helmgate::runners
