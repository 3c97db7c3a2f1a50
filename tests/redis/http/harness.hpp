#pragma once
// A real helmgate HTTP stack (routes, AsyncEnqueuer, QueueRunner, Beast server) in the test process,
// on a free port, against a real redis-server.
#include <memory>
#include <optional>
#include <thread>

#include "config/config.hpp"
#include "handlers/routes.hpp"
#include "handlers/signature.hpp"
#include "http/client.hpp"
#include "http/server.hpp"
#include "support/redis_server.hpp"

namespace helmgate::test {

inline constexpr const char* kGithubSecret = "gh-webhook-secret";
inline constexpr const char* kGiteaSecret = "gitea-webhook-secret";
inline constexpr const char* kApiToken = "api-token-for-tests";

struct Harness {
  explicit Harness(uint64_t max_body = 25ull * 1024 * 1024) {
    cfg = config::load_string(R"(
forges:
  - {name: github, kind: github, webhook_secret_env: UNUSED_A}
  - {name: gitea, kind: gitea, api_url: "http://127.0.0.1:1/api/v1", webhook_secret_env: UNUSED_B}
)");
    cfg.forges[0].webhook_secret = kGithubSecret;
    cfg.forges[1].webhook_secret = kGiteaSecret;
    cfg.api_token = kApiToken;
    url = *queue::RedisUrl::parse(redis.url());
    opts.visibility_timeout = std::chrono::milliseconds(5000);
    enqueuer.emplace(url, opts);
    queries.emplace(url, opts, 2);
    fleet.emplace(url, opts.key_prefix);
    app.emplace(handlers::App{cfg, *enqueuer, *queries, requests, &*fleet});
    http::Router router;
    handlers::install_routes(router, *app);
    http::ServerOptions so;
    so.port = 0;
    so.threads = 2;
    so.max_body_bytes = max_body;
    server.emplace(so, std::move(router));
    server->set_observer([this](const std::string& r, unsigned s, double secs) { requests.observe(r, s, secs); });
    server->listen();
    thread = std::thread([this] { server->run(); });
  }
  ~Harness() {
    server->shutdown();
    thread.join();
    // Drain the callbacks that answer requests while the server's io_context still exists.
    queries.reset();
    enqueuer.reset();
  }

  std::string base() const { return "http://127.0.0.1:" + std::to_string(server->port()); }

  http::ClientResponse post_webhook(const std::string& forge, const std::string& event, const std::string& body,
                                    const std::string& delivery, bool sign = true,
                                    const std::string& content_type = "application/json") {
    std::vector<std::pair<std::string, std::string>> h{{"Content-Type", content_type}};
    const char* secret = forge == "github" ? kGithubSecret : kGiteaSecret;
    if (forge == "github") {
      h.emplace_back("X-GitHub-Event", event);
      h.emplace_back("X-GitHub-Delivery", delivery);
      if (sign) h.emplace_back("X-Hub-Signature-256", handlers::sign_sha256(secret, body));
    } else {
      h.emplace_back("X-Gitea-Event", event);
      h.emplace_back("X-Gitea-Delivery", delivery);
      if (sign) h.emplace_back("X-Gitea-Signature", handlers::sign_sha256(secret, body).substr(7));
    }
    auto r = http::request("POST", base() + "/webhooks/" + forge, h, body);
    if (!r) throw std::runtime_error(r.error().message);
    return *r;
  }

  http::ClientResponse api(const std::string& method, const std::string& path, const std::string& token = kApiToken) {
    std::vector<std::pair<std::string, std::string>> h;
    if (!token.empty()) h.emplace_back("Authorization", "Bearer " + token);
    auto r = http::request(method, base() + path, h);
    if (!r) throw std::runtime_error(r.error().message);
    return *r;
  }

  RedisServer redis;
  config::Config cfg;
  queue::RedisUrl url;
  queue::Options opts;
  http::RequestMetrics requests;
  std::optional<queue::AsyncEnqueuer> enqueuer;
  std::optional<handlers::QueueRunner> queries;
  std::optional<queue::FleetStore> fleet;
  std::optional<handlers::App> app;
  std::optional<http::Server> server;
  std::thread thread;
};

}  // namespace helmgate::test
