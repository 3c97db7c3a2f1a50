// Discovery's orchestrator: walks each cluster's paths and the paths their Flux Kustomizations apply,
// then reads the HelmReleases found. The rooms it calls, each reading one thing:
//   documents          YAML documents with file:line, the parse budget, the object index
//   source_tree        a Git tree at a commit below one path;  kustomize_build: kustomizations there
//   tenants            GitRepositories a Flux Kustomization applies, opened at their ref
//   flux_kustomization the paths a Flux Kustomization applies and its Transform;  post_build: applying it
//   helmrelease*       one reader per HelmRelease API generation;  values_from: valuesFrom objects
// It owns the discovery state (the trees, the cluster's objects and documents found, the report), and
// takes a cluster from the discovery cache when the paths its discovery read have not changed.
#include <algorithm>
#include <deque>

#include "core/limits.hpp"
#include "release/discovery_cache.hpp"
#include "release/duplicates.hpp"
#include "release/flux_kustomization.hpp"
#include "release/helmrelease.hpp"
#include "release/helmrelease_legacy.hpp"
#include "release/own_inputs.hpp"
#include "release/post_build.hpp"
#include "release/release.hpp"
#include "release/sops_documents.hpp"
#include "release/source_tree.hpp"
#include "release/tenants.hpp"
#include "release/yaml_util.hpp"

