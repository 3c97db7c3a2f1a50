#include "runners/apply_runner.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "apply/decision.hpp"
#include "apply/helm.hpp"
#include "apply/install_action.hpp"
#include "apply/state.hpp"
#include "apply/uninstall_action.hpp"
#include "apply/upgrade_action.hpp"
#include "core/json.hpp"
#include "core/private_files.hpp"
#include "core/redact.hpp"
#include "diff/normalize.hpp"
#include "git/repository.hpp"
#include "kube/client.hpp"
#include "kube/kubeconfig.hpp"
#include "release/release.hpp"
#include "render/renderer.hpp"
#include "runners/tools.hpp"
#include "runners/validate.hpp"

namespace helmgate::runners {

namespace fs = std::filesystem;

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool zero_commit(const std::string& sha) {
  return sha.empty() || sha.find_first_not_of('0') == std::string::npos;
}

struct ReleaseOutcome {
  std::string id, release_name, namespace_;
  std::string action;   // install | upgrade | uninstall | none
  std::string outcome;  // installed | upgraded | unchanged | uninstalled | failed | kept
  std::string reason;
  int revision = 0;
  int64_t ms = 0;
};

struct ClusterOutcome {
  std::string name;
  std::string status;  // applied | failed | superseded | blocked | busy | skipped | unreachable
  std::string reason;
  std::string base;    // the commit the affected set was computed from
  bool retry = false;  // worth running the job again
  std::vector<ReleaseOutcome> releases;
};

class ApplyJob;

struct Shared {
  config::Config cfg;
  ApplyRunnerOptions opt;
  std::unique_ptr<render::Renderer> renderer;
  std::unique_ptr<git::MirrorCache> mirrors;
  std::shared_ptr<release::DocCache> doc_cache = release::make_doc_cache();
  queue::RedisUrl redis_url;
  bool redis_ok = false;
  std::string redis_error;
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
  ClusterOutcome apply_cluster(const config::Cluster& c);
  void apply_releases(const config::Cluster& c, const std::string& base, const apply::HelmEnv& env, ClusterOutcome& out);
  const release::Discovery& discovery_at(const std::string& commit);
  bool is_ancestor(const std::string& a, const std::string& b) const {
    auto mb = repo_->merge_base(a, b);
    return mb.ok() && *mb == a;
  }
  core::Result<std::string> kubeconfig_file(const config::Cluster& c);
  std::string to_json(const std::vector<ClusterOutcome>& all) const;

  Shared& s_;
  queue::JobContext& ctx_;
  const core::JobSpec& spec_;
  const config::Repo* repo_cfg_ = nullptr;
  std::optional<git::Repository> repo_;
  std::string after_;
  std::string work_;
  std::unique_ptr<apply::ApplyState> state_;
  std::mutex log_mu_, disc_mu_;
  std::map<std::string, std::shared_future<std::shared_ptr<release::Discovery>>> discoveries_;
  std::vector<release::ClusterSpec> cluster_specs_;
};

const release::Discovery& ApplyJob::discovery_at(const std::string& commit) {
  std::shared_future<std::shared_ptr<release::Discovery>> f;
  std::optional<std::promise<std::shared_ptr<release::Discovery>>> mine;
  {
    // Discovered once per commit for every cluster; the other cluster threads wait for that one.
    std::lock_guard lock(disc_mu_);
    if (auto it = discoveries_.find(commit); it != discoveries_.end()) {
      f = it->second;
    } else {
      mine.emplace();
      f = mine->get_future().share();
      discoveries_.emplace(commit, f);
    }
  }
  if (mine) {
    release::DiscoverOptions dopt;
    dopt.clusters = cluster_specs_;
    dopt.work_root = s_.opt.cache_root + "/work/trees";
    dopt.cache = s_.doc_cache;
    dopt.self_urls = {repo_cfg_->url};
    auto* renderer = s_.renderer.get();
    dopt.kustomize = [renderer](const std::string& dir, const std::string& key) { return renderer->kustomize_build(dir, key); };
    auto d = std::make_shared<release::Discovery>();
    if (!zero_commit(commit)) *d = release::discover(*repo_, commit, dopt);
    mine->set_value(d);
  }
  return *f.get();
}

core::Result<std::string> ApplyJob::kubeconfig_file(const config::Cluster& c) {
  if (!c.kubeconfig.empty()) return c.kubeconfig;
  if (c.kubeconfig_env.empty()) {
    return core::Error(core::errc::invalid_config, "cluster " + c.name + " has neither kubeconfig nor kubeconfig_env");
  }
  std::string text = env_or(c.kubeconfig_env.c_str(), "");
  if (text.empty()) {
    return core::Error(core::errc::invalid_config, "cluster " + c.name + ": environment variable " + c.kubeconfig_env +
                                                       " (kubeconfig_env) is not set");
  }
  std::string path = work_ + "/" + c.name + ".kubeconfig";
  // Credentials: written owner-only, removed with the job's work directory.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return core::Error(core::errc::internal, "cannot write " + path);
  ssize_t n = ::write(fd, text.data(), text.size());
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size())) return core::Error(core::errc::internal, "cannot write " + path);
  return path;
}

