#pragma once
// A discovery engine over a TempRepo for the chart-source fidelity tests (real kustomize through kubectl).
#include <unistd.h>

#include <string>

#include "release/release.hpp"
#include "render/renderer.hpp"
#include "support/support.hpp"
#include "support/temp_repo.hpp"

namespace helmgate::test {

struct Engine {
  render::Renderer renderer;
  release::DiscoverOptions opt;
  explicit Engine(const std::string& work)
      : renderer([&] {
          render::Options o;
          o.helm = require_env("HELMGATE_HELM");
          o.kubectl = require_env("HELMGATE_KUBECTL");
          o.work_dir = work;
          return o;
        }()) {
    opt.work_root = work + "/trees";
    opt.cache = release::make_doc_cache();
    opt.kustomize = [this](const std::string& dir, const std::string& key) { return renderer.kustomize_build(dir, key); };
    opt.clusters = {{"default", {""}, {}}};
  }
};

inline std::string work_dir(const TempRepo& t) {
  return (t.dir.parent_path() / ("hg-work-" + t.dir.filename().string())).string();
}

inline const release::Release* find_release(const release::Discovery& d, const std::string& id) {
  for (const auto& r : d.releases) {
    if (r.id() == id) return &r;
  }
  return nullptr;
}

inline std::string all_notes(const release::Discovery& d) {
  std::string s;
  for (const auto& n : d.notes) s += n.message + "\n";
  return s;
}

inline std::string all_problems(const release::Discovery& d) {
  std::string s;
  for (const auto& p : d.problems) s += p.where.file + ":" + std::to_string(p.where.line) + ": " + p.message + "\n";
  return s;
}

inline std::string all_errors(const release::Release& r) {
  std::string s;
  for (const auto& e : r.errors) s += e.where.file + ":" + std::to_string(e.where.line) + ": " + e.message + "\n";
  return s;
}

inline std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

// A Flux HelmRelease from a HelmRepository, with values.
inline std::string helm_release(const std::string& name, const std::string& ns, const std::string& version,
                                const std::string& values) {
  return "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: " + name + "\n  namespace: " + ns +
         "\nspec:\n  interval: 10m\n  chart:\n    spec:\n      chart: podinfo\n      version: \"" + version +
         "\"\n      sourceRef:\n        kind: HelmRepository\n        name: podinfo\n        namespace: flux-system\n"
         "  values:\n" + values;
}

inline const char* kPodinfoRepository =
    "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: podinfo\n  namespace: flux-system\n"
    "spec:\n  interval: 1h\n  url: https://stefanprodan.github.io/podinfo\n";

inline std::string flux_kustomization(const std::string& name, const std::string& path, const std::string& kind,
                                      const std::string& source) {
  return "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: " + name +
         "\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: " + path + "\n  prune: true\n  sourceRef:\n    kind: " +
         kind + "\n    name: " + source + "\n";
}

}  // namespace helmgate::test
