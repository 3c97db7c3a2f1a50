#include "runners/command_runner.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <span>
#include <sstream>
#include <vector>

#include "core/json.hpp"
#include "core/markdown.hpp"
#include "core/private_files.hpp"
#include "forge/forge.hpp"
#include "git/repository.hpp"
#include "runners/pr_apply_gate.hpp"
#include "runners/preview_pipeline.hpp"

namespace helmgate::runners {

bool is_dns1123_label(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return s.front() != '-' && s.back() != '-';
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

class CommandJob;
// A command's handler: a member of CommandJob, which holds the job, the forge client and the replies.
using Handler = queue::RunOutcome (CommandJob::*)(const Command&);
struct CommandEntry {
  CommandSpec spec;
  Handler handler;
};
// The registry, defined after CommandJob (its handlers are CommandJob's members).
std::span<const CommandEntry> commands();
// nullptr for a verb the registry does not hold.
const CommandEntry* find_command(std::string_view verb);

class CommandJob {
  friend std::span<const CommandEntry> commands();

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
      reply(mention() +
            ", thank you for your interest! helmgate commands can only be run by people with "
            "write permission on this repository, so I did not run your command. A maintainer can run it "
            "for you.");
      return done("refused",
                  "user " + spec_.author + " has " + std::string(forge::to_string(*perm)) + " permission");
    }
    react(forge::Reaction::eyes);
    Command cmd = parse_command(spec_.command);
    const CommandEntry* entry = cmd.known() ? find_command(cmd.verb) : nullptr;
    if (entry == nullptr) {
      reply(mention() + ", I did not understand that command; these are the ones I know:\n\n" + command_help());
      react(forge::Reaction::confused);
      return done("unknown", "");
    }
    return (this->*entry->handler)(cmd);
  }

  // The handlers of the registry (help here, preview, replay and apply below).
  queue::RunOutcome help(const Command&) {
    reply(command_help());
    react(forge::Reaction::plus_one);
    return done("help", "");
  }

 private:
  // The commenter as a mention when the login is one a forge gives ([A-Za-z0-9._-]); anything else
  // (a forged job spec) only as code.
  std::string mention() const {
    bool plain = !spec_.author.empty() && spec_.author.size() <= 64 &&
                 std::all_of(spec_.author.begin(), spec_.author.end(), [](char c) {
                   return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
                 });
    return plain ? "@" + spec_.author : core::md::code(spec_.author);
  }

