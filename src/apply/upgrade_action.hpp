#pragma once
#include "apply/helm.hpp"

namespace helmgate::apply {

// A release whose render changed (or whose last helm run failed): `helm upgrade --install`, so a release
// deleted behind helmgate's back is installed again instead of failing.
class UpgradeAction {
 public:
  explicit UpgradeAction(const ReleaseSpec& spec) : spec_(spec) {}
  ActionResult run(const HelmEnv& env) const;

 private:
  const ReleaseSpec& spec_;
};

}  // namespace helmgate::apply
