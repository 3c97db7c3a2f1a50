#pragma once
#include "apply/helm.hpp"

namespace helmgate::apply {

// A release Git declares and the cluster does not have: `helm upgrade --install`, creating the namespace
// when the release asks for it.
class InstallAction {
 public:
  explicit InstallAction(const ReleaseSpec& spec) : spec_(spec) {}
  ActionResult run(const HelmEnv& env) const;

 private:
  const ReleaseSpec& spec_;
};

}  // namespace helmgate::apply
