#include "runners/preview_pipeline.hpp"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>
#include <utility>

#include "core/egress.hpp"
#include "core/private_files.hpp"
#include "core/redact.hpp"
#include "diff/normalize.hpp"
#include "diff/scope.hpp"
#include "git/repository.hpp"
#include "release/release.hpp"
#include "engine/chart_request.hpp"
#include "engine/discovery.hpp"
#include "engine/redaction.hpp"
#include "release/sources.hpp"
#include "runners/tools.hpp"
#include "engine/volatile_verdict.hpp"

namespace fs = std::filesystem;

namespace helmgate::runners {

namespace {

std::string tool(const std::string& given, const char* env, const char* name) {
  return given.empty() ? find_tool(env, name) : given;
}

diff::Problem to_problem(const release::Problem& p) {
  return {p.message, p.where.file, p.where.line, p.where.column};
}

render::Renderer::Stats minus(const render::Renderer::Stats& a, const render::Renderer::Stats& b) {
  return {a.renders - b.renders, a.cache_hits - b.cache_hits, a.kustomize_runs - b.kustomize_runs};
}

// Which revision the change is compared with when none is given: where head left the deploy branch.
core::Result<std::string> default_base(const git::Repository& repo, const std::string& head,
                                       const std::optional<config::Repo>& cfg) {
  std::vector<std::string> candidates;
  if (cfg) candidates = {cfg->deploy_branch, "origin/" + cfg->deploy_branch};
  for (const char* c : {"main", "origin/main", "master", "origin/master"}) candidates.emplace_back(c);
  for (const auto& c : candidates) {
    if (auto mb = repo.merge_base(head, c); mb.ok()) return *mb;
  }
  return core::Error(core::errc::not_found,
                     "no deploy branch (main/master) in " + repo.path() + " to compare with; pass a base revision");
}

// One chart to render for one side of one affected release, or why it cannot be prepared.
struct Prepared {
  std::optional<render::RenderRequest> request;
  std::string error;
};

class Pipeline {
 public:
  Pipeline(const PreviewRequest& req, git::MirrorCache& mirrors, git::Repository& repo, render::Renderer& renderer,
           std::string root)
      : req_(req), mirrors_(mirrors), repo_(repo), renderer_(renderer), root_(std::move(root)),
        egress_(req.repo_config ? req.repo_config->egress : req.egress) {}

