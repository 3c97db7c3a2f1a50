#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <thread>
#include <optional>
#include <variant>
#include <set>

#include "core/redact.hpp"
#include "release/chart_source.hpp"
#include "release/duplicates.hpp"
#include "release/kustomize_scan.hpp"
#include "release/sources.hpp"
#include "release/helmrelease_legacy.hpp"
#include "release/names_gate.hpp"
#include "release/own_inputs.hpp"
#include "release/substitute.hpp"
#include "release/release.hpp"
#include "core/base64.hpp"
#include "core/limits.hpp"
#include "core/yaml_bounded.hpp"
#include "release/typed_json.hpp"
#include "release/yaml_util.hpp"

namespace fs = std::filesystem;

namespace helmgate::release {

using detail::scalar;

namespace {

struct Doc {
  YAML::Node node;
  std::string file;  // repository path when known
  int line = 0;
  std::string unit;  // the kustomization directory it was built in ("" for a file read as it is)
};
using Docs = std::vector<Doc>;

std::string clean(std::string p) {
  while (p.rfind("./", 0) == 0) p.erase(0, 2);
  while (!p.empty() && p.front() == '/') p.erase(0, 1);
  while (!p.empty() && p.back() == '/') p.pop_back();
  if (p == ".") p.clear();
  return fs::path(p).lexically_normal().generic_string() == "." ? std::string()
                                                                 : fs::path(p).lexically_normal().generic_string();
}

std::string join(const std::string& dir, const std::string& rel) {
  if (dir.empty()) return clean(rel);
  return clean((fs::path(dir) / rel).lexically_normal().generic_string());
}

bool is_yaml(const std::string& p) {
  return p.size() > 5 && (p.compare(p.size() - 5, 5, ".yaml") == 0 || p.compare(p.size() - 4, 4, ".yml") == 0);
}

const char* kKustomizationNames[] = {"kustomization.yaml", "kustomization.yml", "Kustomization"};

struct ParseFailure {
  std::string message;
  Location where;
};

// Parses a file's documents with their lines; a syntax error names the file, line and column.
std::variant<Docs, ParseFailure> parse_file(const std::string& path, const std::string& text) {
  Docs out;
  try {
    for (auto& n : core::yaml::load_all(text)) {
      if (!n.IsMap()) continue;
      out.push_back({n, path, n.Mark().line + 1, {}});
    }
  } catch (const core::yaml::LimitExceeded& e) {
    return ParseFailure{e.msg, {path, e.mark.line + 1, e.mark.column + 1}};
  } catch (const YAML::Exception& e) {
    return ParseFailure{"invalid YAML: " + e.msg, {path, e.mark.line + 1, e.mark.column + 1}};
  }
  return out;
}

}  // namespace

class DocCache {
 public:
  std::shared_ptr<const Docs> get(const std::string& key) {
    std::lock_guard lk(mu_);
    auto it = docs_.find(key);
    return it == docs_.end() ? nullptr : it->second;
  }
  void put(const std::string& key, std::shared_ptr<const Docs> d) {
    std::lock_guard lk(mu_);
    docs_[key] = std::move(d);
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Docs>> docs_;
};

std::shared_ptr<DocCache> make_doc_cache() { return std::make_shared<DocCache>(); }

bool Discovery::root_failed(const std::string& cluster, const std::string& root) const {
  return std::find(failed_roots.begin(), failed_roots.end(), std::make_pair(cluster, root)) != failed_roots.end();
}

bool Discovery::root_missing(const std::string& cluster, const std::string& root) const {
  return std::find(missing_roots.begin(), missing_roots.end(), std::make_pair(cluster, root)) != missing_roots.end();
}

bool Discovery::root_partial(const std::string& cluster, const std::string& root) const {
  return std::find(partial_roots.begin(), partial_roots.end(), std::make_pair(cluster, root)) != partial_roots.end();
}

std::string ChartRef::describe() const {
  switch (kind) {
    case ChartKind::repo_dir: return path + " (this repository)";
    case ChartKind::helm_repository: return name + (version.empty() ? "" : "@" + version) + " from " + core::redact_url(url);
    case ChartKind::oci:
      return core::redact_url(url) + (version.empty() ? "" : ":" + version) + (digest.empty() ? "" : "@" + digest);
    case ChartKind::remote_git: return core::redact_url(url) + "//" + path + (version.empty() ? "" : "@" + version);
  }
  return {};
}

std::string ValuesSource::label() const {
  std::string s = kind + " " + (namespace_.empty() ? "" : namespace_ + "/") + name;
  if (!key.empty()) s += "[" + key + "]";
  if (!target_path.empty()) s += " -> " + target_path;
  return s;
}

core::Result<std::vector<ClusterSpec>> default_clusters(const git::Repository& repo, const std::string& commit) {
  auto entries = repo.list(commit, "clusters", false);
  if (!entries) return entries.error();
  std::vector<ClusterSpec> out;
  for (const auto& e : *entries) {
    if (e.is_tree) out.push_back({e.path, {"clusters/" + e.path}, {}});
  }
  if (out.empty()) out.push_back({"default", {""}, {}});
  return out;
}

namespace {

class Discoverer {
 public:
  Discoverer(const git::Repository& repo, std::string commit, const DiscoverOptions& opt, Discovery& out)
      : opt_(opt), out_(out) {
    Source self;
    self.repo = &repo;
    self.commit = std::move(commit);
    sources_.push_back(std::move(self));
    use(0);
  }

