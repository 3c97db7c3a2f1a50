#include "engine/cluster_validation.hpp"

#include <algorithm>

#include "engine/cluster.hpp"
#include "kube/client.hpp"

namespace helmgate::engine {

std::vector<RenderedRelease> releases_of_cluster(const std::vector<HeadRender>& head, const std::string& cluster) {
  std::vector<RenderedRelease> out;
  for (const auto& h : head) {
    if (h.cluster == cluster) out.push_back(h.rendered());
  }
  return out;
}

bool validates(const config::Cluster& c) {
  return has_credential(c, Credential::deploy) || has_credential(c, Credential::preview);
}

core::Result<ClusterValidation> validate_on_cluster(const config::Cluster& c, const std::vector<RenderedRelease>& releases,
                                                    const diff::Redactor& redactor,
                                                    std::chrono::milliseconds kube_timeout) {
  ValidateOptions vo;
  vo.cluster = c.name;
  vo.kube_version = c.kube_version;
  vo.redactor = &redactor;
  if (!has_credential(c, Credential::preview)) {
    vo.dry_run = false;
    auto v = validate_cluster(nullptr, releases, vo);
    v.offline_note = no_preview_credential_note(c);
    return v;
  }
  auto kc = load_cluster_kubeconfig(c, Credential::preview);
  if (!kc) return kc.error();
  kube::ClientOptions ko;
  ko.connect_timeout = std::min(kube_timeout, std::chrono::milliseconds(5'000));
  ko.request_timeout = kube_timeout;
  kube::Client client(c.name, *kc, ko);
  // One cheap request first: an unreachable cluster is one line in the report, not a finding per object.
  if (auto v = client.server_version(); !v) return v.error();
  return validate_cluster(&client, releases, vo);
}

}  // namespace helmgate::engine
