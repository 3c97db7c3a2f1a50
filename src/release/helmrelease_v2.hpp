#pragma once
// Discovery, room (d): the HelmRelease reader of Flux v2 (helm.toolkit.fluxcd.io, every version: v2beta1,
// v2beta2, v2). Reads spec.releaseName/targetNamespace, spec.install/upgrade.disableSchemaValidation, the
// chart (spec.chart.spec or spec.chartRef, resolved by chart_source.hpp), spec.valuesFrom (values_from.hpp)
// under spec.values, and spec.postRenderers.
#include <string>
#include <vector>

#include "release/helmrelease.hpp"

namespace helmgate::release {

Release read_flux_v2(const Doc& d, const std::string& root, const std::vector<std::string>& inputs,
                     const ReleaseScope& scope);

}  // namespace helmgate::release
