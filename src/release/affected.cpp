#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <set>

#include "core/names.hpp"
#include "release/release.hpp"
#include "release/yaml_util.hpp"

namespace helmgate::release {

namespace {

const YAML::Node& spec_of(const Release& r) { return *static_cast<const YAML::Node*>(r.spec.get()); }

std::string join_list(const std::vector<std::string>& v, size_t max) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < max; ++i) s += (i == 0 ? "" : ", ") + v[i];
  if (v.size() > max) s += ", … (" + std::to_string(v.size() - max) + " more)";
  return s;
}

std::vector<std::string> touched(const Release& r, const std::set<std::string>& changed) {
  std::vector<std::string> out;
  for (const auto& f : r.inputs) {
    if (changed.count(f) != 0) out.push_back(f);
  }
  if (r.chart.kind == ChartKind::repo_dir && !r.chart.path.empty()) {
    for (const auto& c : changed) {
      if (c.rfind(r.chart.path + "/", 0) == 0) out.push_back(c);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<std::string> reasons_for(const Release& a, const Release& b) {
  std::vector<std::string> out;
  std::vector<std::string> paths;
  // metadata other than name/namespace (labels, annotations) does not change what helm renders
  YAML::Node sa = detail::get(spec_of(a), "spec"), sb = detail::get(spec_of(b), "spec");
  detail::diff_paths(sa, sb, "spec", paths, 8);
  if (!paths.empty()) out.push_back("HelmRelease changed: " + join_list(paths, 6));
  if (a.chart.kind != b.chart.kind || a.chart.url != b.chart.url || a.chart.path != b.chart.path ||
      a.chart.name != b.chart.name || a.chart.version != b.chart.version || a.chart.digest != b.chart.digest) {
    out.push_back("chart source changed: " + a.chart.describe() + " -> " + b.chart.describe());
  } else if (a.chart.content_id != b.chart.content_id) {
    if (a.chart.kind == ChartKind::repo_dir) {
      out.push_back("chart directory " + b.chart.path + " changed");
    } else {
      out.push_back("chart source definition changed (" + b.chart.describe() + ")");
    }
  }
  std::map<std::string, const ValuesSource*> va, vb;
  for (const auto& v : a.values_from) va[v.label()] = &v;
  for (const auto& v : b.values_from) vb[v.label()] = &v;
  for (const auto& [label, v] : vb) {
    auto it = va.find(label);
    if (it == va.end()) continue;  // a new valuesFrom entry already shows as a spec change
    if (it->second->content_id != v->content_id) {
      out.push_back("valuesFrom " + label + (v->found ? (it->second->found ? " changed" : " appeared") : " disappeared"));
    }
  }
  if (a.values_json != b.values_json && out.empty()) out.push_back("merged values changed");
  if (a.post_render_kustomization != b.post_render_kustomization && paths.empty()) {
    out.push_back("postRenderers changed");
  }
  if (a.kube_version != b.kube_version) out.push_back("cluster kube version changed");
  // A migration between API generations (FluxHelmRelease -> HelmRelease, flux.weave.works/v1beta1 ->
  // helm.fluxcd.io/v1) keeps namespace/name, so it is this release changing: the new operator's first
  // reconcile of the new object upgrades the Helm release of the same name. A version bump within one API
  // group (helm.toolkit.fluxcd.io/v2beta2 -> v2) is the same stored object and changes nothing.
  const std::string kind_a = detail::scalar(spec_of(a), "kind"), kind_b = detail::scalar(spec_of(b), "kind");
  const auto group = [](const std::string& api) { return api.substr(0, api.find('/')); };
  if (group(a.api_version) != group(b.api_version) || kind_a != kind_b) {
    out.push_back("migrated from " + kind_a + " " + a.api_version + " to " + kind_b + " " + b.api_version);
  }
  return out;
}

}  // namespace

std::vector<Affected> affected(const Discovery& base, const Discovery& head,
                               const std::vector<std::string>& changed_paths) {
  std::set<std::string> changed(changed_paths.begin(), changed_paths.end());
  std::map<std::string, const Release*> b, h;
  for (const auto& r : base.releases) b[r.id()] = &r;
  for (const auto& r : head.releases) h[r.id()] = &r;
  std::vector<Affected> out;
  auto with_files = [&](Affected& a, const Release& r) {
    auto files = touched(r, changed);
    if (!files.empty()) a.reasons.push_back("changed files: " + join_list(files, 5));
  };
  for (const auto& [id, rb] : b) {
    auto it = h.find(id);
    Affected a;
    a.id = id;
    a.base = rb;
    if (it == h.end()) {
      if (head.root_failed(rb->cluster, rb->root)) {
        a.head_failed = true;
        a.reasons.push_back("its manifests could not be read at head (see the errors)");
      } else if (auto u = head.unread.find(id); u != head.unread.end()) {
        // Still declared, in a generation helmgate does not read: unknown at head, never an uninstall.
        a.head_failed = true;
        a.reasons.push_back("at head it is a " + core::names::shown(u->second) +
                            ", which helmgate does not read (see the notes): not previewed, not uninstalled");
      } else {
        a.reasons.push_back("HelmRelease removed");
      }
      with_files(a, *rb);
      out.push_back(std::move(a));
      continue;
    }
    a.head = it->second;
    a.reasons = reasons_for(*rb, *it->second);
    if (a.reasons.empty()) continue;
    with_files(a, *it->second);
    out.push_back(std::move(a));
  }
  for (const auto& [id, rh] : h) {
    if (b.count(id) != 0) continue;
    Affected a;
    a.id = id;
    a.head = rh;
    a.base_failed = base.root_failed(rh->cluster, rh->root);
    if (auto u = base.unread.find(id); !a.base_failed && u != base.unread.end()) {
      a.base_failed = true;  // it was there, in a generation helmgate does not read: not an addition
      a.reasons.push_back("at base it was a " + core::names::shown(u->second) + ", which helmgate does not read");
    } else {
      a.reasons.push_back(a.base_failed ? "its manifests could not be read at base" : "HelmRelease added");
    }
    with_files(a, *rh);
    out.push_back(std::move(a));
  }
  std::sort(out.begin(), out.end(), [](const Affected& x, const Affected& y) { return x.id < y.id; });
  return out;
}

}  // namespace helmgate::release
