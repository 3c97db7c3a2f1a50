#include "runners/preview_policy.hpp"

#include <algorithm>
#include <map>

#include "engine/change.hpp"
#include "engine/discovery.hpp"
#include "engine/workspace.hpp"

namespace helmgate::runners {

std::vector<std::string> head_approvers(const forge::PullRequestState& st, const std::string& head_sha) {
  std::vector<const forge::Review*> ordered;
  for (const auto& r : st.reviews) ordered.push_back(&r);
  std::stable_sort(ordered.begin(), ordered.end(), [](const auto* a, const auto* b) { return a->id < b->id; });
  std::map<std::string, const forge::Review*> latest;  // comments and drafts decide nothing
  for (const auto* r : ordered) {
    if (r->user.empty() || r->state == forge::ReviewState::commented || r->state == forge::ReviewState::pending ||
        r->state == forge::ReviewState::other)
      continue;
    latest[r->user] = r;
  }
  std::vector<std::string> out;
  for (const auto& [user, r] : latest) {
    if (r->state != forge::ReviewState::approved || r->dismissed || r->stale || r->commit_id != head_sha) continue;
    if (forge::same_login(user, st.pr.author)) continue;
    out.push_back(user);
  }
  return out;
}

core::Result<engine::PolicyVerdict> decide_policy(forge::ForgeClient& forge, const forge::RepoRef& repo, int64_t pr,
                                                  const std::string& head_sha, const engine::PolicyFacts& facts) {
  if (facts.rules.empty()) return engine::PolicyVerdict{};
  auto st = forge.pull_request_state(repo, pr);
  if (!st) return st.error();
  auto in_team = [&forge](const std::string& team, const std::string& login) -> core::Result<bool> {
    auto slash = team.find('/');  // "org/team", checked when the rules were read
    return forge.team_member(team.substr(0, slash), team.substr(slash + 1), login);
  };
  return engine::evaluate_policy(facts, st->pr.author, head_approvers(*st, head_sha), in_team);
}

core::Result<engine::PolicyVerdict> check_change_policy(engine::Workspace& ws, const config::Repo& cfg,
                                                        const std::string& url, const std::string& base,
                                                        const std::string& head, forge::ForgeClient& forge,
                                                        const forge::RepoRef& repo, int64_t pr) {
  auto git = ws.mirrors->open(url);
  if (!git) return git.error();
  auto rules = engine::load_ownership(*git, engine::deploy_branch_commit(*git, cfg, base), cfg);
  if (rules.empty()) return engine::PolicyVerdict{};
  engine::TenantRepos tenants(*ws.mirrors, cfg.egress);
  auto dopt = engine::discover_options(engine::cluster_specs(cfg), ws.cache_root, *ws.renderer, &cfg);
  dopt.open_source = [&tenants](const std::string& u) { return tenants.open(u); };
  dopt.cache = ws.doc_cache;
  auto change = engine::discover_change(*git, base, head, dopt);
  if (!change) return change.error();
  return decide_policy(forge, repo, pr, head, engine::policy_facts(std::move(rules), change->changed, change->affected));
}

forge::CommitStatus policy_status(const engine::PolicyVerdict& v) {
  forge::CommitStatus st;
  st.context = kPolicyContext;
  st.state = v.state == engine::PolicyVerdict::State::success   ? forge::CommitState::success
             : v.state == engine::PolicyVerdict::State::pending ? forge::CommitState::pending
                                                                : forge::CommitState::failure;
  st.description = forge::one_line(v.description(), 140);
  return st;
}

}  // namespace helmgate::runners
