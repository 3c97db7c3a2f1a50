#include "engine/drift_desired.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>

#include "core/redact.hpp"
#include "core/yaml_bounded.hpp"
#include "engine/release_records.hpp"

namespace helmgate::engine {

namespace {

// "6.14.1", "v1.2.3-rc.1+build": one exact version; a constraint ("^6", ">=1.0 <2", "6.x", "*") is not.
std::string exact_version(const std::string& v) {
  if (v.empty() || v.size() > 128) return {};
  size_t start = v[0] == 'v' ? 1 : 0;
  if (start >= v.size() || std::isdigit(static_cast<unsigned char>(v[start])) == 0) return {};
  bool ok = std::all_of(v.begin(), v.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == '+';
  });
  if (!ok) return {};
  // "6.x" or "6.X": a wildcard.
  for (size_t i = 0; i + 1 < v.size(); ++i) {
    if (v[i] == '.' && (v[i + 1] == 'x' || v[i + 1] == 'X') && (i + 2 == v.size() || v[i + 2] == '.')) return {};
  }
  return v;
}

}  // namespace

ChartIdentity chart_identity(const render::ChartSource& chart) {
  ChartIdentity id;
  switch (chart.origin) {
    case render::ChartOrigin::local_dir: {
      try {
        auto path = std::filesystem::path(chart.dir) / "Chart.yaml";
        if (std::filesystem::file_size(path) > (1u << 20)) return id;
        YAML::Node n = core::yaml::load_file(path.string(), core::yaml::Source::repository);
        if (n["name"] && n["name"].IsScalar()) id.name = n["name"].Scalar();
        if (n["version"] && n["version"].IsScalar()) id.version = n["version"].Scalar();
      } catch (const std::exception&) {
        // No readable Chart.yaml: the render reported it; nothing is compared.
      }
      return id;
    }
    case render::ChartOrigin::helm_repository:
      id.name = chart.chart;
      id.version = exact_version(chart.version);
      return id;
    case render::ChartOrigin::oci: {
      std::string path = chart.url;
      if (auto at = path.find('@'); at != std::string::npos) path = path.substr(0, at);
      auto slash = path.rfind('/');
      id.name = slash == std::string::npos ? path : path.substr(slash + 1);
      if (auto colon = id.name.find(':'); colon != std::string::npos) id.name = id.name.substr(0, colon);
      if (chart.digest.empty()) id.version = exact_version(chart.version);
      return id;
    }
  }
  return id;
}

DesiredRelease desired_release(const release::Release& r, const core::Result<render::RenderRequest>& request,
                               const core::Result<render::RenderResult>& rendered) {
  DesiredRelease d;
  d.id = r.id();
  d.release_name = r.release_name;
  d.namespace_ = r.target_namespace;
  if (!r.errors.empty()) {
    d.render_error = r.errors.front().message;
    return d;
  }
  if (!request) {
    d.render_error = request.error().message;
    return d;
  }
  if (!rendered) {
    d.render_error = rendered.error().message;
    return d;
  }
  auto chart = chart_identity(request->chart);
  d.chart_name = chart.name;
  d.chart_version = chart.version;
  d.values_digest = values_digest(r.values_json);
  d.manifest = rendered->manifest;
  return d;
}

std::string render_share_key(const render::RenderRequest& req) {
  const auto& c = req.chart;
  std::string m = "drift-render-v1";
  for (const std::string* part : {&c.content_id, &c.url, &c.chart, &c.version, &c.digest, &req.release_name, &req.namespace_,
                                  &req.kube_version, &req.post_render_kustomization}) {
    m += "\n" + std::to_string(part->size()) + ":" + *part;
  }
  m += "\n" + std::to_string(static_cast<int>(c.origin)) + (req.skip_schema_validation ? "s" : "-");
  // A directory without a content id is its own chart (the renderer hashes its files).
  if (c.content_id.empty()) m += "\ndir:" + c.dir;
  m += "\nvalues:" + core::sha256_hex(req.values_json);
  return core::sha256_hex(m);
}

std::shared_ptr<const std::vector<kube::ManifestObject>> split_objects(const std::string& manifest, const std::string& id) {
  auto objs = kube::split_manifest(manifest, "render of " + id);
  if (!objs) return nullptr;
  return std::make_shared<const std::vector<kube::ManifestObject>>(std::move(*objs));
}

}  // namespace helmgate::engine
