#pragma once
// Running a plan: one helm action per planned release (install, upgrade, uninstall, or nothing), each
// giving a typed ReleaseResult with its reason scrubbed by the job's redactor.
#include "apply/helm.hpp"
#include "diff/normalize.hpp"
#include "engine/apply_result.hpp"
#include "engine/plan.hpp"

namespace helmgate::engine {

ReleaseResult apply_release(const PlannedRelease& p, const apply::HelmEnv& env, const diff::Redactor& redactor);

}  // namespace helmgate::engine
