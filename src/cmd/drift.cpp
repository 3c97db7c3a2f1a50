// helmgate drift: one drift scan of the configured clusters now, printed (a table or JSON).
#include <algorithm>
#include <cstdio>
#include <string>

#include "cmd/args.hpp"
#include "cmd/commands.hpp"
#include "cmd/sandbox_startup.hpp"
#include "config/config.hpp"
#include "core/json.hpp"
#include "engine/sops_keys.hpp"
#include "runners/drift_fleet.hpp"
#include "runners/drift_runner.hpp"
#include "runners/drift_schedule.hpp"
#include "runners/tools.hpp"

namespace helmgate::cmd {

namespace {
constexpr const char* kDriftHelp = R"(usage: helmgate drift --config FILE [--cluster NAME] [--json] [--render-jobs N]

Scans the configured clusters now, as the worker's drift schedule does (repos[].clusters[] with drift
enabled), all of them together (a release several clusters declare alike is rendered once): the deploy
branch's head rendered, compared with Helm's records and the live objects through
the cluster's preview credential (read and dry-run only). Prints a row per release (release, state, what
drifted) or, with --json, the drift and inventory of each cluster. Stores nothing, enqueues nothing.

options:
  --config FILE   server configuration (YAML)
  --cluster NAME  only this cluster
  --json          {"clusters":[{"drift":{..},"inventory":{..}}]}
  --render-jobs N helm template processes at once (default: twice the cores: each helm run waits on
                  its start and its chart reads, so as many as cores leave them partly idle)
  --stats         what the scan cost, on stderr: renders (distinct, helm runs, cached) and per cluster
                  the requests (GETs, list pages, dry-runs, connections)
  --log-level L   trace, debug, info, warn, error (default: warn)

exit status: 0 every release in sync, 2 drift: something needs attention (drifted, missing, failed,
extra, unknown, or a cluster that could not be scanned), 1 error (usage and configuration errors too),
as `helmgate preview`.
)";

std::string what_drifted(const engine::ReleaseDrift& r) {
  std::string out;
  for (const auto& res : r.resources) out += (out.empty() ? "" : ", ") + res.object + " (" + res.change + ")";
  if (out.empty() && !r.reasons.empty()) out = r.reasons.front();
  if (out.empty()) out = r.error;
  return out;
}
}  // namespace

int drift(int argc, char** argv) {
  return run_command("drift", [&]() -> int {
    Args args(argc, argv, {"config", "cluster", "log-level", "render-jobs"}, {"json", "stats"});
    if (args.help()) {
      std::fputs(kDriftHelp, stdout);
      return 0;
    }
    if (!args.has("config")) throw UsageError("--config FILE is required");
    config::Config cfg = config::load_file(args.get("config"), config::Use::preview);
    core::set_limits(cfg.limits);
    config::resolve_secrets(cfg, {.webhook_secrets = false, .api_token = false, .forge_tokens = false});
    setup_logging(args.get("log-level", "warn"), cfg.log_format);
    start_sandbox(cfg.render, cfg.source + ": render.sandbox: off", true);
    engine::use_sops_environment(true);  // like sops: SOPS_AGE_KEY, SOPS_AGE_KEY_FILE
    const std::string only = args.get("cluster");
    auto chosen = runners::drift_clusters(cfg);
    std::erase_if(chosen, [&](const auto& p) { return !only.empty() && p.second->name != only; });
    if (chosen.empty()) {
      throw UsageError(only.empty() ? "no cluster with drift enabled in " + cfg.source
                                    : "no cluster with drift enabled by that name in " + cfg.source);
    }
    auto ws = runners::runner_workspace({}, {}, {}, 2);
    // All chosen clusters in one scan: each distinct render once, the clusters compared in parallel.
    runners::RenderCounts renders;
    runners::FleetScanOptions scan_options;
    scan_options.render_concurrency = static_cast<size_t>(args.get_int("render-jobs", 0, 0, 64));
    auto scans = runners::scan_clusters(chosen, *ws, scan_options, &renders);
    if (args.has("stats")) std::fputs(runners::scan_costs(renders, scans).c_str(), stderr);
    bool attention = false;
    std::string out = args.has("json") ? "{\"clusters\":[" : "";
    const char* sep = "";
    for (size_t i = 0; i < chosen.size(); ++i) {
      const auto* cluster = chosen[i].second;
      const auto& scan = scans[i];
      attention = attention || scan.drift.needs_attention() || !scan.drift.error.empty();
      if (args.has("json")) {
        out += std::string(sep) + "{\"cluster\":" + core::json::quote(cluster->name) + ",\"commit\":" +
               core::json::quote(scan.commit) + ",\"drift\":" + engine::to_json(scan.drift) +
               ",\"inventory\":" + engine::to_json(scan.inventory) + "}";
        sep = ",";
        continue;
      }
      out += "cluster " + cluster->name + (scan.commit.empty() ? "" : " at " + scan.commit.substr(0, 12)) + ": " +
             (scan.inventory.reachable ? "reachable, " + scan.inventory.server_version : "unreachable") + "\n";
      if (!scan.drift.error.empty()) out += "  error: " + scan.drift.error + "\n";
      char line[512];
      std::snprintf(line, sizeof line, "  %-40s %-8s %s\n", "RELEASE", "STATE", "WHAT");
      out += line;
      for (const auto& r : scan.drift.releases) {
        std::snprintf(line, sizeof line, "  %-40s %-8s ", (r.namespace_ + "/" + r.release_name).c_str(),
                      std::string(engine::to_string(r.state)).c_str());
        out += line + what_drifted(r) + "\n";
      }
      out += "  " + runners::scan_summary(scan) + "\n";
    }
    if (args.has("json")) out += "]}\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
    return attention ? 2 : 0;
  }, /*usage_status=*/1);
}

}  // namespace helmgate::cmd
