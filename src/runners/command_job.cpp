// The job of one `/helmgate ...` comment: who may run it, the replies and reactions, and the handlers
// that stay with the PR itself (help, preview).
#include <algorithm>
#include <cctype>

#include "core/json.hpp"
#include "core/markdown.hpp"
#include "engine/workspace.hpp"
#include "runners/command_job.hpp"
#include "runners/tools.hpp"

namespace helmgate::runners::command {

queue::RunOutcome CommandJob::run() {
  if (auto failed = open(s_.cfg, s_.forges, "command")) return *failed;
  if (spec.pr <= 0) return queue::RunOutcome::fail("command: the job names no pull request");

  auto perm = client->user_permission(repo_ref, spec.author);
  if (!perm)
    return queue::RunOutcome::retry_later("command: permission of " + spec.author + ": " +
                                          perm.error().message);
  if (*perm != forge::Permission::write && *perm != forge::Permission::admin) {
    react(forge::Reaction::confused);
    reply(mention() +
          ", thank you for your interest! helmgate commands can only be run by people with "
          "write permission on this repository, so I did not run your command. A maintainer can run it "
          "for you.");
    return done("refused",
                "user " + spec.author + " has " + std::string(forge::to_string(*perm)) + " permission");
  }
  react(forge::Reaction::eyes);
  Command cmd = parse_command(spec.command);
  const CommandEntry* entry = cmd.known() ? find_command(cmd.verb) : nullptr;
  if (entry == nullptr) {
    reply(mention() + ", I did not understand that command; these are the ones I know:\n\n" + command_help());
    react(forge::Reaction::confused);
    return done("unknown", "");
  }
  return (this->*entry->handler)(cmd);
}

queue::RunOutcome CommandJob::help(const Command&) {
  reply(command_help());
  react(forge::Reaction::plus_one);
  return done("help", "");
}

std::string CommandJob::mention() const {
  bool plain = !spec.author.empty() && spec.author.size() <= 64 &&
               std::all_of(spec.author.begin(), spec.author.end(), [](char c) {
                 return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
               });
  return plain ? "@" + spec.author : core::md::code(spec.author);
}

const config::Cluster* CommandJob::checked_cluster(const std::string& name) const {
  if (!is_dns1123_label(name)) return nullptr;
  return find_cluster(name);
}

const config::Cluster* CommandJob::find_cluster(const std::string& name) const {
  if (repo_cfg == nullptr) return nullptr;
  for (const auto& c : repo_cfg->clusters) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string CommandJob::configured_clusters() const {
  std::string names;
  if (repo_cfg != nullptr) {
    for (const auto& c : repo_cfg->clusters) names += (names.empty() ? "" : ", ") + core::md::code(c.name);
  }
  return names.empty() ? std::string("No cluster is configured for it.") : "Its clusters: " + names + ".";
}

queue::RunOutcome CommandJob::done(const std::string& outcome, const std::string& detail) {
  rapidjson::StringBuffer sb;
  core::json::Writer w(sb);
  w.StartObject();
  core::json::kv(w, "command", spec.command);
  core::json::kv(w, "author", spec.author);
  core::json::kv(w, "outcome", outcome);
  core::json::kv(w, "detail", detail);
  w.EndObject();
  ctx.log("command " + outcome + (detail.empty() ? "" : ": " + detail));
  return queue::RunOutcome::ok(sb.GetString());
}

void CommandJob::react(forge::Reaction r) {
  if (spec.comment_id == 0) return;
  if (auto x = client->react(repo_ref, spec.comment_id, r); !x) ctx.log("reaction: " + x.error().message);
}

void CommandJob::reply(const std::string& body) {
  if (ctx.superseded()) return;
  if (auto c = client->create_comment(repo_ref, spec.pr, body); !c) ctx.log("reply: " + c.error().message);
}

core::Result<std::pair<std::string, std::string>> CommandJob::pr_commits(const std::string& pinned) {
  // The worker's mirror cache: the same mirror the preview or apply that follows reads.
  auto repo = s_.deps.workspace->mirrors->open(engine::repository_url(repo_cfg, spec.clone_url));
  if (!repo) return repo.error();
  auto head = repo->resolve(pinned.empty() ? "refs/pull/" + std::to_string(spec.pr) + "/head" : pinned);
  if (head && !pinned.empty() && *head != pinned)
    return core::Error(core::errc::not_found, "commit " + pinned + " resolves to " + *head);
  if (!head)
    return core::Error(core::errc::not_found,
                       "PR #" + std::to_string(spec.pr) + " head: " + head.error().message);
  std::string branch = repo_cfg != nullptr ? repo_cfg->deploy_branch : "main";
  auto base = repo->merge_base(*head, branch);
  if (!base)
    return core::Error(core::errc::not_found,
                       "merge base of the PR head and " + branch + ": " + base.error().message);
  return std::make_pair(*head, *base);
}

queue::RunOutcome CommandJob::preview(const Command& cmd) {
  // A repository without configured clusters discovers them (Flux layout): there the name only has
  // to be a DNS-1123 label; the preview compares it with the discovered names and nothing else.
  const bool discovered = repo_cfg == nullptr || repo_cfg->clusters.empty();
  if (!cmd.arg.empty() && (discovered ? !is_dns1123_label(cmd.arg) : checked_cluster(cmd.arg) == nullptr)) {
    reply(mention() + ", that is not a cluster of this repository, so nothing was previewed. " +
          configured_clusters());
    react(forge::Reaction::confused);
    return done("unknown cluster", "");
  }
  auto commits = pr_commits();
  if (!commits) return queue::RunOutcome::retry_later("command: " + commits.error().message);
  core::JobSpec p = spec;
  p.kind = std::string(core::kind::preview);
  p.head_sha = commits->first;
  p.base_sha = commits->second;
  // The cluster asked for travels typed, as the preview's only cluster.
  p.clusters.clear();
  if (!cmd.arg.empty()) p.clusters.push_back(cmd.arg);
  SpecContext pctx(ctx, p);
  auto out = s_.deps.preview(pctx);
  if (out.status == queue::RunOutcome::Status::succeeded) react(forge::Reaction::plus_one);
  return out;
}

}  // namespace helmgate::runners::command

namespace helmgate::runners {

queue::Runner make_command_runner(const config::Config& cfg, ForgeAccess forges, CommandRunnerDeps deps) {
  auto s = std::make_shared<command::Shared>();
  s->cfg = cfg;
  s->forges = std::move(forges);
  if (deps.workspace == nullptr) deps.workspace = runner_workspace({}, {}, {}, 1);
  s->deps = std::move(deps);
  return [s](queue::JobContext& ctx) { return command::CommandJob(*s, ctx).run(); };
}

}  // namespace helmgate::runners
