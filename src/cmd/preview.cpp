// helmgate preview: the release engine without server or Redis, on a local clone or any Git URL. The
// pipeline itself lives in runners/preview_pipeline so the worker's preview jobs run the same code; this
// file only turns arguments into a PreviewRequest and the result into output and an exit status.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "cmd/args.hpp"
#include "cmd/commands.hpp"
#include "cmd/sandbox_startup.hpp"
#include "config/config.hpp"
#include "engine/sops_keys.hpp"
#include "git/repository.hpp"
#include "runners/preview_pipeline.hpp"

namespace helmgate::cmd {

namespace {

constexpr const char* kUsage = R"(usage: helmgate preview [options]

Renders the Helm releases a change touches at base and head, and prints a redacted diff.

options:
  --repo DIR|URL            repository (a local clone, a bare repo, file:// or a remote URL); default .
  --base REV                base revision; default: merge-base of head with the deploy branch
  --head REV                head revision; default HEAD
  --cluster NAME            only this cluster (repeatable)
  --source [KIND/][NAMESPACE/]NAME=PATH
                            read a Flux source from PATH in the repository instead of fetching it
                            (repeatable; like flux-local's --sources): an OCIRepository, ExternalArtifact,
                            Bucket or another GitRepository holds a Kustomization's spec.path or a chart
                            below PATH; a HelmRepository its charts as PATH/<chart>. KIND: GitRepository,
                            OCIRepository, Bucket, ExternalArtifact, HelmRepository; left out: any kind.
                            PATH: relative to the repository root, or an absolute directory inside its
                            working tree (read at base and head like any file)
  --config FILE             server configuration (clusters and their paths, kube versions, repo URL,
                            sensitive values, egress); forge settings (forges, webhook secrets, tokens)
                            are not needed here; without it charts and Git sources are fetched
                            only over https/ssh/oci from public addresses
  --format markdown|text|json   default: text on a terminal, markdown otherwise
  --max-comment-bytes N     split markdown into parts of at most N bytes (default 65536; 0 = no split)
  --concurrency N           parallel helm renders (default: number of cores)
  --stats                   print releases, helm runs and cache hits to stderr (for benchmarks)
  --no-sandbox              run helm and kubectl without the render sandbox (a warning says so); only for
                            machines that cannot create user namespaces (also: HELMGATE_SANDBOX=off)
  -h, --help                this help

environment: HELMGATE_HELM, HELMGATE_KUBECTL (binaries; else found on PATH, else the pinned copies
that scripts/bootstrap installed; `helmgate version` prints which), HELMGATE_CACHE_DIR
(mirrors, work trees and the render cache; default ~/.cache/helmgate), HELMGATE_REDACTION_KEY (keys
the redaction markers, so they are stable across runs), HELMGATE_SANDBOX=off (as --no-sandbox),
HELMGATE_DISCOVERY_CACHE=off (discover every cluster again instead of reusing the discovery cache).

helm and kubectl run in a sandbox (Linux user, mount, pid and net namespaces; limits from render: in
--config). When the kernel refuses it, preview stops and says why.

exit status: 0 no changes, 2 changes, 1 error.
)";

int fail(const std::string& msg) {
  std::fprintf(stderr, "helmgate preview: %s\n", msg.c_str());
  return 1;
}

}  // namespace

int preview(int argc, char** argv) {
  runners::PreviewRequest req;
  std::string format, config_file;
  bool stats = false;
  bool no_sandbox = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= argc) return std::nullopt;
      return std::string(argv[++i]);
    };
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg == "--stats") {
      stats = true;
      continue;
    }
    if (arg == "--no-sandbox") {
      no_sandbox = true;
      continue;
    }
    if (arg != "--repo" && arg != "--base" && arg != "--head" && arg != "--cluster" && arg != "--source" && arg != "--config" &&
        arg != "--format" && arg != "--max-comment-bytes" && arg != "--concurrency") {
      std::fprintf(stderr, "helmgate preview: unknown option '%s'\n\n%s", arg.c_str(), kUsage);
      return 1;
    }
    auto v = value();
    if (!v) return fail(arg + " needs a value");
    if (arg == "--repo") {
      req.repo = *v;
    } else if (arg == "--base") {
      req.base = *v;
    } else if (arg == "--head") {
      req.head = *v;
    } else if (arg == "--cluster") {
      req.only_clusters.push_back(*v);
    } else if (arg == "--source") {
      req.sources.push_back(*v);  // parsed and checked by the pipeline (release::parse_source_mapping)
    } else if (arg == "--config") {
      config_file = *v;
    } else if (arg == "--format") {
      format = *v;
      if (format != "markdown" && format != "text" && format != "json") {
        return fail("--format must be markdown, text or json (got '" + format + "')");
      }
    } else {
      char* end = nullptr;
      unsigned long long n = std::strtoull(v->c_str(), &end, 10);
      if (end == v->c_str() || *end != '\0') return fail(arg + " needs a number (got '" + *v + "')");
      (arg == "--concurrency" ? req.concurrency : req.max_part_bytes) = static_cast<size_t>(n);
    }
  }
  // Overlaps libgit2's set-up with reading the configuration and probing the sandbox.
  const std::jthread git_setup = git::initialize_in_background();
  const bool tty = ::isatty(1) != 0;
  if (format.empty()) format = tty ? "text" : "markdown";
  req.formats = {format == "json" ? runners::PreviewFormat::json
                 : format == "text" ? runners::PreviewFormat::text
                                    : runners::PreviewFormat::markdown};
  req.color = tty;

  config::RenderSettings render_settings;
  if (!config_file.empty()) {
    try {
      config::Config cfg = config::load_file(config_file, config::Use::preview);
      core::set_limits(cfg.limits);
      render_settings = cfg.render;
      auto repo = runners::preview_select_repo(cfg, req.repo);
      if (!repo) return fail(repo.error().message);
      req.repo_config = *repo;
      req.egress = cfg.egress;
    } catch (const std::exception& e) {
      return fail(e.what());
    }
  }
  std::string off_switch = config_file.empty() ? "" : config_file + ": render.sandbox: off";
  if (const char* e = std::getenv("HELMGATE_SANDBOX"); e != nullptr && std::string(e) == "off") {
    render_settings.sandbox = false;
    off_switch = "HELMGATE_SANDBOX=off";
  }
  if (no_sandbox) {
    render_settings.sandbox = false;
    off_switch = "--no-sandbox";
  }
  try {
    start_sandbox(render_settings, off_switch.empty() ? "--no-sandbox or HELMGATE_SANDBOX=off" : off_switch, true);
  } catch (const std::exception& e) {
    return fail(e.what());
  }

  setup_logging("warn", "text");  // warnings (an ignored cache entry) on stderr: stdout is the report
  engine::use_sops_environment(true);  // like sops: SOPS_AGE_KEY, SOPS_AGE_KEY_FILE
  auto result = runners::run_preview(req);
  if (!result) return fail(result.error().message);
  const std::string out = format == "json"   ? result->json
                          : format == "text" ? result->text
                                             : runners::preview_join_markdown(result->markdown_parts);
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  if (stats) {
    const auto& d = result->discovery_stats;
    std::fprintf(stderr,
                 "helmgate preview: releases=%zu affected=%zu renders=%zu cache_hits=%zu kustomize_runs=%zu "
                 "discovery_hits=%zu discovery_disk_reads=%zu discovery_misses=%zu discovery_uncacheable=%zu "
                 "charts_pulled=%zu helm_version_runs=%zu\n",
                 result->releases_total, result->report.releases.size(), result->render_stats.renders,
                 result->render_stats.cache_hits, result->render_stats.kustomize_runs, d.hits, d.disk_reads, d.misses,
                 d.uncacheable, result->render_stats.pulls, result->render_stats.helm_version_runs);
  }
  return result->exit_status();
}

}  // namespace helmgate::cmd