  void run_cluster(const ClusterSpec& cluster) {
    cluster_ = &cluster;
    objects_.clear();
    found_.clear();
    std::deque<Root> roots;
    for (const auto& p : cluster.paths) roots.push_back({0, clean(p), nullptr, true});
    std::set<std::string> visited;
    std::vector<std::pair<Doc, std::vector<std::string>>> flux_kustomizations;  // with the roots that led there
    while (true) {
      while (!roots.empty()) {
        Root root = std::move(roots.front());
        roots.pop_front();
        if (!visited.insert(root.key()).second) continue;
        use(root.source);
        std::vector<std::string> inputs;
        const size_t problems_before = out_.problems.size();
        missing_ = partial_ = false;
        auto docs = load_root(root.path, inputs);
        if (docs && root.transform) docs = apply_transform(**docs, *root.transform);
        const std::string root_id = src_->prefix + root.path;
        if (!src_->prefix.empty()) {
          for (auto& i : inputs) i = src_->prefix + i;
        }
        if (root.transform && !root.transform->file.empty()) inputs.push_back(root.transform->file);
        if (!docs || partial_) {
          out_.failed_roots.emplace_back(cluster.name, root_id);
          auto& why = out_.root_problems[{cluster.name, root_id}];
          why.insert(why.end(), out_.problems.begin() + static_cast<std::ptrdiff_t>(problems_before), out_.problems.end());
          // A cluster path absent at this commit: at base, a cluster path the change adds.
          if (!docs && missing_ && root.cluster_path) out_.missing_roots.emplace_back(cluster.name, root_id);
          // Read in part (a malformed file among readable ones): what was read is kept, and Flux would fail
          // the sync of this path as a whole.
          if (partial_) out_.partial_roots.emplace_back(cluster.name, root_id);
          if (!docs) continue;
        }
        out_.read_roots.emplace(cluster.name, root_id);
        std::vector<std::string> via = root.via;
        via.push_back(root_id);
        for (const auto& d : **docs) {
          index(d);
          found_.push_back({d, root_id, inputs, root.source, root.transform, root.via, root.followed});
          if (scalar(d.node, "kind") == "Kustomization") flux_kustomizations.emplace_back(d, via);
        }
      }
      // Followed only once everything seen so far is indexed: the GitRepository or ArtifactGenerator a
      // Flux Kustomization names may sit in a file read after it.
      for (const auto& [d, via] : flux_kustomizations) {
        for (auto& next : follow(d)) {
          next.followed = true;
          next.via = via;
          if (visited.count(next.key()) == 0) roots.push_back(std::move(next));
        }
      }
      if (roots.empty()) break;
    }
    if (over_release_limit(cluster)) return;
    const std::set<const Found*> dropped = duplicate_definitions();
    for (const auto& f : found_) {
      if (dropped.count(&f) != 0) continue;  // another definition of it wins (release/duplicates)
      // Every generation helmgate reads (legacy::classify); any other HelmRelease is a note, never silence.
      const auto api = legacy::classify(scalar(f.doc.node, "apiVersion"), scalar(f.doc.node, "kind"));
      if (api == legacy::Api::unknown) {
        use(f.source);
        note(legacy::unread_note(f.doc.node), {src_->prefix + f.doc.file, f.doc.line, 0});
        out_.unread[cluster.name + "/" + scalar(detail::get(f.doc.node, "metadata"), "namespace", "default") + "/" +
                    scalar(detail::get(f.doc.node, "metadata"), "name")] =
            scalar(f.doc.node, "kind") + " " + scalar(f.doc.node, "apiVersion");
      } else if (api != legacy::Api::other) {
        use(f.source);
        Release r = build_release(f.doc, f.root, f.inputs);
        r.via = f.via;
        if (f.transform) r.sensitive.insert(r.sensitive.end(), f.transform->sensitive.begin(), f.transform->sensitive.end());
        if (!src_->prefix.empty()) {
          r.where.file = src_->prefix + r.where.file;
          if (!r.chart.source.file.empty()) r.chart.source.file = src_->prefix + r.chart.source.file;
          r.notes.push_back("declared in " + src_->label + " at commit " + src_->commit.substr(0, 12));
        }
        out_.releases.push_back(std::move(r));
      }
    }
    use(0);
  }

 private:
  // Where documents come from: this repository (index 0), or a tenant repository a Flux Kustomization
  // applies through its own GitRepository.
  struct Source {
    const git::Repository* repo = nullptr;
    std::shared_ptr<const git::Repository> owned;
    std::string commit;
    std::string tree_dir;  // materialized for kustomize, on first use
    std::string prefix;    // "" for this repository; "<url>@<ref>//" for a tenant's, so paths never collide
    std::string label;     // "GitRepository apps/dev-team (https://…, branch dev-team)"
  };

  // What a Flux Kustomization does to the documents of its path before they are applied.
  struct Transform {
    std::string target_namespace;
    YAML::Node patches;  // spec.patches, in kustomize's own format
    bool substitute = false;
    bool substitute_always = false;  // postBuild.substituteStrategy: Always
    int line = 0;                    // of the Kustomization
    std::map<std::string, std::string> vars;  // postBuild.substitute over postBuild.substituteFrom
    std::vector<std::string> sensitive;       // vars that came from Secrets
    std::string file;                         // where the Kustomization is declared
    std::string digest;
  };

  struct Root {
    size_t source = 0;
    std::string path;
    std::shared_ptr<const Transform> transform;
    bool cluster_path = false;     // one of the cluster's configured paths (not reached through a Kustomization)
    std::vector<std::string> via = {};  // the roots whose Flux Kustomizations led here, outermost first
    bool followed = false;              // a Flux Kustomization's spec.path (not a cluster path)
    std::string key() const {
      return std::to_string(source) + ":" + path + (transform ? "#" + transform->digest : std::string());
    }
  };

  struct Found {
    Doc doc;
    std::string root;
    std::vector<std::string> inputs;
    size_t source = 0;
    std::shared_ptr<const Transform> transform;
    std::vector<std::string> via;
    bool followed = false;
  };

  // The same HelmRelease reached more than once: the definitions Flux would not apply (release/duplicates).
  std::set<const Found*> duplicate_definitions() {
    std::vector<Definition> defs;
    std::vector<const Found*> of;
    for (const auto& f : found_) {
      if (scalar(f.doc.node, "kind") != "HelmRelease") continue;
      YAML::Node md = detail::get(f.doc.node, "metadata");
      const std::string prefix = sources_[f.source].prefix;
      defs.push_back({scalar(md, "namespace", "default") + "/" + scalar(md, "name"), f.followed,
                      f.doc.unit.empty() ? std::string() : prefix + f.doc.unit, prefix + f.doc.file, f.doc.line, f.root,
                      detail::digest(f.doc.node)});
      of.push_back(&f);
    }
    auto includes = [&](const Definition& a, const Definition& b) {
      auto ca = unit_files_.find(a.unit);
      if (a.unit.empty() || ca == unit_files_.end()) return false;
      if (b.unit.empty()) return ca->second.count(b.file) != 0;
      auto cb = unit_files_.find(b.unit);
      if (a.unit == b.unit || cb == unit_files_.end()) return false;
      return std::includes(ca->second.begin(), ca->second.end(), cb->second.begin(), cb->second.end());
    };
    auto choice = choose_definitions(defs, includes);
    std::set<const Found*> out;
    for (size_t i = 0; i < defs.size(); ++i) {
      if (!choice.keep[i]) out.insert(of[i]);
    }
    for (const auto& n : choice.notes) note(n);
    return out;
  }
  std::map<std::string, std::set<std::string>> unit_files_;  // kustomization dir -> the files its build reads

  void use(size_t i) {
    src_ = &sources_[i];
    repo_ = src_->repo;
    commit_ = src_->commit;
  }

  // Bounds (core::limits()): the YAML files one discovery parses, the HelmReleases one cluster declares.
  std::variant<Docs, ParseFailure> parse_file(const std::string& path, const std::string& text) {
    if (++files_parsed_ > limits_.max_files) {
      return ParseFailure{"the repository has more than " + core::with_commas(limits_.max_files) +
                              " YAML files to read (limits.max_files); split it or raise the limit",
                          {path, 0, 0}};
    }
    return helmgate::release::parse_file(path, text);
  }
  bool over_release_limit(const ClusterSpec& cluster) {
    uint64_t n = 0;
    for (const auto& f : found_) {
      n += legacy::classify(scalar(f.doc.node, "apiVersion"), scalar(f.doc.node, "kind")) != legacy::Api::other ? 1 : 0;
    }
    if (n <= limits_.max_releases) return false;
    problem("cluster " + cluster.name + " declares " + core::with_commas(n) + " HelmReleases, more than " +
            core::with_commas(limits_.max_releases) + " (limits.max_releases); none of them is previewed");
    for (const auto& f : found_) out_.failed_roots.emplace_back(cluster.name, f.root);
    use(0);
    return true;
  }
  const core::Limits limits_ = core::limits();
  uint64_t files_parsed_ = 0;

  void problem(const std::string& message, Location where = {}) {
    std::string m = src_->prefix.empty() ? message : "in " + src_->label + ": " + message;
    if (!src_->prefix.empty() && !where.file.empty()) where.file = src_->prefix + where.file;
    out_.problems.push_back({cluster_->name, m, std::move(where)});
  }

  void note(const std::string& message, Location where = {}) {
    if (!noted_.insert(cluster_->name + "\n" + message).second) return;
    out_.notes.push_back({cluster_->name, message, std::move(where)});
  }

