// Which head releases may have their live objects read: only those the deploy branch (base) already
// declares under the same cluster, release name and namespace. A pull request that adds a release, or renames
// one, to take the name of a release installed in the cluster gets no live reads of that release's objects.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <map>

#include "runners/preview_pipeline.hpp"
#include "support/preview_request.hpp"
#include "support/support.hpp"
#include "support/temp_repo.hpp"

namespace fs = std::filesystem;
using namespace helmgate;

namespace {

std::string release(const std::string& name, const std::string& release_name, const std::string& color) {
  return "apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata:\n  name: " + name +
         "\n  namespace: demo\nspec:\n  releaseName: " + release_name +
         "\n  chart:\n    git: git@github.com:example/fleet\n    path: charts/app\n  values:\n    color: " + color + "\n";
}

}  // namespace

TEST_CASE("live reads only for releases the deploy branch declares under that name", "[security]") {
  test::TempRepo t("declared-at-base");
  t.write("charts/app/Chart.yaml", "apiVersion: v2\nname: app\nversion: 0.1.0\n");
  t.write("charts/app/templates/cm.yaml",
          "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: '{{ .Release.Name }}-settings'}\ndata:\n"
          "  color: '{{ .Values.color }}'\n");
  t.write("releases/web.yaml", release("web", "web", "blue"));
  t.write("releases/api.yaml", release("api", "api", "blue"));
  const std::string base = t.commit("base");
  t.write("releases/web.yaml", release("web", "web", "green"));          // an edit of a declared release
  t.write("releases/api.yaml", release("api", "payments", "green"));     // renamed onto another release
  t.write("releases/newapp.yaml", release("newapp", "billing", "red"));  // new, named like an installed one
  const std::string head = t.commit("head");

  const std::string work = (fs::temp_directory_path() / ("hg-sec-declared-" + std::to_string(::getpid()))).string();
  auto req = test::preview_request(t.dir.string(), base, head, work, {runners::PreviewFormat::text});
  req.keep_head_manifests = true;
  config::Repo cfg;
  cfg.name = "example/fleet";
  cfg.url = "git@github.com:example/fleet";
  req.repo_config = cfg;
  auto res = runners::run_preview(req);
  INFO((res.ok() ? res->text : res.error().message));
  REQUIRE(res.ok());
  std::map<std::string, bool> declared;
  for (const auto& h : res->head_manifests) declared[h.release_name] = h.declared_at_base;
  REQUIRE(declared.size() == 3);
  CHECK(declared["web"]);
  CHECK_FALSE(declared["payments"]);
  CHECK_FALSE(declared["billing"]);
  fs::remove_all(work);
}
