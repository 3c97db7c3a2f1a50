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

bool server_checks_manifests(Action action, const Observed& observed, std::string_view helm_version) {
  // "v4.1.4+g..." -> 4; anything unreadable (including "unknown") is not helm 4.
  if (helm_version.size() < 2 || helm_version[0] != 'v') return false;
  int major = 0;
  size_t i = 1;
  for (; i < helm_version.size() && i < 4 && helm_version[i] >= '0' && helm_version[i] <= '9'; ++i) {
    major = major * 10 + (helm_version[i] - '0');
  }
  if (i == 1 || major < 4) return false;
  if (action == Action::install) return !observed.installed;
  return action == Action::upgrade && observed.apply_method == "ssa";
}

}  // namespace helmgate::apply
