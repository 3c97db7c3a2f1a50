// The live half of the drift verdict (engine/drift.hpp): each object a release renders, read and
// dry-run as the preview's live diff does, with the ignore rules applied to both sides.
#include <algorithm>

#include "core/json.hpp"
#include "diff/unified.hpp"
#include "engine/drift.hpp"
#include "engine/drift_reads.hpp"
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

bool same_but_managed_fields(core::json::Document& a, core::json::Document& b) {
  for (auto* d : {&a, &b}) {
    if (auto m = d->FindMember("metadata"); m != d->MemberEnd() && m->value.IsObject()) m->value.RemoveMember("managedFields");
  }
  return a == b;
}

// The differences of one object that is the release's own: live against the dry-run answer.
core::Result<void> compare_object(std::vector<DriftedResource>& out, const kube::ObjectRef& ref, const kube::ResourceType& type,
                                  const std::string& shown, const std::string& live, const std::string& answer,
                                  const std::vector<std::pair<std::string, std::string>>& scaled, const DriftOptions& o) {
  if (type.group.empty() && ref.kind == "Secret") {
    // Key names and changed/unchanged only: never a value, a marker or a hash of one.
    if (auto d = secret_live_diff(ref, live, answer)) out.push_back({key_of(ref), shown, "changed", d->diff});
    return {};
  }
  diff::ParseOptions po;
  po.redactor = o.redactor;
  auto paths = ignored_paths(o.ignore, ref.kind, ref.namespace_, ref.name);
  for (const auto& [kind, name] : scaled) {
    if (kind == ref.kind && name == ref.name) paths.emplace_back("/spec/replicas");
  }
  for (const auto& p : paths) po.ignore.push_back({"*", "*", p});
  po.source = "live " + shown;
  auto l = diff::parse_manifest(live, po);
  po.source = "dry-run of " + shown;
  auto h = diff::parse_manifest(answer, po);
  if (!l || !h) return core::Error(core::errc::internal, shown + ": the live object or the dry-run answer could not be read");
  for (auto& d : diff::diff_resources(*l, *h, o.context_lines, "live", "git")) {
    out.push_back({d.key, shown, "changed", std::move(d.diff)});
  }
  return {};
}

}  // namespace

core::Result<std::vector<DriftedResource>> live_drift(kube::Client& client, const DesiredRelease& desired,
                                                      const DriftOptions& o) {
  std::shared_ptr<const std::vector<kube::ManifestObject>> objs = desired.objects;
  if (!objs) {
    auto split = kube::split_manifest(desired.manifest, "render of " + desired.id);
    if (!split) return split.error();
    objs = std::make_shared<const std::vector<kube::ManifestObject>>(std::move(*split));
  }
  std::vector<std::pair<std::string, std::string>> scaled;
  if (o.ignore_hpa_replicas) scaled = hpa_targets(*objs);
  auto count = [&o](std::atomic<size_t> DriftCounters::*what) {
    if (o.counters != nullptr) ++(o.counters->*what);
  };
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
    auto get = [&]() -> core::Result<std::optional<std::string>> {
      count(&DriftCounters::gets);
      auto live = client.get(ref);
      if (!live) return core::Error(live.error().code, shown + ": " + live.error().message);
      return live;
    };
    // The live object: a GET, or the list of its namespace and type (engine/drift_reads.hpp), which is
    // checked against the dry-run answer below and read again when it is not current.
    std::optional<std::string> live;
    bool listed = false;
    if (o.reads != nullptr) {
      auto r = o.reads->read(ref, *type);
      if (!r) return core::Error(r.error().code, shown + ": " + r.error().message);
      listed = r->source == LiveSource::list;
      count(listed ? &DriftCounters::list_hits : &DriftCounters::gets);
      live = std::move(r->json);
    } else {
      auto r = get();
      if (!r) return r.error();
      live = std::move(*r);
    }
    auto owned = [&] { return live && helm_ownership(*live, desired.release_name, desired.namespace_).owned; };
    for (int attempt = 0;; ++attempt) {
      bool mine = owned();
      if (listed && !mine) {
        // Gone or someone else's by the list: only a current read says so.
        count(&DriftCounters::rereads);
        auto r = get();
        if (!r) return r.error();
        live = std::move(*r);
        listed = false;
        mine = owned();
      }
      if (!live) {
        out.push_back({key_of(ref), shown, "missing", "# gone from the cluster: Git declares it, the cluster has none\n"});
        break;
      }
      if (!mine) {
        // Someone else's object now: nothing of it is shown.
        out.push_back({key_of(ref), shown, "not-owned", ""});
        break;
      }
      count(&DriftCounters::dry_runs);
      auto answer = client.apply(ref, m.yaml, kube::ApplyOptions{});
      if (!answer) {
        return core::Error(answer.error().code, shown + ": the server-side dry-run was refused: " +
                                                    (o.redactor != nullptr ? o.redactor->scrub(answer.error().message)
                                                                           : answer.error().message));
      }
      core::json::Document live_doc, answer_doc;
      const bool parsed = !core::json::parse_unvalidated(live_doc, *live) && live_doc.IsObject() &&
                          !core::json::parse_unvalidated(answer_doc, *answer) && answer_doc.IsObject();
      if (listed && attempt == 0 &&
          (!parsed || core::json::get_string(live_doc, "metadata.resourceVersion") !=
                          core::json::get_string(answer_doc, "metadata.resourceVersion"))) {
        // The object changed after the list: read it now and dry-run again against that state.
        count(&DriftCounters::rereads);
        auto r = get();
        if (!r) return r.error();
        live = std::move(*r);
        listed = false;
        continue;
      }
      // The same object but for its managedFields (which the diff drops, with more): nothing differs.
      if (parsed && same_but_managed_fields(live_doc, answer_doc)) break;
      if (auto c = compare_object(out, ref, *type, shown, *live, *answer, scaled, o); !c) return c.error();
      break;
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  return out;
}

}  // namespace helmgate::engine
