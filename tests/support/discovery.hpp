#pragma once
// Discovery over a TempRepo for tests: an engine with real kustomize (through kubectl) and helm, and the
// helpers the release, legacy and chart-source tests read results with. Header-only: tests that include
// it link helmgate_release, helmgate_render and helmgate_git.
#include <unistd.h>

#include <string>
#include <vector>

#include "release/release.hpp"
#include "render/renderer.hpp"
#include "support/support.hpp"
#include "support/temp_repo.hpp"

namespace helmgate::test {

// Discovery options over `work` (trees, kustomize builds), one cluster "default" at the repository root
// unless the test sets clusters.
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

// A work directory next to the repository.
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

// The reasons of an affected release, one a line.
inline std::string all_reasons(const release::Affected& a) { return joined(a.reasons); }

}  // namespace helmgate::test
