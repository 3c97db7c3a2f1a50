// The typed release spec (release.hpp): the effective HelmRelease document a release was built from.
#include <yaml-cpp/yaml.h>

#include "release/release.hpp"
#include "release/yaml_util.hpp"

namespace helmgate::release {

Spec::Spec(const YAML::Node& document)
    : kind_(detail::scalar(document, "kind")), spec_(std::make_shared<const YAML::Node>(YAML::Clone(document))) {
  // As helm's install reads it: a scalar yaml-cpp reads as a boolean (true/yes/on ...), else not set.
  try {
    const YAML::Node cn = detail::get(detail::get(detail::get(*spec_, "spec"), "install"), "createNamespace");
    if (cn.IsScalar()) create_namespace_ = cn.as<bool>();
  } catch (const YAML::Exception&) {
  }
}

std::vector<std::string> Spec::changed_fields(const Spec& other, size_t max) const {
  const YAML::Node none(YAML::NodeType::Undefined);
  const YAML::Node a = spec_ ? detail::get(*spec_, "spec") : none;
  const YAML::Node b = other.spec_ ? detail::get(*other.spec_, "spec") : none;
  std::vector<std::string> out;
  detail::diff_paths(a, b, "spec", out, max);
  return out;
}

}  // namespace helmgate::release
