#pragma once
// The preview report and its three renderings: markdown (PR comments, split at a size limit without
// breaking fences or <details>), coloured text (terminals) and JSON (tools; stable schema).
#include <cstddef>
#include <string>
#include <vector>

#include "diff/unified.hpp"
#include "diff/volatile.hpp"

namespace helmgate::diff {

struct Problem {
  std::string message;
  std::string file;  // repository path, when known
  int line = 0;      // 1-based; 0 when unknown
  int column = 0;
  std::string cluster = {};  // the cluster whose manifests it concerns, when known (not in the renderings)
  std::string where() const;  // "file:line:col" or ""
};

enum class ReleaseStatus { added, changed, removed, unchanged, error };
std::string_view to_string(ReleaseStatus s);

struct ReleaseReport {
  std::string cluster;
  std::string namespace_;  // of the HelmRelease object
  std::string name;
  std::string release_name;     // helm release name
  std::string target_namespace;  // where its resources go
  std::string chart;             // human description of the chart source
  ReleaseStatus status = ReleaseStatus::changed;
  std::vector<std::string> reasons;  // why the release is affected
  std::vector<std::string> notes;    // e.g. "chart.git resolved to this repository"
  std::vector<Problem> errors;
  std::vector<ResourceDiff> resources;  // only those that differ
  // Content that changes on every render (diff/volatile.hpp): named, never diffed, never a change.
  std::vector<VolatileResource> volatiles;
  size_t count(Change c) const;
};

struct Report {
  std::string repo;
  std::string base;  // commit ids
  std::string head;
  std::vector<std::string> clusters;
  std::vector<ReleaseReport> releases;  // affected ones, sorted by cluster, namespace, name
  std::vector<Problem> errors;          // not tied to one release (a cluster path that failed to build)
  // Not errors, but something the preview could not look at (a tenant repository that was not
  // reachable), so a reader knows the report is incomplete rather than assuming "no change".
  std::vector<Problem> notes;
  size_t unaffected = 0;                // releases discovered but not touched by the change
  bool has_changes() const;
  bool has_errors() const;
};

// Whole markdown document (no limit).
std::string to_markdown(const Report& report);
// Markdown split into parts of at most limit bytes each; every part is valid on its own (fences and
// <details> closed and reopened across the cut).
std::vector<std::string> to_markdown_parts(const Report& report, size_t limit);
std::string to_text(const Report& report, bool color);
std::string to_json(const Report& report);

}  // namespace helmgate::diff
