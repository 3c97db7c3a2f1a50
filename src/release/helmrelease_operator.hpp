#pragma once
// Discovery, room (d): the HelmRelease reader of the helm-operator generations (helm.fluxcd.io/v1,
// flux.weave.works/v1beta1, FluxHelmRelease v1alpha2). Takes the fields helmrelease_legacy.hpp reads from
// the document and resolves them as for every generation: the chart (a directory of this tree, another Git
// repository, a chart repository), valuesFrom ConfigMaps/Secrets (values_from.hpp) and chartFileRef files
// in order, spec.values on top. The target namespace is created, as the operators install with it.
#include <string>
#include <vector>

#include "release/helmrelease.hpp"
#include "release/helmrelease_legacy.hpp"

namespace helmgate::release::legacy {

Release read_release(const Doc& d, const std::string& root, const std::vector<std::string>& inputs,
                     const ReleaseScope& scope);

}  // namespace helmgate::release::legacy
