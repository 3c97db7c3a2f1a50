// A preview job that fails after setting its commit statuses to pending never leaves them pending:
// the PR would wait forever for checks that never finish. The forge is a small Gitea-shaped HTTP server
// in the test (statuses accepted and recorded, the comment refused); the repository is a real Git
// repository rendered by the real helm.
#include <catch2/catch.hpp>

#include "support/preview_job.hpp"
#include "support/temp_repo.hpp"

using namespace helmgate;
using test::TempRepo;

TEST_CASE("a preview job that fails after setting pending statuses settles them", "[security]") {
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

  // Reading the PR's comments is refused: posting the preview comment fails after the render.
  test::FakeGitea gitea(false);
  test::PreviewRunnerFixture preview(gitea, t.dir.string(), "[{name: dev, paths: [clusters/dev]}]", "bounds-statuses");
  auto run = preview.run(base, head);
  const auto& out = run.outcome;
  INFO(out.error << "\n" << run.log);
  CHECK(out.status != queue::RunOutcome::Status::succeeded);
  if (comment_refused) CHECK(out.error.find("posting the comment") != std::string::npos);
  auto st = gitea.last();
  REQUIRE(st.count("helmgate/dev") == 1);
  // It was pending while the job ran, and is not pending now.
  CHECK(gitea.statuses.front().state == "pending");
  CHECK(st["helmgate/dev"].first == "error");
}
