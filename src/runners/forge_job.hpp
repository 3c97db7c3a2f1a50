#pragma once
// What every job on a forge's pull request holds (the preview and command jobs; the apply report too):
// its context and spec, the repository's configuration, the forge client and the repository's reference.
#include <optional>
#include <string>

#include "config/config.hpp"
#include "forge/forge.hpp"
#include "queue/queue.hpp"
#include "runners/forge_access.hpp"

namespace helmgate::runners {

struct ForgeJob {
  explicit ForgeJob(queue::JobContext& job_ctx) : ctx(job_ctx), spec(job_ctx.job().spec) {}
  // A job that works on its own copy of the spec (the preview job follows the PR's head).
  ForgeJob(queue::JobContext& job_ctx, const core::JobSpec& own_spec) : ctx(job_ctx), spec(own_spec) {}
  queue::JobContext& ctx;
  const core::JobSpec& spec;
  const config::Repo* repo_cfg = nullptr;  // null: the repository is not configured
  forge::ForgeClient* client = nullptr;
  forge::RepoRef repo_ref;
  // Finds the forge client and the repository: nullopt when both are there, else the failed outcome
  // ("<what>: why").
  std::optional<queue::RunOutcome> open(const config::Config& cfg, const ForgeAccess& forges, const std::string& what);
};

}  // namespace helmgate::runners
