// The live half of the drift verdict (engine/drift.hpp): each object a release renders, read and
// dry-run as the preview's live diff does, with the ignore rules applied to both sides.
#include <algorithm>

#include "diff/unified.hpp"
#include "engine/drift.hpp"
#include "engine/live_state.hpp"
#include "engine/validate.hpp"

namespace helmgate::engine {

namespace {

std::string group_of(const std::string& api_version) {
  auto slash = api_version.find('/');
  return slash == std::string::npos ? "" : api_version.substr(0, slash);
}

std::string key_of(const kube::ObjectRef& ref) {
  std::string g = group_of(ref.api_version);
  return (g.empty() ? std::string("core") : g) + "/" + ref.kind + "/" + ref.namespace_ + "/" + ref.name;
}

}  // namespace

core::Result<std::vector<DriftedResource>> live_drift(kube::Client& client, const DesiredRelease& desired,
                                                      const DriftOptions& o) {
  auto objs = kube::split_manifest(desired.manifest, "render of " + desired.id);
  if (!objs) return objs.error();
  std::vector<std::pair<std::string, std::string>> scaled;
  if (o.ignore_hpa_replicas) scaled = hpa_targets(desired.manifest);
  std::vector<DriftedResource> out;
  for (const auto& m : *objs) {
    kube::ObjectRef ref = m.ref;
    if (ref.kind.empty() || ref.name.empty() || ref.api_version.empty()) continue;
    // A name that breaks Kubernetes' rules never becomes a request (the preview reported it).
    if (!object_identity_problem(ref).empty()) continue;
    auto type = client.resource_type(ref.api_version, ref.kind);
    if (!type) {
      if (type.error().code == core::make_error_code(core::errc::not_found)) {
        out.push_back({key_of(ref), ref.describe(), "missing", "# the cluster does not serve this kind (is its CRD gone?)\n"});
        continue;
      }
      return type.error();
    }
    if (type->namespaced) {
      if (ref.namespace_.empty()) ref.namespace_ = desired.namespace_;
    } else {
      ref.namespace_.clear();
    }
    const std::string shown = ref.describe();
    auto live = client.get(ref);
    if (!live) return core::Error(live.error().code, shown + ": " + live.error().message);
    if (!live->has_value()) {
      out.push_back({key_of(ref), shown, "missing", "# gone from the cluster: Git declares it, the cluster has none\n"});
      continue;
    }
    if (auto own = helm_ownership(**live, desired.release_name, desired.namespace_); !own.owned) {
      // Someone else's object now: nothing of it is shown.
      out.push_back({key_of(ref), shown, "not-owned", ""});
      continue;
    }
    auto answer = client.apply(ref, m.yaml, kube::ApplyOptions{});
    if (!answer) {
      return core::Error(answer.error().code, shown + ": the server-side dry-run was refused: " +
                                                  (o.redactor != nullptr ? o.redactor->scrub(answer.error().message)
                                                                         : answer.error().message));
    }
    if (type->group.empty() && ref.kind == "Secret") {
      // Key names and changed/unchanged only: never a value, a marker or a hash of one.
      if (auto d = secret_live_diff(ref, *live, *answer)) out.push_back({key_of(ref), shown, "changed", d->diff});
      continue;
    }
    diff::ParseOptions po;
    po.redactor = o.redactor;
    auto paths = ignored_paths(o.ignore, ref.kind, ref.namespace_, ref.name);
    for (const auto& [kind, name] : scaled) {
      if (kind == ref.kind && name == ref.name) paths.emplace_back("/spec/replicas");
    }
    for (const auto& p : paths) po.ignore.push_back({"*", "*", p});
    po.source = "live " + shown;
    auto l = diff::parse_manifest(**live, po);
    po.source = "dry-run of " + shown;
    auto h = diff::parse_manifest(*answer, po);
    if (!l || !h) return core::Error(core::errc::internal, shown + ": the live object or the dry-run answer could not be read");
    for (auto& d : diff::diff_resources(*l, *h, o.context_lines, "live", "git")) {
      out.push_back({d.key, shown, "changed", std::move(d.diff)});
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  return out;
}

}  // namespace helmgate::engine
