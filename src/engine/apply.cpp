#include "engine/apply.hpp"

#include "apply/install_action.hpp"
#include "apply/uninstall_action.hpp"
#include "apply/upgrade_action.hpp"

namespace helmgate::engine {

namespace {

ReleaseOutcome outcome_of(apply::ActionOutcome o) {
  switch (o) {
    case apply::ActionOutcome::installed: return ReleaseOutcome::installed;
    case apply::ActionOutcome::upgraded: return ReleaseOutcome::upgraded;
    case apply::ActionOutcome::uninstalled: return ReleaseOutcome::uninstalled;
    case apply::ActionOutcome::failed: break;
  }
  return ReleaseOutcome::failed;
}

}  // namespace

ReleaseResult apply_release(const PlannedRelease& p, const apply::HelmEnv& env, const diff::Redactor& redactor) {
  ReleaseResult r;
  r.id = p.id;
  r.release_name = p.release_name;
  r.namespace_ = p.namespace_;
  if (!p.failure.empty()) {
    r.outcome = ReleaseOutcome::failed;
    r.reason = redactor.scrub(p.failure);
    return r;
  }
  r.action = p.decision.action;
  // As the tenant (helm --kube-as-user/--kube-as-group): its RBAC, quotas and admission decide, and a
  // denial fails this release alone.
  apply::HelmEnv as_env = env;
  as_env.as_user = p.spec.as_user;
  as_env.as_groups = p.spec.as_groups;
  apply::ActionResult result;
  switch (p.decision.action) {
    case apply::Action::none:
      r.outcome = p.present ? ReleaseOutcome::unchanged : ReleaseOutcome::kept;
      r.reason = redactor.scrub(p.decision.reason);
      return r;
    case apply::Action::install: result = apply::InstallAction(p.spec).run(as_env); break;
    case apply::Action::upgrade: result = apply::UpgradeAction(p.spec).run(as_env); break;
    case apply::Action::uninstall:
      result = apply::UninstallAction(p.id, p.release_name, p.namespace_).run(as_env);
      break;
  }
  r.touched = result.touched;
  r.outcome = outcome_of(result.outcome);
  r.revision = result.revision;
  r.ms = result.elapsed.count();
  r.reason = redactor.scrub(r.outcome == ReleaseOutcome::failed ? result.reason : p.decision.reason);
  return r;
}

}  // namespace helmgate::engine
