#include "runners/preview_pipeline.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <thread>
#include <utility>

#include "core/redact.hpp"
#include "engine/change.hpp"
#include "engine/discovery.hpp"
#include "engine/ownership.hpp"
#include "engine/redaction.hpp"
#include "engine/render_diff.hpp"
#include "engine/workspace.hpp"
#include "git/repository.hpp"
#include "release/discovery_cache.hpp"
#include "release/sources.hpp"
#include "runners/tools.hpp"

namespace fs = std::filesystem;

namespace helmgate::runners {

namespace {

std::string tool(const std::string& given, const char* env, const char* name) {
  return given.empty() ? find_tool(env, name) : given;
}

diff::Problem to_problem(const release::Problem& p) { return {p.message, p.where.file, p.where.line, p.where.column}; }

render::Renderer::Stats minus(const render::Renderer::Stats& a, const render::Renderer::Stats& b) {
  return {a.renders - b.renders, a.cache_hits - b.cache_hits, a.kustomize_runs - b.kustomize_runs, a.pulls - b.pulls,
          a.helm_version_runs - b.helm_version_runs};
}

// `--source NAME=/abs/dir`: a local directory the user named, inside the repository's working tree, becomes
// its repository path (read at base and head like every other file); one outside is refused.
core::Result<std::string> cli_mapping(const git::Repository& repo, const std::string& m) {
  auto eq = m.find('=');
  if (eq == std::string::npos || eq + 1 >= m.size() || m[eq + 1] != '/') return m;
  const std::string workdir = repo.workdir();
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

// Discovery as every job sets it up, then the --source mappings first: they win over repos[].sources
// naming the same source (discover_options added those).
core::Result<release::DiscoverOptions> discover_options(const PreviewRequest& req, const git::Repository& repo,
                                                        const std::vector<release::ClusterSpec>& clusters,
                                                        engine::Workspace& ws, engine::TenantRepos& tenants) {
  auto dopt = engine::discover_options(clusters, ws.cache_root, *ws.renderer, req.repo_config ? &*req.repo_config : nullptr);
  dopt.open_source = [&tenants](const std::string& url) { return tenants.open(url); };
  dopt.discovery_cache = ws.discovery_cache;
  dopt.tools_id = ws.tools_id;
  dopt.remote_urls = repo.remote_urls();  // without self_urls: a GitRepository naming a remote is this repository
  std::vector<release::SourceMapping> cli;
  for (const auto& text : req.sources) {
    auto local = cli_mapping(repo, text);
    if (!local) return local.error();
    auto m = release::parse_source_mapping(*local, "--source");
    if (!m) return m.error();
    cli.push_back(std::move(*m));
  }
  dopt.sources.insert(dopt.sources.begin(), cli.begin(), cli.end());
  return dopt;
}

// The report's frame: repository, revisions, clusters, and what discovery met at head.
diff::Report report_frame(const PreviewRequest& req, const engine::Change& change,
                          const std::vector<release::ClusterSpec>& clusters) {
  diff::Report report;
  report.repo = core::strip_userinfo(req.repo);
  report.base = change.base;
  report.head = change.head;
  for (const auto& c : clusters) report.clusters.push_back(c.name);
  for (const auto& p : change.at_head.problems) {
    auto pr = to_problem(p);
    pr.message = "[" + p.cluster + " @ head] " + pr.message;
    pr.cluster = p.cluster;
    report.errors.push_back(pr);
  }
  for (const auto& n : change.at_head.notes) {
    auto pr = to_problem(n);
    pr.message = "[" + n.cluster + "] " + pr.message;
    report.notes.push_back(pr);
  }
  const size_t total = change.at_head.releases.size();
  if (!change.changed.empty()) report.unaffected = total > change.affected.size() ? total - change.affected.size() : 0;
  return report;
}

// The workspace of one call, when the caller keeps none.
std::shared_ptr<engine::Workspace> own_workspace(const PreviewRequest& request) {
  engine::WorkspaceOptions wo;
  wo.cache_root = request.cache_dir.empty() ? default_cache_dir() : fs::absolute(request.cache_dir).string();
  wo.helm = tool(request.helm, "HELMGATE_HELM", "helm");
  wo.kubectl = tool(request.kubectl, "HELMGATE_KUBECTL", "kubectl");
  wo.render_concurrency =
      request.concurrency != 0 ? request.concurrency : std::max(1u, std::thread::hardware_concurrency());
  return engine::make_workspace(wo);
}

}  // namespace

int PreviewResult::exit_status() const {
  if (report.has_errors()) return 1;
  return report.has_changes() ? 2 : 0;
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
  std::shared_ptr<engine::Workspace> own;
  engine::Workspace* ws = request.workspace;
  if (ws == nullptr) {
    own = own_workspace(request);
    ws = own.get();
  }
  const config::Repo* cfg = request.repo_config ? &*request.repo_config : nullptr;
  auto repo = ws->mirrors->open(request.repo);
  if (!repo) return repo.error();
  auto head = repo->resolve(request.head);
  if (!head) return head.error();
  auto base = request.base.empty() ? engine::default_base(*repo, *head, cfg) : repo->resolve(request.base);
  if (!base) return base.error();
  auto clusters = engine::select_clusters(*repo, *head, cfg, request.only_clusters);
  if (!clusters) return clusters.error();
  const auto stats_before = ws->renderer->stats();
  const release::DiscoveryCache::Stats none;
  const auto discovery_before = ws->discovery_cache ? ws->discovery_cache->stats() : none;

  const core::EgressPolicy egress = cfg != nullptr ? cfg->egress : request.egress;
  engine::TenantRepos tenants(*ws->mirrors, egress);
  auto dopt = discover_options(request, *repo, *clusters, *ws, tenants);
  if (!dopt) return dopt.error();
  // helm's version (part of every render's cache key) is asked while discovery runs, not after it: the
  // first preview of a process without it remembered on disk would otherwise wait for `helm version`.
  // A thread only when it is not known yet (serve asks it once for all its previews).
  std::jthread helm_version_ahead;
  if (!ws->renderer->helm_version_known()) {
    helm_version_ahead = std::jthread([renderer = ws->renderer.get()] { renderer->helm_version(); });
  }
  auto change = engine::discover_change(*repo, *base, *head, *dopt);
  if (!change) return change.error();

  PreviewResult result;
  result.releases_total = change->at_head.releases.size();
  result.report = report_frame(request, *change, *clusters);
  // The repository's fetch credential must not surface either (a Git error quoting a URL, ...).
  if (cfg != nullptr && !cfg->token.empty()) result.redactor.add_sensitive(cfg->token);
  engine::add_affected_secrets(result.redactor, change->affected, cfg != nullptr ? cfg->sensitive_values : std::vector<std::string>{});
  engine::ChartSources base_src{&*repo, change->base, ws->mirrors.get(), ws->trees_dir(), egress};
  engine::ChartSources head_src = base_src;
  head_src.commit = change->head;
  // Helm missing is an error of a call that found none; a worker's workspace reports it per release.
  engine::RenderDiffInput in{*change, base_src, head_src, own == nullptr || !ws->helm.empty()};
  auto rendered = engine::render_diff(in, *ws->renderer, result.redactor);
  if (!rendered) return rendered.error();
  result.report.releases = std::move(rendered->releases);
  if (cfg != nullptr) {
    // The rules of the deploy branch (never the PR's head): who each release acts as, where it may go.
    auto rules = engine::load_ownership(*repo, engine::deploy_branch_commit(*repo, *cfg, change->base), *cfg);
    std::map<std::string, const release::Release*> heads;
    for (const auto& a : change->affected) {
      if (a.head != nullptr) heads[a.head->id()] = a.head;
    }
    for (auto& h : rendered->head) {
      if (auto it = heads.find(h.id); it != heads.end()) h.as = engine::release_identity(rules, *it->second);
    }
    result.policy = engine::policy_facts(std::move(rules), change->changed, change->affected);
  }
  if (request.keep_head_manifests) result.head_manifests = std::move(rendered->head);
  result.render_stats = minus(ws->renderer->stats(), stats_before);
  const auto discovery_after = ws->discovery_cache ? ws->discovery_cache->stats() : none;
  result.discovery_stats = {discovery_after.hits - discovery_before.hits,
                            discovery_after.disk_reads - discovery_before.disk_reads,
                            discovery_after.misses - discovery_before.misses,
                            discovery_after.uncacheable - discovery_before.uncacheable};

  // Last line of defence: no value that came from a Secret or a sensitive path leaves the process.
  const auto& redactor = result.redactor;
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
