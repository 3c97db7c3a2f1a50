#include "release/helmrelease_legacy.hpp"

#include <filesystem>

#include "core/names.hpp"
#include "release/yaml_util.hpp"

namespace helmgate::release::legacy {

using detail::get;
using detail::scalar;

namespace {

constexpr const char* kFluxHelmReleaseApi = "helm.integrations.flux.weave.works/v1alpha2";

std::string namespace_of(const YAML::Node& doc) { return scalar(get(doc, "metadata"), "namespace", "default"); }
std::string name_of(const YAML::Node& doc) { return scalar(get(doc, "metadata"), "name"); }

std::string join_path(const std::string& dir, const std::string& rel) {
  std::string p = (std::filesystem::path(dir) / rel).lexically_normal().generic_string();
  while (!p.empty() && p.back() == '/') p.pop_back();
  return p == "." ? std::string() : p;
}

// spec.valueFileSecrets: the key values.yaml of each Secret, in the release's namespace, merged first.
void value_file_secrets(const YAML::Node& spec, const std::string& ns, Fields& f) {
  YAML::Node list = get(spec, "valueFileSecrets");
  if (!list.IsDefined() || list.IsNull()) return;
  if (!list.IsSequence()) {
    f.errors.push_back("spec.valueFileSecrets must be a list of {name: <Secret>}");
    return;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    ValuesRef v;
    v.kind = "Secret";
    v.name = scalar(list[i], "name");
    v.namespace_ = ns;
    v.key = "values.yaml";
    v.field = "spec.valueFileSecrets[" + std::to_string(i) + "]";
    if (v.name.empty()) {
      f.errors.push_back(v.field + " has no name");
      continue;
    }
    f.values_from.push_back(std::move(v));
  }
}

}  // namespace

Api classify(const std::string& api_version, const std::string& kind) {
  if (kind == "HelmRelease") {
    if (api_version.rfind("helm.toolkit.fluxcd.io/", 0) == 0) return Api::flux_v2;
    if (api_version == "helm.fluxcd.io/v1" || api_version == "flux.weave.works/v1beta1") return Api::helm_operator;
    return Api::unknown;
  }
  if (kind == "FluxHelmRelease") return api_version == kFluxHelmReleaseApi ? Api::flux_helm_release : Api::unknown;
  return Api::other;
}

std::string unread_note(const YAML::Node& doc) {
  const std::string kind = scalar(doc, "kind");
  return kind + " " + core::names::shown(namespace_of(doc) + "/" + name_of(doc)) + " has apiVersion " +
         core::names::shown(scalar(doc, "apiVersion")) +
         ", which helmgate does not read (it reads HelmRelease helm.toolkit.fluxcd.io/*, helm.fluxcd.io/v1 and "
         "flux.weave.works/v1beta1, and FluxHelmRelease " + kFluxHelmReleaseApi +
         "); that release is not in this preview";
}

Fields read_helm_operator(const YAML::Node& doc) {
  Fields f;
  YAML::Node spec = get(doc, "spec");
  const std::string ns = namespace_of(doc);
  const std::string target = scalar(spec, "targetNamespace", ns);
  f.target_namespace = target;
  f.release_name = scalar(spec, "releaseName");
  if (f.release_name.empty()) {
    // GetReleaseName: the administering namespace joins the name when it differs from the target one.
    f.release_name = (ns != target ? ns + "-" : std::string()) + target + "-" + name_of(doc);
  }

  YAML::Node chart = get(spec, "chart");
  if (get(chart, "git")) {
    f.chart.from = Chart::From::git;
    f.chart.git_url = scalar(chart, "git");
    f.chart.path = scalar(chart, "path");
    f.chart.ref = scalar(chart, "ref", "master");  // DefaultGitRef
  } else if (get(chart, "repository")) {
    f.chart.from = Chart::From::repository;
    f.chart.repository = scalar(chart, "repository");
    f.chart.name = scalar(chart, "name");
    f.chart.version = scalar(chart, "version");
  } else {
    f.errors.push_back("spec.chart needs git+path or repository+name");
  }

  // GetValuesFromSources: valueFileSecrets (deprecated) before valuesFrom.
  value_file_secrets(spec, ns, f);
  YAML::Node list = get(spec, "valuesFrom");
  if (list.IsDefined() && list.IsSequence()) {
    for (size_t i = 0; i < list.size(); ++i) {
      const YAML::Node vf = list[i];
      ValuesRef v;
      v.field = "spec.valuesFrom[" + std::to_string(i) + "]";
      YAML::Node ref;
      if ((ref = get(vf, "configMapKeyRef"))) {
        v.kind = "ConfigMap";
      } else if ((ref = get(vf, "secretKeyRef"))) {
        v.kind = "Secret";
      } else if ((ref = get(vf, "chartFileRef"))) {
        v.kind = "ChartFile";
        v.name = scalar(ref, "path");
      } else if ((ref = get(vf, "externalSourceRef"))) {
        v.kind = "External";
        v.name = scalar(ref, "url");
      } else {
        f.errors.push_back(v.field + " has none of configMapKeyRef, secretKeyRef, chartFileRef, externalSourceRef");
        continue;
      }
      if (v.kind == "ConfigMap" || v.kind == "Secret") {
        v.name = scalar(ref, "name");
        v.namespace_ = scalar(ref, "namespace", ns);
        v.key = scalar(ref, "key", "values.yaml");
      }
      v.optional = detail::truthy(ref, "optional");
      f.values_from.push_back(std::move(v));
    }
  }
  return f;
}

Fields read_flux_helm_release(const YAML::Node& doc, const std::string& charts_path) {
  Fields f;
  YAML::Node spec = get(doc, "spec");
  const std::string ns = namespace_of(doc);
  f.target_namespace = ns;
  f.release_name = scalar(spec, "releaseName");
  if (f.release_name.empty()) f.release_name = ns + "-" + name_of(doc);
  const std::string git_path = scalar(spec, "chartGitPath");
  if (git_path.empty()) {
    f.errors.push_back("spec.chartGitPath is empty (the operator refuses a FluxHelmRelease without a chart)");
  } else {
    f.chart.from = Chart::From::this_repository;
    f.chart.path = join_path(charts_path, git_path);
    f.describe_chart = "FluxHelmRelease spec.chartGitPath '" + git_path + "' is the chart directory " + f.chart.path +
                       " of this repository (the operator's charts path is '" + charts_path + "')";
  }
  value_file_secrets(spec, ns, f);
  return f;
}

std::optional<Fields> read(const YAML::Node& doc, const std::string& charts_path) {
  switch (classify(scalar(doc, "apiVersion"), scalar(doc, "kind"))) {
    case Api::helm_operator: return read_helm_operator(doc);
    case Api::flux_helm_release: return read_flux_helm_release(doc, charts_path);
    default: return std::nullopt;
  }
}

}  // namespace helmgate::release::legacy
