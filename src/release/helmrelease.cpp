#include "release/helmrelease.hpp"

#include <algorithm>

#include "core/yaml_bounded.hpp"
#include "release/helmrelease_legacy.hpp"
#include "release/helmrelease_operator.hpp"
#include "release/helmrelease_v2.hpp"
#include "release/kustomize_scan.hpp"
#include "release/names_gate.hpp"
#include "release/yaml_util.hpp"

namespace helmgate::release {

using detail::scalar;

Release read_release(const Doc& d, const std::string& root, const std::vector<std::string>& inputs,
                     const ReleaseScope& scope) {
  if (legacy::classify(scalar(d.node, "apiVersion"), scalar(d.node, "kind")) == legacy::Api::flux_v2) {
    return read_flux_v2(d, root, inputs, scope);
  }
  return legacy::read_release(d, root, inputs, scope);
}

Release start_release(const Doc& d, const std::string& root, const std::vector<std::string>& inputs,
                      const ReleaseScope& scope) {
  Release r;
  const YAML::Node& n = d.node;
  YAML::Node spec = detail::get(n, "spec");
  r.cluster = scope.cluster.name;
  r.kube_version = scope.cluster.kube_version;
  r.api_version = scalar(n, "apiVersion");
  r.name = scalar(detail::get(n, "metadata"), "name");
  r.namespace_ = scalar(detail::get(n, "metadata"), "namespace", "default");
  r.root = root;
  r.inputs = inputs;
  r.where = {d.file, d.line, 0};
  r.spec = Spec(n);
  const std::string target_ns = scalar(spec, "targetNamespace");
  r.target_namespace = target_ns.empty() ? r.namespace_ : target_ns;
  r.release_name = scalar(spec, "releaseName");
  return r;
}

Location at_node(const Doc& d, const typed::ConvertError& e) {
  const int doc_line = d.node.Mark().line + 1;
  if (e.line >= 0 && doc_line == d.line) return {d.file, e.line + 1, e.column + 1};
  return {d.file, d.line, 0};
}

typed::Value read_spec_values(Release& r, const Doc& d) {
  YAML::Node sv = detail::get(detail::get(d.node, "spec"), "values");
  if (!sv || sv.IsNull()) return typed::Value::object();
  auto c = typed::from_yaml(sv);
  if (!c.ok) {
    r.errors.push_back({r.cluster,
                        "spec.values" + (c.error.path.empty() ? std::string() : "." + c.error.path) + ": " +
                            c.error.message,
                        at_node(d, c.error)});
    return typed::Value::object();
  }
  if (!c.value.is_object()) {
    r.errors.push_back({r.cluster, "spec.values must be a map (the HelmRelease CRD requires an object)", r.where});
    return typed::Value::object();
  }
  return std::move(c.value);
}

void resolve_repo_chart(Release& r, const SourceTree& tree, const std::string& path, const std::string& why) {
  r.chart.kind = ChartKind::repo_dir;
  r.chart.path = clean_path(path);
  auto id = tree.object_id(r.chart.path);
  if (!id || !tree.is_dir(r.chart.path)) {
    r.errors.push_back({r.cluster,
                        "chart directory '" + r.chart.path + "' does not exist in the repository at " +
                            tree.commit.substr(0, 12),
                        r.where});
    return;
  }
  r.chart.content_id = *id;
  if (!why.empty()) r.notes.push_back(why);
}

namespace {

// Flux postRenderers: the kustomize fields are applied to helm's output as one kustomization, typed as the
// API server holds them (so a patch value "1.10" stays a string in kustomization.yaml).
void read_post_renderers(Release& r, const Doc& d) {
  YAML::Node renderers = detail::get(detail::get(d.node, "spec"), "postRenderers");
  if (!renderers || !renderers.IsSequence()) return;
  typed::Value k = typed::Value::object();
  for (const auto& pr : renderers) {
    YAML::Node kz = detail::get(pr, "kustomize");
    if (!kz || !kz.IsMap()) continue;
    auto c = typed::from_yaml(kz);
    if (!c.ok) {
      r.errors.push_back({r.cluster,
                          "spec.postRenderers kustomize" + (c.error.path.empty() ? std::string() : "." + c.error.path) +
                              ": " + c.error.message,
                          at_node(d, c.error)});
      continue;
    }
    for (auto& [f, items] : c.value.o) {
      if (items.type != typed::Value::Type::array) continue;
      auto& dst = k.o[f];
      dst.type = typed::Value::Type::array;
      for (auto& item : items.a) dst.a.push_back(item);
    }
  }
  if (k.o.empty()) return;
  const std::string kz = typed::to_yaml(k);
  for (const auto& ref : scan_kustomization(core::yaml::load(kz), "", [](const std::string&) { return false; })) {
    r.errors.push_back({r.cluster, "spec.postRenderers: " + ref.message(), r.where});
  }
  r.post_render_kustomization = kz;
}

}  // namespace

void finish_release(Release& r, const Doc& d, typed::Value merged, const typed::Value& spec_values) {
  typed::merge(merged, spec_values);
  r.values_json = typed::to_json(merged);
  read_post_renderers(r, d);
  std::sort(r.inputs.begin(), r.inputs.end());
  r.inputs.erase(std::unique(r.inputs.begin(), r.inputs.end()), r.inputs.end());
  gate_names(r, d.node, r.where);  // names from Git: checked once, here (an invalid one makes the release an error)
}

}  // namespace helmgate::release