  static std::string obj_key(const std::string& kind, const std::string& ns, const std::string& name) {
    return kind + "/" + ns + "/" + name;
  }

  void index(const Doc& d) {
    std::string kind = scalar(d.node, "kind");
    static const std::set<std::string> kinds = {"HelmRepository", "GitRepository", "OCIRepository", "ConfigMap",
                                                "Secret", "ArtifactGenerator", "HelmChart"};
    if (kinds.count(kind) == 0) return;
    YAML::Node md = detail::get(d.node, "metadata");
    // erase + emplace: assigning over a Doc would write through the YAML::Node into a cached document.
    std::string key = obj_key(kind, scalar(md, "namespace"), scalar(md, "name"));
    objects_.erase(key);
    objects_.emplace(key, d);
  }

  const Doc* find_object(const std::string& kind, const std::string& ns, const std::string& name) const {
    auto it = objects_.find(obj_key(kind, ns, name));
    if (it == objects_.end() && ns.empty()) it = objects_.find(obj_key(kind, "default", name));
    if (it == objects_.end()) {
      // Objects without a namespace in the files take the namespace of what refers to them.
      it = objects_.find(obj_key(kind, "", name));
    }
    return it == objects_.end() ? nullptr : &it->second;
  }

  // The roots a Flux Kustomization applies to the same cluster: a path in this repository, in a tenant
  // repository (its own GitRepository), or in an ArtifactGenerator's artifact mapped back to this one.
  // A source that cannot be followed becomes a note naming it, never a silent gap.
  std::vector<Root> follow(const Doc& d) {
    std::vector<Root> out;
    if (scalar(d.node, "kind") != "Kustomization" ||
        scalar(d.node, "apiVersion").rfind("kustomize.toolkit.fluxcd.io/", 0) != 0) {
      return out;
    }
    YAML::Node md = detail::get(d.node, "metadata");
    YAML::Node spec = detail::get(d.node, "spec");
    const std::string ks = scalar(md, "namespace", "default") + "/" + scalar(md, "name");
    const Location at{d.file, d.line, 0};
    std::string path = clean(scalar(spec, "path"));
    YAML::Node sref = detail::get(spec, "sourceRef");
    std::string src_kind = scalar(sref, "kind");
    std::string src_name = scalar(sref, "name");
    auto transform = transform_of(d, ks);
    // A source mapped to a path of this repository (--source, repos[].sources) wins over every other rule.
    if (const SourceMapping* m = find_mapping(opt_.sources, src_kind, scalar(sref, "namespace", scalar(md, "namespace")), src_name);
        m != nullptr && src_kind != "ExternalArtifact") {
      out.push_back({0, join(m->path, path), transform});
      return out;
    }
    if (src_kind == "GitRepository") {
      std::string ns = scalar(sref, "namespace", scalar(md, "namespace"));
      const Doc* gr = find_object("GitRepository", ns, src_name);
      std::string url = gr != nullptr ? scalar(detail::get(gr->node, "spec"), "url") : std::string();
      if (is_self_git_repository(opt_, src_name, url)) {
        out.push_back({0, path, transform});
      } else if (gr == nullptr) {
        note("Flux Kustomization " + ks + " applies GitRepository " + ns + "/" + src_name +
                 ", which is not declared in this cluster's manifests; its path '" + path +
                 "' is not in this preview",
             at);
      } else if (auto idx = open_tenant(*gr, ns + "/" + src_name, ks, at)) {
        out.push_back({*idx, path, transform});
      }
    } else if (src_kind == "ExternalArtifact") {
      // Made by an ArtifactGenerator from its own sources: followed to the source the path was copied from.
      std::string ns = scalar(sref, "namespace", scalar(md, "namespace"));
      auto place = charts::locate_artifact(ns, src_name, path, chart_context());
      if (place.kind == charts::ArtifactPlace::Kind::self) {
        out.push_back({0, place.path, transform});
      } else if (place.kind == charts::ArtifactPlace::Kind::git_repository) {
        const auto& g = place.git_repository;
        const std::string gid = scalar(detail::get(g.node, "metadata"), "namespace", ns) + "/" +
                                scalar(detail::get(g.node, "metadata"), "name");
        if (auto idx = open_tenant(Doc{g.node, g.file, g.line, {}}, gid, ks, at)) out.push_back({*idx, place.path, transform});
      } else {
        note("Flux Kustomization " + ks + " applies ExternalArtifact " + ns + "/" + src_name +
                 ", which is not previewed: " + place.why + "; releases declared there are not in this report",
             at);
      }
    } else if (!src_kind.empty()) {
      std::string ns = scalar(sref, "namespace", scalar(md, "namespace"));
      const Doc* src = find_object(src_kind, ns, src_name);
      std::string url = src != nullptr ? scalar(detail::get(src->node, "spec"), "url") : std::string();
      note("Flux Kustomization " + ks + " applies " + src_kind + " " + ns + "/" + src_name +
               (url.empty() ? std::string() : " (" + core::redact_url(url) + ")") +
               "; sources of this kind are not previewed, so releases declared there are not in this report",
           at);
    }
    return out;
  }

  // Opens a tenant repository once per (URL, ref) for this discovery; nullopt after a note saying why not.
  std::optional<size_t> open_tenant(const Doc& gr, const std::string& gr_id, const std::string& ks, const Location& at) {
    YAML::Node gspec = detail::get(gr.node, "spec");
    std::string url = scalar(gspec, "url");
    YAML::Node ref = detail::get(gspec, "ref");
    std::string ref_kind, ref_value;
    for (const char* k : {"commit", "tag", "branch", "name", "semver"}) {
      if (!scalar(ref, k).empty()) {
        ref_kind = k;
        ref_value = scalar(ref, k);
        break;
      }
    }
    if (ref_kind.empty()) {
      ref_kind = "branch";
      ref_value = "master";  // Flux's default for a GitRepository without spec.ref
    }
    const std::string shown_url = core::redact_url(url);
    const std::string label = "GitRepository " + gr_id + " (" + shown_url + ", " + ref_kind + " " + ref_value + ")";
    const std::string cache_key = git::canonical_url(url) + "@" + ref_kind + "=" + ref_value;
    if (auto it = tenant_index_.find(cache_key); it != tenant_index_.end()) return it->second;
    auto skipped = [&](const std::string& why) -> std::optional<size_t> {
      note("Flux Kustomization " + ks + " applies " + label + ", which " + why +
               "; releases declared there are not in this preview",
           at);
      return std::nullopt;
    };
    if (ref_kind == "semver") return skipped("selects a tag by semver range (not supported yet)");
    if (!opt_.open_source) return skipped("is not followed here (no repository access configured)");
    auto repo = opt_.open_source(url);
    if (!repo) return skipped("could not be fetched: " + repo.error().message);
    core::Result<std::string> commit = core::Error(core::errc::not_found, "");
    if (ref_kind == "commit") {
      commit = (*repo)->resolve(ref_value);
    } else if (ref_kind == "tag") {
      commit = (*repo)->resolve("refs/tags/" + ref_value);
    } else {
      commit = (*repo)->resolve(ref_value);
      if (!commit && ref_kind == "branch") commit = (*repo)->resolve("origin/" + ref_value);
    }
    if (!commit) return skipped("has no " + ref_kind + " '" + ref_value + "' (" + commit.error().message + ")");
    Source s;
    s.owned = *repo;
    s.repo = s.owned.get();
    s.commit = *commit;
    s.prefix = shown_url + "@" + ref_value + "//";
    s.label = label;
    sources_.push_back(std::move(s));
    tenant_index_[cache_key] = sources_.size() - 1;
    return sources_.size() - 1;
  }

