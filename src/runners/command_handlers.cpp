// The handlers that reach beyond the PR's comment: replaying a job of the queue, applying a PR's head.
#include <algorithm>
#include <cctype>

#include "core/markdown.hpp"
#include "runners/command_job.hpp"
#include "runners/pr_apply_gate.hpp"
#include "runners/preview_policy.hpp"
#include "engine/workspace.hpp"

namespace helmgate::runners::command {

namespace {

bool is_job_id(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == ':';
  });
}

}  // namespace

queue::RunOutcome CommandJob::replay(const Command& cmd) {
  if (!is_job_id(cmd.arg)) {
    reply(mention() + ", that is not a job id, so nothing was replayed.");
    react(forge::Reaction::confused);
    return done("not found", "");
  }
  auto url = queue::RedisUrl::parse(s_.deps.redis_url);
  if (!url) return queue::RunOutcome::fail("command: redis url: " + url.error().message);
  queue::Queue q(*url, s_.deps.queue);
  auto job = q.get(cmd.arg, false);
  if (!job)
    return queue::RunOutcome::retry_later("command: reading job " + cmd.arg + ": " + job.error().message);
  // Only this repository's jobs: a PR comment must not reach into another repository's deploys.
  if (!job->has_value() || (*job)->spec.repo != spec.repo || (*job)->spec.forge != spec.forge) {
    reply(mention() + ", there is no job " + core::md::code(cmd.arg) +
          " of this repository (it may have expired).");
    react(forge::Reaction::confused);
    return done("not found", cmd.arg);
  }
  auto id = q.replay(cmd.arg);
  if (!id) {
    reply(mention() + ", job " + core::md::code(cmd.arg) + " cannot be replayed now: " +
          core::md::text(id.error().message));
    react(forge::Reaction::confused);
    return done("refused", id.error().message);
  }
  reply("Replaying " + core::md::text((*job)->spec.kind) + " job " + core::md::code(cmd.arg) + " as job " +
        core::md::code(*id) + " (asked by " + mention() + ").");
  react(forge::Reaction::plus_one);
  return done("replayed", *id);
}

queue::RunOutcome CommandJob::apply(const Command& cmd) {
  if (!cmd.arg.empty() && checked_cluster(cmd.arg) == nullptr) {
    reply(mention() + ", that is not a cluster of this repository, so nothing was applied. " +
          configured_clusters());
    react(forge::Reaction::confused);
    return done("unknown cluster", "");
  }
  std::vector<config::Cluster> targets;
  if (repo_cfg != nullptr) {
    for (const auto& c : repo_cfg->clusters) {
      if ((cmd.arg.empty() || c.name == cmd.arg) && c.allow_pr_apply) targets.push_back(c);
    }
  }
  if (targets.empty()) {
    reply(mention() + ", " +
          (cmd.arg.empty() ? std::string("no cluster of this repository") : "cluster " + core::md::code(cmd.arg)) +
          " accepts applies from a pull request (`allow_pr_apply: true` in helmgate's configuration), so "
          "nothing "
          "was applied. Merge the PR to deploy it.");
    react(forge::Reaction::confused);
    return done("refused", "no cluster allows a PR apply");
  }
  // Decided on the forge's state (mergeable, reviews, reviewers' permissions): the head approved by
  // a writer is the one applied, pinned by its sha.
  auto gate = check_pr_apply(*client, repo_ref, spec.pr);
  if (!gate) return queue::RunOutcome::retry_later("command: checking the approval: " + gate.error().message);
  if (!gate->allowed) {
    reply(mention() + ", nothing was applied: " + gate->reason + ".");
    react(forge::Reaction::confused);
    return done("refused", gate->reason);
  }
  // Exactly the commit whose approval was checked, whatever the PR's ref points to by now.
  auto commits = pr_commits(gate->head_sha);
  if (!commits) return queue::RunOutcome::retry_later("command: " + commits.error().message);
  // Ownership, as the preview's helmgate/policy: the owners approved this head, every release stays
  // where its team may deploy (re-read now, so an approval given since the last push counts).
  auto policy = check_change_policy(*s_.deps.workspace, *repo_cfg, engine::repository_url(repo_cfg, spec.clone_url),
                                    commits->second, gate->head_sha, *client, repo_ref, spec.pr);
  if (!policy) return queue::RunOutcome::retry_later("command: checking ownership: " + policy.error().message);
  if (policy->applies) {
    if (auto r = client->set_status(repo_ref, gate->head_sha, policy_status(*policy)); !r) ctx.log("helmgate/policy: " + r.error().message);
  }
  if (policy->state != engine::PolicyVerdict::State::success) {
    reply(mention() + ", nothing was applied: " + core::md::text(policy->description()) + ".\n\n" + policy->markdown());
    react(forge::Reaction::confused);
    return done("refused", policy->description());
  }
  core::JobSpec a = spec;
  a.kind = std::string(core::kind::apply);
  a.ref = "refs/heads/" + repo_cfg->deploy_branch;
  a.before = commits->second;
  a.after = gate->head_sha;
  a.pinned_sha = gate->head_sha;
  // Just the allowed clusters, each applied regardless of auto_apply (a person asked) and of `requires`
  // naming clusters outside this apply.
  for (const auto& c : targets) a.clusters.push_back(c.name);
  ctx.log("apply of " + gate->head_sha + " approved by " + gate->approver);
  SpecContext actx(ctx, a);
  if (!s_.deps.apply) return queue::RunOutcome::fail("command: no apply runner");
  auto out = s_.deps.apply(actx);
  react(out.status == queue::RunOutcome::Status::succeeded ? forge::Reaction::rocket
                                                           : forge::Reaction::confused);
  return out;
}

}  // namespace helmgate::runners::command
