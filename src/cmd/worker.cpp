// helmgate worker: runs jobs from the shared Redis until SIGTERM/SIGINT.
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>

#include "cmd/args.hpp"
#include "cmd/commands.hpp"
#include "cmd/runners.hpp"
#include "cmd/sandbox_startup.hpp"
#include "config/config.hpp"

namespace helmgate::cmd {

namespace {
constexpr const char* kWorkerHelp = R"(usage: helmgate worker --config FILE [options]

Fetches jobs from the shared Redis, runs them and records the outcome. Any number of workers on
any number of hosts may share one Redis; a killed worker's jobs are requeued when its lease expires.

options:
  --config FILE        server configuration (YAML)
  --concurrency N      jobs run at once by this process (default: `workers:` or 1)
  --log-level LEVEL    trace, debug, info, warn, error

SIGTERM/SIGINT: stop fetching, let running jobs finish, exit.
)";
}  // namespace

int worker(int argc, char** argv) {
  return run_command("worker", [&]() -> int {
    Args args(argc, argv, {"config", "concurrency", "log-level"}, {});
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
    queue::Worker w(*url, queue_options(cfg), wo, make_runners(cfg));
    w.start();
    spdlog::info("helmgate {} worker started: concurrency {}, redis {}", HELMGATE_VERSION, wo.concurrency,
                 url->display());
    int sig = 0;
    sigwait(&set, &sig);
    spdlog::info("received signal {}: finishing running jobs", sig);
    w.stop();
    w.join();
    spdlog::info("worker stopped");
    return 0;
  });
}

}  // namespace helmgate::cmd
