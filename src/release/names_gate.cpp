#include "release/names_gate.hpp"

#include <functional>

#include "core/names.hpp"
#include "release/helmrelease_legacy.hpp"
#include "release/yaml_util.hpp"

namespace helmgate::release {

namespace {

using Check = std::string (*)(std::string_view);

class Gate {
 public:
  Gate(Release& r, const YAML::Node& doc, const Location& where) : r_(r), where_(where) {
    // Field positions are exact when the document was parsed from its file; a document that kustomize or
    // a Flux Kustomization rewrote only knows where it was declared.
    exact_ = where.line > 0 && doc.IsDefined() && static_cast<int>(doc.Mark().line) + 1 == where.line;
  }

  size_t errors() const { return errors_; }

  // The name errors go first: they are the cause of whatever else failed to resolve.
  void finish() { r_.errors.insert(r_.errors.begin(), found_.begin(), found_.end()); }

  Location at(const YAML::Node& n) const {
    if (!exact_ || !n.IsDefined() || n.Mark().is_null()) return where_;
    return {where_.file, n.Mark().line + 1, n.Mark().column + 1};
  }

  void fail(const std::string& field, std::string_view value, const std::string& why, const Location& loc) {
    ++errors_;
    found_.push_back({r_.cluster,
                         field + " " + core::names::shown(value) + " " + why +
                             "; names from the repository reach helm and the Kubernetes API only when they follow "
                             "these rules",
                         loc});
  }

  // A field that must be a string when present; checked with fn. Returns whether it was there.
  bool field(const YAML::Node& parent, const char* key, const std::string& label, Check fn) {
    YAML::Node n = detail::get(parent, key);
    if (!n.IsDefined() || n.IsNull()) return false;
    if (!n.IsScalar()) {
      ++errors_;
      found_.push_back({r_.cluster, label + " must be a string", at(n)});
      return true;
    }
    if (std::string why = fn(n.Scalar()); !why.empty()) fail(label, n.Scalar(), why, at(n));
    return true;
  }

  // A value without a field of its own (derived, or read from another document).
  void value(const std::string& label, std::string_view v, Check fn) {
    if (std::string why = fn(v); !why.empty()) fail(label, v, why, where_);
  }

