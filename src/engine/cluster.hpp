#pragma once
// Opening a cluster. The two credentials of a cluster: The deploy credential (kubeconfig / kubeconfig_env) is used by apply
// only. Previews (server-side dry-run, live reads) run content any pull request controls, so they use the
// preview credential (preview_kubeconfig / preview_kubeconfig_env), meant to read and dry-run only; a
// cluster without one is previewed offline, never with the deploy credential.
#include <chrono>
#include <string>
#include <vector>

#include "apply/helm.hpp"
#include "config/config.hpp"
#include "core/error.hpp"
#include "kube/kubeconfig.hpp"

namespace helmgate::engine {

// What a cluster is opened for: deploy (apply, with the deploy credential) or preview (dry-run and live
// reads of content a pull request controls, with the preview credential).
enum class Credential { deploy, preview };

bool has_credential(const config::Cluster& c, Credential which);

// Loads the cluster's kubeconfig of that kind under the cluster's TLS policy (https:// only;
// insecure-skip-tls-verify only with allow_insecure_tls). errc::not_found when none is configured,
// errc::invalid_config when its variable is unset or the file is refused.
core::Result<kube::Kubeconfig> load_cluster_kubeconfig(const config::Cluster& c, Credential which);

// A cluster opened for one purpose: its kubeconfig, and a kubeconfig file for helm (the configured file,
// or the environment variable's text written 0600 under work_dir; removed with work_dir).
struct OpenCluster {
  std::string name;
  kube::Kubeconfig kubeconfig;  // kubeconfig.files: the files it names, read once here
  std::string kubeconfig_file;
  // What helm needs to run against this cluster: the kubeconfig file and the files it names (read-only in
  // helm's sandbox), helm's homes in work_dir.
  apply::HelmEnv helm_env(const std::string& helm, const std::string& work_dir, std::chrono::milliseconds timeout) const;
};
core::Result<OpenCluster> open_cluster(const config::Cluster& c, Credential which, const std::string& work_dir);

// What `serve` and `worker` log as warnings at every start: clusters that accept insecure TLS, clusters
// without a preview credential (their previews run offline checks only).
std::vector<std::string> cluster_credential_warnings(const config::Config& cfg);

// The sentence a preview shows for a cluster without a preview credential.
std::string no_preview_credential_note(const config::Cluster& c);

}  // namespace helmgate::engine
