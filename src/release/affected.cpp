#include <algorithm>
#include <map>
#include <set>

#include "core/names.hpp"
#include "release/release.hpp"

namespace helmgate::release {

namespace {

std::string join_list(const std::vector<std::string>& v, size_t max) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < max; ++i) s += (i == 0 ? "" : ", ") + v[i];
  if (v.size() > max) s += ", … (" + std::to_string(v.size() - max) + " more)";
  return s;
}

// The changed files among the release's own inputs (its declaring file first), and in its chart directory.
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
  auto own = std::find(out.begin(), out.end(), r.where.file);
  if (own != out.end()) std::rotate(out.begin(), own, own + 1);
  return out;
}

// Whether `d` could not read where the release `r` (found on the other side) would be declared, and why.
// Its root read in full: readable (the release is really added or removed there). Its root read in part:
// unreadable (it may sit in the malformed file). Its root not read: unreadable when the root or a root on
// the way to it (the paths whose Flux Kustomizations lead there) failed, except, with allow_missing, a
// configured cluster path that does not exist at all (a cluster path the change adds).
bool unreadable(const Discovery& d, const Release& r, bool allow_missing, std::vector<Problem>& why) {
  auto failed = [&](const std::string& root) {
    if (!d.root_failed(r.cluster, root) || (allow_missing && d.root_missing(r.cluster, root))) return false;
    if (auto it = d.root_problems.find({r.cluster, root}); it != d.root_problems.end()) {
      why.insert(why.end(), it->second.begin(), it->second.end());
    }
    return true;
  };
  if (d.read_roots.count({r.cluster, r.root}) != 0) return d.root_partial(r.cluster, r.root) && failed(r.root);
  if (failed(r.root)) return true;
  if (d.root_missing(r.cluster, r.root)) return false;
  for (const auto& v : r.via) {
    if (d.read_roots.count({r.cluster, v}) != 0 && !d.root_partial(r.cluster, v)) continue;
    if (failed(v)) return true;
  }
  return false;
}

std::vector<std::string> reasons_for(const Release& a, const Release& b) {
  std::vector<std::string> out;
  // metadata other than name/namespace (labels, annotations) does not change what helm renders
  const std::vector<std::string> paths = a.spec.changed_fields(b.spec, 8);
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
  // Values decrypted with SOPS: which keys changed, by name only (never a value, never a digest).
  std::vector<std::string> secret_keys;
  for (const auto& [k, digest] : b.decrypted) {
    auto it = a.decrypted.find(k);
    if (it == a.decrypted.end() || it->second != digest) secret_keys.push_back(k);
  }
  for (const auto& [k, digest] : a.decrypted) {
    if (b.decrypted.count(k) == 0) secret_keys.push_back(k + " (removed)");
  }
  if (!secret_keys.empty()) out.push_back("SOPS-encrypted values changed: " + join_list(secret_keys, 8));
  if (a.values_json != b.values_json && out.empty()) out.push_back("merged values changed");
  if (a.post_render_kustomization != b.post_render_kustomization && paths.empty()) {
    out.push_back("postRenderers changed");
  }
  if (a.kube_version != b.kube_version) out.push_back("cluster kube version changed");
  // A migration between API generations (FluxHelmRelease -> HelmRelease, flux.weave.works/v1beta1 ->
  // helm.fluxcd.io/v1) keeps namespace/name, so it is this release changing: the new operator's first
  // reconcile of the new object upgrades the Helm release of the same name. A version bump within one API
  // group (helm.toolkit.fluxcd.io/v2beta2 -> v2) is the same stored object and changes nothing.
  const std::string& kind_a = a.spec.kind();
  const std::string& kind_b = b.spec.kind();
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
  auto sync_fails = [&](Affected& a, const Release& r) {
    if (!head.root_partial(r.cluster, r.root)) return;
    a.head_sync_fails = r.root.empty() ? "." : r.root;
    if (auto it = head.root_problems.find({r.cluster, r.root}); it != head.root_problems.end()) a.head_problems = it->second;
  };
  for (const auto& [id, rb] : b) {
    auto it = h.find(id);
    Affected a;
    a.id = id;
    a.base = rb;
    if (it == h.end()) {
      if (unreadable(head, *rb, false, a.head_problems)) {
        a.head_failed = true;
        a.reasons.push_back("its manifests could not be read at head");
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
    sync_fails(a, *it->second);
    out.push_back(std::move(a));
  }
  for (const auto& [id, rh] : h) {
    if (b.count(id) != 0) continue;
    Affected a;
    a.id = id;
    a.head = rh;
    a.base_failed = unreadable(base, *rh, true, a.base_problems);
    if (auto u = base.unread.find(id); !a.base_failed && u != base.unread.end()) {
      a.base_failed = true;  // it was there, in a generation helmgate does not read: not an addition
      a.reasons.push_back("at base it was a " + core::names::shown(u->second) + ", which helmgate does not read");
    } else {
      a.reasons.push_back(a.base_failed ? "its manifests could not be read at base" : "HelmRelease added");
    }
    with_files(a, *rh);
    sync_fails(a, *rh);
    out.push_back(std::move(a));
  }
  std::sort(out.begin(), out.end(), [](const Affected& x, const Affected& y) { return x.id < y.id; });
  return out;
}

}  // namespace helmgate::release
