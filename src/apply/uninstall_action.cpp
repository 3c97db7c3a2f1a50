#include "apply/uninstall_action.hpp"

namespace helmgate::apply {

ActionResult UninstallAction::run(const HelmEnv& env) const {
  auto start = std::chrono::steady_clock::now();
  ActionResult out;
  if (auto ok = check_release_identity(release_name_, ns_, "uninstall " + id_); !ok) {
    return {"failed", ok.error().message, 0, {}};
  }
  auto r = run_helm(env, {"uninstall", "--namespace=" + ns_, "--timeout=" + std::to_string(env.timeout.count() / 1000) + "s",
                          "--", release_name_},
                    "uninstall " + id_);
  out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  if (!r) {
    // Already gone is what we wanted.
    if (r.error().message.find("not found") != std::string::npos) return {"uninstalled", "was already gone", 0, out.elapsed};
    return {"failed", r.error().message, 0, out.elapsed};
  }
  out.outcome = "uninstalled";
  return out;
}

}  // namespace helmgate::apply
