// helmgate preview: the release engine without server or Redis. Discovers releases at base and head,
// renders what the change touches, diffs, redacts, and prints a report. Exit 0 = no changes, 2 = changes,
// 1 = error (like `helm diff --detailed-exitcode`).
//
// This file is where release, render and diff meet; they never include each other.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cmd/commands.hpp"
#include "config/config.hpp"
#include "diff/normalize.hpp"
#include "diff/report.hpp"
#include "git/repository.hpp"
#include "release/release.hpp"
#include "render/renderer.hpp"

namespace fs = std::filesystem;

namespace helmgate::cmd {

namespace {

constexpr const char* kUsage = R"(usage: helmgate preview [options]

Renders the Helm releases a change touches at base and head, and prints a redacted diff.

options:
  --repo DIR|URL            repository (a local clone, a bare repo, file:// or a remote URL); default .
  --base REV                base revision; default: merge-base of head with the deploy branch
  --head REV                head revision; default HEAD
  --cluster NAME            only this cluster (repeatable)
  --config FILE             server configuration (clusters and their paths, kube versions, repo URL)
  --format markdown|text|json   default: text on a terminal, markdown otherwise
  --max-comment-bytes N     split markdown into parts of at most N bytes (default 65536; 0 = no split)
  --concurrency N           parallel helm renders (default: number of cores)
  -h, --help                this help

environment: HELMGATE_HELM, HELMGATE_KUBECTL (binaries; else found on PATH), HELMGATE_CACHE_DIR
(mirrors, work trees and the render cache; default ~/.cache/helmgate).

exit status: 0 no changes, 2 changes, 1 error.
)";

struct Args {
  std::string repo = ".";
  std::string base, head = "HEAD";
  std::vector<std::string> clusters;
  std::string config;
  std::string format;
  size_t max_bytes = 65536;
  size_t concurrency = 0;
};

std::optional<std::string> find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return std::nullopt;
  std::string p = path;
  size_t pos = 0;
  while (pos <= p.size()) {
    size_t next = p.find(':', pos);
    if (next == std::string::npos) next = p.size();
    fs::path cand = fs::path(p.substr(pos, next - pos)) / name;
    if (::access(cand.c_str(), X_OK) == 0) return cand.string();
    pos = next + 1;
  }
  return std::nullopt;
}

std::string tool(const char* env, const char* name) {
  if (const char* v = std::getenv(env); v != nullptr && *v != '\0') return v;
  return find_on_path(name).value_or("");
}

std::string cache_root() {
  if (const char* v = std::getenv("HELMGATE_CACHE_DIR"); v != nullptr && *v != '\0') return v;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x != nullptr && *x != '\0') return std::string(x) + "/helmgate";
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') return std::string(h) + "/.cache/helmgate";
  return "/tmp/helmgate-cache";
}

diff::Problem to_problem(const release::Problem& p) {
  return {p.message, p.where.file, p.where.line, p.where.column};
}

int fail(const std::string& msg) {
  std::fprintf(stderr, "helmgate preview: %s\n", msg.c_str());
  return 1;
}

struct Job {
  size_t affected_index;
  bool head;
};

}  // namespace

