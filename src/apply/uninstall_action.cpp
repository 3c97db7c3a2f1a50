#include "apply/uninstall_action.hpp"

namespace helmgate::apply {

ActionResult UninstallAction::run(const HelmEnv& env) const {
  auto start = std::chrono::steady_clock::now();
  ActionResult out;
  if (auto ok = check_release_identity(release_name_, ns_, "uninstall " + id_); !ok) {
    out.reason = ok.error().message;
    return out;
  }
  auto r = run_helm(env, {"uninstall", "--namespace=" + ns_, "--timeout=" + std::to_string(env.timeout.count() / 1000) + "s",
                          "--", release_name_},
                    "uninstall " + id_);
  out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  out.touched = true;
  if (!r) {
    // Already gone is what we wanted.
    if (r.error().message.find("not found") != std::string::npos) {
      out.outcome = ActionOutcome::uninstalled;
      out.reason = "was already gone";
      return out;
    }
    out.reason = r.error().message;
    return out;
  }
  out.outcome = ActionOutcome::uninstalled;
  return out;
}

}  // namespace helmgate::apply
