#pragma once
#include "apply/helm.hpp"

namespace helmgate::apply {

// A release removed from Git (prune on): `helm uninstall`. Only the release name and namespace matter.
class UninstallAction {
 public:
  UninstallAction(std::string id, std::string release_name, std::string ns)
      : id_(std::move(id)), release_name_(std::move(release_name)), ns_(std::move(ns)) {}
  ActionResult run(const HelmEnv& env) const;

 private:
  std::string id_, release_name_, ns_;
};

}  // namespace helmgate::apply