  core::Result<diff::Report> run(const std::string& base, const std::string& head,
                                 const std::vector<release::ClusterSpec>& clusters, size_t& releases_total,
                                 std::vector<HeadManifest>* head_manifests) {
    diff::Report report;
    report.repo = core::strip_userinfo(req_.repo);
    // The repository's fetch credential must not surface either (a Git error quoting a URL, ...).
    if (req_.repo_config && !req_.repo_config->token.empty()) redactor_.add_sensitive(req_.repo_config->token);
    report.base = base;
    report.head = head;
    for (const auto& c : clusters) report.clusters.push_back(c.name);

    auto changed = repo_.changed_paths(base, head);
    if (!changed) return changed.error();

    auto dopt = engine::discover_options(clusters, root_, renderer_, req_.repo_config ? &*req_.repo_config : nullptr);
    dopt.open_source = [this](const std::string& url) { return open_tenant(url); };
    dopt.remote_urls = repo_.remote_urls();  // without self_urls: a GitRepository naming a remote is this repository
    // --source mappings first: they win over repos[].sources naming the same source (discover_options added those).
    std::vector<release::SourceMapping> cli;
    for (const auto& text : req_.sources) {
      auto local = cli_mapping(text);
      if (!local) return local.error();
      auto m = release::parse_source_mapping(*local, "--source");
      if (!m) return m.error();
      cli.push_back(std::move(*m));
    }
    dopt.sources.insert(dopt.sources.begin(), cli.begin(), cli.end());
    auto base_f = std::async(std::launch::async, [&] { return release::discover(repo_, base, dopt); });
    release::Discovery head_d = release::discover(repo_, head, dopt);
    release::Discovery base_d = base_f.get();
    releases_total = head_d.releases.size();
    for (const auto& p : head_d.problems) {
      auto pr = to_problem(p);
      pr.message = "[" + p.cluster + " @ head] " + pr.message;
      pr.cluster = p.cluster;
      report.errors.push_back(pr);
    }
    for (const auto& n : head_d.notes) {
      auto pr = to_problem(n);
      pr.message = "[" + n.cluster + "] " + pr.message;
      report.notes.push_back(pr);
    }
    if (changed->empty()) return report;

    auto aff = release::affected(base_d, head_d, *changed);
    report.unaffected = head_d.releases.size() > aff.size() ? head_d.releases.size() - aff.size() : 0;
    std::vector<std::string> sensitive_paths;
    if (req_.repo_config) sensitive_paths = req_.repo_config->sensitive_values;
    for (const auto& x : aff) {
      for (const auto* r : {x.base, x.head}) {
        if (r == nullptr) continue;
        engine::add_release_secrets(redactor_, *r, sensitive_paths);
      }
    }

    std::vector<render::RenderRequest> reqs;
    std::map<std::pair<size_t, bool>, size_t> job_of;
    std::map<std::pair<size_t, bool>, std::string> prep_errors;
    for (size_t i = 0; i < aff.size(); ++i) {
      for (bool is_head : {false, true}) {
        const release::Release* r = is_head ? aff[i].head : aff[i].base;
        if (r == nullptr || !r->errors.empty()) continue;
        // Schema validation as Flux's action would: at head an upgrade when the release was there at base,
        // else an install; the base state got there by one or the other.
        const bool skip_schema = !is_head    ? r->skip_schema_validation_install || r->skip_schema_validation_upgrade
                                 : aff[i].base ? r->skip_schema_validation_upgrade
                                               : r->skip_schema_validation_install;
        Prepared p = prepare(*r, is_head ? head : base, skip_schema);
        if (!p.request) {
          prep_errors[{i, is_head}] = p.error;
          continue;
        }
        job_of[{i, is_head}] = reqs.size();
        reqs.push_back(std::move(*p.request));
      }
    }
    if (!reqs.empty() && renderer_options_helm_missing_) {
      return core::Error(core::errc::invalid_config, "helm not found: set HELMGATE_HELM or put helm on PATH");
    }
    auto results = renderer_.render_all(reqs);
    // Two sides that render differently: is some of it content that changes on every render?
    std::vector<std::pair<size_t, size_t>> sides_of;
    for (size_t i = 0; i < aff.size(); ++i) {
      auto b = job_of.find({i, false}), h = job_of.find({i, true});
      if (b != job_of.end() && h != job_of.end()) sides_of.emplace_back(b->second, h->second);
    }
    engine::settle_volatility(renderer_, reqs, results, sides_of);
    // Scopes of the custom kinds the rendered CRDs declare: resources are keyed with their effective namespace.
    for (const auto& res : results) {
      if (res) scopes_.add_crds(res->manifest);
    }
    std::set<std::tuple<std::string, std::string, std::string>> at_base;  // cluster, release name, namespace
    for (const auto& r : base_d.releases) at_base.emplace(r.cluster, r.release_name, r.target_namespace);

    for (size_t i = 0; i < aff.size(); ++i) {
      report.releases.push_back(release_report(aff[i], i, results, job_of, prep_errors));
      const release::Release* h = aff[i].head;
      auto it = job_of.find({i, true});
      if (head_manifests == nullptr || h == nullptr || it == job_of.end() || !results[it->second]) continue;
      head_manifests->push_back({h->cluster, h->id(), h->release_name, h->target_namespace,
                                 results[it->second]->manifest, engine::creates_namespace(*h),
                                 at_base.count({h->cluster, h->release_name, h->target_namespace}) != 0});
    }
    return report;
  }

  const diff::Redactor& redactor() const { return redactor_; }

