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
};

struct Decision {
  Action action = Action::none;
  std::string reason;
};

Decision determine_release_action(const Desired& desired, const Observed& observed, bool prune);

}  // namespace helmgate::apply