  // A cluster named in a command, usable only when it is a DNS-1123 label configured for this
  // repository; nullptr otherwise (and the reply does not repeat the name).
  const config::Cluster* checked_cluster(const std::string& name) const {
    if (!is_dns1123_label(name)) return nullptr;
    return find_cluster(name);
  }
  static bool is_job_id(const std::string& s) {
    if (s.empty() || s.size() > 64) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == ':';
    });
  }

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
  // pinned: that commit instead of the PR ref (an apply uses the head whose approval was checked; the
  // mirror must hold it).
  core::Result<std::pair<std::string, std::string>> pr_commits(const std::string& pinned = {}) {
    const std::string url =
        repo_cfg_ != nullptr && !repo_cfg_->url.empty() ? config::fetch_url(*repo_cfg_) : spec_.clone_url;
    core::ensure_private_dir(s_.cache_root);
    core::ensure_private_dir(s_.cache_root + "/mirrors");
    git::MirrorCache mirrors(s_.cache_root + "/mirrors");
    auto repo = mirrors.open(url);
    if (!repo) return repo.error();
    auto head = repo->resolve(pinned.empty() ? "refs/pull/" + std::to_string(spec_.pr) + "/head" : pinned);
    if (head && !pinned.empty() && *head != pinned)
      return core::Error(core::errc::not_found, "commit " + pinned + " resolves to " + *head);
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
    // A repository without configured clusters discovers them (Flux layout): there the name only has
    // to be a DNS-1123 label; the preview compares it with the discovered names and nothing else.
    const bool discovered = repo_cfg_ == nullptr || repo_cfg_->clusters.empty();
    if (!cmd.arg.empty() && (discovered ? !is_dns1123_label(cmd.arg) : checked_cluster(cmd.arg) == nullptr)) {
      reply(mention() + ", that is not a cluster of this repository, so nothing was previewed. " +
            configured_clusters());
      react(forge::Reaction::confused);
      return done("unknown cluster", "");
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
    if (!job->has_value() || (*job)->spec.repo != spec_.repo || (*job)->spec.forge != spec_.forge) {
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

  std::string configured_clusters() const {
    std::string names;
    if (repo_cfg_ != nullptr) {
      for (const auto& c : repo_cfg_->clusters) names += (names.empty() ? "" : ", ") + core::md::code(c.name);
    }
    return names.empty() ? std::string("No cluster is configured for it.") : "Its clusters: " + names + ".";
  }

  queue::RunOutcome apply(const Command& cmd) {
    if (!cmd.arg.empty() && checked_cluster(cmd.arg) == nullptr) {
      reply(mention() + ", that is not a cluster of this repository, so nothing was applied. " +
            configured_clusters());
      react(forge::Reaction::confused);
      return done("unknown cluster", "");
    }
    std::vector<config::Cluster> targets;
    if (repo_cfg_ != nullptr) {
      for (const auto& c : repo_cfg_->clusters) {
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
    auto gate = check_pr_apply(*forge_, repo_, spec_.pr);
    if (!gate) return queue::RunOutcome::retry_later("command: checking the approval: " + gate.error().message);
    if (!gate->allowed) {
      reply(mention() + ", nothing was applied: " + gate->reason + ".");
      react(forge::Reaction::confused);
      return done("refused", gate->reason);
    }
    // Exactly the commit whose approval was checked, whatever the PR's ref points to by now.
    auto commits = pr_commits(gate->head_sha);
    if (!commits) return queue::RunOutcome::retry_later("command: " + commits.error().message);
    core::JobSpec a = spec_;
    a.kind = std::string(core::kind::apply);
    a.ref = "refs/heads/" + repo_cfg_->deploy_branch;
    a.before = commits->second;
    a.after = gate->head_sha;
    a.pinned_sha = gate->head_sha;
    // Just the allowed clusters, each applied regardless of auto_apply (a person asked) and of `requires`
    // naming clusters outside this apply.
    for (const auto& c : targets) a.clusters.push_back(c.name);
    ctx_.log("apply of " + gate->head_sha + " approved by " + gate->approver);
    SpecContext actx(ctx_, a);
    if (!s_.deps.apply) return queue::RunOutcome::fail("command: no apply runner");
    auto out = s_.deps.apply(actx);
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

// The comment commands, in help order. A new command: one entry here and its handler in CommandJob.
std::span<const CommandEntry> commands() {
  static const std::array<CommandEntry, 4> kCommands = {{
      {{"preview", CommandArg::optional, "cluster",
        "render and validate this PR again (one cluster: a comment of its own)"},
       &CommandJob::preview},
      {{"apply", CommandArg::optional, "cluster",
        "apply this PR's head before merge, to clusters configured with `allow_pr_apply: true`, once the PR is "
        "approved and mergeable"},
       &CommandJob::apply},
      {{"replay", CommandArg::required, "job-id",
        "run a job of this repository again (ids are in helmgate's comments and `helmgate jobs`)"},
       &CommandJob::replay},
      {{"help", CommandArg::none, "", "this list"}, &CommandJob::help},
  }};
  return kCommands;
}

const CommandEntry* find_command(std::string_view verb) {
  for (const auto& c : commands()) {
    if (c.spec.verb == verb) return &c;
  }
  return nullptr;
}

// A bare "/helmgate" asks for this verb.
constexpr std::string_view kBareVerb = "help";

}  // namespace

std::vector<CommandSpec> command_specs() {
  std::vector<CommandSpec> out;
  for (const auto& c : commands()) out.push_back(c.spec);
  return out;
}

Command parse_command(std::string_view line) {
  Command c;
  c.text = std::string(line);
  std::istringstream in{std::string(line)};
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  if (words.empty() || words[0] != "/helmgate") return c;
  const CommandEntry* entry = find_command(words.size() == 1 ? kBareVerb : std::string_view(words[1]));
  if (entry == nullptr) return c;
  const size_t args = words.size() <= 2 ? 0 : words.size() - 2;
  const size_t max_args = entry->spec.arg == CommandArg::none ? 0 : 1;
  const size_t min_args = entry->spec.arg == CommandArg::required ? 1 : 0;
  if (args > max_args || args < min_args) return c;
  c.verb = std::string(entry->spec.verb);
  if (args == 1) c.arg = words[2];
  return c;
}

std::string command_help() {
  std::string out =
      "**helmgate commands** (for users with write permission on this repository):\n\n"
      "| Command | What it does |\n|---|---|\n";
  for (const auto& c : commands()) {
    std::string usage = "/helmgate " + std::string(c.spec.verb);
    if (c.spec.arg == CommandArg::optional) usage += " [" + std::string(c.spec.arg_name) + "]";
    if (c.spec.arg == CommandArg::required) usage += " <" + std::string(c.spec.arg_name) + ">";
    out += "| `" + usage + "` | " + std::string(c.spec.help) + " |\n";
  }
  return out;
}

queue::Runner make_command_runner(const config::Config& cfg, ForgeAccess forges, CommandRunnerDeps deps) {
  auto s = std::make_shared<Shared>();
  s->cfg = cfg;
  s->forges = std::move(forges);
  s->deps = std::move(deps);
  s->cache_root = default_cache_dir();
  return [s](queue::JobContext& ctx) { return CommandJob(*s, ctx).run(); };
}

}  // namespace helmgate::runners
