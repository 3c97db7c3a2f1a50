#pragma once
// Which kinds are cluster-scoped, as far as helmgate can tell without a cluster: a built-in table of the
// Kubernetes API's cluster-scoped kinds, plus the scope the CustomResourceDefinitions rendered in the same
// preview declare. Used to give every namespaced resource its effective namespace (what `helm install
// --namespace` does for objects without metadata.namespace) and no namespace to cluster-scoped ones.
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace helmgate::diff {

// The built-in API's cluster-scoped kinds (group "" is the core group), e.g. ("", "Namespace"),
// ("rbac.authorization.k8s.io", "ClusterRole").
bool builtin_cluster_scoped(std::string_view group, std::string_view kind);

class Scopes {
 public:
  // Reads the CustomResourceDefinitions in a rendered manifest (spec.group, spec.names.kind, spec.scope);
  // anything that does not parse is ignored (the diff reports it).
  void add_crds(std::string_view manifest);
  // Built-in table, then rendered CRDs; a custom kind nobody declared here is namespaced unless its name
  // starts with "Cluster" (ClusterIssuer, ClusterPolicy, ClusterSecretStore: the naming convention of
  // cluster-scoped custom kinds).
  bool cluster_scoped(std::string_view group, std::string_view kind) const;

 private:
  std::set<std::pair<std::string, std::string>, std::less<>> cluster_, namespaced_;
};

}  // namespace helmgate::diff
