#include "release/kustomize_build.hpp"

#include <filesystem>
#include <map>
#include <optional>

#include "core/redact.hpp"
#include "release/kustomize_scan.hpp"
#include "release/yaml_util.hpp"

namespace fs = std::filesystem;

namespace helmgate::release {

using detail::scalar;

std::string kustomization_file(const SourceTree& tree, const std::string& dir) {
  for (const char* name : {"kustomization.yaml", "kustomization.yml", "Kustomization"}) {
    if (tree.read(join_path(dir, name))) return join_path(dir, name);
  }
  return {};
}

namespace {

void closure_into(const SourceTree& tree, const std::string& dir, ParseBudget& budget, Closure& out,
                  std::set<std::string>& seen_dirs) {
  if (!seen_dirs.insert(dir).second) return;
  std::string kfile;
  std::optional<std::string> text;
  for (const char* name : {"kustomization.yaml", "kustomization.yml", "Kustomization"}) {
    if ((text = tree.read(join_path(dir, name)))) {
      kfile = join_path(dir, name);
      break;
    }
  }
  if (!text) {
    // A plain directory used as a resource: every file in it counts.
    auto entries = tree.list(dir, true);
    if (entries) {
      for (const auto& e : *entries) {
        if (!e.is_tree) out.files.insert(join_path(dir, e.path));
      }
    }
    return;
  }
  out.files.insert(kfile);
  auto parsed = budget.parse(kfile, *text);
  if (auto* f = std::get_if<ParseFailure>(&parsed)) {
    out.failures.push_back(*f);
    return;
  }
  auto& docs = std::get<Docs>(parsed);
  if (docs.empty()) return;
  const YAML::Node& k = docs.front().node;
  // Remote bases and files, absolute paths and paths above the repository are refused before kustomize runs.
  for (const auto& ref : scan_kustomization(k, dir, [&](const std::string& p) { return tree.object_id(p).has_value(); })) {
    out.failures.push_back({"kustomization " + kfile + ": " + ref.message(), {kfile, ref.line, ref.column}});
  }
  auto add_path = [&](const std::string& rel) {
    if (rel.find("://") != std::string::npos || rel.rfind("git@", 0) == 0) return;
    const std::string p = join_path(dir, rel);
    if (tree.is_dir(p)) {
      closure_into(tree, p, budget, out, seen_dirs);
    } else {
      out.files.insert(p);
      if (is_yaml_path(p)) {
        if (auto t = tree.read(p)) {
          auto pf = budget.parse(p, *t);
          if (auto* f = std::get_if<ParseFailure>(&pf)) out.failures.push_back(*f);
        }
      }
    }
  };
  for (const char* list : {"resources", "bases", "components", "crds", "patchesStrategicMerge", "generators",
                           "transformers", "validators", "configurations"}) {
    if (k[list] && k[list].IsSequence()) {
      for (const auto& r : k[list]) {
        if (r.IsScalar() && r.Scalar().find('\n') == std::string::npos) add_path(r.Scalar());
      }
    }
  }
  for (const char* list : {"patches", "patchesJson6902"}) {
    if (k[list] && k[list].IsSequence()) {
      for (const auto& p : k[list]) {
        if (p.IsMap() && detail::get(p, "path")) add_path(detail::get(p, "path").Scalar());
      }
    }
  }
  for (const char* list : {"configMapGenerator", "secretGenerator"}) {
    if (k[list] && k[list].IsSequence()) {
      for (const auto& g : k[list]) {
        for (const char* field : {"files", "envs"}) {
          if (!g[field] || !g[field].IsSequence()) continue;
          for (const auto& f : g[field]) {
            std::string s = f.Scalar();
            if (auto eq = s.find('='); eq != std::string::npos) s = s.substr(eq + 1);
            add_path(s);
          }
        }
        if (detail::get(g, "env")) add_path(detail::get(g, "env").Scalar());
      }
    }
  }
}

const std::set<std::string> kLocated = {"HelmRepository", "GitRepository", "OCIRepository", "Kustomization",
                                        "ConfigMap",      "Secret",        "FluxHelmRelease"};

// kind/name -> (file, line) of the full declarations among the closure's files. A full declaration wins
// over patches, which usually lack spec.chart / spec.chartRef (or a Kustomization's sourceRef).
std::map<std::string, std::pair<std::string, int>> declarations(const SourceTree& tree,
                                                                const std::set<std::string>& files,
                                                                ParseBudget& budget) {
  std::map<std::string, std::pair<std::string, int>> declared;
  for (const auto& f : files) {
    if (!is_yaml_path(f)) continue;
    auto t = tree.read(f);
    if (!t) continue;
    auto pf = budget.parse(f, *t);
    auto* docs = std::get_if<Docs>(&pf);
    if (docs == nullptr) continue;
    for (const auto& x : *docs) {
      const std::string kind = scalar(x.node, "kind");
      const YAML::Node spec = detail::get(x.node, "spec");
      if (kind == "Kustomization" && !detail::get(spec, "sourceRef")) continue;
      const YAML::Node chart = detail::get(spec, "chart");
      const bool full = kind != "HelmRelease" || detail::get(chart, "spec") || detail::get(spec, "chartRef") ||
                        detail::get(chart, "git") || detail::get(chart, "repository");
      if (!full) continue;
      declared.emplace(kind + "/" + scalar(detail::get(x.node, "metadata"), "name"), std::make_pair(x.file, x.line));
    }
  }
  return declared;
}

}  // namespace

Closure kustomize_closure(const SourceTree& tree, const std::string& dir, ParseBudget& budget) {
  Closure out;
  std::set<std::string> seen_dirs;
  closure_into(tree, dir, budget, out, seen_dirs);
  return out;
}

core::Result<std::shared_ptr<const Docs>> build_kustomization(SourceTree& tree, const std::string& dir,
                                                              std::vector<std::string>& inputs, const TreeEnv& env) {
  Closure closure = kustomize_closure(tree, dir, env.budget);
  const std::set<std::string>& files = closure.files;
  inputs.assign(files.begin(), files.end());
  if (env.units != nullptr) {
    std::set<std::string>& unit = (*env.units)[tree.prefix + (dir.empty() ? std::string(".") : dir)];
    for (const auto& f : files) unit.insert(tree.prefix + f);
  }
  if (!closure.failures.empty()) {
    for (const auto& f : closure.failures) env.problem(f.message, f.where);
    return core::Error(core::errc::bad_request, "kustomization " + dir + " has invalid files");
  }
  std::string key_material = "kustomize\n" + dir + "\n";
  for (const auto& f : files) key_material += f + "=" + tree.object_id(f).value_or("-") + "\n";
  const std::string key = core::sha256_hex(key_material);
  if (env.opt.cache) {
    if (auto hit = env.opt.cache->get(key)) return hit;
  }
  if (tree.tree_dir.empty()) {
    auto m = tree.repo->materialize(tree.commit, "", env.opt.work_root);
    if (!m) {
      env.problem("cannot materialize the repository for kustomize: " + m.error().message, {});
      return m.error();
    }
    tree.tree_dir = *m;
  }
  if (!env.opt.kustomize) {
    env.problem("kustomize is not available to build " + dir, {});
    return core::Error(core::errc::invalid_config, "no kustomize");
  }
  auto built = env.opt.kustomize((fs::path(tree.tree_dir) / dir).string(), key);
  if (!built) {
    env.problem("kustomize build " + (dir.empty() ? std::string(".") : dir) + " failed: " + built.error().message,
                {dir.empty() ? std::string("kustomization.yaml") : dir + "/kustomization.yaml", 0, 0});
    return built.error();
  }
  auto parsed = env.budget.parse(dir, *built);
  if (auto* f = std::get_if<ParseFailure>(&parsed)) {
    env.problem("kustomize output for " + dir + " is not valid YAML: " + f->message, {});
    return core::Error(core::errc::bad_request, f->message);
  }
  auto docs = std::make_shared<Docs>(std::move(std::get<Docs>(parsed)));
  // kustomize output has no file positions; point the documents discovery uses back to the file that
  // declares them (parsing the closure once, and only when there is something to point at).
  std::optional<std::map<std::string, std::pair<std::string, int>>> declared;
  for (auto& d : *docs) {
    d.file.clear();
    d.line = 0;
    d.unit = dir.empty() ? std::string(".") : dir;
    const std::string kind = scalar(d.node, "kind");
    if (kind != "HelmRelease" && kLocated.count(kind) == 0) continue;
    if (!declared) declared = declarations(tree, files, env.budget);
    auto it = declared->find(kind + "/" + scalar(detail::get(d.node, "metadata"), "name"));
    if (it != declared->end()) {
      d.file = it->second.first;
      d.line = it->second.second;
    }
  }
  if (env.opt.cache) env.opt.cache->put(key, docs);
  return std::shared_ptr<const Docs>(docs);
}

}  // namespace helmgate::release
