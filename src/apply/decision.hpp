#pragma once
// What to do with one release on one cluster, decided by a pure function of what Git wants and what the
// cluster has (helm-controller's shape): no I/O here, so the whole table is testable.
#include <string>
#include <string_view>

namespace helmgate::apply {

enum class Action { none, install, upgrade, uninstall };
std::string_view to_string(Action a);

struct Desired {
  bool present = false;  // declared in Git at the commit being applied
  // Content hash of the rendered release (manifest, name, namespace, values digest), with content that
  // changes on every render masked (runners/volatile_verdict.hpp: release_digest), so that alone never
  // upgrades, as in Flux, which compares chart and values digests rather than renders.
  std::string digest;
  bool volatile_masked = false;  // the digest masked some content (only says so in the reason)
};

struct Observed {
  bool installed = false;      // helm knows the release (any status)
  std::string status;          // helm's status: deployed, failed, pending-install, pending-upgrade, ...
  std::string applied_digest;  // digest helmgate recorded after its last successful apply ("" unknown)
  std::string apply_method = {};  // how helm applied the latest revision: "ssa", "csa" ("" in helm 3's)
};

struct Decision {
  Action action = Action::none;
  std::string reason;
};

Decision determine_release_action(const Desired& desired, const Observed& observed, bool prune);

// Whether helm's own OpenAPI check of the manifests may be left out of `action` (--disable-openapi-validation).
// Helm 4 applies server-side a first install and an upgrade whose latest revision it applied so; the API
// server's typed apply patch then refuses unknown fields and wrong types itself, and with or without helm's
// check the same object fails with the same error at the same point (e2e_apply tests both), so the check
// adds only its CPU: fetching and reading the cluster's OpenAPI documents, about half of an upgrade's.
// Client-side applies (helm 3, or a release helm 3 last applied) keep it: there the server may drop an
// unknown field with a warning. `helm_version` as `helm version --short` prints it ("v4.1.4+g05fa379").
bool server_checks_manifests(Action action, const Observed& observed, std::string_view helm_version);

}  // namespace helmgate::apply
