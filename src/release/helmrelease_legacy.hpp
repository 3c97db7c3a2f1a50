#pragma once
// The helm-operator generations of HelmRelease, one reader per API generation: each takes the document and
// returns the release's fields (names, the chart it declares, its values sources in merge order);
// helmrelease_operator.hpp then resolves the chart and reads the values they name, as for every generation.
// These readers see only the document (no Git, no discovery state).
//   helm.fluxcd.io/v1 HelmRelease          helm-operator 1.x
//   flux.weave.works/v1beta1 HelmRelease   helm-operator 0.5-0.10: the same spec as helm.fluxcd.io/v1
//   helm.integrations.flux.weave.works/v1alpha2 FluxHelmRelease   the Flux 1.x operator before 0.5:
//       spec.chartGitPath, a chart directory under the operator's --git-charts-path (default "charts") of
//       the repository the operator watches, i.e. this one; spec.releaseName; spec.valueFileSecrets (the
//       key values.yaml of each Secret in the FluxHelmRelease's namespace, merged in order); spec.values
//       on top. The release goes to the FluxHelmRelease's namespace; its default name is
//       <namespace>-<name> (GetReleaseName of weaveworks/flux integrations/helm/release).
// Any other apiVersion of kind HelmRelease or FluxHelmRelease is not read; classify() says so and
// discovery notes it with file, line and apiVersion, so a release is never skipped in silence.
//
// The release id (cluster/namespace/name) does not contain the kind or apiVersion: a FluxHelmRelease
// replaced by a HelmRelease of the same namespace/name is one release that changed, as in the operators'
// own migration (the new operator takes over the Helm release of the same name; nothing is uninstalled).
#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <vector>

namespace helmgate::release::legacy {

enum class Api {
  other,              // not a HelmRelease of any generation
  flux_v2,            // helm.toolkit.fluxcd.io/* HelmRelease (read by helmrelease_v2.cpp)
  helm_operator,      // helm.fluxcd.io/v1, flux.weave.works/v1beta1 HelmRelease
  flux_helm_release,  // helm.integrations.flux.weave.works/v1alpha2 FluxHelmRelease
  unknown,            // kind HelmRelease or FluxHelmRelease in an apiVersion helmgate does not read
};

Api classify(const std::string& api_version, const std::string& kind);

// The note for an unknown generation: "<kind> <namespace>/<name> has apiVersion <v>, which helmgate does not
// read (...)"; the report puts the file and line in front.
std::string unread_note(const YAML::Node& doc);

struct ValuesRef {
  std::string kind;  // ConfigMap | Secret | ChartFile | External
  std::string name;  // ConfigMap/Secret name; ChartFile path; External URL
  std::string namespace_;
  std::string key;  // data key (default values.yaml)
  bool optional = false;
  std::string field;  // where it is declared: "spec.valueFileSecrets[0]", "spec.valuesFrom[2]"
};

struct Chart {
  enum class From { none, git, repository, this_repository } from = From::none;
  std::string git_url, ref, path;         // git: chart.git/ref/path; this_repository: the directory
  std::string repository, name, version;  // repository: chart.repository/name/version
};

struct Fields {
  std::string release_name;      // effective Helm release name
  std::string target_namespace;  // effective namespace of the rendered resources
  Chart chart;
  std::vector<ValuesRef> values_from;  // in the order the operator merges them; spec.values goes on top
  std::vector<std::string> errors;     // what the operator would refuse
  std::string describe_chart;          // for a FluxHelmRelease: how chartGitPath was resolved
};

// helm.fluxcd.io/v1 and flux.weave.works/v1beta1.
Fields read_helm_operator(const YAML::Node& doc);
// helm.integrations.flux.weave.works/v1alpha2 FluxHelmRelease; charts_path: the operator's --git-charts-path.
Fields read_flux_helm_release(const YAML::Node& doc, const std::string& charts_path);
// The reader of the document's generation; nullopt for Flux v2 and anything else.
std::optional<Fields> read(const YAML::Node& doc, const std::string& charts_path);

}  // namespace helmgate::release::legacy
