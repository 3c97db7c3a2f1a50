#include "apply/install_action.hpp"

namespace helmgate::apply {

ActionResult InstallAction::run(const HelmEnv& env) const {
  auto start = std::chrono::steady_clock::now();
  auto r = upgrade_install(env, spec_, spec_.create_namespace, "install " + spec_.id);
  ActionResult out;
  out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  if (!r) return {"failed", r.error().message, 0, out.elapsed};
  out.outcome = "installed";
  out.revision = *r;
  return out;
}

}  // namespace helmgate::apply
