#pragma once
// The name gate of discovery: every identifier of a HelmRelease that reaches helm's argv, a file path or
// a Kubernetes request (names, namespaces, release name, chart name/path/version, valuesFrom references)
// is checked once, where the release is built, against the Kubernetes and Helm rules (core/names.hpp).
// A broken rule becomes an error of that release naming the field, the value, the rule, file and line;
// a release with errors is neither rendered nor applied, the others are.
#include <yaml-cpp/yaml.h>

#include "release/release.hpp"

namespace helmgate::release {

// doc: the HelmRelease document the release was built from; where: its file and the document's line.
void gate_names(Release& r, const YAML::Node& doc, const Location& where);

}  // namespace helmgate::release
