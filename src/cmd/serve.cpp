// helmgate serve: webhooks, jobs API, health and metrics; optionally workers in the same process.
#include <spdlog/spdlog.h>

#include <boost/asio/signal_set.hpp>

#include <cstdio>
#include <optional>
#include <thread>

#include "cmd/args.hpp"
#include "cmd/commands.hpp"
#include "cmd/runners.hpp"
#include "cmd/sandbox_startup.hpp"
#include "config/config.hpp"
#include "core/redact.hpp"
#include "handlers/routes.hpp"
#include "http/server.hpp"

namespace helmgate::cmd {

namespace {
constexpr const char* kServeHelp = R"(usage: helmgate serve --config FILE [options]

Receives forge webhooks (POST /webhooks/<forge>), verifies and enqueues them durably in Redis,
serves the jobs API (/api/v1/jobs), the fleet API (/api/v1/fleet, /api/v1/clusters/NAME,
/api/v1/drift), the status page (/ui/), /healthz, /readyz and /metrics.

options:
  --config FILE      server configuration (YAML); see config/examples/
  --listen ADDR      override server.listen (host:port, port 0 picks a free one)
  --workers N        run N job workers in this process (overrides `workers:`)
  --log-level LEVEL  trace, debug, info, warn, error (overrides log.level)
  --check            validate the configuration (and that its secrets are set), then exit

Secrets come from the environment variables the configuration names (webhook_secret_env,
api.token_env, ui.read_token_env or ui.read_token_file, redis.url_env). SIGTERM/SIGINT: stop accepting, finish in-flight requests and jobs.
)";
}  // namespace

int serve(int argc, char** argv) {
  return run_command("serve", [&]() -> int {
    Args args(argc, argv, {"config", "listen", "workers", "log-level"}, {"check"});
    if (args.help()) {
      std::fputs(kServeHelp, stdout);
      return 0;
    }
    if (!args.has("config")) throw UsageError("--config FILE is required");
    config::Config cfg = config::load_file(args.get("config"));
    core::set_limits(cfg.limits);
    config::resolve_secrets(cfg, {.webhook_secrets = true, .api_token = true, .forge_tokens = false});
    if (args.has("listen")) cfg.server.listen = args.get("listen");
    cfg.workers = args.get_int("workers", cfg.workers, 0, 256);
    auto url = queue::RedisUrl::parse(cfg.redis_url);
    if (!url) throw config::ConfigError(cfg.source + ": redis.url: " + url.error().message);
    http::ServerOptions sopts;
    try {
      http::parse_listen(cfg.server.listen, sopts.host, sopts.port);
    } catch (const std::invalid_argument& e) {
      throw config::ConfigError(cfg.source + ": server.listen: " + e.what());
    }
    if (args.has("check")) {
      std::printf("%s: configuration OK (%zu forge(s), %zu repo(s))\n", cfg.source.c_str(), cfg.forges.size(),
                  cfg.repos.size());
      return 0;
    }
    setup_logging(args.get("log-level", cfg.log_level), cfg.log_format);
    // In-process workers run helm: the sandbox must work before anything is accepted (fails closed).
    if (cfg.workers > 0 || !cfg.render.sandbox) start_sandbox(cfg.render, cfg.source + ": render.sandbox: off");
    queue::Options qopts = queue_options(cfg);

    sopts.threads = cfg.server.threads;
    sopts.max_body_bytes = cfg.server.max_body_bytes;
    sopts.header_timeout = cfg.server.header_timeout;
    sopts.body_timeout = cfg.server.body_timeout;
    sopts.idle_timeout = cfg.server.idle_timeout;
    sopts.shutdown_grace = cfg.server.shutdown_grace;
    sopts.max_connections = cfg.server.max_connections;

    // Held in optionals so they can be drained while the server's io_context still exists: their
    // callbacks answer requests by posting to it.
    std::optional<queue::AsyncEnqueuer> enqueuer(std::in_place, *url, qopts);
    std::optional<handlers::QueueRunner> queries(std::in_place, *url, qopts, 2);
    http::RequestMetrics requests;
    queue::FleetStore fleet(*url, qopts.key_prefix);
    handlers::App app{cfg, *enqueuer, *queries, requests, &fleet};
    http::Router router;
    handlers::install_routes(router, app);

    http::Server server(sopts, std::move(router));
    server.set_observer([&requests](const std::string& route, unsigned status, double secs) {
      requests.observe(route, status, secs);
    });
    server.set_metrics(&requests);
    server.listen();

    {
      queue::Queue probe(*url, qopts);
      if (auto p = probe.ping(); !p) {
        spdlog::warn("redis {} is not reachable yet ({}); webhooks answer 503 until it is", url->display(),
                     p.error().message);
      }
    }

    std::optional<queue::Worker> worker;
    if (cfg.workers > 0) {
      queue::WorkerOptions wo;
      wo.concurrency = cfg.workers;
      worker.emplace(*url, qopts, wo, make_runners(cfg));
      worker->start();
    }

    boost::asio::signal_set signals(server.io_context(), SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      spdlog::info("received signal {}: shutting down", sig);
      server.shutdown();
    });

    spdlog::info("helmgate {} listening on {}:{} (redis {}, {} forge(s), {} repo(s), {} in-process worker(s))",
                 HELMGATE_VERSION, sopts.host, server.port(), url->display(), cfg.forges.size(), cfg.repos.size(),
                 cfg.workers);
    // Tests and scripts wait for this line on stdout to learn the port.
    std::printf("listening on %s:%u\n", sopts.host.c_str(), static_cast<unsigned>(server.port()));
    std::fflush(stdout);

    server.run();
    queries.reset();
    enqueuer.reset();
    if (worker) {
      spdlog::info("waiting for in-process jobs to finish");
      worker->stop();
      worker->join();
    }
    spdlog::info("stopped");
    return 0;
  });
}

}  // namespace helmgate::cmd
