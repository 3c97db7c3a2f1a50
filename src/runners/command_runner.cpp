#include "runners/command_runner.hpp"

#include <algorithm>
#include <map>
#include <sstream>
#include <vector>

#include "core/json.hpp"
#include "core/private_files.hpp"
#include "forge/forge.hpp"
#include "git/repository.hpp"
#include "http/client.hpp"
#include "runners/apply_report.hpp"
#include "runners/apply_runner.hpp"
#include "runners/preview_pipeline.hpp"

namespace helmgate::runners {

Command parse_command(std::string_view line) {
  Command c;
  c.text = std::string(line);
  std::istringstream in{std::string(line)};
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  if (words.empty() || words[0] != "/helmgate") return c;
  if (words.size() == 1) {
    c.kind = Command::Kind::help;
    return c;
  }
  const std::string& verb = words[1];
  size_t max_args = 0;
  if (verb == "help") {
    c.kind = Command::Kind::help;
  } else if (verb == "preview" || verb == "apply") {
    c.kind = verb == "preview" ? Command::Kind::preview : Command::Kind::apply;
    max_args = 1;
  } else if (verb == "replay") {
    c.kind = Command::Kind::replay;
    max_args = 1;
    if (words.size() < 3) c.kind = Command::Kind::unknown;
  }
  if (words.size() > 2 + max_args) c.kind = Command::Kind::unknown;
  if (c.kind != Command::Kind::unknown && words.size() > 2) c.arg = words[2];
  return c;
}

std::string command_help() {
  return "**helmgate commands** (for users with write permission on this repository):\n\n"
         "| Command | What it does |\n|---|---|\n"
         "| `/helmgate preview [cluster]` | render and validate this PR again (one cluster: a comment of its "
         "own) |\n"
         "| `/helmgate apply [cluster]` | apply this PR's head before merge, to clusters configured with "
         "`allow_pr_apply: true`, once the PR is approved and mergeable |\n"
         "| `/helmgate replay <job-id>` | run a job of this repository again (ids are in helmgate's comments "
         "and "
         "`helmgate jobs`) |\n"
         "| `/helmgate help` | this list |\n";
}

namespace {

// The command job seen as another kind of job (a preview, an apply): same id, log and superseded
// flag, another spec.
class SpecContext : public queue::JobContext {
 public:
  SpecContext(queue::JobContext& inner, core::JobSpec spec) : inner_(inner), rec_(inner.job()) {
    rec_.spec = std::move(spec);
  }
  const queue::JobRecord& job() const override { return rec_; }
  void log(std::string_view line) override { inner_.log(line); }
  bool superseded() const override { return inner_.superseded(); }

 private:
  queue::JobContext& inner_;
  queue::JobRecord rec_;
};

struct Shared {
  config::Config cfg;
  ForgeAccess forges;
  CommandRunnerDeps deps;
  std::string cache_root;
};

class CommandJob {
 public:
  CommandJob(Shared& s, queue::JobContext& ctx) : s_(s), ctx_(ctx), spec_(ctx.job().spec) {}

  queue::RunOutcome run() {
    auto client = s_.forges.client(spec_.forge);
    if (!client) return queue::RunOutcome::fail("command: " + client.error().message);
    forge_ = *client;
    auto ref = forge::RepoRef::parse(spec_.repo);
    if (!ref)
      return queue::RunOutcome::fail("command: repository name " + spec_.repo + ": " + ref.error().message);
    repo_ = *ref;
    repo_cfg_ = s_.cfg.find_repo(spec_.forge, spec_.repo);
    if (spec_.pr <= 0) return queue::RunOutcome::fail("command: the job names no pull request");

    auto perm = forge_->user_permission(repo_, spec_.author);
    if (!perm)
      return queue::RunOutcome::retry_later("command: permission of " + spec_.author + ": " +
                                            perm.error().message);
    if (*perm != forge::Permission::write && *perm != forge::Permission::admin) {
      react(forge::Reaction::confused);
      reply("@" + spec_.author +
            ", thank you for your interest! helmgate commands can only be run by people with "
            "write permission on this repository, so I did not run `" +
            one_line(spec_.command) + "`. A maintainer can run it for you.");
      return done("refused",
                  "user " + spec_.author + " has " + std::string(forge::to_string(*perm)) + " permission");
    }
    react(forge::Reaction::eyes);
    Command cmd = parse_command(spec_.command);
    switch (cmd.kind) {
      case Command::Kind::help:
        reply(command_help());
        react(forge::Reaction::plus_one);
        return done("help", "");
      case Command::Kind::unknown:
        reply("@" + spec_.author + ", I do not know `" + one_line(spec_.command) + "`.\n\n" + command_help());
        react(forge::Reaction::confused);
        return done("unknown", "");
      case Command::Kind::preview:
        return preview(cmd);
      case Command::Kind::replay:
        return replay(cmd);
      case Command::Kind::apply:
        return apply(cmd);
    }
    return done("unknown", "");
  }