int preview(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char* name) -> std::optional<std::string> {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "helmgate preview: %s needs a value\n", name);
        return std::nullopt;
      }
      return std::string(argv[++i]);
    };
    std::optional<std::string> v;
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--repo") {
      if (!(v = value("--repo"))) return 1;
      a.repo = *v;
    } else if (arg == "--base") {
      if (!(v = value("--base"))) return 1;
      a.base = *v;
    } else if (arg == "--head") {
      if (!(v = value("--head"))) return 1;
      a.head = *v;
    } else if (arg == "--cluster") {
      if (!(v = value("--cluster"))) return 1;
      a.clusters.push_back(*v);
    } else if (arg == "--config") {
      if (!(v = value("--config"))) return 1;
      a.config = *v;
    } else if (arg == "--format") {
      if (!(v = value("--format"))) return 1;
      a.format = *v;
      if (a.format != "markdown" && a.format != "text" && a.format != "json") {
        return fail("--format must be markdown, text or json (got '" + a.format + "')");
      }
    } else if (arg == "--max-comment-bytes" || arg == "--concurrency") {
      if (!(v = value(arg.c_str()))) return 1;
      char* end = nullptr;
      unsigned long long n = std::strtoull(v->c_str(), &end, 10);
      if (end == v->c_str() || *end != '\0') return fail(arg + " needs a number (got '" + *v + "')");
      (arg == "--concurrency" ? a.concurrency : a.max_bytes) = static_cast<size_t>(n);
    } else {
      std::fprintf(stderr, "helmgate preview: unknown option '%s'\n\n%s", arg.c_str(), kUsage);
      return 1;
    }
  }
  if (a.format.empty()) a.format = ::isatty(1) != 0 ? "text" : "markdown";
  if (a.concurrency == 0) a.concurrency = std::max(1u, std::thread::hardware_concurrency());

  // Configuration: clusters, kube versions, the repository's URL (so chart.git URLs resolve to it).
  std::optional<config::Repo> cfg_repo;
  if (!a.config.empty()) {
    try {
      config::Config cfg = config::load_file(a.config);
      if (cfg.repos.size() == 1) {
        cfg_repo = cfg.repos.front();
      } else {
        for (const auto& r : cfg.repos) {
          if (git::canonical_url(r.url) == git::canonical_url(a.repo)) cfg_repo = r;
        }
        if (!cfg_repo && !cfg.repos.empty()) {
          return fail(a.config + " declares " + std::to_string(cfg.repos.size()) +
                      " repositories; pass --repo with the URL of one of them");
        }
      }
    } catch (const std::exception& e) {
      return fail(e.what());
    }
  }

  std::string root = cache_root();
  git::MirrorCache mirrors(root + "/mirrors");
  auto repo = mirrors.open(a.repo);
  if (!repo) return fail(repo.error().message);
  auto head = repo->resolve(a.head);
  if (!head) return fail(head.error().message);
  std::string base_sha;
  if (!a.base.empty()) {
    auto b = repo->resolve(a.base);
    if (!b) return fail(b.error().message);
    base_sha = *b;
  } else {
    std::vector<std::string> candidates;
    if (cfg_repo) candidates = {cfg_repo->deploy_branch, "origin/" + cfg_repo->deploy_branch};
    for (const char* c : {"main", "origin/main", "master", "origin/master"}) candidates.emplace_back(c);
    for (const auto& c : candidates) {
      if (auto mb = repo->merge_base(*head, c); mb.ok()) {
        base_sha = *mb;
        break;
      }
    }
    if (base_sha.empty()) return fail("no deploy branch (main/master) to compare with; pass --base REV");
  }

  std::vector<release::ClusterSpec> clusters;
  if (cfg_repo && !cfg_repo->clusters.empty()) {
    for (const auto& c : cfg_repo->clusters) clusters.push_back({c.name, c.paths, c.kube_version});
  } else {
    auto dc = release::default_clusters(*repo, *head);
    if (!dc) return fail(dc.error().message);
    clusters = *dc;
  }
  if (!a.clusters.empty()) {
    std::vector<release::ClusterSpec> keep;
    for (const auto& c : clusters) {
      if (std::find(a.clusters.begin(), a.clusters.end(), c.name) != a.clusters.end()) keep.push_back(c);
    }
    if (keep.empty()) {
      std::string names;
      for (const auto& c : clusters) names += (names.empty() ? "" : ", ") + c.name;
      return fail("no cluster named " + a.clusters.front() + " (known: " + names + ")");
    }
    clusters = keep;
  }

  diff::Report report;
  report.repo = a.repo;
  report.base = base_sha;
  report.head = *head;
  for (const auto& c : clusters) report.clusters.push_back(c.name);

  auto changed = repo->changed_paths(base_sha, *head);
  if (!changed) return fail(changed.error().message);

  render::Options ropt;
  ropt.helm = tool("HELMGATE_HELM", "helm");
  ropt.kubectl = tool("HELMGATE_KUBECTL", "kubectl");
  ropt.work_dir = root + "/work";
  ropt.cache_dir = root + "/renders";
  ropt.concurrency = a.concurrency;
  render::Renderer renderer(ropt);
  diff::Redactor redactor;

  if (!changed->empty()) {
    if (ropt.helm.empty()) return fail("helm not found: set HELMGATE_HELM or put helm on PATH");
    release::DiscoverOptions dopt;
    dopt.clusters = clusters;
    dopt.work_root = root + "/work/trees";
    dopt.cache = release::make_doc_cache();
    dopt.kustomize = [&renderer](const std::string& dir, const std::string& key) {
      return renderer.kustomize_build(dir, key);
    };
    if (cfg_repo) dopt.self_urls = {cfg_repo->url};
    auto base_f = std::async(std::launch::async, [&] { return release::discover(*repo, base_sha, dopt); });
    release::Discovery head_d = release::discover(*repo, *head, dopt);
    release::Discovery base_d = base_f.get();
    for (const auto& p : head_d.problems) {
      auto pr = to_problem(p);
      pr.message = "[" + p.cluster + " @ head] " + pr.message;
      report.errors.push_back(pr);
    }
    auto aff = release::affected(base_d, head_d, *changed);
    report.unaffected = head_d.releases.size() > aff.size() ? head_d.releases.size() - aff.size() : 0;
    for (const auto& x : aff) {
      for (const auto* r : {x.base, x.head}) {
        if (r == nullptr) continue;
        for (const auto& s : r->sensitive) redactor.add_sensitive(s);
      }
    }

    // Build the render requests; a chart that cannot be prepared becomes an error on its release.
    std::vector<render::RenderRequest> reqs;
    std::vector<Job> jobs;
    std::map<std::pair<size_t, bool>, std::string> prep_errors;
    for (size_t i = 0; i < aff.size(); ++i) {
      for (bool is_head : {false, true}) {
        const release::Release* r = is_head ? aff[i].head : aff[i].base;
        if (r == nullptr || !r->errors.empty()) continue;
        const std::string& commit = is_head ? *head : base_sha;
        render::RenderRequest req;
        req.release_name = r->release_name;
        req.namespace_ = r->target_namespace;
        req.values_yaml = r->values_yaml;
        req.kube_version = r->kube_version;
        req.post_render_kustomization = r->post_render_kustomization;
        req.chart.shown = r->chart.describe();
        switch (r->chart.kind) {
          case release::ChartKind::repo_dir: {
            auto dir = repo->materialize(commit, r->chart.path, root + "/work/trees");
            if (!dir) {
              prep_errors[{i, is_head}] = dir.error().message;
              continue;
            }
            req.chart.origin = render::ChartOrigin::local_dir;
            req.chart.dir = *dir;
            req.chart.content_id = r->chart.content_id;
            break;
          }
          case release::ChartKind::remote_git: {
            auto other = mirrors.open(r->chart.url);
            if (!other) {
              prep_errors[{i, is_head}] = "chart repository " + r->chart.url + ": " + other.error().message;
              continue;
            }
            auto rev = other->resolve(r->chart.version);
            if (!rev) rev = other->resolve("origin/" + r->chart.version);
            if (!rev) {
              prep_errors[{i, is_head}] = "chart ref " + r->chart.version + " in " + r->chart.url + ": " + rev.error().message;
              continue;
            }
            auto dir = other->materialize(*rev, r->chart.path, root + "/work/trees");
            if (!dir) {
              prep_errors[{i, is_head}] = dir.error().message;
              continue;
            }
            req.chart.origin = render::ChartOrigin::local_dir;
            req.chart.dir = *dir;
            req.chart.content_id = fs::path(*dir).filename().string();
            break;
          }
          case release::ChartKind::helm_repository:
            req.chart.origin = render::ChartOrigin::helm_repository;
            req.chart.url = r->chart.url;
            req.chart.chart = r->chart.name;
            req.chart.version = r->chart.version;
            break;
          case release::ChartKind::oci:
            req.chart.origin = render::ChartOrigin::oci;
            req.chart.url = r->chart.url;
            req.chart.version = r->chart.version;
            break;
        }
        reqs.push_back(std::move(req));
        jobs.push_back({i, is_head});
      }
    }
    auto results = renderer.render_all(reqs);
    std::map<std::pair<size_t, bool>, const core::Result<render::RenderResult>*> by_job;
    for (size_t j = 0; j < jobs.size(); ++j) by_job[{jobs[j].affected_index, jobs[j].head}] = &results[j];

    for (size_t i = 0; i < aff.size(); ++i) {
      const auto& x = aff[i];
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
      rr.status = x.base == nullptr ? diff::ReleaseStatus::added
                  : x.head == nullptr ? (x.head_failed ? diff::ReleaseStatus::error : diff::ReleaseStatus::removed)
                                      : diff::ReleaseStatus::changed;
      if (x.head_failed) {
        rr.errors.push_back({"the manifests of this release could not be read at head; see the errors above", "", 0, 0});
      }
      std::vector<diff::Resource> sides[2];
      bool side_ok[2] = {true, true};
      for (bool is_head : {false, true}) {
        const release::Release* r = is_head ? x.head : x.base;
        if (r == nullptr) continue;
        std::string label = is_head ? "head" : "base";
        for (const auto& e : r->errors) {
          auto p = to_problem(e);
          p.message = redactor.scrub("[" + label + "] " + p.message);
          rr.errors.push_back(p);
          side_ok[is_head] = false;
        }
        if (auto pe = prep_errors.find({i, is_head}); pe != prep_errors.end()) {
          rr.errors.push_back({redactor.scrub("[" + label + "] " + pe->second), r->where.file, r->where.line, 0});
          side_ok[is_head] = false;
          continue;
        }
        auto it = by_job.find({i, is_head});
        if (it == by_job.end()) continue;
        const auto& res = *it->second;
        if (!res) {
          rr.errors.push_back({redactor.scrub("[" + label + "] " + res.error().message), r->where.file, r->where.line, 0});
          side_ok[is_head] = false;
          continue;
        }
        diff::ParseOptions po;
        po.redactor = &redactor;
        po.source = "helm template " + r->release_name + " (" + label + ")";
        auto parsed = diff::parse_manifest(res->manifest, po);
        if (!parsed) {
          rr.errors.push_back({redactor.scrub(parsed.error().message), r->where.file, r->where.line, 0});
          side_ok[is_head] = false;
          continue;
        }
        sides[is_head] = std::move(parsed.value());
      }
      // A side that failed to render must not show up as "everything removed/added".
      if (side_ok[0] && side_ok[1]) rr.resources = diff::diff_resources(sides[0], sides[1]);
      if (!rr.errors.empty()) rr.status = diff::ReleaseStatus::error;
      report.releases.push_back(std::move(rr));
    }
  }

  std::string out;
  if (a.format == "json") {
    out = diff::to_json(report);
  } else if (a.format == "text") {
    out = diff::to_text(report, ::isatty(1) != 0);
  } else if (a.max_bytes == 0) {
    out = diff::to_markdown(report);
  } else {
    auto parts = diff::to_markdown_parts(report, a.max_bytes);
    for (size_t i = 0; i < parts.size(); ++i) {
      if (i > 0) out += "\n<!-- helmgate: next comment -->\n\n";
      out += parts[i];
    }
  }
  // Last line of defence: no value that came from a Secret leaves the process.
  out = redactor.scrub(std::move(out));
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  if (report.has_errors()) return 1;
  return report.has_changes() ? 2 : 0;
}

}  // namespace helmgate::cmd
