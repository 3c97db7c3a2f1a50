#pragma once
// HelmReleases as declared in Git: discovery at a commit (Flux v2/v2beta1/v2beta2 and the helm-operator
// generations helm.fluxcd.io/v1, flux.weave.works/v1beta1 and FluxHelmRelease v1alpha2,
// kustomize overlays and Flux Kustomizations followed) and the affected set between two commits.
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "git/repository.hpp"

namespace YAML {
class Node;
}

namespace helmgate::release {

namespace sops {
struct Keys;  // release/sops.hpp
}

struct Location {
  std::string file;  // repository path
  int line = 0;      // 1-based, 0 unknown
  int column = 0;
};

struct Problem {
  std::string cluster;
  std::string message;
  Location where;
};

enum class ChartKind {
  repo_dir,         // a chart directory in the repository being previewed
  helm_repository,  // HTTP(S) chart repository
  oci,              // oci:// reference (url includes the chart)
  remote_git,       // a chart directory in another Git repository
};

struct ChartRef {
  ChartKind kind = ChartKind::repo_dir;
  std::string path;        // repo_dir / remote_git: directory of the chart
  std::string url;         // helm_repository / oci / remote_git
  std::string name;        // helm_repository: chart name
  std::string version;     // chart version or constraint; remote_git: the Git ref; oci: the tag (shown)
  std::string digest;      // oci: "sha256:…" from OCIRepository spec.ref.digest; wins over version, as in Flux
  std::string content_id;  // repo_dir: Git tree id; otherwise a digest of the source definition
  Location source;         // where url is declared (HelmRepository, GitRepository, OCIRepository, HelmRelease)
  std::string describe() const;
};

struct ValuesSource {
  std::string kind;  // ConfigMap | Secret | ChartFile
  std::string namespace_, name, key, target_path;
  bool optional = false;
  bool found = false;
  std::string content_id;  // digest of the value that was read
  std::string label() const;  // "ConfigMap podinfo/podinfo-values[values.yaml]"
};

// The effective HelmRelease document (after kustomize, a Flux Kustomization's patches and substitution), as
// the comparisons read it: its kind, spec.install.createNamespace, and which spec fields differ from
// another's. Metadata other than name/namespace (labels, annotations) does not change what helm renders
// and is not compared.
class Spec {
 public:
  Spec() = default;
  explicit Spec(const YAML::Node& document);  // keeps a deep copy of the document's spec

  const std::string& kind() const { return kind_; }  // HelmRelease, FluxHelmRelease
  // spec.install.createNamespace when it reads as a boolean (Flux v2); nullopt when absent or not one.
  std::optional<bool> install_create_namespace() const { return create_namespace_; }
  // Flux v2 (helm.toolkit.fluxcd.io) spec.serviceAccountName when it is a string: the service account of the
  // HelmRelease's own namespace helm-controller impersonates; "" when absent or another generation. Checked
  // by the name gate (a DNS-1123 subdomain) before anything uses it.
  const std::string& service_account_name() const { return service_account_; }
  // Dotted paths ("spec.values.image.tag") where the two specs differ, scalars by typed value ("1.10" is
  // not 1.10), at most max.
  std::vector<std::string> changed_fields(const Spec& other, size_t max) const;
  // Flux v2 spec.dependsOn as "namespace/name" of HelmRelease objects (a missing namespace is
  // own_namespace, the HelmRelease's); entries without a name are left out. The apply orders a
  // cluster's releases by it.
  std::vector<std::string> depends_on(const std::string& own_namespace) const;

  // The discovery cache (release/discovery_cache) stores the typed fields and the document; a restored
  // Spec builds its document again only when a comparison first reads it (build never fails: the entry
  // was checked when it was read).
  static Spec restored(std::string kind, std::optional<bool> create_namespace, std::string service_account,
                       std::function<YAML::Node()> build);
  const YAML::Node* document() const;  // null: no document

