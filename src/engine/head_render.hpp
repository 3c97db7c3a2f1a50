#pragma once
// One affected release as rendered at head (engine::render_diff), kept for validation against its
// cluster. Apart from render_diff.hpp so that a report's users need not see discovery's types.
#include <string>

#include "engine/validate.hpp"

namespace helmgate::engine {

// One affected release as rendered at head: what validation dry-runs against its cluster.
struct HeadRender {
  std::string cluster;
  std::string id;  // release id (cluster/namespace/name)
  std::string release_name;
  std::string target_namespace;
  std::string manifest;  // helm template output, unredacted: never print it
  bool create_namespace = false;
  // The base declares a release of this name and namespace on this cluster: only then may the live diff
  // read objects in the cluster as this release's (a pull request can name any release).
  bool declared_at_base = false;
  // Who the release acts as on its cluster: Flux's spec.serviceAccountName, or the ownership entry's identity.
  kube::Impersonation as{};
  RenderedRelease rendered() const {
    return {id, release_name, target_namespace, manifest, create_namespace, declared_at_base, as};
  }
};

}  // namespace helmgate::engine
