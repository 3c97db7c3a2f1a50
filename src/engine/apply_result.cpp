#include "engine/apply_result.hpp"

#include <algorithm>
#include <array>

#include "core/json.hpp"

namespace helmgate::engine {

namespace {

constexpr std::array<std::string_view, 6> kOutcomes = {"installed", "upgraded", "unchanged", "uninstalled", "failed", "kept"};
constexpr std::array<std::string_view, 7> kStatuses = {"applied", "failed", "superseded", "blocked",
                                                       "busy",    "skipped", "unreachable"};

template <typename E, size_t N>
bool parse_enum(const std::array<std::string_view, N>& names, std::string_view s, E& out) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == s) {
      out = static_cast<E>(i);
      return true;
    }
  }
  return false;
}

std::string str(const core::json::Value& v, const char* key) {
  if (!v.IsObject() || !v.HasMember(key) || !v[key].IsString()) return "";
  return v[key].GetString();
}

int64_t num(const core::json::Value& v, const char* key) {
  if (!v.IsObject() || !v.HasMember(key) || !v[key].IsInt64()) return 0;
  return v[key].GetInt64();
}

}  // namespace

std::string_view to_string(ReleaseOutcome o) { return kOutcomes[static_cast<size_t>(o)]; }
std::string_view to_string(ClusterStatus s) { return kStatuses[static_cast<size_t>(s)]; }

bool needs_attention(ClusterStatus s) {
  return s == ClusterStatus::failed || s == ClusterStatus::blocked || s == ClusterStatus::unreachable ||
         s == ClusterStatus::busy;
}

bool ClusterResult::any_release_failed() const {
  return std::any_of(releases.begin(), releases.end(), [](const ReleaseResult& r) { return r.outcome == ReleaseOutcome::failed; });
}

std::string ApplyResult::to_json() const {
  namespace json = core::json;
  rapidjson::StringBuffer sb;
  json::Writer w(sb);
  w.StartObject();
  json::kv(w, "repo", repo);
  json::kv(w, "commit", commit);
  json::kv(w, "before", before);
  json::write_str(w, "clusters");
  w.StartArray();
  for (const auto& c : clusters) {
    w.StartObject();
    json::kv(w, "name", c.name);
    json::kv(w, "status", std::string(to_string(c.status)));
    json::kv(w, "reason", c.reason);
    json::kv(w, "base", c.base);
    json::write_str(w, "releases");
    w.StartArray();
    for (const auto& r : c.releases) {
      w.StartObject();
      json::kv(w, "id", r.id);
      json::kv(w, "release", r.release_name);
      json::kv(w, "namespace", r.namespace_);
      json::kv(w, "action", std::string(apply::to_string(r.action)));
      json::kv(w, "outcome", std::string(to_string(r.outcome)));
      json::kv(w, "reason", r.reason);
      json::kv(w, "revision", static_cast<int64_t>(r.revision));
      json::kv(w, "ms", r.ms);
      if (r.started_ms != 0) json::kv(w, "started_ms", r.started_ms);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return sb.GetString();
}

core::Result<ApplyResult> ApplyResult::from_json(std::string_view text) {
  core::json::Document doc;
  if (core::json::parse(doc, text) || !doc.IsObject()) return core::Error(core::errc::bad_request, "apply result is not a JSON object");
  ApplyResult out;
  out.repo = str(doc, "repo");
  out.commit = str(doc, "commit");
  out.before = str(doc, "before");
  if (!doc.HasMember("clusters") || !doc["clusters"].IsArray()) return out;
  for (const auto& c : doc["clusters"].GetArray()) {
    ClusterResult cr;
    cr.name = str(c, "name");
    if (!parse_enum(kStatuses, str(c, "status"), cr.status)) {
      return core::Error(core::errc::bad_request, "apply result: cluster " + cr.name + " has an unknown status");
    }
    cr.reason = str(c, "reason");
    cr.base = str(c, "base");
    if (c.HasMember("releases") && c["releases"].IsArray()) {
      for (const auto& r : c["releases"].GetArray()) {
        ReleaseResult rr;
        rr.id = str(r, "id");
        rr.release_name = str(r, "release");
        rr.namespace_ = str(r, "namespace");
        std::string action = str(r, "action");
        for (auto a : {apply::Action::none, apply::Action::install, apply::Action::upgrade, apply::Action::uninstall}) {
          if (apply::to_string(a) == action) rr.action = a;
        }
        if (!parse_enum(kOutcomes, str(r, "outcome"), rr.outcome)) {
          return core::Error(core::errc::bad_request, "apply result: release " + rr.id + " has an unknown outcome");
        }
        rr.reason = str(r, "reason");
        rr.revision = static_cast<int>(num(r, "revision"));
        rr.ms = num(r, "ms");
        rr.started_ms = num(r, "started_ms");
        cr.releases.push_back(std::move(rr));
      }
    }
    out.clusters.push_back(std::move(cr));
  }
  return out;
}

}  // namespace helmgate::engine
