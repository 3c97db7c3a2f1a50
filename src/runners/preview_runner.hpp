#pragma once
// The `preview` job: a PR was opened or pushed to. Render what the change touches (run_preview), validate
// the head rendering against every cluster that has a kubeconfig (findings + live diff), then post ONE
// preview comment on the PR (upserted by marker, split into parts) and a commit status per cluster.
// A job superseded by a newer push stops and posts nothing: the newer job owns the comment.
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/error.hpp"
#include "forge/router.hpp"
#include "queue/queue.hpp"

namespace helmgate::runners {

// The forges every loop runner (preview, apply report, command) talks to: one router per process so
// all runners share each identity's write limiter.
struct ForgeAccess {
  std::shared_ptr<forge::ForgeRouter> router;
  std::string error;  // why there is no router (a forge without a token, ...)
  core::Result<forge::ForgeClient*> client(std::string_view forge_name) const;
};
// Built from the configuration's forges (tokens already resolved into cfg.forges[].token).
ForgeAccess make_forge_access(const config::Config& cfg);

struct PreviewRunnerOptions {
  std::string helm;        // empty: $HELMGATE_HELM, else PATH
  std::string kubectl;     // empty: $HELMGATE_KUBECTL, else PATH
  std::string cache_root;  // empty: default_cache_dir()
  size_t render_concurrency = 2;
  std::chrono::milliseconds kube_timeout{10'000};  // per API request of the validation
  std::string marker_key = "preview";              // one preview comment per PR
};

queue::Runner make_preview_runner(const config::Config& cfg, ForgeAccess forges,
                                  PreviewRunnerOptions options = {});

// Parts of at most limit bytes: the report's parts as they are, then each extra section (validation per
// cluster) appended to the last part when it fits, else in a new part; a section longer than a whole
// part is cut with a note (its fences and <details> closed) so no comment is ever refused.
std::vector<std::string> pack_parts(std::vector<std::string> parts, const std::vector<std::string>& sections,
                                    size_t limit);

// The web address of a comment, for the job's result and logs ("" when the forge kind is unknown).
std::string comment_url(const config::Forge* forge, const std::string& repo, int64_t pr, int64_t comment_id);

}  // namespace helmgate::runners
