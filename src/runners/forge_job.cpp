#include "runners/forge_job.hpp"

namespace helmgate::runners {

std::optional<queue::RunOutcome> ForgeJob::open(const config::Config& cfg, const ForgeAccess& forges,
                                                const std::string& what) {
  repo_cfg = cfg.find_repo(spec.forge, spec.repo);
  auto found = forges.client(spec.forge);
  if (!found) return queue::RunOutcome::fail(what + ": " + found.error().message);
  client = *found;
  auto ref = forge::RepoRef::parse(spec.repo);
  if (!ref) return queue::RunOutcome::fail(what + ": repository name " + spec.repo + ": " + ref.error().message);
  repo_ref = *ref;
  return std::nullopt;
}

}  // namespace helmgate::runners
