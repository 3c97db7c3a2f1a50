#include "release/helmrelease_v2.hpp"

#include "release/values_from.hpp"
#include "release/yaml_util.hpp"

namespace helmgate::release {

using detail::scalar;

namespace {

// One spec.valuesFrom entry: ConfigMap or Secret, valuesKey (default values.yaml), targetPath, optional.
void values_from_entry(Release& r, const Doc& d, const YAML::Node& vf, typed::Value& merged,
                       const typed::Value& spec_values, const ReleaseScope& scope) {
  ValuesSource vs;
  vs.kind = scalar(vf, "kind");
  vs.name = scalar(vf, "name");
  vs.namespace_ = r.namespace_;
  vs.key = scalar(vf, "valuesKey", "values.yaml");
  vs.target_path = scalar(vf, "targetPath");
  vs.optional = detail::truthy(vf, "optional");
  if (vs.kind != "ConfigMap" && vs.kind != "Secret") {
    r.errors.push_back({r.cluster, "valuesFrom kind '" + vs.kind + "' is not ConfigMap or Secret", r.where});
    return;
  }
  if (!vs.target_path.empty()) {
    if (auto ok = typed::check_target_path(vs.target_path); !ok) {
      Location at = r.where;
      if (YAML::Node tp = detail::get(vf, "targetPath"); tp && d.node.Mark().line + 1 == d.line) {
        at = {d.file, tp.Mark().line + 1, tp.Mark().column + 1};
      }
      r.errors.push_back({r.cluster, "valuesFrom " + vs.kind + " " + vs.name + ": " + ok.error().message, at});
      return;
    }
  }
  add_values_source(r, merged, spec_values, vs, r.where, scope.objects);
}

}  // namespace

Release read_flux_v2(const Doc& d, const std::string& root, const std::vector<std::string>& inputs,
                     const ReleaseScope& scope) {
  Release r = start_release(d, root, inputs, scope);
  YAML::Node spec = detail::get(d.node, "spec");
  if (r.release_name.empty()) {
    const std::string target_ns = scalar(spec, "targetNamespace");
    r.release_name = target_ns.empty() ? r.name : target_ns + "-" + r.name;
  }
  auto checks_of = [&](const char* action) {
    const YAML::Node a = detail::get(spec, action);
    return Release::ActionChecks{detail::truthy(a, "disableSchemaValidation"),
                                 detail::truthy(a, "disableOpenAPIValidation")};
  };
  r.install_checks = checks_of("install");
  r.upgrade_checks = checks_of("upgrade");

  // Values: spec.valuesFiles of the chart source, then valuesFrom in order, then spec.values on top, all as
  // typed JSON converted the way kubectl sends the HelmRelease (quoted "1.10" stays a string).
  typed::Value merged = detail::get(spec, "chartRef")
                            ? charts::resolve_chart_ref(r, detail::get(spec, "chartRef"), scope.charts).values
                            : charts::resolve_chart_template(r, detail::get(detail::get(spec, "chart"), "spec"),
                                                             scope.charts).values;
  const typed::Value spec_values = read_spec_values(r, d);
  if (YAML::Node from = detail::get(spec, "valuesFrom"); from && from.IsSequence()) {
    for (const auto& vf : from) values_from_entry(r, d, vf, merged, spec_values, scope);
  }
  finish_release(r, d, std::move(merged), spec_values);
  return r;
}

}  // namespace helmgate::release
