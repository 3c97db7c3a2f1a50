#pragma once
// Where a Flux HelmRelease's chart comes from: spec.chart.spec (HelmRepository, GitRepository, Bucket),
// spec.chartRef (OCIRepository, HelmChart, ExternalArtifact), and where an ExternalArtifact's contents come
// from (the ArtifactGenerator that makes it, and that generator's sources). Discovery owns the documents,
// repositories and notes; it hands them in through a Context.
#include <yaml-cpp/yaml.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "release/release.hpp"
#include "release/typed_json.hpp"

namespace helmgate::release::charts {

struct Object {
  YAML::Node node;
  std::string file;  // repository path ("" when unknown)
  int line = 0;
};

struct Context {
  const DiscoverOptions* opt = nullptr;
  std::string cluster;
  // A declared object of this cluster by kind, namespace and name; nullopt when not declared.
  std::function<std::optional<Object>(const std::string& kind, const std::string& ns, const std::string& name)> find;
  // Every declared object of a kind.
  std::function<std::vector<Object>(const std::string& kind)> all;
  // Points r.chart at a chart directory of this repository (or records why it cannot); `why` becomes a note.
  std::function<void(Release& r, const std::string& path, const std::string& why)> repo_chart;
  // A file of this repository at the commit being discovered; nullopt when absent.
  std::function<std::optional<std::string>(const std::string& path)> read;
};

// Where the contents of an ExternalArtifact (or a path inside it) come from.
struct ArtifactPlace {
  enum class Kind { self, git_repository, unknown } kind = Kind::unknown;
  std::string path;        // self / git_repository: the path in that repository
  Object git_repository;   // git_repository: the GitRepository object (a tenant repository)
  std::string via;         // "ArtifactGenerator flux-system/apps (copy @base/apps/** -> @artifact/apps)"
  std::string why;         // unknown: why it is not previewed, with what to do
};

// The place of `path` inside ExternalArtifact ns/name: a source mapping first, else the ArtifactGenerator
// that declares an artifact of that name, the copy entry whose destination holds the path, and the source
// its alias names (this repository, another GitRepository, or something helmgate cannot read).
ArtifactPlace locate_artifact(const std::string& ns, const std::string& name, const std::string& path,
                              const Context& c);

// What chart resolution adds to the values: spec.valuesFiles read from this repository (merged in order,
// below valuesFrom and spec.values).
struct Resolved {
  typed::Value values = typed::Value::object();
};

// spec.chart.spec of a Flux HelmRelease (namespace_ is the HelmRelease's, the default of sourceRef.namespace).
Resolved resolve_chart_template(Release& r, const YAML::Node& chart_spec, const Context& c);
// spec.chartRef of a Flux HelmRelease.
Resolved resolve_chart_ref(Release& r, const YAML::Node& chart_ref, const Context& c);

}  // namespace helmgate::release::charts
