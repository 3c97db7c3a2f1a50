#include "engine/workspace.hpp"
#include "runners/apply_runner.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <optional>

#include "core/private_files.hpp"
#include "engine/change.hpp"
#include "engine/cluster.hpp"
#include "engine/discovery.hpp"
#include "git/repository.hpp"
#include "kube/client.hpp"
#include "queue/apply_state.hpp"
#include "runners/apply_clusters.hpp"
#include "runners/apply_lock.hpp"
#include "runners/apply_remediation.hpp"
#include "runners/apply_runner_releases.hpp"
#include "runners/tools.hpp"

namespace helmgate::runners {

namespace fs = std::filesystem;
using engine::ClusterResult;
using engine::ClusterStatus;

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

struct Shared {
  config::Config cfg;
  ApplyRunnerOptions opt;
  std::shared_ptr<engine::Workspace> ws;
  core::Result<queue::RedisUrl> redis_url = core::Error(core::errc::invalid_config, "no redis url");
};

class ApplyJob {
 public:
  ApplyJob(Shared& s, queue::JobContext& ctx) : s_(s), ctx_(ctx), spec_(ctx.job().spec) {}
  queue::RunOutcome run();

 private:
  void log(const std::string& line) {
    std::lock_guard lock(log_mu_);
    ctx_.log(line);
  }
  ClusterResult apply_cluster(const config::Cluster& c);
  bool is_ancestor(const std::string& a, const std::string& b) const {
    auto mb = repo_->merge_base(a, b);
    return mb.ok() && *mb == a;
  }
  // A cluster this job may not wait for (requires): applied cleanly at after_ or newer?
  bool applied_cleanly(const std::string& cluster) {
    auto rec = state_->last_applied(spec_.repo, cluster);
    return rec.ok() && rec->has_value() && (*rec)->clean && ((*rec)->commit == after_ || is_ancestor(after_, (*rec)->commit));
  }