 private:
  Release& r_;
  Location where_;
  bool exact_ = false;
  size_t errors_ = 0;
  std::vector<Problem> found_;
};

}  // namespace

void gate_names(Release& r, const YAML::Node& doc, const Location& where) {
  namespace n = core::names;
  Gate g(r, doc, where);
  // The helm-operator generations (helm.fluxcd.io/v1, flux.weave.works/v1beta1, FluxHelmRelease) share these fields.
  const auto api = legacy::classify(r.api_version, detail::scalar(doc, "kind"));
  const bool v1 = api == legacy::Api::helm_operator || api == legacy::Api::flux_helm_release;
  YAML::Node md = detail::get(doc, "metadata");
  YAML::Node spec = detail::get(doc, "spec");

  if (!g.field(md, "name", "metadata.name", n::dns1123_subdomain)) g.value("metadata.name", r.name, n::dns1123_subdomain);
  g.field(md, "namespace", "metadata.namespace", n::namespace_name);
  g.field(spec, "targetNamespace", "spec.targetNamespace", n::namespace_name);
  g.field(spec, "storageNamespace", "spec.storageNamespace", n::namespace_name);
  if (!g.field(spec, "releaseName", "spec.releaseName", n::helm_release_name) && g.errors() == 0) {
    // Derived from valid parts, the name can still be too long for Helm.
    g.value(std::string("the release name derived from ") +
                (v1 ? "metadata.namespace and metadata.name" : "spec.targetNamespace and metadata.name") +
                " (set spec.releaseName)",
            r.release_name, n::helm_release_name);
  }

  YAML::Node chart = detail::get(spec, "chart");
  YAML::Node vfsecrets = detail::get(spec, "valueFileSecrets");
  if (v1 && vfsecrets.IsDefined() && vfsecrets.IsSequence()) {
    for (size_t i = 0; i < vfsecrets.size(); ++i) {
      g.field(vfsecrets[i], "name", "spec.valueFileSecrets[" + std::to_string(i) + "].name", n::dns1123_subdomain);
    }
  }
  if (api == legacy::Api::flux_helm_release) {
    g.field(spec, "chartGitPath", "spec.chartGitPath", n::repo_path);
    if (r.chart.kind == ChartKind::repo_dir && !r.chart.path.empty()) {
      g.value("the chart directory derived from spec.chartGitPath", r.chart.path, n::repo_path);
    }
  } else if (v1) {
    g.field(chart, "path", "spec.chart.path", n::repo_path);
    g.field(chart, "ref", "spec.chart.ref", n::chart_version);
    g.field(chart, "name", "spec.chart.name", n::chart_name);
    g.field(chart, "version", "spec.chart.version", n::chart_version);
  } else {
    YAML::Node cs = detail::get(chart, "spec");
    YAML::Node sref = detail::get(cs, "sourceRef");
    // From a GitRepository or Bucket the chart is a path; from a HelmRepository (HTTP or OCI) a name.
    const std::string source_kind = detail::scalar(sref, "kind");
    const bool path = source_kind == "GitRepository" || source_kind == "Bucket";
    g.field(cs, "chart", "spec.chart.spec.chart", path ? n::repo_path : n::chart_name);
    const bool version_field = g.field(cs, "version", "spec.chart.spec.version", n::chart_version);
    g.field(sref, "kind", "spec.chart.spec.sourceRef.kind", n::kind);
    g.field(sref, "name", "spec.chart.spec.sourceRef.name", n::dns1123_subdomain);
    g.field(sref, "namespace", "spec.chart.spec.sourceRef.namespace", n::namespace_name);
    // The service account helm-controller impersonates (system:serviceaccount:<namespace>:<name>): it reaches
    // the Impersonate-User header and helm's --kube-as-user.
    g.field(spec, "serviceAccountName", "spec.serviceAccountName", n::dns1123_subdomain);
    YAML::Node cref = detail::get(spec, "chartRef");
    g.field(cref, "kind", "spec.chartRef.kind", n::kind);
    g.field(cref, "name", "spec.chartRef.name", n::dns1123_subdomain);
    g.field(cref, "namespace", "spec.chartRef.namespace", n::namespace_name);
    // A Git ref or OCI tag read from the source object reaches argv and paths just the same.
    if (!version_field && !r.chart.version.empty()) {
      g.value("the chart version or ref of " + r.chart.describe(), r.chart.version, n::chart_version);
    }
  }

  YAML::Node vfs = detail::get(spec, "valuesFrom");
  if (vfs.IsDefined() && vfs.IsSequence()) {
    for (size_t i = 0; i < vfs.size(); ++i) {
      const YAML::Node vf = vfs[i];
      const std::string base = "spec.valuesFrom[" + std::to_string(i) + "]";
      if (v1) {
        for (const char* ref_key : {"configMapKeyRef", "secretKeyRef"}) {
          YAML::Node ref = detail::get(vf, ref_key);
          if (!ref.IsDefined()) continue;
          const std::string b = base + "." + ref_key;
          g.field(ref, "name", b + ".name", n::dns1123_subdomain);
          g.field(ref, "namespace", b + ".namespace", n::namespace_name);
          g.field(ref, "key", b + ".key", n::data_key);
        }
        g.field(detail::get(vf, "chartFileRef"), "path", base + ".chartFileRef.path", n::repo_path);
      } else {
        g.field(vf, "kind", base + ".kind", n::kind);
        g.field(vf, "name", base + ".name", n::dns1123_subdomain);
        g.field(vf, "valuesKey", base + ".valuesKey", n::data_key);
      }
    }
  }
  g.finish();
}

}  // namespace helmgate::release