  // `--source NAME=/abs/dir`: a local directory the user named, inside the repository's working tree, becomes
  // its repository path (read at base and head like every other file); one outside is refused.
  core::Result<std::string> cli_mapping(const std::string& m) const {
    auto eq = m.find('=');
    if (eq == std::string::npos || eq + 1 >= m.size() || m[eq + 1] != '/') return m;
    const std::string workdir = repo_.workdir();
    std::error_code ec;
    fs::path dir = fs::weakly_canonical(m.substr(eq + 1), ec);
    fs::path root = workdir.empty() ? fs::path() : fs::weakly_canonical(workdir, ec);
    std::string rel = root.empty() ? std::string() : dir.lexically_relative(root).generic_string();
    if (root.empty() || rel.empty() || rel == ".." || rel.rfind("../", 0) == 0) {
      return core::Error(core::errc::bad_request,
                         "--source " + m + ": " + dir.string() + " is not inside the repository's working tree" +
                             (workdir.empty() ? std::string(" (the repository is bare)") : " (" + root.string() + ")") +
                             "; sources are read from the previewed commits, so the path must be in the repository");
    }
    return m.substr(0, eq + 1) + (rel == "." ? std::string() : rel);
  }

  // Tenant repositories are fetched once per preview: base and head discovery run concurrently and must
  // see the same commit of the same mirror.
  core::Result<std::shared_ptr<const git::Repository>> open_tenant(const std::string& url) {
    std::lock_guard lk(tenants_mu_);
    auto it = tenants_.find(url);
    if (it == tenants_.end()) {
      auto r = mirrors_.open_untrusted(url, egress_);
      core::Result<std::shared_ptr<const git::Repository>> v =
          r ? core::Result<std::shared_ptr<const git::Repository>>(std::make_shared<const git::Repository>(std::move(*r)))
            : core::Result<std::shared_ptr<const git::Repository>>(r.error());
      it = tenants_.emplace(url, std::move(v)).first;
    }
    return it->second;
  }
  bool renderer_options_helm_missing_ = false;

 private:
  Prepared prepare(const release::Release& r, const std::string& commit, bool skip_schema_validation) {
    engine::ChartSources src{&repo_, commit, &mirrors_, root_ + "/work/trees", egress_};
    auto req = engine::render_request(r, src);
    if (!req) return {std::nullopt, req.error().message};
    req->skip_schema_validation = skip_schema_validation;
    return {std::move(*req), {}};
  }

