#include "render/renderer.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

#include "core/files.hpp"
#include "core/names.hpp"
#include "core/private_files.hpp"
#include "core/redact.hpp"
#include "process/process.hpp"
#include "render/helm_version.hpp"

namespace fs = std::filesystem;

namespace helmgate::render {

namespace {

std::string unique_name(std::string_view prefix) {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t seed = std::random_device{}();
  return std::string(prefix) + std::to_string(::getpid()) + "-" + std::to_string(seed % 100000) + "-" +
         std::to_string(counter++);
}

// Values and manifests may hold Secret data: 0600 files in 0700 directories, whatever the umask.
bool write_file(const fs::path& p, std::string_view data) { return core::write_private_file(p.string(), data); }

// Cache entries on disk end with a marker, so a torn write is never taken for content: written under a
// temporary name and renamed into place, read back only when the marker is there (returned without it).
void write_entry(const fs::path& dir, const std::string& name, const std::string& text, std::string_view end) {
  core::ensure_private_dir(dir.string());
  fs::path tmp = dir / unique_name(".tmp-");
  if (write_file(tmp, text + std::string(end))) {
    std::error_code ec;
    fs::rename(tmp, dir / name, ec);
  }
}

std::optional<std::string> read_entry(const fs::path& p, std::string_view end) {
  auto text = core::read_file(p.string());
  if (!text || !text->ends_with(end)) return std::nullopt;
  text->resize(text->size() - end.size());
  return text;
}

// The markers of the two kinds of entries, as earlier releases wrote them.
constexpr std::string_view kRenderEnd = "\n#helmgate-end\n";
constexpr std::string_view kVerdictEnd = "#helmgate-end\n";

// The last non-empty lines of a child's stderr: enough to say why, short enough for a report.
std::string tail_lines(const std::string& s, size_t max_lines = 6) {
  std::vector<std::string> lines;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) {
    if (!l.empty()) lines.push_back(l);
  }
  size_t from = lines.size() > max_lines ? lines.size() - max_lines : 0;
  std::string out;
  for (size_t i = from; i < lines.size(); ++i) {
    if (!out.empty()) out += '\n';
    out += lines[i];
  }
  return out;
}

bool is_exact_version(std::string_view v) {
  return !v.empty() && v.find_first_of("<>=~^*xX |,") == std::string_view::npos;
}

// RAII temp directory.
struct TempDir {
  fs::path path;
  explicit TempDir(fs::path p) : path(std::move(p)) { core::ensure_private_dir(path.string()); }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace

Renderer::Renderer(Options options) : opt_(std::move(options)) {
  core::ensure_private_dir(opt_.work_dir);
  // helm's homes exist before the first child: the sandbox binds them (missing paths are not bound).
  for (const char* sub : {"home", "home/cache", "home/config", "home/data"}) {
    core::ensure_private_dir((fs::path(opt_.work_dir) / sub).string());
  }
  if (!opt_.cache_dir.empty()) core::ensure_private_dir(opt_.cache_dir);
  if (opt_.concurrency == 0) opt_.concurrency = 1;
}

Renderer::~Renderer() = default;

std::string Renderer::home_dir() const { return (fs::path(opt_.work_dir) / "home").string(); }

std::string Renderer::kustomize_root(const std::string& dir) const {
  // A kustomization may name bases anywhere in its checkout (../../base): the sandbox shows the whole
  // materialized tree (<work_dir>/trees/<id>) that holds dir, and nothing of the other trees.
  fs::path trees = (fs::path(opt_.work_dir) / "trees").lexically_normal();
  fs::path d = fs::path(dir).lexically_normal();
  auto rel = d.lexically_relative(trees);
  if (!rel.empty() && *rel.begin() != ".." && *rel.begin() != ".") return (trees / *rel.begin()).string();
  return d.string();
}

std::vector<std::string> Renderer::child_env() const {
  // Nothing from our own environment: tokens and kubeconfigs must not reach chart tooling.
  std::string home = (fs::path(opt_.work_dir) / "home").string();
  return {"HOME=" + home,
          "PATH=/usr/local/bin:/usr/bin:/bin",
          "HELM_CACHE_HOME=" + home + "/cache",
          "HELM_CONFIG_HOME=" + home + "/config",
          "HELM_DATA_HOME=" + home + "/data",
          "KUBECONFIG=/dev/null",
          "LANG=C.UTF-8",
          // helm is a short-lived Go process: a less eager collector saves a fifth of each render's CPU
          // (in the sandbox, GOMEMLIMIT still makes it collect hard near the memory limit).
          "GOGC=400"};
}

const std::string& Renderer::helm_version() {
  std::lock_guard lk(mu_);
  if (helm_version_.empty()) {
    const std::string identity = helm_identity(opt_.helm);
    if (auto v = remembered_helm_version(opt_.work_dir, identity)) {
      helm_version_ = *v;
      return helm_version_;
    }
    ++stats_.helm_version_runs;
    process::ProcessOptions po;
    po.env = child_env();
    po.timeout = std::chrono::seconds(30);
    po.sandboxed = true;
    po.sandbox.read_only = {home_dir()};
    auto r = process::run_process({opt_.helm, "version", "--template", "{{.Version}}"}, po);
    helm_version_ = r.ok() && r->exit_code == 0 && !r->out.empty() ? r->out : "unknown";
    if (helm_version_ != "unknown") remember_helm_version(opt_.work_dir, identity, helm_version_);
  }
  return helm_version_;
}

std::string Renderer::lookup(const std::string& key) {
  {
    std::lock_guard lk(mu_);
    if (auto it = memory_.find(key); it != memory_.end()) return it->second;
  }
  if (opt_.cache_dir.empty()) return {};
  auto m = read_entry(fs::path(opt_.cache_dir) / key.substr(0, 2) / key, kRenderEnd);
  if (!m) return {};
  std::lock_guard lk(mu_);
  memory_.emplace(key, *m);
  return *m;
}

void Renderer::store(const std::string& key, const std::string& manifest) {
  {
    std::lock_guard lk(mu_);
    memory_[key] = manifest;
  }
  if (opt_.cache_dir.empty()) return;
  write_entry(fs::path(opt_.cache_dir) / key.substr(0, 2), key, manifest, kRenderEnd);
}

std::vector<std::string> helm_pull_arguments(const ChartSource& chart, const std::string& destination) {
  // Values from Git never reach argv as options: flags as --flag=value, the chart after "--".
  std::vector<std::string> argv = {"pull"};
  const bool oci = chart.origin == ChartOrigin::oci;
  if (!oci) argv.push_back("--repo=" + chart.url);
  // A digest names the content: helm resolves it in the registry (a --version would list tags instead).
  if (!chart.version.empty() && !(oci && !chart.digest.empty())) argv.push_back("--version=" + chart.version);
  argv.push_back("--destination=" + destination);
  argv.push_back("--");
  argv.push_back(oci ? (chart.digest.empty() ? chart.url : chart.url + "@" + chart.digest) : chart.chart);
  return argv;
}

std::string Renderer::lookup_verdict(const std::string& key) {
  {
    std::lock_guard lk(mu_);
    if (auto it = verdicts_.find(key); it != verdicts_.end()) return it->second;
  }
  if (opt_.cache_dir.empty() || key.empty()) return {};
  auto v = read_entry(fs::path(opt_.cache_dir) / "volatile" / key, kVerdictEnd);
  if (!v) return {};
  std::lock_guard lk(mu_);
  verdicts_.emplace(key, *v);
  return *v;
}

void Renderer::store_verdict(const std::string& key, const std::string& text) {
  if (key.empty() || text.empty()) return;
  {
    std::lock_guard lk(mu_);
    verdicts_[key] = text;
  }
  if (opt_.cache_dir.empty()) return;
  write_entry(fs::path(opt_.cache_dir) / "volatile", key, text, kVerdictEnd);
}

namespace {

// What names a pull: the repository, chart and version (an OCI chart: its URL and digest or version).
std::string pull_id(const ChartSource& chart) {
  std::string id = chart.origin == ChartOrigin::oci
                       ? chart.url + "\n" + (chart.digest.empty() ? chart.version : "@" + chart.digest)
                       : chart.url + "\n" + chart.chart + "\n" + chart.version;
  return core::sha256_hex(id).substr(0, 32);
}

}  // namespace

std::optional<Renderer::PulledChart> Renderer::pulled_archive(const ChartSource& chart) const {
  std::lock_guard lk(mu_);
  auto it = pulled_.find(pull_id(chart));
  if (it == pulled_.end()) return std::nullopt;
  return it->second;
}

core::Result<Renderer::PulledChart> Renderer::pull(const ChartSource& chart, const core::EgressPolicy& egress) {
  const bool oci = chart.origin == ChartOrigin::oci;
  if (auto ok = core::check_egress(egress, oci ? core::FetchKind::oci : core::FetchKind::chart_repository, chart.url);
      !ok) {
    return core::Error(ok.error().code, "chart " + chart.shown + ": " + ok.error().message);
  }
  const std::string id_hash = pull_id(chart);
  std::shared_ptr<std::mutex> lock;
  {
    std::lock_guard lk(mu_);
    if (auto it = pulled_.find(id_hash); it != pulled_.end()) return it->second;
    auto& l = pull_locks_[id_hash];
    if (!l) l = std::make_shared<std::mutex>();
    lock = l;
  }
  std::lock_guard pull_lk(*lock);
  {
    std::lock_guard lk(mu_);
    if (auto it = pulled_.find(id_hash); it != pulled_.end()) return it->second;
  }
  fs::path dest = fs::path(opt_.work_dir) / "charts" / id_hash;
  auto find_tgz = [&]() -> std::string {
    std::error_code ec;
    if (!fs::is_directory(dest, ec)) return {};
    for (const auto& e : fs::directory_iterator(dest, ec)) {
      if (e.path().extension() == ".tgz") return e.path().string();
    }
    return {};
  };
  std::string tgz;
  // An exact version never changes content, so an earlier pull is reused; a range is resolved again.
  if (is_exact_version(chart.version) || (oci && !chart.digest.empty())) tgz = find_tgz();
  if (tgz.empty()) {
    std::error_code ec;
    fs::remove_all(dest, ec);
    core::ensure_private_dir(dest.string());
    std::vector<std::string> argv = {opt_.helm};
    for (auto& a : helm_pull_arguments(chart, dest.string())) argv.push_back(std::move(a));
    std::string shown = chart.origin == ChartOrigin::oci ? chart.url + (chart.digest.empty() ? "" : "@" + chart.digest)
                                                         : "chart '" + chart.chart + "' from " + core::redact_url(chart.url);
    process::ProcessOptions po;
    po.env = child_env();
    po.timeout = opt_.timeout;
    // A separate step from rendering: network (the egress policy decides where), but only helm's homes and
    // the destination to write to.
    po.sandboxed = true;
    po.sandbox.network = true;
    po.sandbox.writable = {home_dir(), dest.string()};
    {
      std::lock_guard lk(mu_);
      ++stats_.pulls;
    }
    auto r = process::run_process(argv, po);
    if (!r) return r.error();
    if (r->timed_out || r->exit_code != 0) {
      return core::Error(core::errc::unavailable,
                         "fetching " + shown + (chart.version.empty() || !chart.digest.empty() ? "" : " version " + chart.version) +
                             " failed" + (r->timed_out ? " (timed out)" : "") + ": " + tail_lines(r->err, 3) +
                             " (the chart repository must be reachable from the machine that renders)");
    }
    tgz = find_tgz();
    if (tgz.empty()) return core::Error(core::errc::internal, "helm pull of " + shown + " produced no archive");
  }
  PulledChart pc{tgz, core::sha256_hex(core::read_file(tgz).value_or(""))};
  std::lock_guard lk(mu_);
  pulled_[id_hash] = pc;
  return pc;
}

core::Result<std::string> Renderer::run_helm_template(const RenderRequest& req, const std::string& chart_ref,
                                                      const std::string& version) {
  TempDir tmp(fs::path(opt_.work_dir) / "tmp" / unique_name("render-"));
  fs::path values = tmp.path / "values.json";  // JSON is YAML: helm reads it with its types intact
  if (!write_file(values, req.values_json)) {
    return core::Error(core::errc::internal, "writing values file " + values.string());
  }
  std::string kube = req.kube_version.empty() ? opt_.kube_version : req.kube_version;
  // Values from Git never reach argv as options: flags as --flag=value, positionals after "--".
  std::vector<std::string> argv = {opt_.helm, "template", "--namespace=" + req.namespace_, "--kube-version=" + kube,
                                   "--include-crds", "--skip-tests", "--values=" + values.string()};
  if (!version.empty()) argv.push_back("--version=" + version);
  if (req.skip_schema_validation) argv.emplace_back("--skip-schema-validation");
  argv.insert(argv.end(), {"--", req.release_name, chart_ref});
  process::ProcessOptions po;
  po.env = child_env();
  po.timeout = opt_.timeout;
  po.max_stdout = opt_.max_output;
  po.cwd = tmp.path.string();
  // No network; the chart (directory or pulled archive) read-only, the scratch dir with the values writable.
  po.sandboxed = true;
  po.sandbox.read_only = {chart_ref, home_dir()};
  po.sandbox.writable = {tmp.path.string()};
  auto r = process::run_process(argv, po);
  if (!r) return r.error();
  std::string who = "helm template " + req.release_name + " (chart " + req.chart.shown + ")";
  if (r->timed_out) {
    return core::Error(core::errc::timeout, who + " timed out after " +
                                                std::to_string(opt_.timeout.count() / 1000) +
                                                " s (a chart that loops or is very large)");
  }
  if (r->stdout_truncated) {
    return core::Error(core::errc::payload_too_large,
                       who + " printed more than " + std::to_string(opt_.max_output) + " bytes; refusing");
  }
  if (!r->limit.empty()) {
    return core::Error(core::errc::payload_too_large,
                       who + " exceeded " + r->limit_text + "; the chart or its values make helm use too much");
  }
  if (r->exit_code != 0) return core::Error(core::errc::bad_request, who + " failed: " + tail_lines(r->err));
  std::string manifest = std::move(r->out);
  if (!req.post_render_kustomization.empty()) {
    fs::path pr = tmp.path / "post-render";
    if (!write_file(pr / "resources.yaml", manifest) ||
        !write_file(pr / "kustomization.yaml", "resources:\n- resources.yaml\n" + req.post_render_kustomization)) {
      return core::Error(core::errc::internal, "writing post-render kustomization in " + pr.string());
    }
    auto k = kustomize_build(pr.string());
    if (!k) return core::Error(k.error().code, who + ": postRenderers kustomize failed: " + k.error().message);
    manifest = std::move(k.value());
  }
  return manifest;
}

core::Result<RenderResult> Renderer::render(const RenderRequest& req) {
  auto start = std::chrono::steady_clock::now();
  // Discovery refuses such names already (with file and line); this is the second line.
  if (auto why = core::names::helm_release_name(req.release_name); !why.empty()) {
    return core::Error(core::errc::bad_request,
                       "refusing to render: release name " + core::names::shown(req.release_name) + " " + why);
  }
  if (auto why = req.namespace_.empty() ? std::string() : core::names::namespace_name(req.namespace_); !why.empty()) {
    return core::Error(core::errc::bad_request,
                       "refusing to render: namespace " + core::names::shown(req.namespace_) + " " + why);
  }
  std::string chart_id, chart_ref, version;
  switch (req.chart.origin) {
    case ChartOrigin::local_dir: {
      if (auto ok = check_chart_dir(req.chart.dir, req.chart.shown); !ok) return ok.error();
      chart_id = "dir:" + (req.chart.content_id.empty() ? hash_dir(req.chart.dir) : req.chart.content_id);
      {
        // The sandbox shows only the chart's own directory: a path through others ("repo/../charts/x")
        // would not resolve inside it, so helm gets the absolute, lexically normal path that is mounted.
        std::error_code ec;
        chart_ref = fs::absolute(req.chart.dir, ec).lexically_normal().string();
        if (ec) chart_ref = req.chart.dir;
      }
      break;
    }
    case ChartOrigin::helm_repository:
    case ChartOrigin::oci: {
      auto p = pull(req.chart, req.egress);
      if (!p) return p.error();
      chart_id = "archive:" + p->digest;
      chart_ref = p->path;
      break;
    }
  }
  std::string kube = req.kube_version.empty() ? opt_.kube_version : req.kube_version;
  std::string material = "helmgate-render-v1\n" + chart_id + "\n" + req.release_name + "\n" + req.namespace_ +
                         "\n" + kube + "\n" + helm_version() + "\n" + core::sha256_hex(req.values_json) + "\n" +
                         core::sha256_hex(req.post_render_kustomization) +
                         (req.skip_schema_validation ? "\nskip-schema-validation" : "");
  RenderResult res;
  res.key = core::sha256_hex(material);
  std::string cached = req.fresh ? std::string() : lookup(res.key);
  if (!cached.empty()) {
    std::lock_guard lk(mu_);
    ++stats_.cache_hits;
    res.manifest = std::move(cached);
    res.cache_hit = true;
  } else {
    auto m = run_helm_template(req, chart_ref, version);
    if (!m) return m.error();
    {
      std::lock_guard lk(mu_);
      ++stats_.renders;
    }
    // An empty render is valid; store a comment so the cache can tell it from a miss.
    res.manifest = m->empty() ? "# (no resources)\n" : std::move(m.value());
    if (!req.fresh) store(res.key, res.manifest);
  }
  res.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  return res;
}

std::vector<core::Result<RenderResult>> Renderer::render_all(const std::vector<RenderRequest>& reqs) {
  std::vector<std::optional<core::Result<RenderResult>>> slots(reqs.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < reqs.size(); i = next++) slots[i].emplace(render(reqs[i]));
  };
  size_t n = std::min(opt_.concurrency, reqs.size());
  std::vector<std::thread> threads;
  for (size_t i = 1; i < n; ++i) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  std::vector<core::Result<RenderResult>> out;
  out.reserve(reqs.size());
  for (auto& s : slots) out.push_back(std::move(*s));
  return out;
}

core::Result<std::string> Renderer::kustomize_build(const std::string& dir, const std::string& cache_key) {
  if (!cache_key.empty()) {
    std::lock_guard lk(mu_);
    if (auto it = kustomize_memory_.find(cache_key); it != kustomize_memory_.end()) return it->second;
  }
  if (opt_.kubectl.empty()) {
    return core::Error(core::errc::invalid_config, "kustomize build of " + dir + " needs kubectl (set its path)");
  }
  process::ProcessOptions po;
  po.env = child_env();
  po.timeout = opt_.timeout;
  po.max_stdout = opt_.max_output;
  po.sandboxed = true;
  po.sandbox.read_only = {kustomize_root(dir), home_dir()};
  auto r = process::run_process({opt_.kubectl, "kustomize", "--", dir}, po);
  if (!r) return r.error();
  {
    std::lock_guard lk(mu_);
    ++stats_.kustomize_runs;
  }
  if (r->timed_out) return core::Error(core::errc::timeout, "kustomize build " + dir + " timed out");
  if (r->stdout_truncated) return core::Error(core::errc::payload_too_large, "kustomize build " + dir + " too large");
  if (!r->limit.empty()) return core::Error(core::errc::payload_too_large, "kustomize build " + dir + " exceeded " + r->limit_text);
  if (r->exit_code != 0) return core::Error(core::errc::bad_request, tail_lines(r->err));
  if (!cache_key.empty()) {
    std::lock_guard lk(mu_);
    kustomize_memory_[cache_key] = r->out;
  }
  return std::move(r->out);
}

Renderer::Stats Renderer::stats() const {
  std::lock_guard lk(mu_);
  return stats_;
}

}  // namespace helmgate::render
