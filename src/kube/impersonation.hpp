#pragma once
// Acting as a tenant: the Kubernetes identity a request is made as (Impersonate-User, Impersonate-Group),
// for a release that names one (Flux's spec.serviceAccountName, or the ownership entry's identity). The
// credential that sends the headers needs RBAC's `impersonate` verb on that user (for a service account:
// on the serviceaccounts resource of its namespace) and those groups; the API server then authorizes and
// admits the request as the tenant, so the tenant's RoleBindings, ResourceQuotas and admission policies
// decide. The identity comes from Git or configuration: problem() refuses anything outside the name
// grammar (core/names.hpp) before it reaches a header or argv.
#include <string>
#include <utility>
#include <vector>

namespace helmgate::kube {

struct Impersonation {
  std::string user{};               // empty: no impersonation (the credential acts as itself)
  std::vector<std::string> groups{};  // empty: the API server's defaults (a service account's groups)
  bool empty() const { return user.empty(); }
  // "user system:serviceaccount:team-a:deployer" (+ " with groups a, b"); "" when empty. Not escaped.
  std::string describe() const;
  // "" when user and groups may be sent; otherwise which one breaks which rule (values shown escaped).
  std::string problem() const;
  // The request headers: Impersonate-User, then one Impersonate-Group per group. None when empty.
  std::vector<std::pair<std::string, std::string>> headers() const;
  bool operator==(const Impersonation&) const = default;
};

// Flux's spec.serviceAccountName: the service account <name> in the HelmRelease's own namespace (the
// object's, not spec.targetNamespace), as helm-controller impersonates it.
Impersonation service_account(const std::string& helmrelease_namespace, const std::string& name);

}  // namespace helmgate::kube
