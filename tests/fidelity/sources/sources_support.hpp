#pragma once
// The documents the chart-source fidelity tests write (the engine and result helpers: support/discovery.hpp).
#include <string>

#include "support/discovery.hpp"

namespace helmgate::test {

// A Flux HelmRelease from a HelmRepository, with values.
inline std::string helm_release(const std::string& name, const std::string& ns, const std::string& version,
                                const std::string& values) {
  return "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: " + name + "\n  namespace: " + ns +
         "\nspec:\n  interval: 10m\n  chart:\n    spec:\n      chart: podinfo\n      version: \"" + version +
         "\"\n      sourceRef:\n        kind: HelmRepository\n        name: podinfo\n        namespace: flux-system\n"
         "  values:\n" + values;
}

inline const char* kPodinfoRepository =
    "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: podinfo\n  namespace: flux-system\n"
    "spec:\n  interval: 1h\n  url: https://stefanprodan.github.io/podinfo\n";

inline std::string flux_kustomization(const std::string& name, const std::string& path, const std::string& kind,
                                      const std::string& source) {
  return "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: " + name +
         "\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: " + path + "\n  prune: true\n  sourceRef:\n    kind: " +
         kind + "\n    name: " + source + "\n";
}

}  // namespace helmgate::test
