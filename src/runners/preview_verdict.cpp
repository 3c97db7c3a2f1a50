#include "runners/preview_verdict.hpp"

#include <algorithm>

#include "core/json.hpp"
#include "core/markdown.hpp"

namespace helmgate::runners {

std::map<std::string, ClusterCounts> count_clusters(const diff::Report& report, const std::vector<std::string>& clusters) {
  std::map<std::string, ClusterCounts> counts;
  for (const auto& c : clusters) counts[c];
  for (const auto& e : report.errors) {
    for (const auto& c : clusters) {
      if (e.cluster.empty() || e.cluster == c) ++counts[c].unreadable;
    }
  }
  for (const auto& r : report.releases) {
    auto& cc = counts[r.cluster];
    ++cc.releases;
    if (r.status == diff::ReleaseStatus::error) {
      ++cc.errors;
    } else if (r.status != diff::ReleaseStatus::unchanged) {
      ++cc.changed;
    }
  }
  return counts;
}

void count_validation(ClusterCounts& cc, const engine::ClusterValidation& v) {
  cc.validated = true;
  cc.offline_only = !v.offline_note.empty();
  cc.findings = v.findings.size();
  cc.finding_errors = static_cast<size_t>(std::count_if(v.findings.begin(), v.findings.end(), [](const engine::Finding& f) {
    return f.severity == engine::Severity::error;
  }));
  for (const auto& [rel, diffs] : v.live_diffs) cc.drifted += diffs.size();
}

bool failed(const ClusterCounts& cc) { return cc.errors > 0 || cc.finding_errors > 0 || cc.unreadable > 0; }

std::string status_description(const ClusterCounts& cc) {
  std::string d = std::to_string(cc.changed) + " release(s) changed";
  if (cc.errors > 0) d += ", " + std::to_string(cc.errors) + " failed to render";
  if (cc.unreadable > 0) d += ", " + std::to_string(cc.unreadable) + " manifest error(s)";
  if (cc.validated && cc.offline_only) {
    d += cc.finding_errors > 0 ? ", offline checks: " + std::to_string(cc.finding_errors) + " error(s)"
                               : ", offline checks only (no preview credential)";
  } else if (cc.validated) {
    d += cc.finding_errors > 0 ? ", dry-run: " + std::to_string(cc.finding_errors) + " error(s)" : ", dry-run ok";
    if (cc.drifted > 0) d += ", " + std::to_string(cc.drifted) + " live difference(s)";
  } else if (!cc.validation_error.empty()) {
    d += ", not validated (cluster unreachable)";
  }
  return d;
}

void add_validation_heading(std::vector<std::string>& sections) {
  if (sections.empty()) return;
  sections.front() =
      "## Validation against the clusters\n\nHead rendering dry-run on each target cluster "
      "(server-side apply, dryRun=All) and compared with what the cluster runs now; "
      "separate from the base-vs-head diff above.\n\n" +
      sections.front();
}

std::string not_validated_section(const std::string& cluster, const std::string& why) {
  return "### Cluster " + core::md::code(cluster) + ": validation (server-side dry-run)\n\nNot validated: " +
         core::md::text(why) + "\n";
}

std::string to_json(const PreviewSummary& s) {
  rapidjson::StringBuffer sb;
  core::json::Writer w(sb);
  w.StartObject();
  core::json::kv(w, "repo", s.spec.repo);
  core::json::kv(w, "pr", s.spec.pr);
  core::json::kv(w, "base", s.report.base);
  core::json::kv(w, "head", s.report.head);
  core::json::kv(w, "render_ms", s.render_ms);
  core::json::kv(w, "comment_ms", s.comment_ms);
  core::json::write_str(w, "comment_ids");
  w.StartArray();
  for (auto id : s.comment_ids) w.Int64(id);
  w.EndArray();
  core::json::kv(w, "comment_url", s.comment_url);
  core::json::write_str(w, "clusters");
  w.StartObject();
  for (const auto& [name, cc] : s.counts) {
    core::json::write_str(w, name);
    w.StartObject();
    core::json::kv(w, "releases", static_cast<int64_t>(cc.releases));
    core::json::kv(w, "changed", static_cast<int64_t>(cc.changed));
    core::json::kv(w, "errors", static_cast<int64_t>(cc.errors));
    core::json::kv(w, "validated", cc.validated);
    core::json::kv(w, "findings", static_cast<int64_t>(cc.findings));
    core::json::kv(w, "finding_errors", static_cast<int64_t>(cc.finding_errors));
    core::json::kv(w, "live_differences", static_cast<int64_t>(cc.drifted));
    if (!cc.validation_error.empty()) core::json::kv(w, "validation_error", cc.validation_error);
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  return sb.GetString();
}

}  // namespace helmgate::runners
