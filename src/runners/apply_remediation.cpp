#include "runners/apply_remediation.hpp"

#include <algorithm>

namespace helmgate::runners {

engine::ClusterResult cluster_result(const std::string& name, engine::ClusterStatus status, std::string reason, bool retry) {
  engine::ClusterResult r;
  r.name = name;
  r.status = status;
  r.reason = std::move(reason);
  r.retry = retry;
  return r;
}

std::optional<engine::ClusterResult> remediation_skip(const std::string& cluster, const std::string& commit,
                                                      const std::optional<queue::AppliedRecord>& last) {
  if (!last.has_value() || last->commit == commit) return std::nullopt;
  return cluster_result(cluster, engine::ClusterStatus::skipped,
                        "drift remediation of " + commit.substr(0, 12) + " skipped: cluster " + cluster + " runs " +
                            last->commit.substr(0, 12) + " now (the regular apply brings it to the deploy branch)",
                        false);
}

std::vector<release::Affected> remediation_targets(std::vector<release::Affected> all, const std::vector<std::string>& ids) {
  std::erase_if(all, [&](const release::Affected& a) {
    return a.head == nullptr || std::find(ids.begin(), ids.end(), a.id) == ids.end();
  });
  return all;
}

void remediate_plan(engine::PlannedRelease& plan) {
  if (!plan.failure.empty() || !plan.present) return;
  if (plan.decision.action == apply::Action::none) {
    plan.decision = {apply::Action::upgrade, "drift remediation: the live objects differ from what Git declares"};
  }
  plan.spec.force_conflicts = true;
}

}  // namespace helmgate::runners
