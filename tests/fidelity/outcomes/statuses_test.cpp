// The commit status of a cluster is a failure when its manifests cannot be read at head, also when the
// malformed file holds no affected release (Flux fails the sync of the whole path), and when a release's
// base cannot be read. The forge is a small Gitea-shaped HTTP server (statuses and comments recorded); the
// repository is a real Git repository rendered by the real helm.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <map>
#include <mutex>
#include <thread>

#include "core/json.hpp"
#include "http/server.hpp"
#include "runners/preview_runner.hpp"
#include "support/support.hpp"
#include "support/temp_repo.hpp"

using namespace helmgate;
using test::TempRepo;

namespace {

struct FakeGitea {
  std::mutex mu;
  std::map<std::string, std::pair<std::string, std::string>> statuses;  // context -> (state, description)
  std::string comment;
  std::optional<http::Server> server;
  std::thread thread;

  FakeGitea() {
    http::Router router;
    router.add(boost::beast::http::verb::post, "/api/v1/repos/{owner}/{repo}/statuses/{sha}",
               [this](std::shared_ptr<http::Context> ctx, http::Responder respond) {
                 core::json::Document doc;
                 if (!core::json::parse(doc, ctx->request.body()) && doc.IsObject()) {
                   std::lock_guard lock(mu);
                   statuses[core::json::get_string(doc, "context").value_or("")] = {
                       core::json::get_string(doc, "state").value_or(""),
                       core::json::get_string(doc, "description").value_or("")};
                 }
                 respond(http::text_response(201, "{}", "application/json"));
               });
    router.add(boost::beast::http::verb::get, "/api/v1/user",
               [](std::shared_ptr<http::Context>, http::Responder respond) {
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
};

struct Ctx : queue::JobContext {
  queue::JobRecord rec;
  std::vector<std::string> lines;
  const queue::JobRecord& job() const override { return rec; }
  void log(std::string_view line) override { lines.emplace_back(line); }
  bool superseded() const override { return false; }
};

std::string helm_release(const std::string& name, const std::string& msg) {
  return "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: " + name +
         "\n  namespace: apps\nspec:\n  chart:\n    spec:\n      chart: ./charts/app\n      sourceRef:\n"
         "        kind: GitRepository\n        name: flux-system\n  values:\n    msg: " + msg + "\n";
}

}  // namespace

TEST_CASE("outcomes: a cluster whose manifests cannot be read gets a failure status (item 4)", "[fidelity]") {
  FakeGitea gitea;
  TempRepo t("outcomes-statuses");
  t.write("charts/app/Chart.yaml", "apiVersion: v2\nname: app\nversion: 0.1.0\n");
  t.write("charts/app/templates/cm.yaml",
          "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  msg: {{ .Values.msg | quote }}\n");
  t.write("clusters/dev/a.yaml", helm_release("a", "one"));
  t.write("clusters/prod/a.yaml", helm_release("a", "one"));
  t.write("clusters/stage/a.yaml", helm_release("a", "one"));
  t.write("clusters/stage/b.yaml", "kind: HelmRelease\nmetadata: [b\n");  // broken on the deploy branch
  const std::string base = t.commit("base");
  // dev: a malformed file that holds no release the change touches; prod: a plain change; stage: b fixed,
  // but its base could not be read.
  t.write("clusters/dev/broken.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: [x\n");
  t.replace("clusters/prod/a.yaml", "msg: one", "msg: two");
  t.write("clusters/stage/b.yaml", helm_release("b", "one"));
  const std::string head = t.commit("head");

  config::Config cfg = config::load_string(
      "forges:\n  - {name: gitea, kind: gitea, api_url: \"http://127.0.0.1:" + std::to_string(gitea.server->port()) +
      "/api/v1\", webhook_secret_env: UNUSED, token_env: UNUSED_T}\n"
      "repos:\n  - {name: o/r, url: \"" + t.dir.string() +
      "\", forge: gitea, clusters: [{name: dev, paths: [clusters/dev]}, {name: prod, paths: [clusters/prod]},"
      " {name: stage, paths: [clusters/stage]}]}\n");
  cfg.forges[0].token = "test-token";
  runners::PreviewRunnerOptions po;
  po.helm = test::require_env("HELMGATE_HELM");
  po.kubectl = test::require_env("HELMGATE_KUBECTL");
  po.cache_root = (t.dir.parent_path() / ("hg-outcomes-statuses-cache-" + std::to_string(::getpid()))).string();
  auto runner = runners::make_preview_runner(cfg, runners::make_forge_access(cfg), po);

  Ctx ctx;
  ctx.rec.id = "1";
  ctx.rec.spec.kind = "preview";
  ctx.rec.spec.forge = "gitea";
  ctx.rec.spec.repo = "o/r";
  ctx.rec.spec.pr = 7;
  ctx.rec.spec.base_sha = base;
  ctx.rec.spec.head_sha = head;
  auto out = runner(ctx);
  std::string log;
  for (const auto& l : ctx.lines) log += l + "\n";
  INFO(out.error << "\n" << log << "\n" << gitea.comment);
  auto st = gitea.statuses;
  REQUIRE(st.count("helmgate/dev") == 1);
  REQUIRE(st.count("helmgate/prod") == 1);
  REQUIRE(st.count("helmgate/stage") == 1);
  INFO(st["helmgate/dev"].second << "\n" << st["helmgate/stage"].second);
  CHECK(st["helmgate/dev"].first == "failure");
  CHECK(st["helmgate/dev"].second.find("1 manifest error(s)") != std::string::npos);
  CHECK(st["helmgate/prod"].first == "success");
  CHECK(st["helmgate/stage"].first == "failure");
  CHECK(gitea.comment.find("clusters/dev/broken.yaml:4:1: ") != std::string::npos);
  CHECK(gitea.comment.find("could not be read at base") != std::string::npos);
  std::filesystem::remove_all(po.cache_root);
}
