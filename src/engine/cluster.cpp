#include "engine/cluster.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "core/env.hpp"

namespace helmgate::engine {

namespace {

struct Keys {
  const std::string& file;
  const std::string& env;
  const char* file_key;
  const char* env_key;
};

Keys keys(const config::Cluster& c, Credential which) {
  if (which == Credential::deploy) return {c.kubeconfig, c.kubeconfig_env, "kubeconfig", "kubeconfig_env"};
  return {c.preview_kubeconfig, c.preview_kubeconfig_env, "preview_kubeconfig", "preview_kubeconfig_env"};
}

}  // namespace

bool has_credential(const config::Cluster& c, Credential which) {
  auto k = keys(c, which);
  return !k.file.empty() || !k.env.empty();
}

core::Result<kube::Kubeconfig> load_cluster_kubeconfig(const config::Cluster& c, Credential which) {
  auto k = keys(c, which);
  kube::KubeconfigPolicy policy;
  policy.allow_insecure_tls = c.allow_insecure_tls;
  if (!k.file.empty()) return kube::load_kubeconfig_file(k.file, {}, policy);
  if (k.env.empty()) {
    return core::Error(core::errc::not_found, "cluster " + c.name + " has neither " + k.file_key + " nor " + k.env_key);
  }
  std::string text = core::env_or(k.env);
  if (text.empty()) {
    return core::Error(core::errc::invalid_config, "cluster " + c.name + ": environment variable " + k.env + " (" +
                                                       k.env_key + ") is not set for the worker");
  }
  return kube::load_kubeconfig_text(text, "$" + k.env, ".", {}, policy);
}

core::Result<OpenCluster> open_cluster(const config::Cluster& c, Credential which, const std::string& work_dir) {
  auto kc = load_cluster_kubeconfig(c, which);
  if (!kc) return kc.error();
  OpenCluster out{c.name, std::move(*kc), {}};
  auto k = keys(c, which);
  if (!k.file.empty()) {
    out.kubeconfig_file = k.file;
    return out;
  }
  // helm reads a file: the variable's text (a credential) is written owner-only.
  std::string text = core::env_or(k.env);
  std::string path = work_dir + "/" + c.name + (which == Credential::deploy ? ".kubeconfig" : ".preview.kubeconfig");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return core::Error(core::errc::internal, "cannot write " + path);
  ssize_t n = ::write(fd, text.data(), text.size());
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size())) return core::Error(core::errc::internal, "cannot write " + path);
  out.kubeconfig_file = path;
  return out;
}

apply::HelmEnv OpenCluster::helm_env(const std::string& helm, const std::string& work_dir,
                                     std::chrono::milliseconds timeout) const {
  apply::HelmEnv env;
  env.helm = helm;
  env.kubeconfig = kubeconfig_file;
  env.kubeconfig_files = kubeconfig.files;
  env.cluster = name;
  env.work_dir = work_dir;
  env.timeout = timeout;
  return env;
}

std::vector<std::string> cluster_credential_warnings(const config::Config& cfg) {
  std::vector<std::string> out;
  for (const auto& r : cfg.repos) {
    for (const auto& c : r.clusters) {
      std::string where = "repo " + r.name + ", cluster " + c.name;
      if (c.allow_insecure_tls) {
        out.push_back(where + ": allow_insecure_tls is true: a kubeconfig with insecure-skip-tls-verify is accepted, "
                              "and its credential goes to whoever answers at the server address");
      }
      if (!has_credential(c, Credential::preview) && has_credential(c, Credential::deploy)) {
        out.push_back(where + ": no preview_kubeconfig or preview_kubeconfig_env: previews of this cluster run the "
                              "offline checks only (no server-side dry-run, no live diff)");
      }
    }
  }
  return out;
}

std::string no_preview_credential_note(const config::Cluster& c) {
  return "Cluster `" + c.name +
         "` has no preview credential (`preview_kubeconfig` or `preview_kubeconfig_env`), so this preview ran the "
         "offline checks only: no server-side dry-run and no live diff. helmgate never runs pull-request content "
         "with the deploy credential.";
}

}  // namespace helmgate::engine