namespace helmgate::release {

using detail::scalar;

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

struct Root {
  Applied at;
  bool cluster_path = false;          // one of the cluster's configured paths (not reached through a Kustomization)
  std::vector<std::string> via = {};  // the roots whose Flux Kustomizations led here, outermost first
  bool followed = false;              // a Flux Kustomization's spec.path (not a cluster path)
  std::string key() const {
    return std::to_string(at.source) + ":" + at.path + (at.transform ? "#" + at.transform->digest : std::string());
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

class Discoverer {
 public:
  Discoverer(const git::Repository& repo, std::string commit, const DiscoverOptions& opt, Discovery& out)
      : opt_(opt), out_(out), sources_(repo, std::move(commit)), budget_(limits_.max_files) {
    // A tenant repository is read at a ref that moves: a cluster that opens one is not cached.
    if (opt_.open_source) {
      opt_.open_source = [this, open = opt_.open_source](const std::string& url) {
        taint("it opens a tenant repository");
        return open(url);
      };
    }
    use(0);
  }

  void run_cluster(const ClusterSpec& cluster) {
    cluster_ = &cluster;
    DiscoveryCache* cache = opt_.discovery_cache.get();
    const SourceTree& self = sources_.at(0);
    std::string key;
    if (cache != nullptr) {
      key = discovery_key(cluster, opt_);
      auto hit = cache->lookup(key, *self.repo, self.commit);
      if (hit && budget_.parsed() + hit->parsed <= budget_.max()) {
        adopt(cluster, *hit);
        return;
      }
    }
    const Slice before = slice();
    const uint64_t parsed_before = budget_.parsed();
    taint_.clear();
    sources_.at(0).reads = std::make_shared<ReadLog>();
    discover_cluster(cluster);
    const std::shared_ptr<ReadLog> reads = std::move(sources_.at(0).reads);
    // The cluster's releases in id order, each with its own inputs (one cluster's ids never meet another's).
    auto first = out_.releases.begin() + static_cast<std::ptrdiff_t>(before.releases);
    std::sort(first, out_.releases.end(), [](const Release& a, const Release& b) { return a.id() < b.id(); });
    out_.releases.erase(std::unique(first, out_.releases.end(), [](const Release& a, const Release& b) { return a.id() == b.id(); }),
                        out_.releases.end());
    std::vector<Release> mine(std::make_move_iterator(out_.releases.begin() + static_cast<std::ptrdiff_t>(before.releases)),
                              std::make_move_iterator(out_.releases.end()));
    narrow_inputs(*self.repo, self.commit, mine, &budget_);
    out_.releases.resize(before.releases);
    if (cache != nullptr) keep(cluster, before, budget_.parsed() - parsed_before, *reads, mine, *cache, key);
    out_.releases.insert(out_.releases.end(), std::make_move_iterator(mine.begin()), std::make_move_iterator(mine.end()));
  }

 private:
  // What the Discovery held before a cluster ran: the cluster's share is what came after.
  struct Slice {
    size_t releases, problems, notes, failed;
  };
  Slice slice() const {
    return {out_.releases.size(), out_.problems.size(), out_.notes.size(), out_.failed_roots.size()};
  }

  void taint(const std::string& why) {
    if (taint_.empty()) taint_ = why;
  }

  // A cluster from the cache: its share of the Discovery, and the files it parsed counted again.
  void adopt(const ClusterSpec& cluster, const ClusterResult& r) {
    budget_.charge(r.parsed);
    out_.releases.insert(out_.releases.end(), r.releases.begin(), r.releases.end());
    for (const auto& n : r.notes) {
      noted_.insert(cluster.name + "\n" + n.message);
      out_.notes.push_back(n);
    }
    for (const auto& root : r.read_roots) out_.read_roots.emplace(cluster.name, root);
    for (const auto& [id, what] : r.unread) out_.unread[id] = what;
  }

  // A cluster just discovered goes to the cache when nothing in it is secret, failed or tied to this commit.
  void keep(const ClusterSpec& cluster, const Slice& before, uint64_t parsed, const ReadLog& reads,
            const std::vector<Release>& mine, DiscoveryCache& cache, const std::string& key) {
    const SourceTree& self = sources_.at(0);
    std::string why = taint_;
    if (why.empty() && (out_.problems.size() != before.problems || out_.failed_roots.size() != before.failed)) {
      why = "its discovery met problems";
    }
    if (why.empty() && budget_.exhausted()) why = "limits.max_files";
    auto r = std::make_shared<ClusterResult>();
    if (why.empty()) {
      r->releases = mine;
      why = uncacheable_reason(*r);
    }
    std::string text;
    if (why.empty()) {
      r->notes.assign(out_.notes.begin() + static_cast<std::ptrdiff_t>(before.notes), out_.notes.end());
      for (const auto& [c, root] : out_.read_roots) {
        if (c == cluster.name) r->read_roots.push_back(root);
      }
      for (const auto& [id, what] : out_.unread) {
        if (id.rfind(cluster.name + "/", 0) == 0) r->unread[id] = what;
      }
      r->parsed = parsed;
      r->closure = closure_of(reads, *self.repo, self.commit);
      try {
        text = encode_entry(key, *r);
      } catch (const std::exception& e) {
        why = std::string("its HelmRelease documents cannot be stored: ") + e.what();
      }
    }
    // A message naming the commit or the work directory is true at this commit only.
    if (why.empty() && (text.find(self.commit.substr(0, 12)) != std::string::npos ||
                        (!opt_.work_root.empty() && text.find(opt_.work_root) != std::string::npos))) {
      why = "its result names the commit";
    }
    if (!why.empty()) {
      cache.count_uncacheable();
      return;
    }
    cache.store(key, std::move(r));
  }

  void discover_cluster(const ClusterSpec& cluster) {
    objects_.clear();
    found_.clear();
    walk(cluster);
    if (over_release_limit(cluster)) return;
    const std::set<const Found*> dropped = duplicate_definitions();
    for (const auto& f : found_) {
      if (dropped.count(&f) != 0) continue;  // another definition of it wins (release/duplicates)
      // Every generation helmgate reads (legacy::classify); any other HelmRelease is a note, never silence.
      const auto api = legacy::classify(scalar(f.doc.node, "apiVersion"), scalar(f.doc.node, "kind"));
      if (api == legacy::Api::unknown) {
        use(f.source);
        YAML::Node md = detail::get(f.doc.node, "metadata");
        note(legacy::unread_note(f.doc.node), {src_->prefix + f.doc.file, f.doc.line, 0});
        out_.unread[cluster.name + "/" + scalar(md, "namespace", "default") + "/" + scalar(md, "name")] =
            scalar(f.doc.node, "kind") + " " + scalar(f.doc.node, "apiVersion");
      } else if (api != legacy::Api::other) {
        use(f.source);
        out_.releases.push_back(release_of(f));
      }
    }
    use(0);
  }

  // The cluster's paths, then the paths their Flux Kustomizations apply, until no new one comes up.
  void walk(const ClusterSpec& cluster) {
    std::deque<Root> roots;
    for (const auto& p : cluster.paths) roots.push_back({{0, clean_path(p), nullptr}, true});
    std::set<std::string> visited;
    std::vector<std::pair<Doc, std::vector<std::string>>> flux_kustomizations;  // with the roots that led there
    while (true) {
      while (!roots.empty()) {
        Root root = std::move(roots.front());
        roots.pop_front();
        if (!visited.insert(root.key()).second) continue;
        read(root, flux_kustomizations);
      }
      // Followed only once everything seen so far is indexed: the GitRepository or ArtifactGenerator a
      // Flux Kustomization names may sit in a file read after it.
      const charts::Context charts = chart_context();
      const KustomizationEnv env{opt_, objects_, sources_, charts, reporter(), noter()};
      for (const auto& [d, via] : flux_kustomizations) {
        for (auto& applied : follow(d, env)) {
          Root next{std::move(applied), false, via, true};
          if (visited.count(next.key()) == 0) roots.push_back(std::move(next));
        }
      }
      if (roots.empty()) break;
    }
  }

  // One root: its documents (transformed by the Kustomization that applies it), indexed and recorded.
  void read(const Root& root, std::vector<std::pair<Doc, std::vector<std::string>>>& flux_kustomizations) {
    use(root.at.source);
    const size_t problems_before = out_.problems.size();
    RootRead got = read_root(*src_, root.at.path, TreeEnv{opt_, budget_, reporter(), &unit_files_});
    const auto plain = got.docs;
    got.docs = decrypt_documents(got.docs, opt_, decryption_of(root), reporter());
    if (got.docs != plain) taint("it holds SOPS-encrypted documents");
    if (got.docs && root.at.transform && root.at.transform->rewrites()) {
      auto t = apply_transform(*got.docs, *root.at.transform, opt_, budget_, reporter());
      got.docs = t ? *t : nullptr;
    }
    const std::string root_id = src_->prefix + root.at.path;
    if (!src_->prefix.empty()) {
      for (auto& i : got.inputs) i = src_->prefix + i;
    }
    if (root.at.transform && !root.at.transform->file.empty()) got.inputs.push_back(root.at.transform->file);
    const std::string& cluster = cluster_->name;
    if (!got.docs || got.partial) {
      out_.failed_roots.emplace_back(cluster, root_id);
      auto& why = out_.root_problems[{cluster, root_id}];
      why.insert(why.end(), out_.problems.begin() + static_cast<std::ptrdiff_t>(problems_before), out_.problems.end());
      // A cluster path absent at this commit: at base, a cluster path the change adds.
      if (!got.docs && got.missing && root.cluster_path) out_.missing_roots.emplace_back(cluster, root_id);
      // Read in part (a malformed file among readable ones): what was read is kept, and Flux would fail
      // the sync of this path as a whole.
      if (got.partial) out_.partial_roots.emplace_back(cluster, root_id);
      if (!got.docs) return;
    }
    out_.read_roots.emplace(cluster, root_id);
    std::vector<std::string> via = root.via;
    via.push_back(root_id);
    for (const auto& d : *got.docs) {
      objects_.add(d);
      found_.push_back({d, root_id, got.inputs, root.at.source, root.at.transform, root.via, root.followed});
      if (scalar(d.node, "kind") == "Kustomization") flux_kustomizations.emplace_back(d, via);
    }
  }

  // A cluster path is applied by the cluster's own Flux Kustomization, outside the repository (its
  // decryption is set up there): its documents are decrypted. A followed path is decrypted when the
  // Flux Kustomization that applies it says so, as kustomize-controller does.
  static Decryption decryption_of(const Root& root) {
    if (root.cluster_path) return {true, ""};
    if (root.at.transform && root.at.transform->decrypt) return {true, ""};
    return {false, "the Flux Kustomization that applies " + (root.at.path.empty() ? std::string(".") : root.at.path) +
                       " has no spec.decryption with provider sops"};
  }

  Release release_of(const Found& f) {
    const charts::Context charts = chart_context();
    Release r = read_release(f.doc, f.root, f.inputs, ReleaseScope{*cluster_, opt_, *src_, objects_, charts});
    r.via = f.via;
    if (f.transform) r.sensitive.insert(r.sensitive.end(), f.transform->sensitive.begin(), f.transform->sensitive.end());
    add_decrypted(r, f.doc);
    if (!src_->prefix.empty()) {
      r.where.file = src_->prefix + r.where.file;
      if (!r.chart.source.file.empty()) r.chart.source.file = src_->prefix + r.chart.source.file;
      r.notes.push_back("declared in " + src_->label + " at commit " + src_->commit.substr(0, 12));
    }
    return r;
  }

  // The same HelmRelease reached more than once: the definitions Flux would not apply (release/duplicates).
  std::set<const Found*> duplicate_definitions() {
    std::vector<Definition> defs;
    std::vector<const Found*> of;
    for (const auto& f : found_) {
      if (scalar(f.doc.node, "kind") != "HelmRelease") continue;
      YAML::Node md = detail::get(f.doc.node, "metadata");
      const std::string prefix = sources_.at(f.source).prefix;
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

  // Bounds (core::limits()): the HelmReleases one cluster declares (the files parsed: budget_).
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

  void use(size_t i) {
    src_ = &sources_.at(i);
    if (i != 0) taint("it reads a tenant repository");
  }

  void problem(const std::string& message, Location where = {}) {
    std::string m = src_->prefix.empty() ? message : "in " + src_->label + ": " + message;
    if (!src_->prefix.empty() && !where.file.empty()) where.file = src_->prefix + where.file;
    out_.problems.push_back({cluster_->name, m, std::move(where)});
  }

  void note(const std::string& message, Location where = {}) {
    if (!noted_.insert(cluster_->name + "\n" + message).second) return;
    out_.notes.push_back({cluster_->name, message, std::move(where)});
  }

  Report reporter() {
    return [this](const std::string& m, const Location& at) { problem(m, at); };
  }
  Report noter() {
    return [this](const std::string& m, const Location& at) { note(m, at); };
  }

  // What chart resolution sees: the cluster's objects and the tree in use when it is called.
  charts::Context chart_context() {
    charts::Context c;
    c.opt = &opt_;
    c.cluster = cluster_->name;
    c.find = [this](const std::string& kind, const std::string& ns, const std::string& name) -> std::optional<charts::Object> {
      const Doc* d = objects_.find(kind, ns, name);
      if (d == nullptr) return std::nullopt;
      return charts::Object{d->node, d->file, d->line};
    };
    c.all = [this](const std::string& kind) {
      std::vector<charts::Object> out;
      for (const Doc* d : objects_.all(kind)) out.push_back({d->node, d->file, d->line});
      return out;
    };
    c.repo_chart = [this](Release& r, const std::string& path, const std::string& why) {
      resolve_repo_chart(r, *src_, path, why);
    };
    c.read = [this](const std::string& path) { return src_->read(path); };
    return c;
  }

  DiscoverOptions opt_;  // a copy: open_source is watched (taint)
  Discovery& out_;
  Sources sources_;
  SourceTree* src_ = nullptr;  // the tree in use: problems found now are reported as its
  const core::Limits limits_ = core::limits();
  ParseBudget budget_;
  std::set<std::string> noted_;
  const ClusterSpec* cluster_ = nullptr;
  ObjectIndex objects_;
  std::vector<Found> found_;
  std::map<std::string, std::set<std::string>> unit_files_;  // kustomization dir -> the files its build reads
  std::string taint_;  // why the cluster being discovered may not be cached ("" it may)
};

}  // namespace

Discovery discover(const git::Repository& repo, const std::string& commit, const DiscoverOptions& options) {
  Discovery out;
  out.commit = commit;
  Discoverer d(repo, commit, options, out);
  if (!options.last_first) {
    for (const auto& c : options.clusters) d.run_cluster(c);
  } else {
    // Last to first, then what each cluster reported back in the clusters' order: the same Discovery.
    for (auto c = options.clusters.rbegin(); c != options.clusters.rend(); ++c) d.run_cluster(*c);
    std::map<std::string, size_t> rank;
    for (size_t i = 0; i < options.clusters.size(); ++i) rank.emplace(options.clusters[i].name, i);
    auto by_problem = [&](const Problem& a, const Problem& b) { return rank[a.cluster] < rank[b.cluster]; };
    auto by_root = [&](const std::pair<std::string, std::string>& a, const std::pair<std::string, std::string>& b) {
      return rank[a.first] < rank[b.first];
    };
    std::stable_sort(out.problems.begin(), out.problems.end(), by_problem);
    std::stable_sort(out.notes.begin(), out.notes.end(), by_problem);
    for (auto* roots : {&out.failed_roots, &out.missing_roots, &out.partial_roots}) {
      std::stable_sort(roots->begin(), roots->end(), by_root);
    }
  }
  std::sort(out.releases.begin(), out.releases.end(), [](const Release& a, const Release& b) { return a.id() < b.id(); });
  // The same release reached twice (two paths include one base) is one release (each cluster's releases
  // were sorted, made unique and their inputs narrowed when it was discovered).
  out.releases.erase(std::unique(out.releases.begin(), out.releases.end(),
                                 [](const Release& a, const Release& b) { return a.id() == b.id(); }),
                     out.releases.end());
  return out;
}

}  // namespace helmgate::release