  diff::ReleaseReport release_report(const release::Affected& x, size_t i,
                                     const std::vector<core::Result<render::RenderResult>>& results,
                                     const std::map<std::pair<size_t, bool>, size_t>& job_of,
                                     const std::map<std::pair<size_t, bool>, std::string>& prep_errors) {
    const release::Release* any = x.head != nullptr ? x.head : x.base;
    diff::ReleaseReport rr;
    rr.cluster = any->cluster;
    rr.namespace_ = any->namespace_;
    rr.name = any->name;
    rr.release_name = any->release_name;
    rr.target_namespace = any->target_namespace;
    rr.chart = any->chart.describe();
    rr.reasons = x.reasons;
    rr.notes = any->notes;
    rr.status = x.base == nullptr   ? diff::ReleaseStatus::added
                : x.head == nullptr ? (x.head_failed ? diff::ReleaseStatus::error : diff::ReleaseStatus::removed)
                                    : diff::ReleaseStatus::changed;
    // What failed, where: the first problem met reading the path (the others are in the report's errors
    // for head; for base they are not shown elsewhere, so all of them).
    auto failure = [&](const std::string& what, const std::vector<release::Problem>& why, size_t max) {
      if (why.empty()) {
        rr.errors.push_back({redactor_.scrub(what), "", 0, 0});
        return;
      }
      for (size_t k = 0; k < why.size() && k < max; ++k) {
        auto p = to_problem(why[k]);
        p.message = redactor_.scrub(what + ": " + p.message);
        rr.errors.push_back(p);
      }
    };
    if (x.head_failed) {
      failure("[head] the manifests of this release could not be read at head (it is not shown as removed)",
              x.head_problems, 1);
    }
    if (x.base_failed) {
      failure("[base] the manifests of this release could not be read at base, so head cannot be compared with it "
              "(it is not shown as added)",
              x.base_problems, 3);
    }
    if (!x.head_sync_fails.empty()) {
      failure("[head] the sync of path " + x.head_sync_fails +
                  " would fail as a whole (Flux fails the Kustomization that applies it); the diff shows what it "
                  "would apply once the path can be read",
              x.head_problems, 1);
    }
    std::vector<diff::Resource> sides[2];
    // A side whose manifests could not be read is unknown, not empty: no "everything removed/added".
    bool side_ok[2] = {!x.base_failed, !x.head_failed};
    for (bool is_head : {false, true}) {
      const release::Release* r = is_head ? x.head : x.base;
      if (r == nullptr) continue;
      std::string label = is_head ? "head" : "base";
      for (const auto& e : r->errors) {
        auto p = to_problem(e);
        p.message = redactor_.scrub("[" + label + "] " + p.message);
        rr.errors.push_back(p);
        side_ok[is_head] = false;
      }
      if (auto pe = prep_errors.find({i, is_head}); pe != prep_errors.end()) {
        rr.errors.push_back({redactor_.scrub("[" + label + "] " + pe->second), r->where.file, r->where.line, 0});
        side_ok[is_head] = false;
        continue;
      }
      auto it = job_of.find({i, is_head});
      if (it == job_of.end()) continue;
      const auto& res = results[it->second];
      if (!res) {
        rr.errors.push_back({redactor_.scrub("[" + label + "] " + res.error().message), r->where.file, r->where.line, 0});
        side_ok[is_head] = false;
        continue;
      }
      diff::ParseOptions po;
      po.redactor = &redactor_;
      po.default_namespace = r->target_namespace;
      po.scopes = &scopes_;
      po.source = "helm template " + r->release_name + " (" + label + ")";
      std::vector<std::string> rendered_secrets;
      po.secret_values = &rendered_secrets;
      auto parsed = diff::parse_manifest(res->manifest, po);
      // A template may copy a rendered Secret's value anywhere (an annotation, a ConfigMap): every output
      // is scrubbed with this redactor at the end. Charts put short, common words in Secrets too ("admin",
      // "true", "5432"): scrubbing those everywhere would blank half the diff, so 8 characters at least.
      for (const auto& v : rendered_secrets) {
        if (v.size() >= 8) redactor_.add_sensitive(v);
      }
      if (!parsed) {
        rr.errors.push_back({redactor_.scrub(parsed.error().message), r->where.file, r->where.line, 0});
        side_ok[is_head] = false;
        continue;
      }
      sides[is_head] = std::move(parsed.value());
    }
    // A side that failed to render must not show up as "everything removed/added".
    if (side_ok[0] && side_ok[1]) {
      auto key = [&](bool is_head) {
        auto it = job_of.find({i, is_head});
        return it == job_of.end() || !results[it->second] ? std::string() : results[it->second]->key;
      };
      engine::set_release_diff(rr, sides[0], sides[1], engine::diff_volatility(renderer_, key(false), key(true)));
    }
    if (!rr.errors.empty()) rr.status = diff::ReleaseStatus::error;
    return rr;
  }

  const PreviewRequest& req_;
  git::MirrorCache& mirrors_;
  git::Repository& repo_;
  render::Renderer& renderer_;
  std::string root_;
  core::EgressPolicy egress_;
  diff::Redactor redactor_;
  diff::Scopes scopes_;
  std::mutex tenants_mu_;
  std::map<std::string, core::Result<std::shared_ptr<const git::Repository>>> tenants_;
};

// Scrubbing can lengthen a part (a marker is longer than a short value), so a part that outgrew the limit
// makes the whole split run again with the overflow taken off the limit.
std::vector<std::string> markdown_parts(const diff::Report& report, size_t limit, const diff::Redactor& redactor) {
  if (limit == 0) return {redactor.scrub(diff::to_markdown(report))};
  size_t budget = limit;
  std::vector<std::string> parts;
  for (int attempt = 0; attempt < 4; ++attempt) {
    parts = diff::to_markdown_parts(report, budget);
    size_t over = 0;
    for (auto& p : parts) {
      p = redactor.scrub(std::move(p));
      if (p.size() > limit) over = std::max(over, p.size() - limit);
    }
    if (over == 0 || budget <= over + 1024) break;
    budget -= over + 64;
  }
  return parts;
}

}  // namespace

int PreviewResult::exit_status() const {
  if (report.has_errors()) return 1;
  return report.has_changes() ? 2 : 0;
}

std::string preview_join_markdown(const std::vector<std::string>& parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += "\n<!-- helmgate: next comment -->\n\n";
    out += parts[i];
  }
  return out;
}

