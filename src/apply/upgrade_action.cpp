#include "apply/upgrade_action.hpp"

namespace helmgate::apply {

ActionResult UpgradeAction::run(const HelmEnv& env) const {
  return upgrade_install_action(env, spec_, ActionOutcome::upgraded, "upgrade " + spec_.id);
}

}  // namespace helmgate::apply
