#pragma once
// What a preview may learn of a cluster's live state. A pull request names the objects (kind, name,
// namespace) and may be hostile, so the live diff reads only what the release owns:
//   * an object that does not exist yet is shown as new;
//   * an existing object is shown only when Helm's ownership marks name this release
//     (meta.helm.sh/release-name, meta.helm.sh/release-namespace, app.kubernetes.io/managed-by: Helm);
//     anything else is "exists, not managed by this release" and nothing of it is shown;
//   * a Secret is shown as key names with added/removed/changed/unchanged, never values and never a
//     marker or hash of a value (a marker of the live value could be compared with a marker of a value
//     the pull request renders: an oracle).
#include <optional>
#include <string>
#include <string_view>

#include "diff/unified.hpp"
#include "kube/client.hpp"

namespace helmgate::engine {

struct Ownership {
  bool owned = false;
  std::string why;  // for the log only (names which mark is missing); never the mark's value
};

// live_json: the object as the API server returns it. release/release_namespace: the Helm release.
Ownership helm_ownership(std::string_view live_json, const std::string& release, const std::string& release_namespace);

// The live diff of one Secret: live (nullopt when it does not exist) against the dry-run answer. nullopt when
// nothing differs. The text lists key names of data (stringData folded in), labels and annotations with
// added/removed/changed/unchanged, and the type; no value of any of them.
std::optional<diff::ResourceDiff> secret_live_diff(const kube::ObjectRef& ref, const std::optional<std::string>& live_json,
                                                   std::string_view head_json);

}  // namespace helmgate::engine
