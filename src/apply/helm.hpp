#pragma once
// Running helm against one cluster: argv only (never a shell), a clean environment with helm's homes in
// a work directory, a timeout, and messages that never carry values (they may hold Secret data).
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "process/process.hpp"

namespace helmgate::apply {

struct HelmEnv {
  std::string helm;        // binary
  std::string kubeconfig;  // file (0600 when helmgate wrote it)
  // The files the kubeconfig names (CA, client certificate and key, token file), as its loader read them
  // (engine::OpenCluster): helm reads them inside the sandbox, read-only.
  std::vector<std::string> kubeconfig_files;
  std::string cluster;     // for messages
  std::string work_dir;    // helm's cache/config/data homes live here
  std::chrono::milliseconds timeout{300'000};
  // The tenant helm acts as (--kube-as-user / --kube-as-group, i.e. Kubernetes impersonation by the
  // kubeconfig's identity): set per release from its ReleaseSpec. Empty: the kubeconfig's identity itself.
  // Checked against core/names' identity rules before any helm run.
  std::string as_user;
  std::vector<std::string> as_groups;
};

// Runs `helm <args> --kubeconfig <file>`; a non-zero exit is an error carrying helm's stderr (trimmed).
core::Result<process::ProcessResult> run_helm(const HelmEnv& env, std::vector<std::string> args, const std::string& what);

struct HelmRelease {
  std::string name, namespace_, status;
  int revision = 0;
  std::string description;  // helm's info.description of the latest revision ("" when not read)
  std::string apply_method = {};  // how helm applied the latest revision ("ssa", "csa"; "" when not read)
};

// helmgate's upgrades describe their revision as "helmgate digest <digest>" (helm's --description), so
// the cluster itself says what an apply deployed, even when the worker died before recording it.
std::string digest_description(const std::string& digest);  // "" for a digest that is not lowercase hex
// The digest a release's description carries, "" when it carries none.
std::string digest_from_description(const std::string& description);
// `helm list -A -o json` (helm 4 lists every status by default), keyed "namespace/name".
core::Result<std::map<std::string, HelmRelease>> list_releases(const HelmEnv& env);

// What an action needs to know about a release.
struct ReleaseSpec {
  std::string id;            // cluster/namespace/name of the HelmRelease object
  std::string release_name;  // helm release
  std::string namespace_;    // target namespace
  // The chart reference, then flag/value pairs: {dir} or {name, --repo, url, --version, v}; each pair is passed
  // as --flag=value and the chart after "--", so no value can be taken for an option.
  std::vector<std::string> chart_args;
  std::string values_json;   // merged values, typed JSON (may hold Secret data: written 0600, removed after)
  bool create_namespace = false;
  bool skip_schema_validation = false;  // helm's --skip-schema-validation (for the action about to run)
  // helm's --disable-openapi-validation: the API server checks these manifests itself
  // (apply::server_checks_manifests), or the HelmRelease asks for it (Flux's disableOpenAPIValidation).
  bool disable_openapi_validation = false;
  // helm's --force-conflicts: take over fields another field manager (a hand edit) owns. Only a drift
  // remediation sets it: a regular apply fails on such a conflict, so nobody's edit is lost unseen.
  bool force_conflicts = false;
  std::string digest;
  // The tenant to act as (Flux's spec.serviceAccountName or the ownership entry's identity); see HelmEnv.
  std::string as_user;
  std::vector<std::string> as_groups;
};

enum class ActionOutcome { installed, upgraded, uninstalled, failed };

struct ActionResult {
  ActionOutcome outcome = ActionOutcome::failed;
  std::string reason;
  int revision = 0;
  std::chrono::milliseconds elapsed{0};
  // helm ran against the cluster (so it may have changed something, even when it failed); false for a
  // refusal before any helm run, which a retry cannot change.
  bool touched = false;
};

}  // namespace helmgate::apply

namespace helmgate::apply {
// Refuses (errc::bad_request, naming what) a release name or namespace that breaks Helm's or Kubernetes' rules.
// Discovery refuses them first with file and line; this is the second line before any helm run.
core::Result<void> check_release_identity(const std::string& release_name, const std::string& ns, const std::string& what);
// `helm upgrade --install` with the values in a private file; shared by the install and upgrade actions.
core::Result<int> upgrade_install(const HelmEnv& env, const ReleaseSpec& spec, bool create_namespace, const std::string& what);
// The install and upgrade actions: upgrade_install timed, as an ActionResult (on_success when helm succeeds;
// touched unless the release was refused before helm ran).
ActionResult upgrade_install_action(const HelmEnv& env, const ReleaseSpec& spec, ActionOutcome on_success, const std::string& what);
}  // namespace helmgate::apply