  Shared& s_;
  queue::JobContext& ctx_;
  const core::JobSpec& spec_;
  const config::Repo* repo_cfg_ = nullptr;
  std::optional<git::Repository> repo_;
  std::string after_, work_;
  std::unique_ptr<queue::ApplyState> state_;
  std::mutex log_mu_;
  std::optional<engine::Discoveries> discoveries_;  // of repo_, each commit once for every cluster
  engine::OwnershipRules rules_;  // from the deploy branch (a PR apply's head never names its own rules)
};

ClusterResult ApplyJob::apply_cluster(const config::Cluster& c) {
  if (!c.auto_apply && spec_.replay_of.empty() && spec_.clusters.empty()) {
    return cluster_result(c.name, ClusterStatus::skipped, "auto_apply is off for this cluster (a replay of this job applies it)", false);
  }
  auto open = engine::open_cluster(c, engine::Credential::deploy, work_);
  if (!open) return cluster_result(c.name, ClusterStatus::failed, open.error().message, false);
  {
    kube::ClientOptions ko;
    ko.connect_timeout = s_.opt.connect_timeout;
    ko.request_timeout = s_.opt.connect_timeout * 2;
    kube::Client probe(c.name, open->kubeconfig, ko);
    if (auto v = probe.server_version(); !v) return cluster_result(c.name, ClusterStatus::unreachable, v.error().message, true);
  }

  std::string token = ctx_.job().id + ":" + std::to_string(::getpid()) + ":" + std::to_string(now_ms());
  auto held = acquire_lock(*state_, spec_.repo, c.name, token, s_.opt.lock_wait, s_.opt.lock_ttl);
  if (!held) return cluster_result(c.name, ClusterStatus::failed, held.error().message, true);
  if (*held == nullptr) {
    return cluster_result(c.name, ClusterStatus::busy, "another apply holds cluster " + c.name + "; this one runs again later", true);
  }

  auto last = state_->last_applied(spec_.repo, c.name);
  if (!last) return cluster_result(c.name, ClusterStatus::failed, last.error().message, true);
  if (!spec_.remediate.empty()) {
    if (auto skip = remediation_skip(c.name, after_, *last)) return *skip;
  }
  std::string base = spec_.before;
  if (last->has_value() && (*last)->commit != after_) {
    const std::string& applied = (*last)->commit;
    if (is_ancestor(after_, applied)) {
      return cluster_result(c.name, ClusterStatus::superseded,
                            "cluster " + c.name + " already runs " + applied.substr(0, 12) + ", which is newer than " + after_.substr(0, 12),
                            false);
    }
    // Changes between what the cluster runs and this commit, even those of pushes not processed yet.
    if (is_ancestor(applied, after_)) base = applied;
  }
  if (!engine::zero_commit(base) && !repo_->resolve(base).ok()) base.clear();

  auto env = open->helm_env(s_.ws->helm, work_ + "/helm-" + c.name, s_.opt.helm_timeout);
  ClusterResult out = cluster_result(c.name, ClusterStatus::applied, "", false);
  out.base = base;
  ClusterReleases in{c, *repo_cfg_, spec_, *repo_, *discoveries_, *s_.ws, *state_, open->kubeconfig, after_, &rules_,
                     [this] { return ctx_.superseded(); }, [this](const std::string& line) { log(line); }};
  apply_releases(in, base, env, out);
  if (out.status == ClusterStatus::applied && out.any_release_failed()) out.status = ClusterStatus::failed;
  if (out.status == ClusterStatus::applied || out.status == ClusterStatus::failed) {
    auto rec = state_->record_applied(spec_.repo, c.name, {after_, !out.any_release_failed(), ctx_.job().id, now_ms()});
    if (!rec) {
      out.status = ClusterStatus::failed;
      out.reason = rec.error().message;
      out.retry = true;
    }
  }
  return out;
}

queue::RunOutcome ApplyJob::run() {
  if (!s_.redis_url) return queue::RunOutcome::fail("apply: redis url: " + s_.redis_url.error().message);
  repo_cfg_ = s_.cfg.find_repo(spec_.forge, spec_.repo);
  if (repo_cfg_ == nullptr) {
    return queue::RunOutcome::fail("apply: repository " + spec_.repo + " (forge " + spec_.forge +
                                   ") is not in the configuration; add it under repos:");
  }
  if (spec_.ref != "refs/heads/" + repo_cfg_->deploy_branch) return queue::RunOutcome::ok(R"({"skipped":"not the deploy branch"})");
  auto clusters = clusters_to_apply(*repo_cfg_, spec_.clusters);
  if (!clusters) return queue::RunOutcome::fail("apply: " + clusters.error().message);
  if (s_.ws->helm.empty()) return queue::RunOutcome::fail("apply: helm not found: set HELMGATE_HELM or put helm on PATH");
  // The configured repository is fetched with its credentials from the environment (config::fetch_url);
  // jobs carry no URL for it. A job's own clone_url (another location, e.g. a local mirror) is used as is.
  const bool configured = !repo_cfg_->url.empty() &&
                          (spec_.clone_url.empty() || git::canonical_url(spec_.clone_url) == git::canonical_url(repo_cfg_->url));
  auto repo = s_.ws->mirrors->open(configured ? config::fetch_url(*repo_cfg_) : spec_.clone_url);
  if (!repo) return queue::RunOutcome::retry_later("apply: " + repo.error().message);
  repo_.emplace(std::move(*repo));
  auto dopt = engine::discover_options(engine::cluster_specs(*repo_cfg_), s_.ws->cache_root, *s_.ws->renderer, repo_cfg_);
  dopt.cache = s_.ws->doc_cache;
  discoveries_.emplace(*repo_, std::move(dopt));
  auto after = repo_->resolve(spec_.after);
  if (!after) return queue::RunOutcome::fail("apply: commit " + spec_.after + ": " + after.error().message);
  after_ = *after;
  if (!spec_.pinned_sha.empty() && after_ != spec_.pinned_sha) {
    return queue::RunOutcome::fail("apply: commit " + spec_.after + " is " + after_ + ", not the checked head " +
                                   spec_.pinned_sha + "; nothing applied");
  }
  rules_ = engine::load_ownership(*repo_, engine::deploy_branch_commit(*repo_, *repo_cfg_, spec_.pinned_sha.empty() ? after_ : ""), *repo_cfg_);
  work_ = s_.ws->cache_root + "/work/apply-" + core::sha256_hex(ctx_.job().id + std::to_string(now_ms())).substr(0, 16);
  core::ensure_private_dir(work_);
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code e;
      fs::remove_all(dir, e);
    }
  } cleanup{work_};
  state_ = std::make_unique<queue::ApplyState>(*s_.redis_url, s_.cfg.queue.key_prefix);

  engine::ApplyResult result{spec_.repo, after_, spec_.before, {}};
  result.clusters = run_in_order(*clusters, [this](const config::Cluster& c) { return apply_cluster(c); },
                                 [this](const std::string& name) { return applied_cleanly(name); }, after_);
  std::string json = result.to_json();
  log("apply result: " + json);
  auto outcome = apply_outcome(result);
  if (s_.opt.report && !ctx_.superseded()) s_.opt.report(ctx_, result, outcome);
  return outcome;
}

}  // namespace

queue::Runner make_apply_runner(const config::Config& cfg, ApplyRunnerOptions options) {
  auto s = std::make_shared<Shared>();
  s->cfg = cfg;
  s->ws = options.workspace != nullptr ? options.workspace
                                       : runner_workspace(options.helm, options.kubectl, options.cache_root,
                                                          options.render_concurrency);
  s->opt = std::move(options);
  s->redis_url = queue::RedisUrl::parse(cfg.redis_url);
  return [s](queue::JobContext& ctx) { return ApplyJob(*s, ctx).run(); };
}

}  // namespace helmgate::runners