  // A map[string]string field (ConfigMap/Secret data, postBuild.substitute) as the API server holds it: keys
  // typed (a key written yes is "true"), and a value that is not a string in JSON (a plain 3, true, 1.10)
  // is a problem, because the API server refuses the object; such entries are left out.
  std::vector<std::pair<std::string, std::string>> string_map(const YAML::Node& m, const std::string& what,
                                                              const Location& at) {
    std::vector<std::pair<std::string, std::string>> out;
    auto c = typed::from_yaml(m);
    if (!c.ok) {
      problem(what + ": " + c.error.message, at);
      return out;
    }
    for (const auto& [k, v] : c.value.o) {
      if (v.type == typed::Value::Type::string) {
        out.emplace_back(k, v.s);
      } else if (v.is_null()) {
        out.emplace_back(k, "");
      } else {
        problem(what + "." + k + " is not a string in Kubernetes (YAML reads it as a number, boolean, list or map), "
                "so the API server refuses the object; quote it",
                at);
      }
    }
    return out;
  }

  // spec.targetNamespace, spec.patches and spec.postBuild of a Flux Kustomization; null when it has none.
  std::shared_ptr<const Transform> transform_of(const Doc& d, const std::string& ks) {
    YAML::Node spec = detail::get(d.node, "spec");
    auto t = std::make_shared<Transform>();
    t->target_namespace = scalar(spec, "targetNamespace");
    if (YAML::Node p = detail::get(spec, "patches"); p && p.IsSequence() && p.size() > 0) t->patches = p;
    YAML::Node post = detail::get(spec, "postBuild");
    if (post && post.IsMap()) {
      t->substitute = true;
      t->substitute_always = scalar(post, "substituteStrategy") == "Always";
      std::string ns = scalar(detail::get(d.node, "metadata"), "namespace");
      YAML::Node from = detail::get(post, "substituteFrom");
      for (const auto& f : from) {
        std::string kind = scalar(f, "kind"), name = scalar(f, "name");
        bool optional = detail::truthy(f, "optional");
        const Doc* obj = (kind == "ConfigMap" || kind == "Secret") ? find_object(kind, ns, name) : nullptr;
        if (obj == nullptr) {
          if (!optional) {
            problem("Flux Kustomization " + ks + ": postBuild.substituteFrom " + kind + " " + ns + "/" + name +
                        " is not in this cluster's manifests (add it to the repository, or mark it optional: true)",
                    {d.file, d.line, 0});
          }
          continue;
        }
        if (!obj->file.empty()) t->file = obj->file;
        for (const char* field : {"data", "stringData"}) {
          YAML::Node data = detail::get(obj->node, field);
          if (!data || !data.IsMap()) continue;
          for (const auto& [k, raw] : string_map(data, kind + " " + ns + "/" + name + " " + field, {obj->file, obj->line, 0})) {
            std::string v = kind == "Secret" && std::string(field) == "data" ? core::base64_decode_lenient(raw) : raw;
            if (kind == "Secret") t->sensitive.push_back(v);
            t->vars[k] = v;
          }
        }
      }
      // Inline values win over substituteFrom, as in kustomize-controller.
      YAML::Node sub = detail::get(post, "substitute");
      if (sub && sub.IsMap()) {
        for (const auto& [k, v] : string_map(sub, "Flux Kustomization " + ks + " postBuild.substitute", {d.file, d.line, 0})) {
          t->vars[k] = v;
        }
      }
    }
    if (t->target_namespace.empty() && !t->patches.IsSequence() && !t->substitute) return nullptr;
    if (!d.file.empty()) t->file = d.file;
    t->line = d.line;
    std::string patches_text;
    if (t->patches.IsSequence()) {
      auto c = typed::from_yaml(t->patches);
      patches_text = c.ok ? typed::to_json(c.value) : detail::dump(t->patches);
    }
    std::string material = t->target_namespace + "\n" + patches_text +
                           "\n" + (t->substitute ? "subst" : "") + (t->substitute_always ? "always" : "");
    for (const auto& [k, v] : t->vars) material += "\n" + k + "=" + v;
    t->digest = core::sha256_hex(material).substr(0, 16);
    return t;
  }

  // What kustomize-controller does after reading a path: an overlay with the Kustomization's namespace and
  // patches over the documents (built by kustomize), then ${var} substitution per document.
  core::Result<std::shared_ptr<const Docs>> apply_transform(const Docs& in, const Transform& t) {
    // Re-emitted keeping each scalar plain or quoted as written, so that kustomize and the ${var}
    // substitution below see what kustomize-controller sees and the documents parse back typed the same.
    std::string text;
    for (const auto& d : in) {
      auto emitted = typed::emit_preserving(d.node);
      if (!emitted) {
        problem("the documents of the Flux Kustomization declared in " + t.file + " cannot be re-emitted: " +
                    emitted.error().message,
                {d.file, d.line, 0});
        return emitted.error();
      }
      text += "---\n" + *emitted;
    }
    if (!t.target_namespace.empty() || t.patches.IsSequence()) {
      if (t.patches.IsSequence()) {
        YAML::Node only(YAML::NodeType::Map);
        only["patches"] = t.patches;
        auto refused = scan_kustomization(only, "", [](const std::string&) { return false; });
        for (const auto& ref : refused) problem("Flux Kustomization spec.patches: " + ref.message(), {t.file, 0, 0});
        if (!refused.empty()) return core::Error(core::errc::forbidden, "Flux Kustomization patches refused");
      }
      typed::Value k = typed::Value::object();
      k.o["apiVersion"] = typed::Value::string("kustomize.config.k8s.io/v1beta1");
      k.o["kind"] = typed::Value::string("Kustomization");
      if (!t.target_namespace.empty()) k.o["namespace"] = typed::Value::string(t.target_namespace);
      k.o["resources"].type = typed::Value::Type::array;
      k.o["resources"].a.push_back(typed::Value::string("resources.yaml"));
      if (t.patches.IsSequence()) {
        auto c = typed::from_yaml(t.patches);
        if (!c.ok) {
          problem("spec.patches of the Flux Kustomization declared in " + t.file + ": " + c.error.message,
                  {t.file, 0, 0});
          return core::Error(core::errc::bad_request, c.error.message);
        }
        k.o["patches"] = std::move(c.value);
      }
      const std::string kz = typed::to_yaml(k);
      const std::string key = core::sha256_hex("flux-kustomization\n" + kz + "\n" + text);
      fs::path dir = fs::path(opt_.work_root) / "flux-kustomizations" / key.substr(0, 32);
      // Base and head discovery run at once and may build the same overlay: each writes its own files
      // and renames them into place, so kustomize never reads a half-written one.
      std::error_code ec;
      fs::create_directories(dir, ec);
      const std::string tmp = ".tmp-" + std::to_string(::getpid()) + "-" +
                              std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id()));
      for (const auto& [name, content] : {std::pair<const char*, const std::string*>{"kustomization.yaml", &kz},
                                          {"resources.yaml", &text}}) {
        std::ofstream(dir / (name + tmp), std::ios::trunc) << *content;
        fs::rename(dir / (name + tmp), dir / name, ec);
      }
      if (!opt_.kustomize) return core::Error(core::errc::invalid_config, "no kustomize");
      auto built = opt_.kustomize(dir.string(), key);
      if (!built) {
        problem("applying the targetNamespace/patches of the Flux Kustomization declared in " + t.file +
                    " failed: " + built.error().message + " (check spec.patches)",
                {t.file, 0, 0});
        return built.error();
      }
      text = *built;
    }
    if (t.substitute) {
      auto substituted = subst::substitute_documents(text, t.vars, {opt_.flux_strict_substitution, t.substitute_always});
      if (!substituted) {
        problem("the Flux Kustomization declared here fails its postBuild substitution, as kustomize-controller would: " +
                    substituted.error().message,
                {t.file, t.line, 0});
        return substituted.error();
      }
      text = *substituted;
    }
    auto parsed = parse_file(t.file, text);
    if (auto* f = std::get_if<ParseFailure>(&parsed)) {
      problem("the documents of the Flux Kustomization declared in " + t.file +
                  " are not valid YAML after postBuild substitution: " + f->message + " (check the substituted values)",
              {t.file, 0, 0});
      return core::Error(core::errc::bad_request, f->message);
    }
    // Positions survive by identity: the transformed document points at the file its original came from.
    std::map<std::string, const Doc*> origin;
    for (const auto& d : in) origin.emplace(scalar(d.node, "kind") + "/" + scalar(detail::get(d.node, "metadata"), "name"), &d);
    auto docs = std::make_shared<Docs>(std::move(std::get<Docs>(parsed)));
    for (auto& d : *docs) {
      auto it = origin.find(scalar(d.node, "kind") + "/" + scalar(detail::get(d.node, "metadata"), "name"));
      d.file = it != origin.end() ? it->second->file : std::string();
      d.line = it != origin.end() ? it->second->line : 0;
      d.unit = it != origin.end() ? it->second->unit : std::string();
    }
    return std::shared_ptr<const Docs>(docs);
  }

