// The chaos ledger's finding (bench/chaos): a late delivery of an older push (an operator's redelivery of a
// delivery that failed while Redis was down) made a preview job for the older head that superseded the
// newer head's job, and the PR's comment ended at the older head. A preview job now previews the PR's head
// as the forge has it. The forge is a small Gitea-shaped HTTP server; git and helm are real.
#include <catch2/catch.hpp>

#include "support/preview_job.hpp"
#include "support/temp_repo.hpp"

using namespace helmgate;

namespace {
std::string release(const std::string& msg) {
  return "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: a\n  namespace: apps\nspec:\n"
         "  chart:\n    spec:\n      chart: ./charts/app\n      sourceRef:\n        kind: GitRepository\n"
         "        name: flux-system\n  values:\n    msg: " + msg + "\n";
}
}  // namespace

TEST_CASE("chaos: a preview job for an older head previews the PR's current head", "[e2e][chaos]") {
  test::TempRepo t("chaos-follow-head");
  t.write("charts/app/Chart.yaml", "apiVersion: v2\nname: app\nversion: 0.1.0\n");
  t.write("charts/app/templates/cm.yaml",
          "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  msg: {{ .Values.msg | quote }}\n");
  t.write("clusters/dev/a.yaml", release("zero"));
  const std::string base = t.commit("base");
  t.replace("clusters/dev/a.yaml", "msg: zero", "msg: older-push");
  const std::string older = t.commit("older push");
  t.replace("clusters/dev/a.yaml", "msg: older-push", "msg: newer-push");
  const std::string newer = t.commit("newer push");

  test::FakeGitea gitea;
  test::PreviewRunnerFixture preview(gitea, t.dir.string(), "[{name: dev, paths: [clusters/dev]}]", "chaos-follow-head");

  SECTION("the forge says the PR is at the newer head: the older job previews that") {
    {
      std::lock_guard lock(gitea.mu);
      gitea.pr_head = newer;
    }
    auto run = preview.run(base, older);
    INFO(run.outcome.error << "\n" << run.log << "\n" << gitea.comment);
    REQUIRE(run.outcome.status == queue::RunOutcome::Status::succeeded);
    CHECK(run.log.find("moved on from " + older.substr(0, 12) + " to " + newer.substr(0, 12)) != std::string::npos);
    CHECK(gitea.comment.find(newer.substr(0, 12)) != std::string::npos);
    CHECK(gitea.comment.find(older.substr(0, 12)) == std::string::npos);
    CHECK(gitea.comment.find("newer-push") != std::string::npos);
    auto st = gitea.last();
    CHECK(st["helmgate/dev"].first == "success");
  }
  SECTION("the forge cannot say: the event's head stands") {
    auto run = preview.run(base, older);
    INFO(run.outcome.error << "\n" << run.log << "\n" << gitea.comment);
    REQUIRE(run.outcome.status == queue::RunOutcome::Status::succeeded);
    CHECK(run.log.find("current head could not be read") != std::string::npos);
    CHECK(gitea.comment.find(older.substr(0, 12)) != std::string::npos);
    CHECK(gitea.comment.find("older-push") != std::string::npos);
  }
}
