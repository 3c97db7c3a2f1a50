#pragma once
// The preview job's verdict per cluster: what the render diff and the validation found, as the commit
// status of each cluster says it and as the job's result counts it.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/job.hpp"
#include "diff/report.hpp"
#include "engine/validate.hpp"

namespace helmgate::runners {

struct ClusterCounts {
  size_t releases = 0, changed = 0, errors = 0;  // from the render diff
  size_t unreadable = 0;  // manifests of the cluster that could not be read at head (a malformed file)
  size_t findings = 0, finding_errors = 0, drifted = 0;
  bool validated = false;
  bool offline_only = false;     // no preview credential: no dry-run
  std::string validation_error;  // the cluster could not be reached or its kubeconfig read
};

// The render diff's counts for each of the clusters. A file that cannot be read fails the sync of its path
// in Flux: the cluster's status is a failure even when no affected release comes from that file (an error
// for no cluster in particular counts for all).
std::map<std::string, ClusterCounts> count_clusters(const diff::Report& report, const std::vector<std::string>& clusters);

// Adds a validation's counts.
void count_validation(ClusterCounts& cc, const engine::ClusterValidation& v);

// The commit status: failed or not, and the one-line description.
bool failed(const ClusterCounts& cc);
std::string status_description(const ClusterCounts& cc);

// The validation sections of the comment under their heading ("" sections: none).
void add_validation_heading(std::vector<std::string>& sections);
std::string not_validated_section(const std::string& cluster, const std::string& why);

// The job's result: repository, PR, revisions, timings, the comment, and the counts per cluster.
struct PreviewSummary {
  const core::JobSpec& spec;
  const diff::Report& report;
  int64_t render_ms = 0, comment_ms = 0;
  std::vector<int64_t> comment_ids;
  std::string comment_url;
  const std::map<std::string, ClusterCounts>& counts;
};
std::string to_json(const PreviewSummary& s);

}  // namespace helmgate::runners
