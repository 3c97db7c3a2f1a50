#pragma once
// What the engine's unit tests share: golden files, a workspace with the local tools, discovery of a
// TempRepo at a commit, and a render request written out deterministically.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "diff/unified.hpp"
#include "engine/change.hpp"
#include "engine/chart_request.hpp"
#include "engine/discovery.hpp"
#include "engine/workspace.hpp"
#include "runners/tools.hpp"
#include "support/support.hpp"
#include "support/temp_repo.hpp"

namespace helmgate::test {

// Compares text with tests/unit/engine/golden/<name>. A mismatch fails with the unified diff (golden ->
// actual); HELMGATE_UPDATE_GOLDEN=1 writes the actual text as the new golden file instead.
inline void check_golden(const std::string& name, const std::string& actual) {
  const std::string path = source_dir() + "/tests/unit/engine/golden/" + name;
  const char* update = std::getenv("HELMGATE_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::trunc) << actual;
    WARN("rewrote " << path);
    return;
  }
  REQUIRE(std::filesystem::exists(path));  // HELMGATE_UPDATE_GOLDEN=1 writes it
  const std::string expected = read_file(path);
  const std::string d = diff::unified_diff(expected, actual, "golden/" + name, "actual", 3);
  INFO("golden file " << path << " differs (HELMGATE_UPDATE_GOLDEN=1 rewrites it):\n" << d);
  CHECK(d.empty());
}

// A workspace under the temp dir with the local helm and kubectl (as the worker finds them).
inline std::shared_ptr<engine::Workspace> test_workspace(const std::string& name) {
  const std::string root = (std::filesystem::temp_directory_path() / ("hg-engine-" + name + "-" + std::to_string(::getpid()))).string();
  std::filesystem::remove_all(root);
  engine::WorkspaceOptions wo;
  wo.cache_root = root;
  wo.helm = runners::find_tool("HELMGATE_HELM", "helm");
  wo.kubectl = runners::find_tool("HELMGATE_KUBECTL", "kubectl");
  REQUIRE_FALSE(wo.helm.empty());
  REQUIRE_FALSE(wo.kubectl.empty());
  return engine::make_workspace(wo);
}

struct WorkspaceDir {
  std::shared_ptr<engine::Workspace> ws;
  explicit WorkspaceDir(const std::string& name) : ws(test_workspace(name)) {}
  ~WorkspaceDir() {
    std::error_code ec;
    std::filesystem::remove_all(ws->cache_root, ec);
  }
};

// Discovery of every cluster of the repository (configured or found) as a job sets it up.
inline release::DiscoverOptions discover_options(engine::Workspace& ws, const git::Repository& repo,
                                                 const std::string& commit, const config::Repo* cfg = nullptr) {
  auto clusters = engine::select_clusters(repo, commit, cfg, {});
  REQUIRE(clusters.ok());
  auto o = engine::discover_options(*clusters, ws.cache_root, *ws.renderer, cfg);
  o.cache = ws.doc_cache;
  return o;
}

inline std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  if (from.empty()) return s;
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
  return s;
}

inline std::string origin_name(render::ChartOrigin o) {
  switch (o) {
    case render::ChartOrigin::local_dir: return "local_dir";
    case render::ChartOrigin::helm_repository: return "helm_repository";
    case render::ChartOrigin::oci: return "oci";
  }
  return "?";
}

// A render request as text, one field a line, in a fixed order; the workspace's trees directory and the
// commit are replaced by <trees> and <commit> (they differ from run to run).
inline std::string describe_request(const render::RenderRequest& q, const std::string& trees, const std::string& commit) {
  std::string out;
  auto line = [&](const std::string& k, const std::string& v) {
    if (!v.empty()) out += "  " + k + ": " + replace_all(replace_all(v, trees, "<trees>"), commit, "<commit>") + "\n";
  };
  line("release_name", q.release_name);
  line("namespace", q.namespace_);
  line("kube_version", q.kube_version);
  line("chart.origin", origin_name(q.chart.origin));
  line("chart.shown", q.chart.shown);
  line("chart.dir", q.chart.dir);
  line("chart.content_id", q.chart.content_id);
  line("chart.url", q.chart.url);
  line("chart.chart", q.chart.chart);
  line("chart.version", q.chart.version);
  line("chart.digest", q.chart.digest);
  std::string args;
  for (const auto& a : engine::helm_chart_args(q.chart)) args += (args.empty() ? "" : " ") + a;
  line("helm_chart_args", args);
  line("values", q.values_json);
  line("post_render_kustomization", q.post_render_kustomization);
  line("skip_schema_validation", q.skip_schema_validation ? "true" : "");
  return out;
}

// Every release of a discovery, by id: its render request at the commit (or why there is none), whether
// helm creates its namespace, and the discovery's problems.
inline std::string describe_requests(const release::Discovery& d, const engine::ChartSources& src) {
  std::vector<const release::Release*> rs;
  for (const auto& r : d.releases) rs.push_back(&r);
  std::sort(rs.begin(), rs.end(), [](auto* a, auto* b) { return a->id() < b->id(); });
  std::string out;
  for (const auto* r : rs) {
    out += r->id() + "\n";
    if (engine::creates_namespace(*r)) out += "  create_namespace: true\n";
    for (const auto& e : r->errors) out += "  release error: " + e.message + "\n";
    auto q = engine::render_request(*r, src);
    if (!q) {
      out += "  request error: " + replace_all(q.error().message, src.trees_dir, "<trees>") + "\n";
      continue;
    }
    out += describe_request(*q, src.trees_dir, src.commit);
  }
  for (const auto& p : d.problems) out += "problem: " + p.where.file + ":" + std::to_string(p.where.line) + ": " + p.message + "\n";
  return out;
}

// This repository's own GitRepository (charts at ./charts/... are read from the commit itself).
inline const char* const kSelfRepository =
    "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: {name: flux-system, namespace: flux-system}\n"
    "spec: {interval: 1m, url: \"https://git.example.com/fleet.git\", ref: {branch: main}}\n";

// A Flux HelmRelease in namespace apps with these values: its chart ./charts/<chart> of this repository, or
// (chart empty) podinfo from a HelmRepository declared with it.
inline std::string flux_release(const std::string& name, const std::string& values, const std::string& chart = "") {
  const std::string head = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: " + name +
                           ", namespace: apps}\nspec:\n  interval: 5m\n  chart:\n    spec:\n";
  if (!chart.empty()) {
    return head + "      chart: ./charts/" + chart +
           "\n      sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}\n  values: " + values + "\n";
  }
  return head + "      chart: podinfo\n      sourceRef: {kind: HelmRepository, name: podinfo}\n  values: " + values +
         "\n---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata: {name: podinfo, namespace: apps}\n"
         "spec: {interval: 1h, url: \"https://stefanprodan.github.io/podinfo\"}\n";
}

// Chart URLs resolve nowhere in a unit test: every host is let through without a DNS lookup.
inline core::EgressPolicy open_egress() {
  core::EgressPolicy e;
  e.allow_private = true;
  return e;
}

}  // namespace helmgate::test