 private:
  static std::string one_line(const std::string& s) { return forge::one_line(s, 200); }

  queue::RunOutcome done(const std::string& outcome, const std::string& detail) {
    rapidjson::StringBuffer sb;
    core::json::Writer w(sb);
    w.StartObject();
    core::json::kv(w, "command", spec_.command);
    core::json::kv(w, "author", spec_.author);
    core::json::kv(w, "outcome", outcome);
    core::json::kv(w, "detail", detail);
    w.EndObject();
    ctx_.log("command " + outcome + (detail.empty() ? "" : ": " + detail));
    return queue::RunOutcome::ok(sb.GetString());
  }

  void react(forge::Reaction r) {
    if (spec_.comment_id == 0) return;
    if (auto x = forge_->react(repo_, spec_.comment_id, r); !x) ctx_.log("reaction: " + x.error().message);
  }
  void reply(const std::string& body) {
    if (ctx_.superseded()) return;
    if (auto c = forge_->create_comment(repo_, spec_.pr, body); !c) ctx_.log("reply: " + c.error().message);
  }

  const config::Cluster* find_cluster(const std::string& name) const {
    if (repo_cfg_ == nullptr) return nullptr;
    for (const auto& c : repo_cfg_->clusters) {
      if (c.name == name) return &c;
    }
    return nullptr;
  }

  // The PR's head and where it left the deploy branch, read from Git (forges publish refs/pull/N/head).
  core::Result<std::pair<std::string, std::string>> pr_commits() {
    const std::string url =
        repo_cfg_ != nullptr && !repo_cfg_->url.empty() ? config::fetch_url(*repo_cfg_) : spec_.clone_url;
    core::ensure_private_dir(s_.cache_root);
    core::ensure_private_dir(s_.cache_root + "/mirrors");
    git::MirrorCache mirrors(s_.cache_root + "/mirrors");
    auto repo = mirrors.open(url);
    if (!repo) return repo.error();
    auto head = repo->resolve("refs/pull/" + std::to_string(spec_.pr) + "/head");
    if (!head)
      return core::Error(core::errc::not_found,
                         "PR #" + std::to_string(spec_.pr) + " head: " + head.error().message);
    std::string branch = repo_cfg_ != nullptr ? repo_cfg_->deploy_branch : "main";
    auto base = repo->merge_base(*head, branch);
    if (!base)
      return core::Error(core::errc::not_found,
                         "merge base of the PR head and " + branch + ": " + base.error().message);
    return std::make_pair(*head, *base);
  }

  queue::RunOutcome preview(const Command& cmd) {
    if (!cmd.arg.empty() && repo_cfg_ != nullptr && !repo_cfg_->clusters.empty() &&
        find_cluster(cmd.arg) == nullptr) {
      reply("@" + spec_.author + ", there is no cluster `" + cmd.arg + "` for this repository.");
      react(forge::Reaction::confused);
      return done("unknown cluster", cmd.arg);
    }
    auto commits = pr_commits();
    if (!commits) return queue::RunOutcome::retry_later("command: " + commits.error().message);
    core::JobSpec p = spec_;
    p.kind = std::string(core::kind::preview);
    p.head_sha = commits->first;
    p.base_sha = commits->second;
    SpecContext pctx(ctx_, p);
    auto out = s_.deps.preview(pctx);
    if (out.status == queue::RunOutcome::Status::succeeded) react(forge::Reaction::plus_one);
    return out;
  }

  queue::RunOutcome replay(const Command& cmd) {
    auto url = queue::RedisUrl::parse(s_.deps.redis_url);
    if (!url) return queue::RunOutcome::fail("command: redis url: " + url.error().message);
    queue::Queue q(*url, s_.deps.queue);
    auto job = q.get(cmd.arg, false);
    if (!job)
      return queue::RunOutcome::retry_later("command: reading job " + cmd.arg + ": " + job.error().message);
    // Only this repository's jobs: a PR comment must not reach into another repository's deploys.
    if (!job->has_value() || (*job)->spec.repo != spec_.repo || (*job)->spec.forge != spec_.forge) {
      reply("@" + spec_.author + ", there is no job `" + cmd.arg +
            "` of this repository (it may have expired).");
      react(forge::Reaction::confused);
      return done("not found", cmd.arg);
    }
    auto id = q.replay(cmd.arg);
    if (!id) {
      reply("@" + spec_.author + ", job `" + cmd.arg + "` cannot be replayed now: " + id.error().message);
      react(forge::Reaction::confused);
      return done("refused", id.error().message);
    }
    reply("Replaying " + (*job)->spec.kind + " job `" + cmd.arg + "` as job `" + *id + "` (asked by @" +
          spec_.author + ").");
    react(forge::Reaction::plus_one);
    return done("replayed", *id);
  }