  charts::Context chart_context() {
    charts::Context c;
    c.opt = &opt_;
    c.cluster = cluster_->name;
    c.find = [this](const std::string& kind, const std::string& ns, const std::string& name) -> std::optional<charts::Object> {
      const Doc* d = find_object(kind, ns, name);
      if (d == nullptr) return std::nullopt;
      return charts::Object{d->node, d->file, d->line};
    };
    c.all = [this](const std::string& kind) {
      std::vector<charts::Object> out;
      for (const auto& [key, d] : objects_) {
        if (key.rfind(kind + "/", 0) == 0) out.push_back({d.node, d.file, d.line});
      }
      return out;
    };
    c.repo_chart = [this](Release& r, const std::string& path, const std::string& why) { resolve_repo_chart(r, path, why); };
    c.read = [this](const std::string& path) -> std::optional<std::string> {
      auto t = repo_->read_file(commit_, path);
      if (t.ok() && t->has_value()) return **t;
      return std::nullopt;
    };
    return c;
  }

  bool is_self_url(const std::string& url) const {
    if (url.empty()) return false;
    std::string c = git::canonical_url(url);
    return std::any_of(opt_.self_urls.begin(), opt_.self_urls.end(),
                       [&](const std::string& s) { return git::canonical_url(s) == c; });
  }

