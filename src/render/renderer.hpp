#pragma once
// `helm template` behind a content-addressed cache and a pool of concurrent child processes.
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/egress.hpp"
#include "core/error.hpp"
#include "render/chart_dir.hpp"  // check_chart_dir, hash_dir

namespace helmgate::render {

enum class ChartOrigin {
  local_dir,        // a directory on disk (materialized from Git)
  helm_repository,  // an HTTP(S) chart repository: url + chart + version
  oci,              // oci://registry/path (chart name is the last path element) + version/tag
};

struct ChartSource {
  ChartOrigin origin = ChartOrigin::local_dir;
  std::string dir;         // local_dir: where the chart files are
  std::string content_id;  // local_dir: a content hash (Git tree id) of the chart; computed when empty
  std::string shown;       // how to name the chart in errors ("charts/podinfo@abc123")
  std::string url;         // helm_repository / oci
  std::string chart;       // helm_repository: chart name
  std::string version;     // version or constraint; empty = latest
  std::string digest;      // oci: "sha256:…"; pulled as url@digest and wins over version (as in Flux)
};

// helm pull's arguments after the binary: flags as --flag=value, then "--" and the chart. An OCI chart
// with a digest is pulled as oci://host/repo/chart@sha256:… without --version.
std::vector<std::string> helm_pull_arguments(const ChartSource& chart, const std::string& destination);

struct RenderRequest {
  ChartSource chart;
  std::string release_name;
  std::string namespace_;
  std::string values_json;  // merged values, written to a file passed with -f
  std::string kube_version;  // empty: Options::kube_version
  // Flux postRenderers: kustomization.yaml fields (patches, images, ...) applied to the rendered output.
  std::string post_render_kustomization;
  // helm's --skip-schema-validation (Flux's spec.install/upgrade.disableSchemaValidation).
  bool skip_schema_validation = false;
  // Which chart repositories and OCI registries a pull may reach (checked before every pull, also when
  // the chart was pulled before under another policy).
  core::EgressPolicy egress;
  // Render even when the cache holds this request, and do not store the result: a second render of
  // identical inputs, to find what changes on every render (diff/volatile.hpp).
  bool fresh = false;
};

struct RenderResult {
  std::string manifest;
  std::string key;  // the cache key
  bool cache_hit = false;
  std::chrono::milliseconds elapsed{0};
};

struct Options {
  std::string helm;      // path to the helm binary
  std::string kubectl;   // path to kubectl (for kustomize); may be empty when not needed
  std::string work_dir;  // temp files, helm's HOME, pulled charts
  std::string cache_dir;  // on-disk render cache; empty: memory only
  size_t concurrency = 2;
  std::chrono::milliseconds timeout{120000};
  size_t max_output = 64u << 20;
  std::string kube_version = "1.33.0";
};

class Renderer {
 public:
  explicit Renderer(Options options);
  ~Renderer();
  Renderer(const Renderer&) = delete;
  Renderer& operator=(const Renderer&) = delete;

  core::Result<RenderResult> render(const RenderRequest& req);
  // Renders every request on up to Options::concurrency child processes; results keep the order.
  std::vector<core::Result<RenderResult>> render_all(const std::vector<RenderRequest>& reqs);

  // `kubectl kustomize dir`, cached in memory by cache_key when it is not empty.
  core::Result<std::string> kustomize_build(const std::string& dir, const std::string& cache_key = {});

  // "v4.1.4"; part of every cache key. Remembered under work_dir by the binary's path, size and mtime
  // (render/helm_version.hpp), so `helm version` runs once per binary, not once per process.
  const std::string& helm_version();
  // Whether helm_version() would answer at once (asked before in this process).
  bool helm_version_known() const {
    std::lock_guard lk(mu_);
    return !helm_version_.empty();
  }

  // The volatility verdict of a render key (text the caller defines), kept like the renders: in memory,
  // and under <cache_dir>/volatile/ when there is a cache directory. Empty: not known.
  // The archive this renderer pulled for a chart from a repository or registry (its path, and the sha256
  // of its bytes: a version range may pull other content to the same path later); nullopt when none.
  struct PulledChart {
    std::string path;    // .tgz
    std::string digest;  // sha256 of the archive
  };
  std::optional<PulledChart> pulled_archive(const ChartSource& chart) const;
  std::string lookup_verdict(const std::string& key);
  void store_verdict(const std::string& key, const std::string& text);

  struct Stats {
    size_t renders = 0;     // helm template runs
    size_t cache_hits = 0;  // memory or disk
    size_t kustomize_runs = 0;
    size_t pulls = 0;              // helm pull runs (a chart already on disk is not pulled again)
    size_t helm_version_runs = 0;  // `helm version` runs
  };
  Stats stats() const;

 private:
  core::Result<PulledChart> pull(const ChartSource& chart, const core::EgressPolicy& egress);
  core::Result<std::string> run_helm_template(const RenderRequest& req, const std::string& chart_ref,
                                              const std::string& version);
  std::vector<std::string> child_env() const;
  std::string home_dir() const;
  std::string kustomize_root(const std::string& dir) const;
  std::string lookup(const std::string& key);
  void store(const std::string& key, const std::string& manifest);

  Options opt_;
  std::string helm_version_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::string> memory_;
  std::unordered_map<std::string, std::string> kustomize_memory_;
  std::unordered_map<std::string, std::string> verdicts_;
  std::map<std::string, std::shared_ptr<std::mutex>> pull_locks_;
  std::map<std::string, PulledChart> pulled_;
  Stats stats_;
};

}  // namespace helmgate::render
