#include "engine/live_state.hpp"

#include <map>
#include <set>

#include "core/base64.hpp"
#include "core/json.hpp"

namespace helmgate::engine {

namespace {

constexpr const char* kReleaseName = "meta.helm.sh/release-name";
constexpr const char* kReleaseNamespace = "meta.helm.sh/release-namespace";
constexpr const char* kManagedBy = "app.kubernetes.io/managed-by";
// kubectl's copy of the whole object (Secret data included): never compared, never named.
constexpr const char* kLastApplied = "kubectl.kubernetes.io/last-applied-configuration";

std::optional<std::string> string_member(const core::json::Value* obj, const char* key) {
  if (obj == nullptr || !obj->IsObject()) return std::nullopt;
  auto it = obj->FindMember(key);
  if (it == obj->MemberEnd() || !it->value.IsString()) return std::nullopt;
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

// key -> value of a string map (data, stringData, labels, annotations); non-string values count as "".
std::map<std::string, std::string> string_map(const core::json::Value* obj) {
  std::map<std::string, std::string> out;
  if (obj == nullptr || !obj->IsObject()) return out;
  for (const auto& m : obj->GetObject()) {
    std::string v = m.value.IsString() ? std::string(m.value.GetString(), m.value.GetStringLength()) : std::string();
    out[std::string(m.name.GetString(), m.name.GetStringLength())] = std::move(v);
  }
  return out;
}

struct SecretView {
  bool ok = false;
  std::string type;
  std::map<std::string, std::string> data;  // decoded values: compared in memory, never printed
  std::map<std::string, std::string> labels, annotations;
};

SecretView view(std::string_view json) {
  SecretView s;
  core::json::Document doc;
  if (core::json::parse_unvalidated(doc, json) || !doc.IsObject()) return s;
  s.ok = true;
  s.type = core::json::get_string(doc, "type").value_or("Opaque");
  for (auto& [k, v] : string_map(core::json::find(doc, "data"))) {
    auto decoded = core::base64_decode(v);
    s.data[k] = decoded ? *decoded : v;
  }
  // stringData wins over data, as the API server folds it.
  for (auto& [k, v] : string_map(core::json::find(doc, "stringData"))) s.data[k] = v;
  s.labels = string_map(core::json::find(doc, "metadata.labels"));
  s.annotations = string_map(core::json::find(doc, "metadata.annotations"));
  s.annotations.erase(kLastApplied);
  return s;
}

// Lines "  <prefix><key>: added|removed|changed|unchanged"; returns whether anything differs.
bool compare(const std::map<std::string, std::string>& live, const std::map<std::string, std::string>& head,
             const std::string& prefix, bool list_unchanged, std::string& out) {
  std::set<std::string> keys;
  for (const auto& [k, _] : live) keys.insert(k);
  for (const auto& [k, _] : head) keys.insert(k);
  bool differs = false;
  for (const auto& k : keys) {
    auto l = live.find(k);
    auto h = head.find(k);
    const char* what = l == live.end() ? "added" : h == head.end() ? "removed" : l->second == h->second ? "unchanged" : "changed";
    bool same = l != live.end() && h != head.end() && l->second == h->second;
    differs = differs || !same;
    if (same && !list_unchanged) continue;
    out += "  " + prefix + k + ": " + what + "\n";
  }
  return differs;
}

}  // namespace

Ownership helm_ownership(std::string_view live_json, const std::string& release, const std::string& release_namespace) {
  core::json::Document doc;
  if (core::json::parse_unvalidated(doc, live_json) || !doc.IsObject()) return {false, "the live object is not JSON"};
  const auto* annotations = core::json::find(doc, "metadata.annotations");
  const auto* labels = core::json::find(doc, "metadata.labels");
  auto name = string_member(annotations, kReleaseName);
  auto ns = string_member(annotations, kReleaseNamespace);
  auto managed = string_member(labels, kManagedBy);
  if (!managed || *managed != "Helm") return {false, std::string("label ") + kManagedBy + " is not Helm"};
  if (!name || *name != release) return {false, std::string("annotation ") + kReleaseName + " names another release"};
  if (!ns || *ns != release_namespace) {
    return {false, std::string("annotation ") + kReleaseNamespace + " names another namespace"};
  }
  return {true, {}};
}

std::optional<diff::ResourceDiff> secret_live_diff(const kube::ObjectRef& ref, const std::optional<std::string>& live_json,
                                                   std::string_view head_json) {
  SecretView head = view(head_json);
  SecretView live = live_json ? view(*live_json) : SecretView{};
  diff::ResourceDiff d;
  auto slash = ref.api_version.find('/');
  d.group = slash == std::string::npos ? "" : ref.api_version.substr(0, slash);
  d.kind = ref.kind;
  d.namespace_ = ref.namespace_;
  d.name = ref.name;
  d.key = (d.group.empty() ? std::string("core") : d.group) + "/" + d.kind + "/" + d.namespace_ + "/" + d.name;
  d.change = live_json ? diff::Change::changed : diff::Change::added;
  std::string body;
  bool differs = !live_json;
  if (!head.ok) {
    body += "  (the dry-run answer could not be read)\n";
  } else {
    differs = compare(live.data, head.data, "data.", true, body) || differs;
    if (live_json && live.type != head.type) {
      body += "  type: changed\n";
      differs = true;
    }
    differs = compare(live.labels, head.labels, "metadata.labels.", false, body) || differs;
    differs = compare(live.annotations, head.annotations, "metadata.annotations.", false, body) || differs;
  }
  if (!differs) return std::nullopt;
  d.diff = "# Secret: key names and whether each changes; values are never shown\n" + body;
  return d;
}

}  // namespace helmgate::engine
