#include "apply/install_action.hpp"

namespace helmgate::apply {

ActionResult InstallAction::run(const HelmEnv& env) const {
  return upgrade_install_action(env, spec_, ActionOutcome::installed, "install " + spec_.id);
}

}  // namespace helmgate::apply
