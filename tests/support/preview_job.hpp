#pragma once
// Runs a preview job against a small Gitea-shaped forge in the test (commit statuses recorded in order,
// the PR's comments accepted and recorded or refused), the way the worker runs it. Header-only: tests that
// include it link helmgate_runners and helmgate_http.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "config/config.hpp"
#include "core/json.hpp"
#include "http/server.hpp"
#include "runners/preview_runner.hpp"
#include "support/apply_job.hpp"
#include "support/support.hpp"

namespace helmgate::test {

struct FakeGitea {
  struct Status {
    std::string context, state, description;
  };
  std::mutex mu;
  std::vector<Status> statuses;  // in the order they were set
  std::string comment;           // the last comment body posted
  std::string pr_head;           // when set, GET .../pulls/{pr} answers a PR whose head is this commit
  std::optional<http::Server> server;
  std::thread thread;

  // accept_comments false: reading the PR's comments is refused, so posting the preview fails.
  explicit FakeGitea(bool accept_comments = true) {
    http::Router router;
    router.add(boost::beast::http::verb::post, "/api/v1/repos/{owner}/{repo}/statuses/{sha}",
               [this](std::shared_ptr<http::Context> ctx, http::Responder respond) {
                 core::json::Document doc;
                 if (!core::json::parse(doc, ctx->request.body()) && doc.IsObject()) {
                   std::lock_guard lock(mu);
                   statuses.push_back({core::json::get_string(doc, "context").value_or(""),
                                       core::json::get_string(doc, "state").value_or(""),
                                       core::json::get_string(doc, "description").value_or("")});
                 }
                 respond(http::text_response(201, "{}", "application/json"));
               });
    if (!accept_comments) {
      router.add(boost::beast::http::verb::get, "/api/v1/repos/{owner}/{repo}/issues/{pr}/comments",
                 [](std::shared_ptr<http::Context>, http::Responder respond) {
                   respond(http::error_response(403, "comments are not allowed in this test"));
                 });
    } else {
      router.add(boost::beast::http::verb::get, "/api/v1/user", [](std::shared_ptr<http::Context>, http::Responder respond) {
        respond(http::text_response(200, "{\"id\":1,\"login\":\"helmgate\"}", "application/json"));
      });
      router.add(boost::beast::http::verb::get, "/api/v1/repos/{owner}/{repo}/issues/{pr}/comments",
                 [](std::shared_ptr<http::Context>, http::Responder respond) {
                   respond(http::text_response(200, "[]", "application/json"));
                 });
      router.add(boost::beast::http::verb::post, "/api/v1/repos/{owner}/{repo}/issues/{pr}/comments",
                 [this](std::shared_ptr<http::Context> ctx, http::Responder respond) {
                   core::json::Document doc;
                   if (!core::json::parse(doc, ctx->request.body()) && doc.IsObject()) {
                     std::lock_guard lock(mu);
                     comment = core::json::get_string(doc, "body").value_or("");
                   }
                   respond(http::text_response(
                       201, "{\"id\":1,\"body\":\"x\",\"html_url\":\"http://x/1\",\"user\":{\"login\":\"helmgate\"}}",
                       "application/json"));
                 });
    }
    router.add(boost::beast::http::verb::get, "/api/v1/repos/{owner}/{repo}/pulls/{pr}",
               [this](std::shared_ptr<http::Context>, http::Responder respond) {
                 std::lock_guard lock(mu);
                 if (pr_head.empty()) return respond(http::error_response(404, "no such pull request in this test"));
                 respond(http::text_response(200, "{\"number\":7,\"state\":\"open\",\"head\":{\"sha\":\"" + pr_head +
                                                       "\"},\"base\":{\"ref\":\"main\"}}", "application/json"));
               });
    http::ServerOptions so;
    so.port = 0;
    so.threads = 1;
    server.emplace(so, std::move(router));
    server->listen();
    thread = std::thread([this] { server->run(); });
  }
  ~FakeGitea() {
    server->shutdown();
    thread.join();
  }
  FakeGitea(const FakeGitea&) = delete;
  FakeGitea& operator=(const FakeGitea&) = delete;

  // The last status of each context: context -> (state, description).
  std::map<std::string, std::pair<std::string, std::string>> last() {
    std::lock_guard lock(mu);
    std::map<std::string, std::pair<std::string, std::string>> out;
    for (const auto& s : statuses) out[s.context] = {s.state, s.description};
    return out;
  }
};

// The preview runner of repository o/r (the Git repository at repo_dir) on forge "gitea" served by gitea,
// with the clusters given as a YAML flow sequence ("[{name: dev, paths: [clusters/dev]}]"); its cache
// under the temp dir, removed by the destructor.
struct PreviewRunnerFixture {
  std::string cache_root;
  queue::Runner runner;
  PreviewRunnerFixture(FakeGitea& gitea, const std::string& repo_dir, const std::string& clusters, const std::string& name) {
    config::Config cfg = config::load_string(
        "forges:\n  - {name: gitea, kind: gitea, api_url: \"http://127.0.0.1:" + std::to_string(gitea.server->port()) +
        "/api/v1\", webhook_secret_env: UNUSED, token_env: UNUSED_T}\n"
        "repos:\n  - {name: o/r, url: \"" + repo_dir + "\", forge: gitea, clusters: " + clusters + "}\n");
    cfg.forges[0].token = "test-token";
    runners::PreviewRunnerOptions po;
    po.helm = require_env("HELMGATE_HELM");
    po.kubectl = require_env("HELMGATE_KUBECTL");
    cache_root = (std::filesystem::temp_directory_path() / ("hg-" + name + "-cache-" + std::to_string(::getpid()))).string();
    po.cache_root = cache_root;
    runner = runners::make_preview_runner(cfg, runners::make_forge_access(cfg), po);
  }
  ~PreviewRunnerFixture() {
    std::error_code ec;
    std::filesystem::remove_all(cache_root, ec);
  }

  struct Run {
    queue::RunOutcome outcome;
    std::string log;
  };
  // A preview job of PR #7 of o/r, base..head.
  Run run(const std::string& base, const std::string& head) {
    RecordingContext ctx;
    ctx.rec.id = "1";
    ctx.rec.spec.kind = "preview";
    ctx.rec.spec.forge = "gitea";
    ctx.rec.spec.repo = "o/r";
    ctx.rec.spec.pr = 7;
    ctx.rec.spec.base_sha = base;
    ctx.rec.spec.head_sha = head;
    Run r;
    r.outcome = runner(ctx);
    for (const auto& l : ctx.lines) r.log += l + "\n";
    return r;
  }
};

}  // namespace helmgate::test
