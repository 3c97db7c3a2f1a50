// The commit status of a cluster is a failure when its manifests cannot be read at head, also when the
// malformed file holds no affected release (Flux fails the sync of the whole path), and when a release's
// base cannot be read. The forge is a small Gitea-shaped HTTP server (statuses and comments recorded); the
// repository is a real Git repository rendered by the real helm.
#include <catch2/catch.hpp>

#include "support/preview_job.hpp"
#include "support/temp_repo.hpp"

using namespace helmgate;
using test::TempRepo;

namespace {

std::string helm_release(const std::string& name, const std::string& msg) {
  return "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: " + name +
         "\n  namespace: apps\nspec:\n  chart:\n    spec:\n      chart: ./charts/app\n      sourceRef:\n"
         "        kind: GitRepository\n        name: flux-system\n  values:\n    msg: " + msg + "\n";
}

}  // namespace

TEST_CASE("outcomes: a cluster whose manifests cannot be read gets a failure status (item 4)", "[fidelity]") {
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

  test::FakeGitea gitea;
  test::PreviewRunnerFixture preview(gitea, t.dir.string(),
                                     "[{name: dev, paths: [clusters/dev]}, {name: prod, paths: [clusters/prod]},"
                                     " {name: stage, paths: [clusters/stage]}]",
                                     "outcomes-statuses");
  auto run = preview.run(base, head);
  INFO(run.outcome.error << "\n" << run.log << "\n" << gitea.comment);
  auto st = gitea.last();
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
}
