#include "kube/helm_records.hpp"

#include <algorithm>
#include <map>
#include <vector>

#include "core/base64.hpp"
#include "core/gzip.hpp"
#include "core/redact.hpp"
#include "kube/list.hpp"

namespace helmgate::kube {

namespace {

constexpr const char* kType = "helm.sh/release.v1";

int64_t parse_revision(const std::string& s) {
  if (s.empty() || s.size() > 9 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) return 0;
  return std::stoll(s);
}

// Depth of a JSON value without recursion (an explicit stack), stopping past `limit`.
bool within_depth(const core::json::Value& root, unsigned limit) {
  std::vector<std::pair<const core::json::Value*, unsigned>> stack{{&root, 1}};
  while (!stack.empty()) {
    auto [v, d] = stack.back();
    stack.pop_back();
    if (d > limit) return false;
    if (v->IsObject()) {
      for (const auto& m : v->GetObject()) stack.emplace_back(&m.value, d + 1);
    } else if (v->IsArray()) {
      for (const auto& x : v->GetArray()) stack.emplace_back(&x, d + 1);
    }
  }
  return true;
}

std::string default_digest(const core::json::Value* config) {
  return core::sha256_hex(config == nullptr || config->IsNull() ? std::string("{}") : core::json::to_string(*config));
}

std::string bounded_text(std::string s, size_t max) {
  if (s.size() <= max) return s;
  s.resize(max);
  while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();  // no half character
  if (!s.empty() && static_cast<unsigned char>(s.back()) >= 0xC0) s.pop_back();
  return s + "...";
}

struct Candidate {
  std::string name, namespace_, secret, status_label, data;
  int64_t revision = 0;
  int64_t kept = 0;
};

}  // namespace

core::Result<std::string> decode_release_data(std::string_view data_release, const std::string& where,
                                              const DecodeLimits& limits) {
  if (data_release.size() > limits.max_encoded_bytes) {
    return core::Error(core::errc::payload_too_large, where + ": data.release is larger than " +
                                                          std::to_string(limits.max_encoded_bytes >> 20) + " MiB");
  }
  auto helm_b64 = core::base64_decode(data_release);
  if (!helm_b64) return core::Error(core::errc::bad_request, where + ": data.release is not base64");
  auto raw = core::base64_decode(*helm_b64);
  if (!raw) return core::Error(core::errc::bad_request, where + ": data.release is not helm's base64 encoding");
  // Helm gzips its records; an older or hand-made one may be plain JSON (helm reads both).
  if (core::starts_gzip(*raw)) {
    return core::gunzip_bounded(*raw, limits.max_decompressed_bytes, where, "the release record");
  }
  if (raw->size() > limits.max_decompressed_bytes) {
    return core::Error(core::errc::payload_too_large, where + ": the release record is larger than the limit");
  }
  return std::move(*raw);
}

core::Result<HelmRecord> parse_release_json(std::string_view json, const std::string& where, const DecodeLimits& limits,
                                            const ValuesDigest& values_digest) {
  // Iterative (no recursion whatever the nesting) and full precision (the values digest depends on the
  // exact numbers helm stored).
  core::json::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseFullPrecisionFlag | rapidjson::kParseValidateEncodingFlag>(
      json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return core::Error(core::errc::bad_request, where + ": the release record is not a JSON object (offset " +
                                                    std::to_string(doc.GetErrorOffset()) + ")");
  }
  HelmRecord r;
  r.name = str_at(doc, "name");
  r.namespace_ = str_at(doc, "namespace");
  r.revision = int_at(doc, "version");
  r.status = str_at(doc, "info.status");
  r.chart_name = str_at(doc, "chart.metadata.name");
  r.chart_version = str_at(doc, "chart.metadata.version");
  r.app_version = str_at(doc, "chart.metadata.appVersion");
  r.first_deployed = str_at(doc, "info.first_deployed");
  r.last_deployed = str_at(doc, "info.last_deployed");
  r.description = bounded_text(str_at(doc, "info.description"), 512);
  r.apply_method = bounded_text(str_at(doc, "apply_method"), 16);
  if (r.name.empty() || r.revision <= 0) {
    return core::Error(core::errc::bad_request, where + ": the release record has no name or version");
  }
  const core::json::Value* config = core::json::find(doc, "config");
  if (config != nullptr && !within_depth(*config, limits.max_values_depth)) {
    return core::Error(core::errc::bad_request, where + ": the release's values nest deeper than " +
                                                    std::to_string(limits.max_values_depth) + " levels");
  }
  r.values_digest = values_digest ? values_digest(config) : default_digest(config);
  return r;
}

core::Result<HelmRecords> read_helm_records(Client& client, const RecordOptions& options) {
  std::map<std::pair<std::string, std::string>, Candidate> latest;  // (namespace, name)
  auto take = [&](const core::json::Value& item) -> core::Result<void> {
    if (str_at(item, "type") != kType) return {};
    Candidate c;
    c.namespace_ = str_at(item, "metadata.namespace");
    c.secret = str_at(item, "metadata.name");
    c.name = map_value(item, "metadata.labels", "name");
    c.status_label = map_value(item, "metadata.labels", "status");
    c.revision = parse_revision(map_value(item, "metadata.labels", "version"));
    if (c.name.empty()) c.name = c.secret;  // not helm's naming: still listed, by its Secret
    auto& slot = latest[{c.namespace_, c.name}];
    int64_t kept = slot.kept + 1;
    if (slot.secret.empty() || c.revision > slot.revision) {
      c.data = str_at(item, "data.release");
      slot = std::move(c);
    }
    slot.kept = kept;
    return {};
  };
  std::vector<std::string> namespaces = options.namespaces;
  if (namespaces.empty()) namespaces.emplace_back();
  for (const auto& ns : namespaces) {
    ListRequest req;
    req.group_version_path = "/api/v1";
    req.plural = "secrets";
    req.namespace_ = ns;
    req.label_selector = "owner=helm";
    req.field_selector = std::string("type=") + kType;
    req.page_size = options.page_size;
    if (auto ok = list_objects(client, req, take); !ok) return ok.error();
  }
  HelmRecords out;
  for (auto& [key, c] : latest) {
    std::string where = "cluster " + client.cluster() + ": Secret " + c.namespace_ + "/" + c.secret;
    core::Result<HelmRecord> rec = core::Error(core::errc::bad_request, where + ": no data.release");
    if (!c.data.empty()) {
      auto json = decode_release_data(c.data, where, options.limits);
      c.data.clear();
      c.data.shrink_to_fit();
      rec = json ? parse_release_json(*json, where, options.limits, options.values_digest) : core::Result<HelmRecord>(json.error());
    }
    HelmRecord r;
    if (rec) {
      r = std::move(*rec);
    } else {
      r.name = c.name;
      r.revision = c.revision;
      r.status = c.status_label.empty() ? "unknown" : c.status_label;
      r.error = rec.error().message;
      out.errors.push_back({c.namespace_, c.secret, rec.error().message});
    }
    r.namespace_ = c.namespace_;  // where the Secret is: helm keeps records in the release's namespace
    r.secret = c.secret;
    r.revisions_kept = c.kept;
    out.releases.push_back(std::move(r));
  }
  return out;
}

void write_json(core::json::Writer& w, const HelmRecord& r) {
  using core::json::kv;
  w.StartObject();
  kv(w, "name", r.name);
  kv(w, "namespace", r.namespace_);
  kv(w, "revision", r.revision);
  kv(w, "status", r.status);
  kv(w, "chart", r.chart_name);
  kv(w, "chart_version", r.chart_version);
  kv(w, "app_version", r.app_version);
  kv(w, "values_digest", r.values_digest);
  kv(w, "first_deployed", r.first_deployed);
  kv(w, "last_deployed", r.last_deployed);
  kv(w, "description", r.description);
  kv(w, "secret", r.secret);
  kv(w, "revisions_kept", r.revisions_kept);
  if (!r.error.empty()) kv(w, "error", r.error);
  w.EndObject();
}

std::string to_json(const HelmRecord& r) {
  rapidjson::StringBuffer sb;
  core::json::Writer w(sb);
  write_json(w, r);
  return sb.GetString();
}

std::string to_json(const HelmRecords& r) {
  rapidjson::StringBuffer sb;
  core::json::Writer w(sb);
  w.StartObject();
  core::json::write_str(w, "releases");
  w.StartArray();
  for (const auto& x : r.releases) write_json(w, x);
  w.EndArray();
  core::json::write_str(w, "errors");
  w.StartArray();
  for (const auto& e : r.errors) {
    w.StartObject();
    core::json::kv(w, "namespace", e.namespace_);
    core::json::kv(w, "secret", e.secret);
    core::json::kv(w, "message", e.message);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return sb.GetString();
}

}  // namespace helmgate::kube