  // Approved and mergeable, read straight from the forge's REST API (the same paths on GitHub and
  // Gitea); "" when both hold, else the reason.
  std::string pr_blocker() {
    const config::Forge* f = s_.cfg.find_forge(spec_.forge);
    if (f == nullptr || f->token.empty()) return "approval cannot be checked without the forge's token";
    std::string base = f->api_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    if (f->kind == core::ForgeKind::gitea && base.find("/api/v1") == std::string::npos) base += "/api/v1";
    const http::Headers h = {{"Authorization", "token " + f->token}, {"Accept", "application/json"}};
    const std::string pr_url = base + "/repos/" + spec_.repo + "/pulls/" + std::to_string(spec_.pr);
    auto pr = http::request("GET", pr_url, h);
    if (!pr || pr->status != 200) return "the pull request could not be read";
    core::json::Document doc;
    if (core::json::parse(doc, pr->body)) return "the pull request could not be read";
    if (core::json::get_string(doc, "state").value_or("") != "open") return "the pull request is not open";
    if (!core::json::get_bool(doc, "mergeable").value_or(false)) return "the pull request is not mergeable";
    auto reviews = http::request("GET", pr_url + "/reviews", h);
    if (!reviews || reviews->status != 200) return "its reviews could not be read";
    core::json::Document rd;
    if (core::json::parse(rd, reviews->body) || !rd.IsArray()) return "its reviews could not be read";
    std::map<std::string, std::string> latest;  // reviewer -> last state
    for (const auto& r : rd.GetArray()) {
      auto who = core::json::get_string(r, "user.login");
      auto st = core::json::get_string(r, "state");
      if (who && st && *st != "COMMENTED" && *st != "COMMENT") latest[*who] = *st;
    }
    bool approved =
        std::any_of(latest.begin(), latest.end(), [](const auto& kv) { return kv.second == "APPROVED"; });
    bool changes = std::any_of(latest.begin(), latest.end(), [](const auto& kv) {
      return kv.second == "CHANGES_REQUESTED" || kv.second == "REQUEST_CHANGES";
    });
    if (!approved || changes) return "the pull request is not approved";
    return "";
  }

  queue::RunOutcome apply(const Command& cmd) {
    std::vector<config::Cluster> targets;
    if (repo_cfg_ != nullptr) {
      for (const auto& c : repo_cfg_->clusters) {
        if ((cmd.arg.empty() || c.name == cmd.arg) && c.allow_pr_apply) targets.push_back(c);
      }
    }
    if (targets.empty()) {
      reply("@" + spec_.author + ", " +
            (cmd.arg.empty() ? std::string("no cluster of this repository") : "cluster `" + cmd.arg + "`") +
            " accepts applies from a pull request (`allow_pr_apply: true` in helmgate's configuration), so "
            "nothing "
            "was applied. Merge the PR to deploy it.");
      react(forge::Reaction::confused);
      return done("refused", "no cluster allows a PR apply");
    }
    if (auto why = pr_blocker(); !why.empty()) {
      reply("@" + spec_.author + ", nothing was applied: " + why + ".");
      react(forge::Reaction::confused);
      return done("refused", why);
    }
    auto commits = pr_commits();
    if (!commits) return queue::RunOutcome::retry_later("command: " + commits.error().message);
    // The apply runner on a configuration of just the allowed clusters, each applied regardless of
    // auto_apply (a person asked) and of `requires` naming clusters outside this apply.
    config::Config cfg = s_.cfg;
    for (auto& r : cfg.repos) {
      if (r.name != repo_cfg_->name || r.forge != repo_cfg_->forge) continue;
      for (auto& c : targets) {
        c.auto_apply = true;
        std::erase_if(c.requires_clusters, [&](const std::string& n) {
          return std::none_of(targets.begin(), targets.end(),
                              [&](const config::Cluster& t) { return t.name == n; });
        });
      }
      r.clusters = targets;
    }
    core::JobSpec a = spec_;
    a.kind = std::string(core::kind::apply);
    a.ref = "refs/heads/" + repo_cfg_->deploy_branch;
    a.before = commits->second;
    a.after = commits->first;
    SpecContext actx(ctx_, a);
    auto runner = with_apply_report(make_apply_runner(cfg), cfg, s_.forges);
    auto out = runner(actx);
    react(out.status == queue::RunOutcome::Status::succeeded ? forge::Reaction::rocket
                                                             : forge::Reaction::confused);
    return out;
  }

  Shared& s_;
  queue::JobContext& ctx_;
  const core::JobSpec& spec_;
  const config::Repo* repo_cfg_ = nullptr;
  forge::ForgeClient* forge_ = nullptr;
  forge::RepoRef repo_;
};

}  // namespace

queue::Runner make_command_runner(const config::Config& cfg, ForgeAccess forges, CommandRunnerDeps deps) {
  auto s = std::make_shared<Shared>();
  s->cfg = cfg;
  s->forges = std::move(forges);
  s->deps = std::move(deps);
  s->cache_root = default_cache_dir();
  return [s](queue::JobContext& ctx) { return CommandJob(*s, ctx).run(); };
}

}  // namespace helmgate::runners
