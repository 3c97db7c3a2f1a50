// helmgate worker: runs jobs from the shared Redis until SIGTERM/SIGINT.
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>

#include "cmd/args.hpp"
#include "cmd/commands.hpp"
#include "cmd/runners.hpp"
#include "cmd/sandbox_startup.hpp"
#include "config/config.hpp"
#include "runners/drift_schedule.hpp"
#include "runners/tools.hpp"

namespace helmgate::cmd {

namespace {
constexpr const char* kWorkerHelp = R"(usage: helmgate worker --config FILE [options]

Fetches jobs from the shared Redis, runs them and records the outcome. Any number of workers on
any number of hosts may share one Redis; a killed worker's jobs are requeued when its lease expires.

options:
  --config FILE        server configuration (YAML)
  --concurrency N      jobs run at once by this process (default: `workers:` or 1)
  --log-level LEVEL    trace, debug, info, warn, error
  --no-drift           do not run the drift schedule in this process

Drift schedule: every configured cluster with drift enabled (repos[].clusters[].drift) is scanned
once per interval by one of the workers sharing the Redis (a lease per cluster): drift and inventory
stored in Redis, signals sent, remediation jobs enqueued when drift.remediate is on.

SIGTERM/SIGINT: stop fetching, let running jobs and the drift scan under way finish, exit.
)";
}  // namespace

int worker(int argc, char** argv) {
  return run_command("worker", [&]() -> int {
    Args args(argc, argv, {"config", "concurrency", "log-level"}, {"no-drift"});
    if (args.help()) {
      std::fputs(kWorkerHelp, stdout);
      return 0;
    }
    if (!args.has("config")) throw UsageError("--config FILE is required");
    config::Config cfg = config::load_file(args.get("config"));
    core::set_limits(cfg.limits);
    config::resolve_secrets(cfg, {.webhook_secrets = false, .api_token = false, .forge_tokens = false});
    setup_logging(args.get("log-level", cfg.log_level), cfg.log_format);
    auto url = queue::RedisUrl::parse(cfg.redis_url);
    if (!url) throw config::ConfigError(cfg.source + ": redis.url: " + url.error().message);
    // Fails closed: no job runs helm unless the sandbox works (or the configuration turned it off).
    start_sandbox(cfg.render, cfg.source + ": render.sandbox: off");

    // Block the stop signals in every thread; this one waits for them.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);

    queue::WorkerOptions wo;
    wo.concurrency = args.get_int("concurrency", cfg.workers > 0 ? cfg.workers : 1, 1, 256);
    // One engine workspace for the job runners and the drift schedule (one renderer cache, one mirror cache).
    auto workspace = runners::runner_workspace({}, {}, {}, 2);
    queue::Worker w(*url, queue_options(cfg), wo, make_runners(cfg, workspace));
    w.start();
    std::unique_ptr<runners::DriftScheduler> drift;
    if (!args.has("no-drift") && !runners::drift_clusters(cfg).empty()) {
      runners::DriftSchedulerOptions dso;
      dso.queue = queue_options(cfg);
      dso.forges = std::make_shared<runners::ForgeAccess>(runners::make_forge_access(cfg));
      drift = std::make_unique<runners::DriftScheduler>(cfg, workspace, std::move(dso));
      drift->start();
    }
    spdlog::info("helmgate {} worker started: concurrency {}, redis {}", HELMGATE_VERSION, wo.concurrency,
                 url->display());
    int sig = 0;
    sigwait(&set, &sig);
    spdlog::info("received signal {}: finishing running jobs", sig);
    if (drift) drift->stop();
    w.stop();
    w.join();
    spdlog::info("worker stopped");
    return 0;
  });
}

}  // namespace helmgate::cmd
