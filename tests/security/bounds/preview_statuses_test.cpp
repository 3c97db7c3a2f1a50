// A preview job that fails after setting its commit statuses to pending never leaves them pending:
// the PR would wait forever for checks that never finish. The forge is a small Gitea-shaped HTTP server
// in the test (statuses accepted and recorded, the comment refused); the repository is a real Git
// repository rendered by the real helm.
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
  std::vector<std::pair<std::string, std::string>> statuses;  // (context, state) in order
  std::optional<http::Server> server;
  std::thread thread;

  FakeGitea() {
    http::Router router;
    router.add(boost::beast::http::verb::post, "/api/v1/repos/{owner}/{repo}/statuses/{sha}",
               [this](std::shared_ptr<http::Context> ctx, http::Responder respond) {
                 core::json::Document doc;
                 if (!core::json::parse(doc, ctx->request.body()) && doc.IsObject()) {
                   std::lock_guard lock(mu);
                   statuses.emplace_back(core::json::get_string(doc, "context").value_or(""),
                                         core::json::get_string(doc, "state").value_or(""));
                 }
                 respond(http::text_response(201, "{}", "application/json"));
               });
    // Reading the PR's comments is refused: posting the preview comment fails after the render.
    router.add(boost::beast::http::verb::get, "/api/v1/repos/{owner}/{repo}/issues/{pr}/comments",
               [](std::shared_ptr<http::Context>, http::Responder respond) {
                 respond(http::error_response(403, "comments are not allowed in this test"));
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
  std::map<std::string, std::string> last() {
    std::lock_guard lock(mu);
    std::map<std::string, std::string> out;
    for (const auto& [c, s] : statuses) out[c] = s;
    return out;
  }
};

struct Ctx : queue::JobContext {
  queue::JobRecord rec;
  std::vector<std::string> lines;
  const queue::JobRecord& job() const override { return rec; }
  void log(std::string_view line) override { lines.emplace_back(line); }
  bool superseded() const override { return false; }
};

}  // namespace

TEST_CASE("a preview job that fails after setting pending statuses settles them", "[security]") {
  FakeGitea gitea;
  TempRepo t("bounds-statuses");
  t.write("charts/app/Chart.yaml", "apiVersion: v2\nname: app\nversion: 0.1.0\n");
  t.write("charts/app/templates/cm.yaml",
          "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  m: {{ .Values.m | quote }}\n");
  const std::string rel =
      "apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata:\n  name: app\n  namespace: default\nspec:\n"
      "  chart:\n    git: https://example.invalid/o/r.git\n    path: charts/app\n  values:\n    m: ";
  t.write("clusters/dev/app.yaml", rel + "one\n");
  const std::string base = t.commit("base");
  std::string head_doc = rel + "two\n";
  bool comment_refused = true;
  SECTION("the comment cannot be posted") {}
  SECTION("a stage throws or fails: a valuesFrom targetPath that once threw std::stol's exception") {
    head_doc =
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: app\n  namespace: default\n"
        "spec:\n  chart:\n    spec:\n      chart: charts/app\n      sourceRef: {kind: GitRepository, name: flux-system}\n"
        "  valuesFrom:\n    - {kind: ConfigMap, name: vals, valuesKey: v, targetPath: \"leak[x]\"}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: vals, namespace: default}\ndata: {v: hello}\n";
    comment_refused = false;
  }
  t.write("clusters/dev/app.yaml", head_doc);
  const std::string head = t.commit("head");

  config::Config cfg = config::load_string("forges:\n  - {name: gitea, kind: gitea, api_url: \"http://127.0.0.1:" +
                                           std::to_string(gitea.server->port()) +
                                           "/api/v1\", webhook_secret_env: UNUSED, token_env: UNUSED_T}\n"
                                           "repos:\n  - {name: o/r, url: \"" + t.dir.string() +
                                           "\", forge: gitea, clusters: [{name: dev, paths: [clusters/dev]}]}\n");
  cfg.forges[0].token = "test-token";
  runners::PreviewRunnerOptions po;
  po.helm = test::require_env("HELMGATE_HELM");
  po.kubectl = test::require_env("HELMGATE_KUBECTL");
  po.cache_root = (t.dir.parent_path() / ("hg-bounds-statuses-cache-" + std::to_string(::getpid()))).string();
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
  INFO(out.error << "\n" << log);
  CHECK(out.status != queue::RunOutcome::Status::succeeded);
  if (comment_refused) CHECK(out.error.find("posting the comment") != std::string::npos);
  auto st = gitea.last();
  REQUIRE(st.count("helmgate/dev") == 1);
  // It was pending while the job ran, and is not pending now.
  CHECK(gitea.statuses.front().second == "pending");
  CHECK(st["helmgate/dev"] == "error");
  std::filesystem::remove_all(po.cache_root);
}
