#include "apply/decision.hpp"

namespace helmgate::apply {

std::string_view to_string(Action a) {
  switch (a) {
    case Action::none: return "none";
    case Action::install: return "install";
    case Action::upgrade: return "upgrade";
    case Action::uninstall: return "uninstall";
  }
  return "none";
}

Decision determine_release_action(const Desired& desired, const Observed& observed, bool prune) {
  if (!desired.present) {
    if (!observed.installed) return {Action::none, "removed from Git and not installed"};
    if (!prune) return {Action::none, "removed from Git; prune is off for this cluster, so it stays installed"};
    return {Action::uninstall, "removed from Git"};
  }
  if (!observed.installed) return {Action::install, "not installed"};
  if (observed.status != "deployed") {
    // A failed or interrupted release is retried even when its render did not change.
    return {Action::upgrade, "helm reports status " + (observed.status.empty() ? std::string("unknown") : observed.status)};
  }
  if (observed.applied_digest.empty()) return {Action::upgrade, "installed but never applied by helmgate"};
  if (observed.applied_digest == desired.digest) {
    return {Action::none, desired.volatile_masked
                              ? "render unchanged (content that changes on every render is not a change, as in Flux)"
                              : "render unchanged"};
  }
  return {Action::upgrade, "render changed"};
}

}  // namespace helmgate::apply
