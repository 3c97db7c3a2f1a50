#include "engine/drift.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <future>
#include <map>
#include <mutex>

#include "core/yaml_bounded.hpp"
#include "core/time.hpp"

namespace helmgate::engine {

namespace {

std::string scrub(const DriftOptions& o, std::string s) { return o.redactor != nullptr ? o.redactor->scrub(std::move(s)) : s; }

std::string short_digest(const std::string& d) { return d.substr(0, 12); }

}  // namespace

std::string_view to_string(DriftState s) {
  switch (s) {
    case DriftState::in_sync: return "in_sync";
    case DriftState::drifted: return "drifted";
    case DriftState::missing: return "missing";
    case DriftState::failed: return "failed";
    case DriftState::extra: return "extra";
    case DriftState::unknown: return "unknown";
  }
  return "unknown";
}

size_t ClusterDrift::count(DriftState s) const {
  return static_cast<size_t>(std::count_if(releases.begin(), releases.end(), [s](const auto& r) { return r.state == s; }));
}

bool ClusterDrift::needs_attention() const {
  return !error.empty() || std::any_of(releases.begin(), releases.end(), [](const auto& r) { return r.state != DriftState::in_sync; });
}

std::vector<std::string> ignored_paths(const std::vector<config::DriftIgnore>& rules, std::string_view kind,
                                       std::string_view namespace_, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& r : rules) {
    if (diff::glob_match(r.kind, kind) && diff::glob_match(r.name, name) && diff::glob_match(r.namespace_, namespace_)) {
      out.insert(out.end(), r.paths.begin(), r.paths.end());
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> hpa_targets(const std::string& manifest) {
  auto objs = kube::split_manifest(manifest, "manifest");
  if (!objs) return {};
  return hpa_targets(*objs);
}

std::vector<std::pair<std::string, std::string>> hpa_targets(const std::vector<kube::ManifestObject>& objects) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& m : objects) {
    if (m.ref.kind != "HorizontalPodAutoscaler") continue;
    try {
      YAML::Node n = core::yaml::load(m.yaml, core::yaml::Source::rendered);
      YAML::Node t = n["spec"] ? n["spec"]["scaleTargetRef"] : YAML::Node();
      if (t && t.IsMap() && t["kind"] && t["name"] && t["kind"].IsScalar() && t["name"].IsScalar()) {
        out.emplace_back(t["kind"].Scalar(), t["name"].Scalar());
      }
    } catch (const YAML::Exception&) {
    }
  }
  return out;
}

ReleaseDrift classify_record(const DesiredRelease& desired, const std::optional<kube::HelmRecord>& record) {
  ReleaseDrift d;
  d.id = desired.id;
  d.release_name = desired.release_name;
  d.namespace_ = desired.namespace_;
  d.record = record;
  const std::string who = "release " + desired.namespace_ + "/" + desired.release_name;
  if (!desired.render_error.empty()) {
    d.state = DriftState::unknown;
    d.error = "the desired state could not be rendered: " + desired.render_error;
    return d;
  }
  if (!record) {
    d.state = DriftState::missing;
    d.reasons.push_back("Git declares " + who + " but Helm has no record of it on the cluster");
    return d;
  }
  if (!record->error.empty()) {
    d.state = DriftState::unknown;
    d.error = record->error;
    return d;
  }
  if (record->status == "uninstalled") {
    d.state = DriftState::missing;
    d.reasons.push_back("Helm's latest record (revision " + std::to_string(record->revision) + ") says uninstalled");
    return d;
  }
  if (record->status != "deployed") {
    d.state = DriftState::failed;
    std::string why = "Helm's latest record (revision " + std::to_string(record->revision) + ") is " + record->status;
    if (!record->description.empty()) why += ": " + record->description;
    d.reasons.push_back(why);
    return d;
  }
  d.state = DriftState::in_sync;
  if (!desired.chart_name.empty() && record->chart_name != desired.chart_name) {
    d.reasons.push_back("chart: Helm has " + record->chart_name + ", Git declares " + desired.chart_name);
  }
  if (!desired.chart_version.empty() && record->chart_version != desired.chart_version) {
    d.reasons.push_back("chart version: Helm has " + record->chart_version + ", Git declares " + desired.chart_version);
  }
  if (!desired.values_digest.empty() && record->values_digest != desired.values_digest) {
    d.reasons.push_back("values: Helm's record (digest " + short_digest(record->values_digest) +
                        ") differs from what Git declares (digest " + short_digest(desired.values_digest) + ")");
  }
  if (!d.reasons.empty()) d.state = DriftState::drifted;
  return d;
}

ClusterDrift detect_drift(kube::Client* client, const std::vector<DesiredRelease>& desired,
                          const core::Result<kube::HelmRecords>& records, const DriftOptions& o) {
  return detect_drift(client, desired, [&desired](size_t i) -> const DesiredRelease& { return desired[i]; }, records, o);
}

ClusterDrift detect_drift(kube::Client* client, const std::vector<DesiredRelease>& desired,
                          const std::function<const DesiredRelease&(size_t)>& ready,
                          const core::Result<kube::HelmRecords>& records, const DriftOptions& o) {
  ClusterDrift out;
  out.cluster = client != nullptr ? client->cluster() : std::string();
  out.observed_at = core::utc_now_rfc3339();
  auto start = std::chrono::steady_clock::now();
  if (!records) {
    out.error = scrub(o, records.error().message);
    for (const auto& d : desired) {
      ReleaseDrift r;
      r.id = d.id;
      r.release_name = d.release_name;
      r.namespace_ = d.namespace_;
      r.error = "Helm's records could not be read: " + out.error;
      out.releases.push_back(std::move(r));
    }
    return out;
  }
  std::map<std::pair<std::string, std::string>, const kube::HelmRecord*> by_key;
  for (const auto& rec : records->releases) by_key[{rec.namespace_, rec.name}] = &rec;
  out.releases.resize(desired.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < desired.size(); i = next++) {
      const auto& want = ready(i);
      std::optional<kube::HelmRecord> rec;
      if (auto it = by_key.find({want.namespace_, want.release_name}); it != by_key.end()) rec = *it->second;
      ReleaseDrift r = classify_record(want, rec);
      if (o.live && client != nullptr && (r.state == DriftState::in_sync || r.state == DriftState::drifted)) {
        auto live = live_drift(*client, want, o);
        if (!live) {
          r.error = "the live objects could not be compared: " + live.error().message;
          if (r.state == DriftState::in_sync) r.state = DriftState::unknown;
        } else if (!live->empty()) {
          r.state = DriftState::drifted;
          r.reasons.push_back(std::to_string(live->size()) + " live object(s) differ from what Git declares");
          r.resources = std::move(*live);
        }
      }
      for (auto& s : r.reasons) s = scrub(o, std::move(s));
      r.error = scrub(o, std::move(r.error));
      if (r.record) r.record->description = scrub(o, std::move(r.record->description));
      out.releases[i] = std::move(r);
    }
  };
  std::vector<std::future<void>> pool;
  size_t n = std::min(std::max<size_t>(1, o.concurrency), std::max<size_t>(1, desired.size()));
  for (size_t t = 1; t < n; ++t) pool.push_back(std::async(std::launch::async, worker));
  worker();
  for (auto& f : pool) f.get();
  for (const auto& d : desired) by_key.erase({d.namespace_, d.release_name});
  for (const auto& [key, rec] : by_key) {
    ReleaseDrift r;
    r.id = out.cluster + "/" + key.first + "/" + key.second;
    r.release_name = key.second;
    r.namespace_ = key.first;
    r.state = DriftState::extra;
    r.record = *rec;
    r.record->description = scrub(o, std::move(r.record->description));
    r.reasons.push_back("Helm has release " + key.first + "/" + key.second + " (revision " + std::to_string(rec->revision) +
                        ", " + rec->status + ") that Git does not declare for this cluster");
    out.releases.push_back(std::move(r));
  }
  out.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  return out;
}