ClusterOutcome ApplyJob::apply_cluster(const config::Cluster& c) {
  ClusterOutcome out;
  out.name = c.name;
  if (!c.auto_apply && spec_.replay_of.empty()) {
    out.status = "skipped";
    out.reason = "auto_apply is off for this cluster (a replay of this job applies it)";
    return out;
  }
  auto kc_path = kubeconfig_file(c);
  if (!kc_path) return {c.name, "failed", kc_path.error().message, "", false, {}};
  kube::KubeconfigPolicy tls_policy;
  tls_policy.allow_insecure_tls = c.allow_insecure_tls;
  auto kc = kube::load_kubeconfig_file(*kc_path, {}, tls_policy);
  if (!kc) return {c.name, "failed", kc.error().message, "", false, {}};
  {
    kube::ClientOptions ko;
    ko.connect_timeout = s_.opt.connect_timeout;
    ko.request_timeout = s_.opt.connect_timeout * 2;
    kube::Client probe(c.name, *kc, ko);
    if (auto v = probe.server_version(); !v) {
      return {c.name, "unreachable", v.error().message, "", true, {}};
    }
  }

  std::string token = ctx_.job().id + ":" + std::to_string(::getpid()) + ":" + std::to_string(now_ms());
  auto deadline = std::chrono::steady_clock::now() + s_.opt.lock_wait;
  for (;;) {
    auto got = state_->try_lock(spec_.repo, c.name, token, s_.opt.lock_ttl);
    if (!got) return {c.name, "failed", got.error().message, "", true, {}};
    if (*got) break;
    if (std::chrono::steady_clock::now() > deadline) {
      return {c.name, "busy", "another apply holds cluster " + c.name + "; this one runs again later", "", true, {}};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  struct Unlock {
    ApplyJob* job;
    const std::string& cluster;
    const std::string& token;
    ~Unlock() { (void)job->state_->unlock(job->spec_.repo, cluster, token); }
  } unlock{this, c.name, token};

  auto last = state_->last_applied(spec_.repo, c.name);
  if (!last) return {c.name, "failed", last.error().message, "", true, {}};
  std::string base = spec_.before;
  if (last->has_value() && (*last)->commit != after_) {
    const std::string& applied = (*last)->commit;
    if (is_ancestor(after_, applied)) {
      out.status = "superseded";
      out.reason = "cluster " + c.name + " already runs " + applied.substr(0, 12) + ", which is newer than " + after_.substr(0, 12);
      return out;
    }
    // Changes between what the cluster runs and this commit, even those of pushes not processed yet.
    if (is_ancestor(applied, after_)) base = applied;
  }
  if (!zero_commit(base) && !repo_->resolve(base).ok()) base.clear();
  out.base = base;

  apply::HelmEnv env;
  env.helm = s_.opt.helm;
  env.kubeconfig = *kc_path;
  env.cluster = c.name;
  env.work_dir = work_ + "/helm-" + c.name;
  env.timeout = s_.opt.helm_timeout;
  apply_releases(c, base, env, out);

  bool failed = std::any_of(out.releases.begin(), out.releases.end(), [](const ReleaseOutcome& r) { return r.outcome == "failed"; });
  if (out.status.empty()) out.status = failed ? "failed" : "applied";
  if (out.status == "failed") out.retry = true;
  if (out.status == "applied" || out.status == "failed") {
    auto rec = state_->record_applied(spec_.repo, c.name, {after_, !failed, ctx_.job().id, now_ms()});
    if (!rec) {
      out.status = "failed";
      out.reason = rec.error().message;
      out.retry = true;
    }
  }
  return out;
}

void ApplyJob::apply_releases(const config::Cluster& c, const std::string& base, const apply::HelmEnv& env,
                              ClusterOutcome& out) {
  const auto& head_d = discovery_at(after_);
  const auto& base_d = discovery_at(zero_commit(base) ? std::string() : base);
  std::vector<std::string> changed;
  if (zero_commit(base)) {
    for (const auto& r : head_d.releases) changed.insert(changed.end(), r.inputs.begin(), r.inputs.end());
  } else {
    auto ch = repo_->changed_paths(base, after_);
    if (!ch) {
      out.status = "failed";
      out.reason = ch.error().message;
      return;
    }
    changed = std::move(*ch);
  }
  std::vector<release::Affected> aff;
  for (auto& a : release::affected(base_d, head_d, changed)) {
    const release::Release* any = a.head != nullptr ? a.head : a.base;
    if (any != nullptr && any->cluster == c.name) aff.push_back(std::move(a));
  }
  for (const auto& p : head_d.problems) {
    if (p.cluster == c.name) log("[" + c.name + "] discovery problem: " + p.message);
  }
  if (aff.empty()) return;

  auto listed = apply::list_releases(env);
  if (!listed) {
    out.status = "failed";
    out.reason = listed.error().message;
    return;
  }
  auto digests = state_->digests(spec_.repo, c.name);
  if (!digests) {
    out.status = "failed";
    out.reason = digests.error().message;
    return;
  }
  diff::Redactor redactor;
  for (const auto& a : aff) {
    for (const auto* r : {a.base, a.head}) {
      if (r != nullptr) {
        for (const auto& sv : r->sensitive) redactor.add_sensitive(sv);
      }
    }
  }

  for (const auto& a : aff) {
    if (ctx_.superseded()) {
      out.status = "superseded";
      out.reason = "a newer job superseded this one while it ran";
      return;
    }
    const release::Release* r = a.head != nullptr ? a.head : a.base;
    ReleaseOutcome ro{r->id(), r->release_name, r->target_namespace, "none", "", "", 0, 0};
    auto finish = [&](std::string outcome, std::string reason) {
      ro.outcome = std::move(outcome);
      ro.reason = redactor.scrub(std::move(reason));
      log("[" + c.name + "] " + ro.id + ": " + ro.action + " -> " + ro.outcome + (ro.reason.empty() ? "" : " (" + ro.reason + ")"));
      out.releases.push_back(ro);
    };
    if (a.head == nullptr && a.head_failed) {
      finish("failed", "its manifests could not be read at " + after_.substr(0, 12) + "; not uninstalled");
      continue;
    }
    if (!a.head_sync_fails.empty()) {
      // Flux fails the sync of a path with a malformed file as a whole: nothing of it is applied.
      const auto* p = a.head_problems.empty() ? nullptr : &a.head_problems.front();
      finish("failed", "path " + a.head_sync_fails + " cannot be read in full at " + after_.substr(0, 12) +
                           (p == nullptr ? std::string() : " (" + p->where.file + (p->where.line > 0 ? ":" + std::to_string(p->where.line) : "") + ": " + p->message + ")") +
                           "; not applied, as Flux fails the sync of the whole path");
      continue;
    }
    apply::Desired desired;
    apply::ReleaseSpec rs;
    rs.id = r->id();
    rs.release_name = r->release_name;
    rs.namespace_ = r->target_namespace;
    if (a.head != nullptr) {
      desired.present = true;
      if (!r->errors.empty()) {
        finish("failed", r->errors.front().message);
        continue;
      }
      if (!r->post_render_kustomization.empty()) {
        finish("failed", "postRenderers are not applied by helmgate yet; apply this release with Flux or without postRenderers");
        continue;
      }
      render::RenderRequest req;
      req.release_name = r->release_name;
      req.namespace_ = r->target_namespace;
      req.values_json = r->values_json;
      req.kube_version = r->kube_version;
      req.chart.shown = r->chart.describe();
      req.egress = repo_cfg_->egress;  // the render pulls the chart first: a refused URL stops the apply
      switch (r->chart.kind) {
        case release::ChartKind::repo_dir:
        case release::ChartKind::remote_git: {
          core::Result<std::string> dir = core::Error(core::errc::internal, "");
          if (r->chart.kind == release::ChartKind::repo_dir) {
            dir = repo_->materialize(after_, r->chart.path, s_.opt.cache_root + "/work/trees");
          } else {
            auto other = s_.mirrors->open_untrusted(r->chart.url, repo_cfg_->egress);
            if (!other) {
              dir = other.error();
            } else {
              auto rev = other->resolve(r->chart.version);
              if (!rev) rev = other->resolve("origin/" + r->chart.version);
              dir = rev ? other->materialize(*rev, r->chart.path, s_.opt.cache_root + "/work/trees") : core::Result<std::string>(rev.error());
            }
          }
          if (!dir) {
            finish("failed", "chart " + r->chart.describe() + ": " + dir.error().message);
            continue;
          }
          req.chart.origin = render::ChartOrigin::local_dir;
          req.chart.dir = *dir;
          req.chart.content_id = r->chart.kind == release::ChartKind::repo_dir ? r->chart.content_id : fs::path(*dir).filename().string();
          rs.chart_args = {*dir};
          break;
        }
        case release::ChartKind::helm_repository:
          req.chart.origin = render::ChartOrigin::helm_repository;
          req.chart.url = r->chart.url;
          req.chart.chart = r->chart.name;
          req.chart.version = r->chart.version;
          rs.chart_args = {r->chart.name, "--repo", r->chart.url};
          if (!r->chart.version.empty()) rs.chart_args.insert(rs.chart_args.end(), {"--version", r->chart.version});
          break;
        case release::ChartKind::oci:
          req.chart.origin = render::ChartOrigin::oci;
          req.chart.url = r->chart.url;
          req.chart.version = r->chart.version;
          rs.chart_args = {r->chart.url};
          if (!r->chart.version.empty()) rs.chart_args.insert(rs.chart_args.end(), {"--version", r->chart.version});
          break;
      }
      auto rendered = s_.renderer->render(req);
      if (!rendered) {
        finish("failed", rendered.error().message);
        continue;
      }
      if (auto bad = manifest_identity_problem(rendered->manifest); !bad.empty()) {
        finish("failed", "refused: the rendered manifest has an object that breaks Kubernetes' naming rules: " + bad);
        continue;
      }
      // The typed values count too (as Flux's values digest does): "1.10" -> 1.10 upgrades even when the
      // chart renders both the same.
      desired.digest = core::sha256_hex(r->release_name + "\n" + r->target_namespace + "\n" + rendered->manifest +
                                        "\nvalues:" + core::sha256_hex(r->values_json));
      rs.values_json = r->values_json;
      rs.digest = desired.digest;
      // helm-operator v1 had no such switch: its namespaces were created alongside, so create them.
      rs.create_namespace = r->api_version.rfind("helm.fluxcd.io/", 0) == 0;
      if (r->spec) {
        const auto& doc = *static_cast<const YAML::Node*>(r->spec.get());
        try {
          YAML::Node spec = doc["spec"];
          YAML::Node install = spec.IsMap() ? spec["install"] : YAML::Node();
          YAML::Node cn = install.IsMap() ? install["createNamespace"] : YAML::Node();
          if (cn.IsScalar()) rs.create_namespace = cn.as<bool>();
        } catch (const YAML::Exception&) {
        }
      }
    }
    apply::Observed observed;
    if (auto it = listed->find(r->target_namespace + "/" + r->release_name); it != listed->end()) {
      observed.installed = true;
      observed.status = it->second.status;
    }
    if (auto it = digests->find(r->id()); it != digests->end()) observed.applied_digest = it->second;
    auto decision = apply::determine_release_action(desired, observed, c.prune);
    ro.action = std::string(apply::to_string(decision.action));
    apply::ActionResult result;
    switch (decision.action) {
      case apply::Action::none:
        finish(desired.present ? "unchanged" : "kept", decision.reason);
        continue;
      case apply::Action::install: result = apply::InstallAction(rs).run(env); break;
      case apply::Action::upgrade: result = apply::UpgradeAction(rs).run(env); break;
      case apply::Action::uninstall:
        result = apply::UninstallAction(r->id(), r->release_name, r->target_namespace).run(env);
        break;
    }
    ro.revision = result.revision;
    ro.ms = result.elapsed.count();
    if (result.outcome != "failed") {
      auto st = state_->set_digest(spec_.repo, c.name, r->id(), decision.action == apply::Action::uninstall ? "" : desired.digest);
      if (!st) log("[" + c.name + "] " + r->id() + ": could not record the applied digest: " + st.error().message);
    }
    finish(result.outcome, result.outcome == "failed" ? result.reason : decision.reason);
  }
}

std::string ApplyJob::to_json(const std::vector<ClusterOutcome>& all) const {
  rapidjson::StringBuffer sb;
  core::json::Writer w(sb);
  w.StartObject();
  core::json::kv(w, "repo", spec_.repo);
  core::json::kv(w, "commit", after_);
  core::json::kv(w, "before", spec_.before);
  core::json::write_str(w, "clusters");
  w.StartArray();
  for (const auto& c : all) {
    w.StartObject();
    core::json::kv(w, "name", c.name);
    core::json::kv(w, "status", c.status);
    core::json::kv(w, "reason", c.reason);
    core::json::kv(w, "base", c.base);
    core::json::write_str(w, "releases");
    w.StartArray();
    for (const auto& r : c.releases) {
      w.StartObject();
      core::json::kv(w, "id", r.id);
      core::json::kv(w, "release", r.release_name);
      core::json::kv(w, "namespace", r.namespace_);
      core::json::kv(w, "action", r.action);
      core::json::kv(w, "outcome", r.outcome);
      core::json::kv(w, "reason", r.reason);
      core::json::kv(w, "revision", static_cast<int64_t>(r.revision));
      core::json::kv(w, "ms", r.ms);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return sb.GetString();
}

queue::RunOutcome ApplyJob::run() {
  if (!s_.redis_ok) return queue::RunOutcome::fail("apply: " + s_.redis_error);
  repo_cfg_ = s_.cfg.find_repo(spec_.forge, spec_.repo);
  if (repo_cfg_ == nullptr) {
    return queue::RunOutcome::fail("apply: repository " + spec_.repo + " (forge " + spec_.forge +
                                   ") is not in the configuration; add it under repos:");
  }
  if (spec_.ref != "refs/heads/" + repo_cfg_->deploy_branch) {
    return queue::RunOutcome::ok(R"({"skipped":"not the deploy branch"})");
  }
  if (repo_cfg_->clusters.empty()) {
    return queue::RunOutcome::fail("apply: repository " + spec_.repo +
                                   " has no clusters configured; apply needs each cluster's kubeconfig (repos[].clusters)");
  }
  if (s_.opt.helm.empty()) return queue::RunOutcome::fail("apply: helm not found: set HELMGATE_HELM or put helm on PATH");
  // The configured repository is fetched with its credentials from the environment (config::fetch_url);
  // jobs carry no URL for it. A job's own clone_url (another location, e.g. a local mirror) is used as is.
  const bool configured = !repo_cfg_->url.empty() &&
                          (spec_.clone_url.empty() || git::canonical_url(spec_.clone_url) == git::canonical_url(repo_cfg_->url));
  auto repo = s_.mirrors->open(configured ? config::fetch_url(*repo_cfg_) : spec_.clone_url);
  if (!repo) return queue::RunOutcome::retry_later("apply: " + repo.error().message);
  repo_.emplace(std::move(*repo));
  auto after = repo_->resolve(spec_.after);
  if (!after) return queue::RunOutcome::fail("apply: commit " + spec_.after + ": " + after.error().message);
  after_ = *after;
  if (!spec_.pinned_sha.empty() && after_ != spec_.pinned_sha) {
    return queue::RunOutcome::fail("apply: commit " + spec_.after + " is " + after_ + ", not the checked head " +
                                   spec_.pinned_sha + "; nothing applied");
  }
  work_ = s_.opt.cache_root + "/work/apply-" + core::sha256_hex(ctx_.job().id + std::to_string(now_ms())).substr(0, 16);
  std::error_code ec;
  fs::create_directories(work_, ec);
  fs::permissions(work_, fs::perms::owner_all, ec);
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code e;
      fs::remove_all(dir, e);
    }
  } cleanup{work_};
  state_ = std::make_unique<apply::ApplyState>(s_.redis_url, s_.cfg.queue.key_prefix);
  for (const auto& c : repo_cfg_->clusters) cluster_specs_.push_back({c.name, c.paths, c.kube_version});

  // Every cluster in its own thread; one with `requires` first waits for those clusters' threads.
  std::map<std::string, std::shared_future<ClusterOutcome>> futures;
  std::vector<std::string> order;
  std::set<std::string> started;
  std::vector<const config::Cluster*> pending;
  for (const auto& c : repo_cfg_->clusters) pending.push_back(&c);
  while (!pending.empty()) {
    size_t before = pending.size();
    for (auto it = pending.begin(); it != pending.end();) {
      const config::Cluster* c = *it;
      bool ready = std::all_of(c->requires_clusters.begin(), c->requires_clusters.end(),
                               [&](const std::string& r) { return started.count(r) != 0; });
      if (!ready) {
        ++it;
        continue;
      }
      std::vector<std::pair<std::string, std::shared_future<ClusterOutcome>>> deps;
      for (const auto& r : c->requires_clusters) deps.emplace_back(r, futures[r]);
      futures[c->name] = std::async(std::launch::async, [this, c, deps] {
        for (const auto& [name, f] : deps) {
          const ClusterOutcome& d = f.get();
          auto rec = state_->last_applied(spec_.repo, name);
          bool clean = rec.ok() && rec->has_value() && (*rec)->clean &&
                       ((*rec)->commit == after_ || is_ancestor(after_, (*rec)->commit));
          if (!clean) {
            return ClusterOutcome{c->name, "blocked",
                                  "requires cluster " + name + " to have applied " + after_.substr(0, 12) +
                                      " cleanly first (it is " + d.status + ")",
                                  "", true, {}};
          }
        }
        return apply_cluster(*c);
      }).share();
      started.insert(c->name);
      order.push_back(c->name);
      it = pending.erase(it);
    }
    if (pending.size() == before) {
      // Requirements naming clusters that do not exist (or a cycle): say so instead of waiting forever.
      for (const auto* c : pending) {
        std::promise<ClusterOutcome> p;
        p.set_value({c->name, "blocked", "requires clusters that are not configured for this repository (or a cycle)", "", false, {}});
        futures[c->name] = p.get_future().share();
        order.push_back(c->name);
      }
      pending.clear();
    }
  }
  std::vector<ClusterOutcome> all;
  for (const auto& name : order) all.push_back(futures[name].get());
  std::string json = to_json(all);
  log("apply result: " + json);
  bool superseded_everywhere = std::all_of(all.begin(), all.end(), [](const ClusterOutcome& c) { return c.status == "superseded"; });
  std::string summary;
  bool retry = false;
  for (const auto& c : all) {
    if (c.status == "applied" || c.status == "superseded" || c.status == "skipped") continue;
    summary += (summary.empty() ? "" : "; ") + c.name + " " + c.status + (c.reason.empty() ? "" : ": " + c.reason);
    for (const auto& r : c.releases) {
      if (r.outcome == "failed") summary += "; " + r.id + ": " + r.reason;
    }
    retry = retry || c.retry;
  }
  if (superseded_everywhere) log("every cluster already runs a newer commit: this apply is superseded");
  if (summary.empty()) return queue::RunOutcome::ok(json);
  return retry ? queue::RunOutcome::retry_later(summary) : queue::RunOutcome::fail(summary);
}

}  // namespace

queue::Runner make_apply_runner(const config::Config& cfg, ApplyRunnerOptions options) {
  auto s = std::make_shared<Shared>();
  s->cfg = cfg;
  if (options.helm.empty()) options.helm = find_tool("HELMGATE_HELM", "helm");
  if (options.kubectl.empty()) options.kubectl = find_tool("HELMGATE_KUBECTL", "kubectl");
  if (options.cache_root.empty()) options.cache_root = default_cache_dir();
  s->opt = options;
  render::Options ro;
  ro.helm = options.helm;
  ro.kubectl = options.kubectl;
  ro.work_dir = options.cache_root + "/work";
  ro.cache_dir = options.cache_root + "/renders";
  ro.concurrency = options.render_concurrency;
  s->renderer = std::make_unique<render::Renderer>(ro);
  core::ensure_private_dir(options.cache_root);
  core::ensure_private_dir(options.cache_root + "/mirrors");
  s->mirrors = std::make_unique<git::MirrorCache>(options.cache_root + "/mirrors");
  auto url = queue::RedisUrl::parse(cfg.redis_url);
  s->redis_ok = url.ok();
  if (url) {
    s->redis_url = *url;
  } else {
    s->redis_error = "redis url: " + url.error().message;
  }
  return [s](queue::JobContext& ctx) { return ApplyJob(*s, ctx).run(); };
}

}  // namespace helmgate::runners