core::Result<std::optional<config::Repo>> preview_select_repo(const config::Config& cfg, const std::string& repo) {
  if (cfg.repos.empty()) return std::optional<config::Repo>();
  if (cfg.repos.size() == 1) return std::optional<config::Repo>(cfg.repos.front());
  for (const auto& r : cfg.repos) {
    if (git::canonical_url(r.url) == git::canonical_url(repo)) return std::optional<config::Repo>(r);
  }
  return core::Error(core::errc::invalid_config, cfg.source + " declares " + std::to_string(cfg.repos.size()) +
                                                     " repositories and none has the URL " + core::redact_url(repo) +
                                                     "; pass the URL of one of them as the repository");
}

core::Result<PreviewResult> run_preview(const PreviewRequest& request) {
  const std::string root =
      request.cache_dir.empty() ? default_cache_dir() : fs::absolute(request.cache_dir).string();
  const auto& cfg = request.repo_config;

  // Mirrors, renders and work trees hold fetched and rendered content (Secret data among it): owner only.
  core::ensure_private_dir(root);
  core::ensure_private_dir(root + "/mirrors");
  git::MirrorCache mirrors(root + "/mirrors");
  auto repo = mirrors.open(request.repo);
  if (!repo) return repo.error();
  auto head = repo->resolve(request.head);
  if (!head) return head.error();
  std::string base;
  if (!request.base.empty()) {
    auto b = repo->resolve(request.base);
    if (!b) return b.error();
    base = *b;
  } else {
    auto b = default_base(*repo, *head, cfg);
    if (!b) return b.error();
    base = *b;
  }

  std::vector<release::ClusterSpec> clusters;
  if (cfg && !cfg->clusters.empty()) {
    for (const auto& c : cfg->clusters) clusters.push_back({c.name, c.paths, c.kube_version});
  } else {
    auto dc = release::default_clusters(*repo, *head);
    if (!dc) return dc.error();
    clusters = *dc;
  }
  if (!request.only_clusters.empty()) {
    std::vector<release::ClusterSpec> keep;
    for (const auto& c : clusters) {
      if (std::find(request.only_clusters.begin(), request.only_clusters.end(), c.name) != request.only_clusters.end()) {
        keep.push_back(c);
      }
    }
    if (keep.empty()) {
      std::string names;
      for (const auto& c : clusters) names += (names.empty() ? "" : ", ") + c.name;
      return core::Error(core::errc::not_found, "no cluster named " + request.only_clusters.front() + " (known: " +
                                                    names + ")");
    }
    clusters = keep;
  }

  std::unique_ptr<render::Renderer> own;
  render::Renderer* renderer = request.renderer;
  render::Options ropt;
  ropt.helm = tool(request.helm, "HELMGATE_HELM", "helm");
  ropt.kubectl = tool(request.kubectl, "HELMGATE_KUBECTL", "kubectl");
  if (renderer == nullptr) {
    ropt.work_dir = root + "/work";
    ropt.cache_dir = root + "/renders";
    ropt.concurrency = request.concurrency != 0 ? request.concurrency : std::max(1u, std::thread::hardware_concurrency());
    own = std::make_unique<render::Renderer>(ropt);
    renderer = own.get();
  }
  const auto stats_before = renderer->stats();

  Pipeline pipeline(request, mirrors, *repo, *renderer, root);
  pipeline.renderer_options_helm_missing_ = request.renderer == nullptr && ropt.helm.empty();
  PreviewResult result;
  auto report = pipeline.run(base, *head, clusters, result.releases_total,
                             request.keep_head_manifests ? &result.head_manifests : nullptr);
  if (!report) return report.error();
  result.report = std::move(*report);
  result.render_stats = minus(renderer->stats(), stats_before);

  // Last line of defence: no value that came from a Secret or a sensitive path leaves the process.
  const auto& redactor = pipeline.redactor();
  result.redactor = redactor;
  engine::scrub_report(result.report, redactor);
  for (auto f : request.formats) {
    switch (f) {
      case PreviewFormat::markdown:
        result.markdown_parts = markdown_parts(result.report, request.max_part_bytes, redactor);
        break;
      case PreviewFormat::text: result.text = redactor.scrub(diff::to_text(result.report, request.color)); break;
      case PreviewFormat::json: result.json = redactor.scrub(diff::to_json(result.report)); break;
    }
  }
  return result;
}

}  // namespace helmgate::runners
