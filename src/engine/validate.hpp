#pragma once
// Validation of rendered releases against a target cluster: offline checks (documents parse, required
// fields, duplicates across releases, deprecated/removed apiVersions for the cluster's version) and the
// API server's own verdict through server-side apply with dryRun=All. The dry-run answers double as the
// head side of the live diff: what the server would store, normalized like the render diff, against
// what it stores now.
#include <map>
#include <string>
#include <vector>

#include "diff/normalize.hpp"
#include "diff/unified.hpp"
#include "kube/client.hpp"

namespace helmgate::engine {

enum class Severity { error, warning, info };
std::string_view to_string(Severity s);

struct Finding {
  Severity severity = Severity::error;
  std::string cluster;
  std::string release;  // release id (cluster/namespace/name)
  std::string check;    // parse | required-fields | invalid-name | duplicate | deprecated-api | removed-api | dry-run | missing-crd |
                        // namespace | ownership | impersonation
  std::string object;   // "apps/v1 Deployment team-a/podinfo"; empty for the whole release
  std::string message;  // already redacted
};

struct RenderedRelease {
  std::string id;
  std::string release_name;
  std::string namespace_;  // where namespaced objects without a namespace go
  std::string manifest;    // helm template output
  bool create_namespace = false;
  // Declared on the deploy branch under this name and namespace: the live diff may read the cluster's
  // objects that Helm marks as this release's. false (a release new in the pull request): existing objects
  // are "not managed by this release" whatever their marks say.
  bool declared_at_base = false;
  // The tenant the release is dry-run as (Impersonate-User/-Group): its RBAC, ResourceQuotas, LimitRanges
  // and admission policies answer. Empty: the preview credential itself. Reads (the live diff's, the
  // namespace check) always use the preview credential.
  kube::Impersonation as{};
};

struct ValidateOptions {
  std::string cluster;
  std::string kube_version;  // "1.35.8" or "v1.35.8"; empty: no apiVersion checks
  bool dry_run = true;       // false: offline checks only (no client needed)
  bool live_diff = true;
  size_t concurrency = 4;    // releases dry-run at once
  const diff::Redactor* redactor = nullptr;
};

struct ClusterValidation {
  std::vector<Finding> findings;
  // release id -> live vs head (dry-run result) per resource; only resources that differ.
  std::map<std::string, std::vector<diff::ResourceDiff>> live_diffs;
  // Set when the cluster was not asked (no preview credential): offline checks only, and why.
  std::string offline_note;
  bool has_errors() const;
};

// Second gate, for rendered objects: "" when apiVersion, kind, name and namespace (when set) of ref follow
// the Kubernetes rules and may be sent to an API server; otherwise which field breaks which rule (values
// shown escaped). An object failing it is an "invalid-name" finding and never becomes a request.
std::string object_identity_problem(const kube::ObjectRef& ref);
// The first such problem among the objects of a rendered manifest ("document N: ..."); "" when none.
std::string manifest_identity_problem(const std::string& manifest);

// The offline checks alone (no cluster).
std::vector<Finding> validate_offline(const std::vector<RenderedRelease>& releases, const ValidateOptions& options);

// Offline checks, then every object dry-run (namespaces first, CRDs before their objects), then the live diff.
ClusterValidation validate_cluster(kube::Client* client, const std::vector<RenderedRelease>& releases,
                                   const ValidateOptions& options);

// {"cluster":..,"errors":n,"findings":[...],"live_diff":{release:[{key,change,diff}]}}
std::string to_json(const ClusterValidation& v, const std::string& cluster);
// A markdown section per cluster, labelled apart from the base-vs-head diff.
std::string to_markdown(const ClusterValidation& v, const std::string& cluster);

// Whether apiVersion/kind is removed (or deprecated) at a Kubernetes version; for the offline check.
struct ApiLifecycle {
  std::string api_version, kind;  // kind "*" for every kind of the group-version
  int deprecated_minor = 0;       // 1.<minor>; 0 unknown
  int removed_minor = 0;
  std::string replacement;
};
const std::vector<ApiLifecycle>& api_lifecycle_table();
// "1.35.8" / "v1.35.8-rc.0" -> 35 (minor of major 1); -1 when it cannot be read.
int kube_minor(std::string_view version);

}  // namespace helmgate::engine