std::vector<std::string> remediation_candidates(const ClusterDrift& drift, const config::DriftSettings& settings,
                                                int done_last_hour) {
  std::vector<std::string> out;
  if (!settings.remediate) return out;
  int budget = settings.max_remediations_per_hour - done_last_hour;
  for (const auto& r : drift.releases) {
    if (budget <= 0) break;
    if (r.state != DriftState::drifted) continue;
    out.push_back(r.id);
    --budget;
  }
  return out;
}

void write_json(core::json::Writer& w, const ClusterDrift& d) {
  using core::json::kv;
  using core::json::write_str;
  w.StartObject();
  kv(w, "cluster", d.cluster);
  if (!d.error.empty()) kv(w, "error", d.error);
  kv(w, "observed_at", d.observed_at);
  kv(w, "duration_ms", d.duration_ms);
  write_str(w, "counts");
  w.StartObject();
  for (auto s : {DriftState::in_sync, DriftState::drifted, DriftState::missing, DriftState::failed, DriftState::extra,
                 DriftState::unknown}) {
    kv(w, to_string(s), static_cast<int64_t>(d.count(s)));
  }
  w.EndObject();
  write_str(w, "releases");
  w.StartArray();
  for (const auto& r : d.releases) {
    w.StartObject();
    kv(w, "id", r.id);
    kv(w, "release", r.release_name);
    kv(w, "namespace", r.namespace_);
    kv(w, "state", to_string(r.state));
    write_str(w, "reasons");
    w.StartArray();
    for (const auto& s : r.reasons) write_str(w, s);
    w.EndArray();
    write_str(w, "resources");
    w.StartArray();
    for (const auto& x : r.resources) {
      w.StartObject();
      kv(w, "key", x.key);
      kv(w, "object", x.object);
      kv(w, "change", x.change);
      kv(w, "diff", x.diff);
      w.EndObject();
    }
    w.EndArray();
    if (r.record) {
      write_str(w, "helm");
      kube::write_json(w, *r.record);
    }
    if (!r.error.empty()) kv(w, "error", r.error);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

std::string to_json(const ClusterDrift& d) {
  rapidjson::StringBuffer sb;
  core::json::Writer w(sb);
  write_json(w, d);
  return sb.GetString();
}

}  // namespace helmgate::engine