  // Files a kustomization reaches (resources, components, patches, generators), for the cache key and
  // for saying which changed file affected a release.
  void kustomize_closure(const std::string& dir, std::set<std::string>& files, std::set<std::string>& seen_dirs,
                         std::vector<ParseFailure>& failures) {
    if (!seen_dirs.insert(dir).second) return;
    std::string kfile;
    std::optional<std::string> text;
    for (const char* name : kKustomizationNames) {
      auto t = repo_->read_file(commit_, join(dir, name));
      if (t.ok() && t->has_value()) {
        kfile = join(dir, name);
        text = **t;
        break;
      }
    }
    if (!text) {
      // A plain directory used as a resource: every file in it counts.
      auto entries = repo_->list(commit_, dir, true);
      if (entries) {
        for (const auto& e : *entries) {
          if (!e.is_tree) files.insert(join(dir, e.path));
        }
      }
      return;
    }
    files.insert(kfile);
    auto parsed = parse_file(kfile, *text);
    if (auto* f = std::get_if<ParseFailure>(&parsed)) {
      failures.push_back(*f);
      return;
    }
    auto& docs = std::get<Docs>(parsed);
    if (docs.empty()) return;
    const YAML::Node& k = docs.front().node;
    // Remote bases and files, absolute paths and paths above the repository are refused before kustomize runs.
    for (const auto& ref : scan_kustomization(k, dir, [&](const std::string& p) {
           auto id = repo_->object_id(commit_, p);
           return id.ok() && id->has_value();
         })) {
      failures.push_back({"kustomization " + kfile + ": " + ref.message(), {kfile, ref.line, ref.column}});
    }
    auto add_path = [&](const std::string& rel) {
      if (rel.find("://") != std::string::npos || rel.rfind("git@", 0) == 0) return;
      std::string p = join(dir, rel);
      if (repo_->is_dir(commit_, p)) {
        kustomize_closure(p, files, seen_dirs, failures);
      } else {
        files.insert(p);
        if (is_yaml(p)) {
          auto t = repo_->read_file(commit_, p);
          if (t.ok() && t->has_value()) {
            auto pf = parse_file(p, **t);
            if (auto* f = std::get_if<ParseFailure>(&pf)) failures.push_back(*f);
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

  core::Result<std::shared_ptr<const Docs>> kustomize_root(const std::string& dir, std::vector<std::string>& inputs) {
    std::set<std::string> files, dirs;
    std::vector<ParseFailure> failures;
    kustomize_closure(dir, files, dirs, failures);
    inputs.assign(files.begin(), files.end());
    {
      std::set<std::string>& unit = unit_files_[src_->prefix + (dir.empty() ? std::string(".") : dir)];
      for (const auto& f : files) unit.insert(src_->prefix + f);
    }
    if (!failures.empty()) {
      for (const auto& f : failures) problem(f.message, f.where);
      return core::Error(core::errc::bad_request, "kustomization " + dir + " has invalid files");
    }
    std::string key_material = "kustomize\n" + dir + "\n";
    for (const auto& f : files) {
      auto id = repo_->object_id(commit_, f);
      key_material += f + "=" + (id.ok() && id->has_value() ? **id : std::string("-")) + "\n";
    }
    std::string key = core::sha256_hex(key_material);
    if (opt_.cache) {
      if (auto hit = opt_.cache->get(key)) return hit;
    }
    if (src_->tree_dir.empty()) {
      auto m = repo_->materialize(commit_, "", opt_.work_root);
      if (!m) {
        problem("cannot materialize the repository for kustomize: " + m.error().message);
        return m.error();
      }
      src_->tree_dir = *m;
    }
    if (!opt_.kustomize) {
      problem("kustomize is not available to build " + dir);
      return core::Error(core::errc::invalid_config, "no kustomize");
    }
    auto built = opt_.kustomize((fs::path(src_->tree_dir) / dir).string(), key);
    if (!built) {
      problem("kustomize build " + (dir.empty() ? std::string(".") : dir) + " failed: " + built.error().message,
              {dir.empty() ? std::string("kustomization.yaml") : dir + "/kustomization.yaml", 0, 0});
      return built.error();
    }
    auto parsed = parse_file(dir, *built);
    if (auto* f = std::get_if<ParseFailure>(&parsed)) {
      problem("kustomize output for " + dir + " is not valid YAML: " + f->message);
      return core::Error(core::errc::bad_request, f->message);
    }
    auto docs = std::make_shared<Docs>(std::move(std::get<Docs>(parsed)));
    // kustomize output has no file positions; point the documents discovery uses back to the file that
    // declares them (parsing the closure once, and only when there is something to point at).
    std::map<std::string, std::pair<std::string, int>> declared;
    bool indexed = false;
    for (auto& d : *docs) {
      d.file.clear();
      d.line = 0;
      d.unit = dir.empty() ? std::string(".") : dir;
      std::string kind = scalar(d.node, "kind");
      if (kind != "HelmRelease" && kLocated.count(kind) == 0) continue;
      if (!indexed) {
        index_declarations(files, declared);
        indexed = true;
      }
      auto it = declared.find(kind + "/" + scalar(detail::get(d.node, "metadata"), "name"));
      if (it != declared.end()) {
        d.file = it->second.first;
        d.line = it->second.second;
      }
    }
    if (opt_.cache) opt_.cache->put(key, docs);
    return std::shared_ptr<const Docs>(docs);
  }

  inline static const std::set<std::string> kLocated = {"HelmRepository", "GitRepository", "OCIRepository", "Kustomization",
                                                        "ConfigMap", "Secret", "FluxHelmRelease"};

  void index_declarations(const std::set<std::string>& files,
                          std::map<std::string, std::pair<std::string, int>>& declared) {
    for (const auto& f : files) {
      if (!is_yaml(f)) continue;
      auto t = repo_->read_file(commit_, f);
      if (!t.ok() || !t->has_value()) continue;
      auto pf = parse_file(f, **t);
      auto* docs = std::get_if<Docs>(&pf);
      if (docs == nullptr) continue;
      for (const auto& x : *docs) {
        std::string kind = scalar(x.node, "kind");
        // A full declaration wins over patches, which usually lack spec.chart / spec.chartRef.
        if (kind == "Kustomization" && !detail::get(detail::get(x.node, "spec"), "sourceRef")) continue;
        bool full = kind != "HelmRelease" || detail::get(detail::get(detail::get(x.node, "spec"), "chart"), "spec") || detail::get(detail::get(x.node, "spec"), "chartRef") ||
                    detail::get(detail::get(detail::get(x.node, "spec"), "chart"), "git") || detail::get(detail::get(detail::get(x.node, "spec"), "chart"), "repository");
        if (!full) continue;
        declared.emplace(kind + "/" + scalar(detail::get(x.node, "metadata"), "name"), std::make_pair(x.file, x.line));
      }
    }
  }

  // A cluster path or followed path: a kustomization is built; otherwise every YAML file below it is read,
  // and subdirectories holding a kustomization are built (what Flux's kustomize-controller does).
  core::Result<std::shared_ptr<const Docs>> load_root(const std::string& root, std::vector<std::string>& inputs) {
    if (!root.empty() && !repo_->is_dir(commit_, root)) {
      auto t = repo_->read_file(commit_, root);
      if (t.ok() && t->has_value()) {
        inputs.push_back(root);
        auto pf = parse_file(root, **t);
        if (auto* f = std::get_if<ParseFailure>(&pf)) {
          problem(f->message, f->where);
          return core::Error(core::errc::bad_request, f->message);
        }
        return std::shared_ptr<const Docs>(std::make_shared<Docs>(std::get<Docs>(pf)));
      }
      problem("path '" + root + "' does not exist at " + commit_.substr(0, 12) +
                  " (check the cluster paths or the Flux Kustomization spec.path)",
              {root, 0, 0});
      missing_ = true;
      return core::Error(core::errc::not_found, "missing " + root);
    }
    for (const char* name : kKustomizationNames) {
      auto t = repo_->read_file(commit_, join(root, name));
      if (t.ok() && t->has_value()) return kustomize_root(root, inputs);
    }
    auto entries = repo_->list(commit_, root, false);
    if (!entries) {
      problem(entries.error().message, {root, 0, 0});
      return entries.error();
    }
    auto docs = std::make_shared<Docs>();
    bool failed = false;
    for (const auto& e : *entries) {
      std::string p = join(root, e.path);
      if (e.is_tree) {
        // A chart's templates are Go templates, not manifests; charts are read by the renderer.
        if (auto chart_yaml = repo_->read_file(commit_, join(p, "Chart.yaml")); chart_yaml.ok() && chart_yaml->has_value()) {
          continue;
        }
        std::vector<std::string> sub_inputs;
        auto sub = load_root(p, sub_inputs);
        inputs.insert(inputs.end(), sub_inputs.begin(), sub_inputs.end());
        if (!sub) {
          failed = true;
          continue;
        }
        docs->insert(docs->end(), (*sub)->begin(), (*sub)->end());
        continue;
      }
      if (!is_yaml(p) || e.mode == git::kModeSymlink) continue;
      if (files_parsed_ > limits_.max_files) return core::Error(core::errc::bad_request, "limits.max_files");
      auto t = repo_->read_file(commit_, p);
      if (!t.ok() || !t->has_value()) continue;
      inputs.push_back(p);
      auto pf = parse_file(p, **t);
      if (auto* f = std::get_if<ParseFailure>(&pf)) {
        problem(f->message, f->where);
        failed = true;
        continue;
      }
      auto& d = std::get<Docs>(pf);
      docs->insert(docs->end(), d.begin(), d.end());
    }
    // What could be read is kept (the other releases of the path are still previewed); the caller records
    // the path as read in part.
    if (failed) partial_ = true;
    return std::shared_ptr<const Docs>(docs);
  }

  // Where a value inside a document sits: the document's own line when it was parsed from its file,
  // plus the offset of the node (kustomize output has no positions in the file, then the document's line).
  static Location at_node(const Doc& d, const typed::ConvertError& e) {
    int doc_line = d.node.Mark().line + 1;
    if (e.line >= 0 && doc_line == d.line) return {d.file, e.line + 1, e.column + 1};
    return {d.file, d.line, 0};
  }

  // One valuesFrom entry, read as Flux does (the data string of a ConfigMap or Secret key as the API
  // server holds it, parsed by sigs.k8s.io/yaml, or set at targetPath by Helm's strvals), merged into
  // `merged`. spec_values is merged first for a targetPath entry, as Flux's ChartValuesFromReferences does.
  void add_values_source(Release& r, typed::Value& merged, const typed::Value& spec_values, ValuesSource vs,
                         Location where) {
    const Doc* obj = find_object(vs.kind, vs.namespace_, vs.name);
    std::string value;
    bool have = false;
    bool reported = false;
    if (obj != nullptr) {
      Location obj_at = obj->file.empty() ? where : Location{obj->file, obj->line, 0};
      // The data map as the API server holds it: keys typed too (a key written yes is "true" there),
      // every value a string (a plain 1.10 is a number, and the API server refuses the object).
      auto read_key = [&](const char* field) -> bool {
        YAML::Node data = detail::get(obj->node, field);
        if (!data || !data.IsMap()) return false;
        auto typed_data = typed::from_yaml(data);
        if (!typed_data.ok) {
          r.errors.push_back({cluster_->name,
                              vs.kind + " " + vs.namespace_ + "/" + vs.name + " " + field + ": " + typed_data.error.message,
                              obj_at});
          reported = true;
          return false;
        }
        auto it = typed_data.value.o.find(vs.key);
        if (it == typed_data.value.o.end()) return false;
        if (it->second.is_null()) {
          value.clear();
          return true;
        }
        if (it->second.type != typed::Value::Type::string) {
          r.errors.push_back({cluster_->name,
                              vs.kind + " " + vs.namespace_ + "/" + vs.name + " " + field + "." + vs.key + ": '" +
                                  (vs.kind == "Secret" ? std::string("<value>") : typed::to_json(it->second)) +
                                  "' is not a string in Kubernetes (YAML reads it as a number, boolean, list or map), "
                                  "so the API server refuses the " + vs.kind + "; quote it",
                              obj_at});
          reported = true;
          return false;
        }
        value = it->second.s;
        return true;
      };
      if (vs.kind == "ConfigMap") {
        have = read_key("data");
      } else if (read_key("stringData")) {
        have = true;
      } else if (read_key("data")) {
        value = core::base64_decode_lenient(value);
        have = true;
      }
      if (!obj->file.empty()) r.inputs.push_back(obj->file);
    }
    vs.found = have;
    vs.content_id = have ? core::sha256_hex(value).substr(0, 16) : "";
    if (!have) {
      if (!vs.optional && !reported) {
        r.errors.push_back({cluster_->name,
                            "valuesFrom " + vs.label() + " not found in the repository (add it next to the "
                                "HelmRelease, or mark it optional: true)",
                            where});
      }
      r.values_from.push_back(vs);
      return;
    }
    // Secret data is sensitive: a targetPath value as a whole, a values document leaf by leaf.
    if (vs.kind == "Secret" && !vs.target_path.empty()) r.sensitive.push_back(value);
    if (!vs.target_path.empty()) {
      typed::merge(merged, spec_values);
      if (auto ok = typed::set_target_path(merged, vs.target_path, value); !ok) {
        r.errors.push_back({cluster_->name, "valuesFrom " + vs.label() + ": " + ok.error().message, where});
      }
    } else {
      Location at = obj->file.empty() ? where : Location{obj->file, obj->line, 0};
      auto parsed = typed::from_yaml_text(value);
      if (!parsed.ok) {
        // The message may quote the text: never for a Secret.
        // yaml-cpp's syntax messages and the limits never quote the text; the converter's other messages
        // may, so for a Secret they are not shown.
        const std::string& m = parsed.error.message;
        bool shown = vs.kind != "Secret" || m.rfind("invalid YAML: ", 0) == 0 ||
                     m.find("nodes after expanding aliases") != std::string::npos ||
                     m.find("nested deeper than") != std::string::npos || m.find("(limits.") != std::string::npos;
        r.errors.push_back({cluster_->name,
                            "valuesFrom " + vs.label() + " cannot be read as values: " +
                                (shown ? m + (parsed.error.path.empty() || vs.kind == "Secret" ? "" : " at " + parsed.error.path)
                                       : std::string("a value kubectl would refuse")) +
                                " (line " + std::to_string(parsed.error.line + 1) + " of the value)",
                            at});
      } else if (!parsed.value.is_null() && !parsed.value.is_object()) {
        r.errors.push_back({cluster_->name,
                            "valuesFrom " + vs.label() + " is not a map of values (helm-controller refuses it)", at});
      } else {
        if (vs.kind == "Secret") typed::collect_leaves(parsed.value, r.sensitive);
        if (parsed.value.is_object()) typed::merge(merged, parsed.value);
      }
    }
    r.values_from.push_back(vs);
  }

  // helm-operator valuesFrom chartFileRef (a values file inside a chart of this repository) and
  // externalSourceRef (a URL: never fetched by a preview). Missing and not optional: the operator fails.
  void legacy_file_values(Release& r, typed::Value& merged, const legacy::ValuesRef& ref) {
    const std::string what = ref.field + (ref.kind == "External" ? " externalSourceRef " : " chartFileRef ") + ref.name;
    if (ref.kind == "External" || r.chart.kind != ChartKind::repo_dir) {
      const std::string why = ref.kind == "External" ? " is a URL, which a preview does not fetch"
                                                     : " is read only from a chart in this repository";
      if (ref.optional) {
        r.notes.push_back(what + why + "; it is optional and left out");
      } else {
        r.errors.push_back({cluster_->name, what + why + " (mark it optional: true to preview without it)", r.where});
      }
      return;
    }
    const std::string file = join(r.chart.path, ref.name);
    auto t = repo_->read_file(commit_, file);
    if (!t.ok() || !t->has_value()) {
      if (!ref.optional) r.errors.push_back({cluster_->name, what + ": " + file + " does not exist", r.where});
      return;
    }
    auto parsed = typed::from_yaml_text(**t);
    if (!parsed.ok) {
      r.errors.push_back({cluster_->name, what + " is not valid values YAML: " + parsed.error.message,
                          {file, parsed.error.line + 1, parsed.error.column + 1}});
    } else if (parsed.value.is_object()) {
      typed::merge(merged, parsed.value);
    }
  }

  void resolve_repo_chart(Release& r, const std::string& path, const std::string& why) {
    r.chart.kind = ChartKind::repo_dir;
    r.chart.path = clean(path);
    auto id = repo_->object_id(commit_, r.chart.path);
    if (!id.ok() || !id->has_value() || !repo_->is_dir(commit_, r.chart.path)) {
      r.errors.push_back({cluster_->name,
                          "chart directory '" + r.chart.path + "' does not exist in the repository at " +
                              commit_.substr(0, 12),
                          r.where});
      return;
    }
    r.chart.content_id = **id;
    if (!why.empty()) r.notes.push_back(why);
  }

  Release build_release(const Doc& d, const std::string& root, const std::vector<std::string>& inputs) {
    Release r;
    const YAML::Node& n = d.node;
    YAML::Node spec = detail::get(n, "spec");
    r.cluster = cluster_->name;
    r.kube_version = cluster_->kube_version;
    r.api_version = scalar(n, "apiVersion");
    r.name = scalar(detail::get(n, "metadata"), "name");
    r.namespace_ = scalar(detail::get(n, "metadata"), "namespace", "default");
    r.root = root;
    r.inputs = inputs;
    r.where = {d.file, d.line, 0};
    r.spec = std::make_shared<YAML::Node>(YAML::Clone(n));
    // The helm-operator generations (helm.fluxcd.io/v1, flux.weave.works/v1beta1, FluxHelmRelease) have their
    // reader in helmrelease_legacy.cpp: its fields are resolved here like Flux v2's.
    const std::optional<legacy::Fields> op = legacy::read(n, opt_.helm_operator_charts_path);
    const bool v1 = op.has_value();
    std::string target_ns = scalar(spec, "targetNamespace");
    r.target_namespace = target_ns.empty() ? r.namespace_ : target_ns;
    r.release_name = scalar(spec, "releaseName");
    if (v1) {
      r.release_name = op->release_name;
      r.target_namespace = op->target_namespace;
      r.create_namespace = true;  // the operators install with the target namespace created
      for (const auto& e : op->errors) r.errors.push_back({cluster_->name, e, r.where});
    } else if (r.release_name.empty()) {
      r.release_name = target_ns.empty() ? r.name : target_ns + "-" + r.name;
    }
    if (!v1) {
      r.skip_schema_validation_install = detail::truthy(detail::get(spec, "install"), "disableSchemaValidation");
      r.skip_schema_validation_upgrade = detail::truthy(detail::get(spec, "upgrade"), "disableSchemaValidation");
    }

    YAML::Node chart = detail::get(spec, "chart");
    typed::Value chart_values = typed::Value::object();  // spec.valuesFiles (release/chart_source)
    if (v1) {
      if (op->chart.from == legacy::Chart::From::this_repository) {
        resolve_repo_chart(r, op->chart.path, op->describe_chart);
      } else if (op->chart.from == legacy::Chart::From::git) {
        const std::string& url = op->chart.git_url;
        const std::string& path = op->chart.path;
        const std::string& ref = op->chart.ref;
        bool configured = !opt_.self_urls.empty();
        if (configured ? is_self_url(url) : repo_->is_dir(commit_, clean(path))) {
          resolve_repo_chart(r, path,
                             "chart.git " + url + " resolved to this repository at " + commit_.substr(0, 12) +
                                 (configured ? " (the URL names the configured repository)"
                                             : " (path " + clean(path) + " exists here; no configuration)") +
                                 "; chart.ref '" + ref + "' is not used");
        } else {
          r.chart.kind = ChartKind::remote_git;
          r.chart.url = url;
          r.chart.source = r.where;
          r.chart.path = clean(path);
          r.chart.version = ref;
          r.chart.content_id = detail::digest(chart);
        }
      } else if (op->chart.from == legacy::Chart::From::repository) {
        r.chart.kind = ChartKind::helm_repository;
        r.chart.url = op->chart.repository;
        r.chart.source = r.where;
        r.chart.name = op->chart.name;
        r.chart.version = op->chart.version;
        r.chart.content_id = detail::digest(chart);
        if (r.chart.url.rfind("oci://", 0) == 0) {
          r.chart.kind = ChartKind::oci;
          r.chart.url += "/" + r.chart.name;
        }
      }
    } else if (detail::get(spec, "chartRef")) {
      chart_values = charts::resolve_chart_ref(r, detail::get(spec, "chartRef"), chart_context()).values;
    } else {
      chart_values = charts::resolve_chart_template(r, detail::get(chart, "spec"), chart_context()).values;
    }

    // Values: valuesFrom in order, then spec.values on top (Flux and helm-operator both merge this way),
    // all as typed JSON converted the way kubectl sends the HelmRelease (quoted "1.10" stays a string).
    typed::Value merged = std::move(chart_values);
    typed::Value spec_values = typed::Value::object();
    if (YAML::Node sv = detail::get(spec, "values"); sv && !sv.IsNull()) {
      auto c = typed::from_yaml(sv);
      if (!c.ok) {
        r.errors.push_back({cluster_->name,
                            "spec.values" + (c.error.path.empty() ? std::string() : "." + c.error.path) + ": " +
                                c.error.message,
                            at_node(d, c.error)});
      } else if (!c.value.is_object()) {
        r.errors.push_back({cluster_->name, "spec.values must be a map (the HelmRelease CRD requires an object)", r.where});
      } else {
        spec_values = std::move(c.value);
      }
    }
    if (v1) {
      for (const auto& ref : op->values_from) {
        if (ref.kind == "ChartFile" || ref.kind == "External") {
          legacy_file_values(r, merged, ref);
          continue;
        }
        ValuesSource vs;
        vs.kind = ref.kind;
        vs.name = ref.name;
        vs.namespace_ = ref.namespace_;
        vs.key = ref.key;
        vs.optional = ref.optional;
        add_values_source(r, merged, spec_values, vs, r.where);
      }
    } else if (detail::get(spec, "valuesFrom") && detail::get(spec, "valuesFrom").IsSequence()) {
      for (const auto& vf : detail::get(spec, "valuesFrom")) {
        ValuesSource vs;
        vs.kind = scalar(vf, "kind");
        vs.name = scalar(vf, "name");
        vs.namespace_ = r.namespace_;
        vs.key = scalar(vf, "valuesKey", "values.yaml");
        vs.target_path = scalar(vf, "targetPath");
        vs.optional = detail::truthy(vf, "optional");
        if (vs.kind != "ConfigMap" && vs.kind != "Secret") {
          r.errors.push_back({cluster_->name, "valuesFrom kind '" + vs.kind + "' is not ConfigMap or Secret", r.where});
          continue;
        }
        if (!vs.target_path.empty()) {
          if (auto ok = typed::check_target_path(vs.target_path); !ok) {
            Location at = r.where;
            if (YAML::Node tp = detail::get(vf, "targetPath"); tp && d.node.Mark().line + 1 == d.line) {
              at = {d.file, tp.Mark().line + 1, tp.Mark().column + 1};
            }
            r.errors.push_back({cluster_->name, "valuesFrom " + vs.kind + " " + vs.name + ": " + ok.error().message, at});
            continue;
          }
        }
        add_values_source(r, merged, spec_values, vs, r.where);
      }
    }
    typed::merge(merged, spec_values);
    r.values_json = typed::to_json(merged);

    // Flux postRenderers: the kustomize fields are applied to helm's output as one kustomization.
    // Typed as the API server holds them (so a patch value "1.10" stays a string in kustomization.yaml).
    if (detail::get(spec, "postRenderers") && detail::get(spec, "postRenderers").IsSequence()) {
      typed::Value k = typed::Value::object();
      for (const auto& pr : detail::get(spec, "postRenderers")) {
        YAML::Node kz = detail::get(pr, "kustomize");
        if (!kz || !kz.IsMap()) continue;
        auto c = typed::from_yaml(kz);
        if (!c.ok) {
          r.errors.push_back({cluster_->name,
                              "spec.postRenderers kustomize" + (c.error.path.empty() ? std::string() : "." + c.error.path) +
                                  ": " + c.error.message,
                              at_node(d, c.error)});
          continue;
        }
        for (auto& [f, items] : c.value.o) {
          if (items.type != typed::Value::Type::array) continue;
          auto& dst = k.o[f];
          dst.type = typed::Value::Type::array;
          for (auto& item : items.a) dst.a.push_back(item);
        }
      }
      if (!k.o.empty()) {
        const std::string kz = typed::to_yaml(k);
        for (const auto& ref : scan_kustomization(core::yaml::load(kz), "", [](const std::string&) { return false; })) {
          r.errors.push_back({cluster_->name, "spec.postRenderers: " + ref.message(), r.where});
        }
        r.post_render_kustomization = kz;
      }
    }
    std::sort(r.inputs.begin(), r.inputs.end());
    r.inputs.erase(std::unique(r.inputs.begin(), r.inputs.end()), r.inputs.end());
    gate_names(r, n, r.where);  // names from Git: checked once, here (an invalid one makes the release an error)
    return r;
  }

  const DiscoverOptions& opt_;
  Discovery& out_;
  std::deque<Source> sources_;  // stable addresses: src_ points into it
  std::map<std::string, size_t> tenant_index_;
  std::set<std::string> noted_;
  Source* src_ = nullptr;
  const git::Repository* repo_ = nullptr;
  std::string commit_;
  const ClusterSpec* cluster_ = nullptr;
  std::map<std::string, Doc> objects_;
  std::vector<Found> found_;
  bool missing_ = false;  // the last load_root met a path that does not exist
  bool partial_ = false;  // the last load_root skipped files it could not read
};

}  // namespace

Discovery discover(const git::Repository& repo, const std::string& commit, const DiscoverOptions& options) {
  Discovery out;
  out.commit = commit;
  Discoverer d(repo, commit, options, out);
  for (const auto& c : options.clusters) d.run_cluster(c);
  std::sort(out.releases.begin(), out.releases.end(), [](const Release& a, const Release& b) { return a.id() < b.id(); });
  // The same release reached twice (two paths include one base) is one release.
  out.releases.erase(std::unique(out.releases.begin(), out.releases.end(),
                                 [](const Release& a, const Release& b) { return a.id() == b.id(); }),
                     out.releases.end());
  narrow_inputs(repo, commit, out.releases);
  return out;
}

}  // namespace helmgate::release
