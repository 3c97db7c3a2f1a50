#include "release/kustomize_build.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string_view>

#include "core/redact.hpp"
#include "core/yaml_bounded.hpp"
#include "release/kustomize_scan.hpp"
#include "release/yaml_util.hpp"

namespace fs = std::filesystem;

namespace helmgate::release {

using detail::scalar;

namespace {

// The kustomization file of `dir` and its text, in kustomize's order of names.
std::optional<std::pair<std::string, std::string>> read_kustomization(const SourceTree& tree, const std::string& dir) {
  for (const char* name : {"kustomization.yaml", "kustomization.yml", "Kustomization"}) {
    std::string path = join_path(dir, name);
    if (auto text = tree.read(path)) return std::pair{std::move(path), std::move(*text)};
  }
  return std::nullopt;
}

}  // namespace

std::string kustomization_file(const SourceTree& tree, const std::string& dir) {
  auto found = read_kustomization(tree, dir);
  return found ? found->first : std::string();
}

namespace {

void closure_into(const SourceTree& tree, const std::string& dir, ParseBudget& budget, Closure& out,
                  std::set<std::string>& seen_dirs) {
  if (!seen_dirs.insert(dir).second) return;
  auto found = read_kustomization(tree, dir);
  if (!found) {
    // A plain directory used as a resource: every file in it counts.
    auto entries = tree.list(dir, true);
    if (entries) {
      for (const auto& e : *entries) {
        if (!e.is_tree) out.files.insert(join_path(dir, e.path));
      }
    }
    return;
  }
  const auto& [kfile, text] = *found;
  out.files.insert(kfile);
  auto parsed = budget.parse(kfile, text);
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
          auto pf = budget.parse_file(tree.prefix, p, *t);
          if (auto* f = std::get_if<ParseFailure>(&pf)) {
            out.failures.push_back(*f);
          } else if (const FileObjects* names = budget.objects(tree.prefix + p); names != nullptr && *names) {
            out.objects.emplace(p, std::move(std::get<Docs>(pf)));
          }
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

// --- kustomize's own result for a plain kustomization, without running it.
//
// Most kustomizations in a Flux repository only list files (flux bootstrap's flux-system folder:
// gotk-components.yaml and gotk-sync.yaml). For those, kustomize build is the listed documents, sorted the
// way kustomize sorts by default ("legacy"), so discovery builds them itself: no process, and no copy of the
// tree on disk for kustomize to read. Anything else (patches, generators, namespace, components, a plain
// directory, a List, local-config or kustomize's own annotations, an id twice) goes to kustomize as before,
// which also gives its own error for what it refuses.

// kustomize's default order: these kinds first, in this order; the two webhook kinds last; the rest between,
// by group, version and kind; then by "namespace|name" ("~X" for none).
const std::vector<std::string> kOrderFirst = {
    "Namespace",  "ResourceQuota", "StorageClass", "CustomResourceDefinition", "ServiceAccount", "PodSecurityPolicy",
    "Role",       "ClusterRole",   "RoleBinding",  "ClusterRoleBinding",       "ConfigMap",      "Secret",
    "Endpoints",  "Service",       "LimitRange",   "PriorityClass",            "PersistentVolume",
    "PersistentVolumeClaim",       "Deployment",   "StatefulSet",              "CronJob",        "PodDisruptionBudget"};
const std::vector<std::string> kOrderLast = {"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"};

struct SortKey {
  size_t rank;
  std::string gvk;      // group_version_kind, "~G" for the core group
  std::string ns_name;  // namespace|name, "~X" for no namespace
  std::string id;       // group, version, kind, namespace ("" as "default") and name: what kustomize allows once
  bool operator<(const SortKey& o) const { return std::tie(rank, gvk, ns_name) < std::tie(o.rank, o.gvk, o.ns_name); }
};

// Scalars that kustomize's YAML reading types otherwise than discovery's reader (go-yaml v2's rules, as
// apimachinery reads a manifest): YAML 1.1's yes/no/on/off and y/n stay strings there, timestamps become
// RFC 3339 strings, .inf/.nan, keys that are not strings and a key twice in one mapping stop kustomize. A
// document holding one is left to kustomize, whose output (or error) is then read as before.
bool typed_differently(const YAML::Node& n, bool key) {
  if (n.IsMap()) {
    if (n.Tag() != "?" && n.Tag() != "tag:yaml.org,2002:map") return true;
    std::set<std::string> keys;
    for (const auto& kv : n) {
      if (!kv.first.IsScalar() || !keys.insert(kv.first.Scalar()).second || typed_differently(kv.first, true) ||
          typed_differently(kv.second, false)) {
        return true;
      }
    }
    return false;
  }
  if (n.IsSequence()) {
    if (n.Tag() != "?" && n.Tag() != "tag:yaml.org,2002:seq") return true;
    for (const auto& e : n) {
      if (typed_differently(e, false)) return true;
    }
    return false;
  }
  if (!n.IsScalar()) return key;  // null: a key kustomize cannot write as JSON
  if (n.Tag() == "!" || n.Tag() == "tag:yaml.org,2002:str") return false;  // quoted, or a string by tag
  if (n.Tag() != "?") return true;
  static const std::set<std::string> kYaml11Bools = {"y",  "Y",  "yes", "Yes", "YES", "n",   "N",   "no",
                                                     "No", "NO", "on",  "On",  "ON",  "off", "Off", "OFF"};
  const std::string& v = n.Scalar();
  if (kYaml11Bools.count(v) != 0) return true;
  static const std::set<std::string> kInfNan = {".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN"};
  if (kInfNan.count(!v.empty() && (v[0] == '+' || v[0] == '-') ? v.substr(1) : v) != 0) return true;
  if (v.size() >= 8 && std::all_of(v.begin(), v.begin() + 4, [](char c) { return c >= '0' && c <= '9'; }) &&
      v[4] == '-') {
    return true;  // a timestamp
  }
  if (key) {
    static const std::set<std::string> kNonString = {"~",    "null", "Null",  "NULL",  "true",
                                                     "True", "TRUE", "false", "False", "FALSE"};
    if (v.empty() || kNonString.count(v) != 0 || std::string_view("0123456789+-.").find(v[0]) != std::string_view::npos) {
      return true;
    }
  }
  return false;
}

std::optional<SortKey> sort_key(const YAML::Node& n) {
  const std::string api = scalar(n, "apiVersion"), kind = scalar(n, "kind");
  const YAML::Node md = detail::get(n, "metadata");
  const std::string name = scalar(md, "name");
  if (api.empty() || kind.empty() || name.empty() || !md.IsMap()) return std::nullopt;
  if (kind.size() >= 4 && kind.compare(kind.size() - 4, 4, "List") == 0) return std::nullopt;
  const YAML::Node ann = detail::get(md, "annotations");
  if (ann && ann.IsMap()) {
    for (const auto& a : ann) {
      // config.kubernetes.io/local-config drops the document; kustomize's own annotations
      // (kustomize.config.k8s.io/behavior, internal.config.kubernetes.io/...) change what it does with it.
      const std::string k = a.first.Scalar();
      if (k.find("config.kubernetes.io/") != std::string::npos || k.find("config.k8s.io/") != std::string::npos) {
        return std::nullopt;
      }
    }
  }
  const YAML::Node ns = detail::get(md, "namespace");
  if (ns && !ns.IsScalar()) return std::nullopt;
  const auto slash = api.find('/');
  const std::string group = slash == std::string::npos ? "~G" : api.substr(0, slash);
  const std::string version = slash == std::string::npos ? api : api.substr(slash + 1);
  size_t rank = kOrderFirst.size();
  if (auto it = std::find(kOrderFirst.begin(), kOrderFirst.end(), kind); it != kOrderFirst.end()) {
    rank = static_cast<size_t>(it - kOrderFirst.begin());
  } else if (auto jt = std::find(kOrderLast.begin(), kOrderLast.end(), kind); jt != kOrderLast.end()) {
    rank = kOrderFirst.size() + 1 + static_cast<size_t>(jt - kOrderLast.begin());
  }
  const std::string nss = ns && !ns.Scalar().empty() ? ns.Scalar() : std::string("~X");
  const std::string id_ns = ns && !ns.Scalar().empty() ? ns.Scalar() : std::string("default");
  std::string gvk = group + "_" + version + "_" + kind;
  return SortKey{rank, gvk, nss + "|" + name, gvk + "/" + id_ns + "/" + name};
}

// Appends the documents of the plain kustomization in `dir` (and of the plain kustomizations it lists);
// false when it is not plain.
bool plain_into(const SourceTree& tree, const std::string& dir, const Closure& closure, std::set<std::string>& visiting,
                std::set<std::string>& ids, std::vector<std::pair<SortKey, Doc>>& out) {
  if (!visiting.insert(dir).second) return false;  // a cycle: kustomize's error
  auto found = read_kustomization(tree, dir);
  if (!found) return false;
  try {
    auto docs = core::yaml::load_all(found->second);
    if (docs.size() != 1 || !docs[0].IsMap()) return false;
    const YAML::Node& k = docs[0];
    for (const auto& field : k) {
      const std::string key = field.first.Scalar();
      if (key != "apiVersion" && key != "kind" && key != "resources") return false;
    }
    const std::string api = scalar(k, "apiVersion", "kustomize.config.k8s.io/v1beta1");
    if (api != "kustomize.config.k8s.io/v1beta1" || scalar(k, "kind", "Kustomization") != "Kustomization") return false;
    const YAML::Node resources = detail::get(k, "resources");
    if (resources && !resources.IsSequence()) return false;
    for (const auto& r : resources) {
      if (!r.IsScalar() || r.Scalar().empty() || kustomize_entry_is_remote(r.Scalar())) return false;
      const std::string p = join_path(dir, r.Scalar());
      if (tree.is_dir(p)) {
        if (!plain_into(tree, p, closure, visiting, ids, out)) return false;
        continue;
      }
      if (!is_yaml_path(p)) return false;
      auto body = tree.read(p);
      // Merge keys: kustomize's YAML library expands them, ours keeps them as a key.
      if (!body || body->find("<<") != std::string::npos) return false;
      // The closure's documents when it kept them (every one a map naming an object), else parsed here.
      auto kept = closure.objects.find(p);
      Docs parsed;
      if (kept == closure.objects.end()) {
        for (auto& n : core::yaml::load_all(*body)) {
          if (n.IsNull()) continue;
          if (!n.IsMap()) return false;
          parsed.push_back(Doc{n, p, n.Mark().line + 1, {}, nullptr});
        }
      }
      for (const Doc& d : kept == closure.objects.end() ? parsed : kept->second) {
        if (typed_differently(d.node, false)) return false;
        auto key = sort_key(d.node);
        // The same id twice: kustomize refuses it (with its own message).
        if (!key || !ids.insert(key->id).second) return false;
        out.emplace_back(std::move(*key), d);
      }
    }
  } catch (const YAML::Exception&) {
    return false;
  }
  visiting.erase(dir);
  return true;
}

std::optional<Docs> build_plain(const SourceTree& tree, const std::string& dir, const Closure& closure) {
  std::set<std::string> visiting, ids;
  std::vector<std::pair<SortKey, Doc>> found;
  if (!plain_into(tree, dir, closure, visiting, ids, found)) return std::nullopt;
  // Sorted by index: assigning a YAML::Node assigns its content, so Docs are never swapped in place.
  std::vector<size_t> order(found.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return found[a].first < found[b].first; });
  Docs out;
  out.reserve(found.size());
  for (size_t i : order) {
    out.push_back(found[i].second);
    out.back().unit = dir.empty() ? std::string(".") : dir;
  }
  return out;
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
  if (auto plain = build_plain(tree, dir, closure)) {
    auto docs = std::make_shared<const Docs>(std::move(*plain));
    if (env.opt.cache) env.opt.cache->put(key, docs);
    return docs;
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
