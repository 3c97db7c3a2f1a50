#pragma once
// The preview pipeline: the engine's change (discovered at base and head, what it touches), its render
// diff, the redactor of the change, and the reports in the formats asked for. `helmgate preview` and the
// worker's preview job runner both call run_preview(); neither re-implements a step.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/error.hpp"
#include "diff/normalize.hpp"
#include "diff/report.hpp"
#include "engine/head_render.hpp"
#include "engine/policy.hpp"
#include "render/renderer.hpp"
#include "runners/preview_comment.hpp"
#include "runners/tools.hpp"

namespace helmgate::engine {
struct Workspace;
}  // namespace helmgate::engine

namespace helmgate::runners {

enum class PreviewFormat { markdown, text, json };

struct PreviewRequest {
  std::string repo = ".";     // a local clone, a bare repository, file:// or a remote URL
  std::string base;           // revision; empty: merge-base of head with the deploy branch
  std::string head = "HEAD";  // revision
  std::vector<std::string> only_clusters;  // empty: every cluster
  // The configured repository (clusters and their paths, kube versions, URL, deploy branch, sensitive
  // values). Without it each directory under clusters/ is a cluster, or the root is one named "default".
  std::optional<config::Repo> repo_config;
  // What URLs from the repository may reach when repo_config is absent (repo_config->egress otherwise).
  core::EgressPolicy egress;
  // Sources mapped to paths of the repository ("[KIND/][NAMESPACE/]NAME=PATH", `preview --source`); they
  // win over repo_config->sources naming the same source.
  std::vector<std::string> sources;
  std::vector<PreviewFormat> formats = {PreviewFormat::markdown};
  size_t max_part_bytes = 65536;  // markdown parts; 0 = one part
  bool color = false;             // ANSI colours in the text report
  size_t concurrency = 0;         // parallel helm renders; 0 = number of cores
  std::string helm;               // binaries; empty: $HELMGATE_HELM / $HELMGATE_KUBECTL, then PATH
  std::string kubectl;
  std::string cache_dir;  // mirrors/, work/ and renders/ go below; empty: default_cache_dir()
  // The worker's workspace (renderer, mirrors: their caches outlive a job); null: one per call, from
  // cache_dir, helm, kubectl and concurrency.
  engine::Workspace* workspace = nullptr;
  // Keep every affected release's head rendering (PreviewResult::head_manifests) for validation.
  bool keep_head_manifests = false;
};

// One affected release as rendered at head: what validation dry-runs against its cluster.
using HeadManifest = engine::HeadRender;

struct PreviewResult {
  diff::Report report;                     // affected releases, their diffs and errors
  std::vector<std::string> markdown_parts;  // when markdown was asked for; each part fits max_part_bytes
  std::string text;                         // when text was asked for
  std::string json;                         // when json was asked for
  render::Renderer::Stats render_stats;     // helm runs and cache hits of this call
  // Clusters taken from the discovery cache (at base and at head), discovered, and not cacheable.
  struct DiscoveryStats {
    size_t hits = 0, disk_reads = 0, misses = 0, uncacheable = 0;
  } discovery_stats;
  size_t releases_total = 0;                // discovered at head (affected + unaffected)
  std::vector<HeadManifest> head_manifests;  // when keep_head_manifests; releases that rendered at head
  // Every Secret value and sensitive value the preview met: scrub anything else built from the
  // manifests (validation findings, live diffs) with it before it leaves the process.
  diff::Redactor redactor;
  // Ownership (repo_config given): the rules read from the deploy branch, the changed paths and the affected
  // releases at head with their placement problems; the runner decides the policy with the forge's reviews.
  // Head renders act as release_identity() of these rules.
  engine::PolicyFacts policy;
  // 0 no changes, 2 changes, 1 errors (like `helm diff --detailed-exitcode`).
  int exit_status() const;
};

// Failures that leave nothing to report (repository unreadable, revision unknown, helm missing) are
// errors; anything tied to a release or a file (render failure, invalid YAML) is in the report.
core::Result<PreviewResult> run_preview(const PreviewRequest& request);

// The entry of a configuration that describes `repo` (by URL, any spelling; or the only one). nullopt
// when the configuration has no repositories; an error when it has several and none matches.
core::Result<std::optional<config::Repo>> preview_select_repo(const config::Config& cfg, const std::string& repo);

}  // namespace helmgate::runners