 private:
  struct Lazy;
  std::string kind_;
  std::optional<bool> create_namespace_;
  std::string service_account_;
  std::shared_ptr<const YAML::Node> spec_;  // null: no document (or not built yet: lazy_)
  std::shared_ptr<Lazy> lazy_;
};

struct Release {
  std::string cluster;
  std::string api_version;
  std::string namespace_;  // of the HelmRelease object
  std::string name;
  std::string release_name;      // effective Helm release name
  std::string target_namespace;  // effective namespace of the rendered resources
  std::string kube_version;      // of the cluster (may be empty)
  bool create_namespace = false;  // the helm-operator generations install with the namespace created
  // What Flux v2's spec.install and spec.upgrade turn off for that action.
  struct ActionChecks {
    // disableSchemaValidation: helm's --skip-schema-validation.
    bool skip_schema_validation = false;
    // disableOpenAPIValidation: helm's --disable-openapi-validation (the API server then decides: a
    // client-side apply drops a field its schema does not know, a server-side apply refuses it, as the
    // preview's dry-run does).
    bool skip_openapi_validation = false;
  };
  ActionChecks install_checks, upgrade_checks;
  const ActionChecks& checks_for(bool installing) const {
    return installing ? install_checks : upgrade_checks;
  }
  ChartRef chart;
  // Merged values (valuesFrom in order, then spec.values) as canonical typed JSON: what Flux hands helm.
  std::string values_json;
  std::vector<std::string> sensitive;  // values that came from Secrets: to be scrubbed from any output
  // Values decrypted with SOPS that reach it (its own document, its valuesFrom objects): "file: key.path"
  // -> a digest of the value salted per process, to tell which keys changed. Only the names are shown.
  std::map<std::string, std::string> decrypted;
  std::vector<ValuesSource> values_from;
  std::string post_render_kustomization;  // kustomization.yaml fields from spec.postRenderers
  std::string root;                       // the cluster path or Flux Kustomization path it came from
  std::vector<std::string> via;           // the roots whose Flux Kustomizations led to root, outermost first
  // Repository files that reach it: its own file, the kustomization files and patches of its overlay,
  // its valuesFrom objects' and chart source's files, the Flux Kustomization that transforms it (files of
  // the same root that only declare other objects are not among them; see narrow_inputs).
  std::vector<std::string> inputs;
  Location where;
  std::vector<std::string> notes;
  std::vector<Problem> errors;  // resolution errors (missing valuesFrom, unsupported source)
  Spec spec;  // the effective HelmRelease document, for comparisons
  std::string id() const { return cluster + "/" + namespace_ + "/" + name; }
};

// A source mapped to a path (flux-local's --sources): "[KIND/][NAMESPACE/]NAME=PATH". The path is the
// source's root in this repository: a Flux Kustomization's spec.path, a GitRepository chart path or an
// ExternalArtifact's contents are read below it; for a HelmRepository it holds the charts by name.
struct SourceMapping {
  std::string kind;        // GitRepository, OCIRepository, Bucket, ExternalArtifact, HelmRepository; "" any
  std::string namespace_;  // "" any
  std::string name;
  std::string path;    // repository path, relative and normalized ("" the root)
  std::string origin;  // where it was given, for messages ("--source", "helmgate.yaml: repos[0].sources[1]")
};

struct ClusterSpec {
  std::string name;
  std::vector<std::string> paths;
  std::string kube_version;
};

struct Discovery {
  std::string commit;
  std::vector<Release> releases;
  std::vector<Problem> problems;
  // What discovery did not follow and why (a tenant GitRepository that could not be fetched): shown in
  // the report so a missing release is never silent, without failing the preview.
  std::vector<Problem> notes;
  // (cluster, root) that could not be read, entirely or in part, with the problems met reading each.
  std::vector<std::pair<std::string, std::string>> failed_roots;
  std::map<std::pair<std::string, std::string>, std::vector<Problem>> root_problems;
  // Configured cluster paths that do not exist at this commit (also in failed_roots): at base, a cluster
  // path the change adds, whose releases are honest additions.
  std::vector<std::pair<std::string, std::string>> missing_roots;
  // Roots read in part (a malformed file among readable ones; also in failed_roots): the releases found
  // there are kept, but Flux would fail the sync of the path as a whole.
  std::vector<std::pair<std::string, std::string>> partial_roots;
  std::set<std::pair<std::string, std::string>> read_roots;  // (cluster, root) read, in full or in part
  // HelmReleases declared in an apiVersion helmgate does not read (a note each): id -> "<kind> <apiVersion>".
  // Such a release is neither added nor removed by the change, only unknown on that side.
  std::map<std::string, std::string> unread;
  bool root_failed(const std::string& cluster, const std::string& root) const;
  bool root_missing(const std::string& cluster, const std::string& root) const;
  bool root_partial(const std::string& cluster, const std::string& root) const;
};

// Kustomize builds (a directory on disk -> multi-document YAML); the caller wires a runner in, so this
// library does not depend on the render library. cache_key identifies the build's inputs by content.
using KustomizeFn = std::function<core::Result<std::string>(const std::string& dir, const std::string& cache_key)>;

// Parsed documents shared between discoveries (base and head) keyed by content.
class DocCache;
// Clusters already discovered, in memory and on disk (release/discovery_cache.hpp).
class DiscoveryCache;

struct DiscoverOptions {
  std::vector<ClusterSpec> clusters;
  std::string work_root;  // materialized trees go here
  KustomizeFn kustomize;
  // URL spellings of the repository being previewed; empty means "no configuration": a chart.git URL
  // then resolves to this repository when its path exists here.
  std::vector<std::string> self_urls;
  std::shared_ptr<DocCache> cache;  // optional
  // The repository's own remote URLs (origin, ...): without self_urls, a GitRepository whose URL names one of
  // them is this repository, whatever its name.
  std::vector<std::string> remote_urls;
  // Sources mapped to paths of this repository (--source, repos[].sources); they win over every other rule.
  std::vector<SourceMapping> sources;
  // kustomize-controller's StrictPostBuildSubstitutions feature gate (on by default since v1.9): a
  // ${var} that is not set and has no default fails the Flux Kustomization instead of reading as "".
  bool flux_strict_substitution = true;
  // The helm-operator's --git-charts-path: where a FluxHelmRelease's spec.chartGitPath is resolved.
  std::string helm_operator_charts_path = "charts";
  // Opens another Git repository (a tenant's GitRepository URL) through the mirror cache; null: such
  // sources are not followed and a note names them.
  std::function<core::Result<std::shared_ptr<const git::Repository>>(const std::string& url)> open_source;
  // The age keys SOPS-encrypted documents are decrypted with (config sops.age_keys; the CLI's
  // SOPS_AGE_KEY/SOPS_AGE_KEY_FILE); null: none, and an encrypted document is an error naming its recipients.
  std::shared_ptr<const sops::Keys> sops_keys;
  // Optional: each cluster's result kept by its input closure (release/discovery_cache.hpp), and what
  // identifies the tools kustomize runs with (part of the cache key: another kubectl may build otherwise).
  std::shared_ptr<DiscoveryCache> discovery_cache;
  std::string tools_id;
  // Discover the clusters last to first (the Discovery is the same): base and head discovered at once
  // with a discovery cache go opposite ways, so each takes the other's entries of the clusters the change
  // does not touch instead of discovering them too.
  bool last_first = false;
};

std::shared_ptr<DocCache> make_doc_cache();

// Without configuration: each directory under clusters/ is a cluster, else the repository root is one
// cluster named "default".
core::Result<std::vector<ClusterSpec>> default_clusters(const git::Repository& repo, const std::string& commit);

Discovery discover(const git::Repository& repo, const std::string& commit, const DiscoverOptions& options);

struct Affected {
  std::string id;
  const Release* base = nullptr;  // null: added
  const Release* head = nullptr;  // null: removed (or head could not be discovered: head_failed)
  bool head_failed = false;
  bool base_failed = false;  // missing at base only because base could not be read: an error, not "added"
  // Why a side failed: the problems met reading the path it comes from (file:line), for the report.
  std::vector<Problem> base_problems, head_problems;
  // Found at head in a path read only in part: Flux would fail the sync of that path as a whole.
  std::string head_sync_fails;  // the path; empty when the path was read in full
  std::vector<std::string> reasons;
};

// Releases whose effective inputs differ between base and head, with the reasons; changed_paths adds
// which changed files reached each one.
std::vector<Affected> affected(const Discovery& base, const Discovery& head,
                               const std::vector<std::string>& changed_paths);

}  // namespace helmgate::release
