#include "engine/validate.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <future>
#include <mutex>
#include <set>

#include "core/json.hpp"
#include "core/markdown.hpp"
#include "core/names.hpp"
#include "core/yaml_bounded.hpp"
#include "diff/scope.hpp"
#include "engine/live_state.hpp"

namespace helmgate::engine {

namespace {

std::string scrub(const ValidateOptions& o, std::string s) { return o.redactor != nullptr ? o.redactor->scrub(std::move(s)) : s; }

struct Obj {
  kube::ManifestObject mo;
  size_t release = 0;
  int order = 2;  // 0 Namespace, 1 CRD, 2 everything else
};

int order_of(const std::string& kind) {
  if (kind == "Namespace") return 0;
  if (kind == "CustomResourceDefinition") return 1;
  return 2;
}

std::string group_of(const std::string& api_version) {
  auto slash = api_version.find('/');
  return slash == std::string::npos ? "" : api_version.substr(0, slash);
}

}  // namespace

std::string object_identity_problem(const kube::ObjectRef& ref) {
  namespace n = core::names;
  if (auto why = n::api_version(ref.api_version); !why.empty()) return "apiVersion " + n::shown(ref.api_version) + " " + why;
  if (auto why = n::kind(ref.kind); !why.empty()) return "kind " + n::shown(ref.kind) + " " + why;
  if (auto why = n::object_name(ref.kind, ref.name); !why.empty()) return "metadata.name " + n::shown(ref.name) + " " + why;
  if (!ref.namespace_.empty()) {
    if (auto why = n::namespace_name(ref.namespace_); !why.empty()) {
      return "metadata.namespace " + n::shown(ref.namespace_) + " " + why;
    }
  }
  return {};
}

std::string manifest_identity_problem(const std::string& manifest) {
  auto objs = kube::split_manifest(manifest, "rendered manifest");
  if (!objs) return objs.error().message;
  for (const auto& m : *objs) {
    if (auto p = object_identity_problem(m.ref); !p.empty()) return "document " + std::to_string(m.index) + ": " + p;
  }
  return {};
}

std::string_view to_string(Severity s) {
  switch (s) {
    case Severity::error: return "error";
    case Severity::warning: return "warning";
    case Severity::info: return "info";
  }
  return "error";
}

bool ClusterValidation::has_errors() const {
  return std::any_of(findings.begin(), findings.end(), [](const Finding& f) { return f.severity == Severity::error; });
}

int kube_minor(std::string_view v) {
  if (!v.empty() && v.front() == 'v') v.remove_prefix(1);
  if (v.rfind("1.", 0) != 0) return -1;
  v.remove_prefix(2);
  int minor = 0;
  size_t i = 0;
  for (; i < v.size() && v[i] >= '0' && v[i] <= '9'; ++i) minor = minor * 10 + (v[i] - '0');
  return i == 0 ? -1 : minor;
}

const std::vector<ApiLifecycle>& api_lifecycle_table() {
  // From the Kubernetes deprecated API migration guide.
  static const std::vector<ApiLifecycle> table = {
      {"extensions/v1beta1", "Ingress", 14, 22, "networking.k8s.io/v1"},
      {"extensions/v1beta1", "*", 9, 16, "apps/v1 (workloads), networking.k8s.io/v1 (NetworkPolicy)"},
      {"apps/v1beta1", "*", 9, 16, "apps/v1"},
      {"apps/v1beta2", "*", 9, 16, "apps/v1"},
      {"networking.k8s.io/v1beta1", "*", 19, 22, "networking.k8s.io/v1"},
      {"rbac.authorization.k8s.io/v1beta1", "*", 17, 22, "rbac.authorization.k8s.io/v1"},
      {"apiextensions.k8s.io/v1beta1", "*", 16, 22, "apiextensions.k8s.io/v1"},
      {"admissionregistration.k8s.io/v1beta1", "*", 16, 22, "admissionregistration.k8s.io/v1"},
      {"apiregistration.k8s.io/v1beta1", "*", 19, 22, "apiregistration.k8s.io/v1"},
      {"certificates.k8s.io/v1beta1", "*", 19, 22, "certificates.k8s.io/v1"},
      {"coordination.k8s.io/v1beta1", "*", 19, 22, "coordination.k8s.io/v1"},
      {"scheduling.k8s.io/v1beta1", "*", 14, 22, "scheduling.k8s.io/v1"},
      {"storage.k8s.io/v1beta1", "CSIStorageCapacity", 24, 27, "storage.k8s.io/v1"},
      {"storage.k8s.io/v1beta1", "*", 19, 22, "storage.k8s.io/v1"},
      {"batch/v1beta1", "CronJob", 21, 25, "batch/v1"},
      {"discovery.k8s.io/v1beta1", "*", 21, 25, "discovery.k8s.io/v1"},
      {"events.k8s.io/v1beta1", "*", 19, 25, "events.k8s.io/v1"},
      {"autoscaling/v2beta1", "*", 22, 25, "autoscaling/v2"},
      {"autoscaling/v2beta2", "*", 23, 26, "autoscaling/v2"},
      {"policy/v1beta1", "PodSecurityPolicy", 21, 25, "Pod Security Admission"},
      {"policy/v1beta1", "*", 21, 25, "policy/v1"},
      {"node.k8s.io/v1beta1", "*", 20, 25, "node.k8s.io/v1"},
      {"flowcontrol.apiserver.k8s.io/v1beta1", "*", 23, 26, "flowcontrol.apiserver.k8s.io/v1"},
      {"flowcontrol.apiserver.k8s.io/v1beta2", "*", 26, 29, "flowcontrol.apiserver.k8s.io/v1"},
      {"flowcontrol.apiserver.k8s.io/v1beta3", "*", 29, 32, "flowcontrol.apiserver.k8s.io/v1"},
      {"admissionregistration.k8s.io/v1alpha1", "ValidatingAdmissionPolicy", 0, 32, "admissionregistration.k8s.io/v1"},
      {"resource.k8s.io/v1alpha2", "*", 0, 31, "resource.k8s.io/v1"},
      {"resource.k8s.io/v1beta1", "*", 33, 36, "resource.k8s.io/v1"},
      {"resource.k8s.io/v1beta2", "*", 33, 36, "resource.k8s.io/v1"},
  };
  return table;
}

std::vector<Finding> validate_offline(const std::vector<RenderedRelease>& releases, const ValidateOptions& o) {
  std::vector<Finding> out;
  int minor = kube_minor(o.kube_version);
  std::map<std::string, std::string> owner;  // object key -> release id
  for (const auto& r : releases) {
    auto objs = kube::split_manifest(r.manifest, "rendered manifest of " + r.release_name);
    if (!objs) {
      out.push_back({Severity::error, o.cluster, r.id, "parse", "", scrub(o, objs.error().message)});
      continue;
    }
    for (const auto& m : *objs) {
      std::string where = "document " + std::to_string(m.index);
      std::vector<std::string> missing;
      if (m.ref.api_version.empty()) missing.emplace_back("apiVersion");
      if (m.ref.kind.empty()) missing.emplace_back("kind");
      if (m.ref.name.empty()) missing.emplace_back("metadata.name");
      if (!missing.empty()) {
        std::string list;
        for (const auto& f : missing) list += (list.empty() ? "" : ", ") + f;
        out.push_back({Severity::error, o.cluster, r.id, "required-fields", m.ref.describe(),
                       where + " of the rendered manifest lacks " + list});
        continue;
      }
      // Names from a chart reach request targets: one that breaks the rules is a finding, never a request.
      if (auto p = object_identity_problem(m.ref); !p.empty()) {
        out.push_back({Severity::error, o.cluster, r.id, "invalid-name", where,
                       scrub(o, where + " of the rendered manifest: " + p)});
        continue;
      }
      if (minor >= 0) {
        for (const auto& l : api_lifecycle_table()) {
          if (l.api_version != m.ref.api_version || (l.kind != "*" && l.kind != m.ref.kind)) continue;
          if (l.removed_minor > 0 && minor >= l.removed_minor) {
            out.push_back({Severity::error, o.cluster, r.id, "removed-api", m.ref.describe(),
                           m.ref.api_version + " " + m.ref.kind + " was removed in Kubernetes 1." +
                               std::to_string(l.removed_minor) + " (cluster runs " + o.kube_version + "); use " +
                               l.replacement});
          } else if (l.deprecated_minor > 0 && minor >= l.deprecated_minor) {
            out.push_back({Severity::warning, o.cluster, r.id, "deprecated-api", m.ref.describe(),
                           m.ref.api_version + " " + m.ref.kind + " is deprecated since 1." +
                               std::to_string(l.deprecated_minor) + " and removed in 1." +
                               std::to_string(l.removed_minor) + "; use " + l.replacement});
          }
          break;
        }
      }
      std::string ns = diff::builtin_cluster_scoped(group_of(m.ref.api_version), m.ref.kind) ? "" : (m.ref.namespace_.empty() ? r.namespace_ : m.ref.namespace_);
      std::string key = group_of(m.ref.api_version) + "/" + m.ref.kind + "/" + ns + "/" + m.ref.name;
      auto [it, fresh] = owner.emplace(key, r.id);
      if (!fresh && it->second != r.id) {
        out.push_back({Severity::error, o.cluster, r.id, "duplicate", m.ref.describe(),
                       "also rendered by release " + it->second +
                           "; two releases cannot own one object (the second apply would fail or fight the first)"});
      }
    }
  }
  return out;
}

ClusterValidation validate_cluster(kube::Client* client, const std::vector<RenderedRelease>& releases,
                                   const ValidateOptions& o) {
  ClusterValidation v;
  v.findings = validate_offline(releases, o);
  if (!o.dry_run || client == nullptr) return v;

  // Every object of every release, ordered so namespaces and CRDs are checked first.
  std::vector<Obj> objs;
  std::set<std::pair<std::string, std::string>> crd_kinds;  // (group, kind) defined by a rendered CRD
  std::set<std::string> created_namespaces;
  for (size_t i = 0; i < releases.size(); ++i) {
    const auto& r = releases[i];
    if (auto why = r.as.problem(); !why.empty()) {
      // An identity from Git that breaks the name rules never becomes a header: the release is not dry-run.
      v.findings.push_back({Severity::error, o.cluster, r.id, "impersonation", "",
                            "not dry-run: the identity to act as is refused: " + why});
      continue;
    }
    if (!r.as.empty()) {
      v.findings.push_back({Severity::info, o.cluster, r.id, "impersonation", "",
                            "dry-run as " + r.as.describe() + " (Kubernetes impersonation): its RBAC, quotas and "
                            "admission policies decide"});
    }
    if (r.create_namespace) created_namespaces.insert(r.namespace_);
    auto split = kube::split_manifest(r.manifest, r.release_name);
    if (!split) continue;  // already an offline finding
    for (auto& m : *split) {
      if (m.ref.kind.empty() || m.ref.name.empty() || m.ref.api_version.empty()) continue;
      if (!object_identity_problem(m.ref).empty()) continue;  // an invalid-name finding already, never a request
      if (m.ref.kind == "Namespace") created_namespaces.insert(m.ref.name);
      if (m.ref.kind == "CustomResourceDefinition") {
        try {
          YAML::Node n = core::yaml::load(m.yaml, core::yaml::Source::rendered);
          if (n["spec"] && n["spec"]["group"] && n["spec"]["names"] && n["spec"]["names"]["kind"]) {
            crd_kinds.emplace(n["spec"]["group"].as<std::string>(), n["spec"]["names"]["kind"].as<std::string>());
          }
        } catch (const YAML::Exception&) {
        }
      }
      objs.push_back({std::move(m), i, order_of(m.ref.kind)});
    }
  }
  std::stable_sort(objs.begin(), objs.end(), [](const Obj& a, const Obj& b) { return a.order < b.order; });

  std::mutex mu;
  std::map<std::string, bool> ns_exists;  // namespace -> exists (true when it cannot be told)
  auto namespace_exists = [&](const std::string& ns) {
    {
      std::lock_guard lock(mu);
      if (auto it = ns_exists.find(ns); it != ns_exists.end()) return it->second;
    }
    auto live = client->get({"v1", "Namespace", "", ns});
    // An identity that may not read namespaces learns the answer from the dry-run itself.
    bool exists = !live.ok() || live->has_value();
    std::lock_guard lock(mu);
    ns_exists[ns] = exists;
    return exists;
  };
  auto add = [&](Finding f) {
    std::lock_guard lock(mu);
    v.findings.push_back(std::move(f));
  };

  auto check = [&](const Obj& obj, std::vector<diff::Resource>& live_side, std::vector<diff::Resource>& head_side,
                   std::vector<diff::ResourceDiff>& secret_diffs) {
    const auto& r = releases[obj.release];
    kube::ObjectRef ref = obj.mo.ref;
    std::string shown = ref.describe();
    auto type = client->resource_type(ref.api_version, ref.kind);
    if (!type) {
      if (type.error().code == core::make_error_code(core::errc::not_found)) {
        if (crd_kinds.count({group_of(ref.api_version), ref.kind}) != 0) {
          add({Severity::info, o.cluster, r.id, "missing-crd", shown,
               "its CustomResourceDefinition is part of this change and not installed yet: checked offline only"});
        } else {
          add({Severity::error, o.cluster, r.id, "missing-crd", shown, scrub(o, type.error().message)});
        }
      } else {
        add({Severity::error, o.cluster, r.id, "dry-run", shown, scrub(o, type.error().message)});
      }
      return;
    }
    if (type->namespaced) {
      if (ref.namespace_.empty()) ref.namespace_ = r.namespace_;
      if (!namespace_exists(ref.namespace_)) {
        if (created_namespaces.count(ref.namespace_) != 0) {
          add({Severity::info, o.cluster, r.id, "namespace", shown,
               "namespace " + ref.namespace_ + " is created by this change: the object was checked offline only"});
        } else {
          add({Severity::error, o.cluster, r.id, "namespace", shown,
               "namespace " + ref.namespace_ + " does not exist on cluster " + o.cluster +
                   " and nothing creates it; add it or set createNamespace on the release"});
        }
        return;
      }
    } else {
      ref.namespace_.clear();
    }
    // Ownership first: the pull request names the object, so an object another release or another team
    // owns is neither dry-run (a forced server-side apply answers with the live object merged in) nor shown.
    auto live = client->get(ref);
    if (!live) {
      add({Severity::error, o.cluster, r.id, "dry-run", shown,
           "cannot read the live object to check that it belongs to this release, so it was not dry-run: " +
               scrub(o, live.error().message)});
      return;
    }
    if (live->has_value()) {
      if (!r.declared_at_base) {
        add({Severity::warning, o.cluster, r.id, "ownership", shown,
             "exists, not managed by this release: not dry-run and not shown (the release is new in this change; "
             "the deploy branch does not declare it under this name and namespace)"});
        return;
      }
      if (auto own = helm_ownership(**live, r.release_name, r.namespace_); !own.owned) {
        add({Severity::warning, o.cluster, r.id, "ownership", shown,
             "exists, not managed by this release: not dry-run and not shown (helm adopts an existing object "
             "only when its meta.helm.sh/release-name and release-namespace annotations and "
             "app.kubernetes.io/managed-by label name this release)"});
        return;
      }
    }
    kube::ApplyOptions ao;
    ao.impersonate = r.as;  // the tenant's RBAC, quotas and admission policies answer
    auto answer = client->apply(ref, obj.mo.yaml, ao);
    if (!answer) {
      add({Severity::error, o.cluster, r.id, "dry-run", shown, scrub(o, answer.error().message)});
      return;
    }
    if (!o.live_diff) return;
    if (type->group.empty() && ref.kind == "Secret") {
      // Key names and changed/unchanged only: never a value, a marker or a hash of one.
      if (auto d = secret_live_diff(ref, *live, *answer)) secret_diffs.push_back(std::move(*d));
      return;
    }
    diff::ParseOptions po;
    po.redactor = o.redactor;
    po.source = "dry-run of " + shown;
    if (auto head = diff::parse_manifest(*answer, po); head.ok()) {
      for (auto& res : *head) head_side.push_back(std::move(res));
    }
    if (live->has_value()) {
      po.source = "live " + shown;
      if (auto l = diff::parse_manifest(**live, po); l.ok()) {
        for (auto& res : *l) live_side.push_back(std::move(res));
      }
    }
  };

  // Phase by order (namespaces, CRDs, the rest); within a phase, releases run in parallel.
  for (int phase = 0; phase <= 2; ++phase) {
    std::map<size_t, std::vector<const Obj*>> by_release;
    for (const auto& obj : objs) {
      if (obj.order == phase) by_release[obj.release].push_back(&obj);
    }
    std::vector<size_t> keys;
    for (const auto& [k, _] : by_release) keys.push_back(k);
    std::atomic<size_t> next{0};
    auto worker = [&] {
      for (size_t k = next++; k < keys.size(); k = next++) {
        std::vector<diff::Resource> live_side, head_side;
        std::vector<diff::ResourceDiff> secret_diffs;
        for (const Obj* obj : by_release[keys[k]]) check(*obj, live_side, head_side, secret_diffs);
        if (!o.live_diff) continue;
        auto diffs = diff::diff_resources(live_side, head_side, 3, "live", "head");
        for (auto& d : secret_diffs) diffs.push_back(std::move(d));
        std::stable_sort(diffs.begin(), diffs.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
        std::lock_guard lock(mu);
        auto& slot = v.live_diffs[releases[keys[k]].id];
        for (auto& d : diffs) slot.push_back(std::move(d));
      }
    };
    std::vector<std::future<void>> pool;
    size_t n = std::min(std::max<size_t>(1, o.concurrency), keys.size());
    for (size_t t = 1; t < n; ++t) pool.push_back(std::async(std::launch::async, worker));
    worker();
    for (auto& f : pool) f.get();
    if (phase == 1 && !crd_kinds.empty()) client->invalidate_discovery();
  }
  std::stable_sort(v.findings.begin(), v.findings.end(), [](const Finding& a, const Finding& b) {
    return std::tie(a.release, a.severity) < std::tie(b.release, b.severity);
  });
  return v;
}

std::string to_json(const ClusterValidation& v, const std::string& cluster) {
  rapidjson::StringBuffer sb;
  core::json::Writer w(sb);
  w.StartObject();
  core::json::kv(w, "cluster", cluster);
  if (!v.offline_note.empty()) core::json::kv(w, "offline_only", v.offline_note);
  core::json::kv(w, "errors", static_cast<int64_t>(std::count_if(v.findings.begin(), v.findings.end(), [](const Finding& f) {
                   return f.severity == Severity::error;
                 })));
  core::json::write_str(w, "findings");
  w.StartArray();
  for (const auto& f : v.findings) {
    w.StartObject();
    core::json::kv(w, "severity", to_string(f.severity));
    core::json::kv(w, "release", f.release);
    core::json::kv(w, "check", f.check);
    core::json::kv(w, "object", f.object);
    core::json::kv(w, "message", f.message);
    w.EndObject();
  }
  w.EndArray();
  core::json::write_str(w, "live_diff");
  w.StartObject();
  for (const auto& [rel, diffs] : v.live_diffs) {
    core::json::write_str(w, rel);
    w.StartArray();
    for (const auto& d : diffs) {
      w.StartObject();
      core::json::kv(w, "key", d.key);
      core::json::kv(w, "change", diff::to_string(d.change));
      core::json::kv(w, "diff", d.diff);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  w.EndObject();
  return sb.GetString();
}

std::string to_markdown(const ClusterValidation& v, const std::string& cluster) {
  namespace md = core::md;  // release, object and message text come from Git or the cluster: escaped
  std::string out = "### Cluster " + md::code(cluster) + ": validation (" +
                    (v.offline_note.empty() ? "server-side dry-run" : "offline checks only") + ")\n\n";
  if (!v.offline_note.empty()) out += v.offline_note + "\n\n";
  if (v.findings.empty()) out += "No findings.\n\n";
  for (const auto& f : v.findings) {
    out += std::string("- **") + std::string(to_string(f.severity)) + "** " + md::code(f.release);
    if (!f.object.empty()) out += " " + md::code(f.object);
    out += " (" + md::text(f.check) + "): " + md::text(f.message) + "\n";
  }
  bool any = false;
  for (const auto& [rel, diffs] : v.live_diffs) {
    if (diffs.empty()) continue;
    if (!any) out += "\n#### Live diff (cluster now vs. after this change)\n\n";
    any = true;
    for (const auto& d : diffs) {
      const std::string fence = md::fence(d.diff);
      out += "<details><summary>" + core::md::html(rel) + ": " + core::md::html(d.key) + " (" +
             std::string(diff::to_string(d.change)) + ")</summary>\n\n" + fence + "diff\n" + d.diff +
             (d.diff.empty() || d.diff.back() == '\n' ? "" : "\n") + fence + "\n</details>\n";
    }
  }
  return out;
}

}  // namespace helmgate::engine
