#pragma once
// For the unit tests of discovery's rooms (tests/unit/release): documents made from text, a collector for
// the problems and notes a room reports, a small repository as a source tree, and a chart context over an
// object index. Header-only: tests that include it link helmgate_release and helmgate_render.
#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "release/chart_source.hpp"
#include "release/documents.hpp"
#include "release/source_tree.hpp"
#include "support/temp_repo.hpp"

namespace helmgate::test {

inline release::Doc doc(const std::string& text, const std::string& file, int line) {
  return release::Doc{YAML::Load(text), file, line, {}, nullptr};
}

// What a room reported, in order: (message, file:line).
struct Said {
  std::vector<std::pair<std::string, release::Location>> problems, notes;
  release::Report problem() {
    return [this](const std::string& m, const release::Location& at) { problems.emplace_back(m, at); };
  }
  release::Report note() {
    return [this](const std::string& m, const release::Location& at) { notes.emplace_back(m, at); };
  }
  std::string text() const {
    std::string s;
    for (const auto& [m, at] : problems) s += at.file + ":" + std::to_string(at.line) + ": " + m + "\n";
    return s;
  }
};

// A small repository for a room to read: write files with t, then commit() points tree at the commit.
struct TreeFixture {
  TempRepo t;
  std::optional<git::Repository> repo;
  release::SourceTree tree;
  explicit TreeFixture(const std::string& name) : t(name) {}
  void commit() {
    const std::string c = t.commit("tree");
    repo = git::Repository::open(t.dir.string()).value();
    tree.repo = &*repo;
    tree.commit = c;
  }
};

// Chart resolution over `objects` and `tree` (null: no repository files), as discovery wires it.
inline release::charts::Context chart_context(const release::DiscoverOptions& opt, const release::ObjectIndex& objects,
                                              const release::SourceTree* tree = nullptr) {
  release::charts::Context c;
  c.opt = &opt;
  c.cluster = "dev";
  c.find = [&objects](const std::string& kind, const std::string& ns,
                      const std::string& name) -> std::optional<release::charts::Object> {
    const release::Doc* d = objects.find(kind, ns, name);
    if (d == nullptr) return std::nullopt;
    return release::charts::Object{d->node, d->file, d->line};
  };
  c.all = [&objects](const std::string& kind) {
    std::vector<release::charts::Object> out;
    for (const release::Doc* d : objects.all(kind)) out.push_back({d->node, d->file, d->line});
    return out;
  };
  c.repo_chart = [](release::Release&, const std::string&, const std::string&) {};
  c.read = [tree](const std::string& path) { return tree ? tree->read(path) : std::optional<std::string>(); };
  return c;
}

}  // namespace helmgate::test
