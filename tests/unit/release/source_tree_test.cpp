// Room (b), source trees: reading a path of a Git tree at a commit, and kustomizations there (closure,
// refusals, build, positions). kustomize is a stand-in that returns fixed output: what is tested is what
// discovery does around it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>

#include "release/kustomize_build.hpp"
#include "release/source_tree.hpp"
#include "release/yaml_util.hpp"
#include "support/rooms.hpp"

using namespace helmgate;
using namespace helmgate::release;

namespace {

struct Fixture : test::TreeFixture {
  DiscoverOptions opt;
  ParseBudget budget{1000};
  test::Said said;
  std::map<std::string, std::set<std::string>> units;
  std::vector<std::string> kustomize_dirs;
  std::string kustomize_output;

  Fixture() : TreeFixture("rooms-tree") {
    opt.work_root = (t.dir.parent_path() / ("hg-work-" + t.dir.filename().string())).string();
    opt.kustomize = [this](const std::string& dir, const std::string&) -> core::Result<std::string> {
      kustomize_dirs.push_back(dir);
      return kustomize_output;
    };
  }
  ~Fixture() {
    std::error_code ec;
    std::filesystem::remove_all(opt.work_root, ec);
  }
  TreeEnv env() { return TreeEnv{opt, budget, said.problem(), &units}; }
};

bool has(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

}  // namespace

TEST_CASE("source tree: a directory is every YAML file below it, chart directories skipped", "[unit]") {
  Fixture f;
  f.t.write("apps/a.yaml", "kind: ConfigMap\nmetadata:\n  name: a\n---\nkind: ConfigMap\nmetadata:\n  name: b\n");
  f.t.write("apps/sub/c.yml", "kind: Secret\nmetadata:\n  name: c\n");
  f.t.write("apps/README.md", "not yaml");
  f.t.write("apps/chart/Chart.yaml", "name: chart\n");
  f.t.write("apps/chart/templates/x.yaml", "kind: {{ .Values.kind }}\n");
  f.commit();
  RootRead got = read_root(f.tree, "apps", f.env());
  INFO(f.said.text());
  REQUIRE(got.docs != nullptr);
  CHECK_FALSE(got.partial);
  CHECK_FALSE(got.missing);
  REQUIRE(got.docs->size() == 3);
  CHECK((*got.docs)[1].file == "apps/a.yaml");
  CHECK((*got.docs)[1].line == 5);
  CHECK((*got.docs)[2].file == "apps/sub/c.yml");
  CHECK(has(got.inputs, "apps/a.yaml"));
  CHECK(has(got.inputs, "apps/sub/c.yml"));
  CHECK_FALSE(has(got.inputs, "apps/chart/templates/x.yaml"));
  CHECK(f.said.problems.empty());
}

TEST_CASE("source tree: a malformed file is a problem at its line, the rest is read (in part)", "[unit]") {
  Fixture f;
  f.t.write("apps/good.yaml", "kind: ConfigMap\nmetadata:\n  name: good\n");
  f.t.write("apps/bad.yaml", "kind: ConfigMap\nmetadata:\n  name: [bad\n");
  f.commit();
  RootRead got = read_root(f.tree, "apps", f.env());
  REQUIRE(got.docs != nullptr);
  CHECK(got.partial);
  REQUIRE(got.docs->size() == 1);
  REQUIRE(f.said.problems.size() == 1);
  CHECK(f.said.problems[0].second.file == "apps/bad.yaml");
  CHECK(f.said.problems[0].second.line >= 3);
}

TEST_CASE("source tree: a missing path, and a single file as a path", "[unit]") {
  Fixture f;
  f.t.write("clusters/dev/apps.yaml", "kind: ConfigMap\nmetadata:\n  name: one\n");
  f.commit();
  RootRead missing = read_root(f.tree, "clusters/prod", f.env());
  CHECK(missing.docs == nullptr);
  CHECK(missing.missing);
  REQUIRE(f.said.problems.size() == 1);
  CHECK(f.said.problems[0].first.find("path 'clusters/prod' does not exist at " + f.tree.commit.substr(0, 12)) !=
        std::string::npos);
  CHECK(f.said.problems[0].second.file == "clusters/prod");

  RootRead file = read_root(f.tree, "clusters/dev/apps.yaml", f.env());
  REQUIRE(file.docs != nullptr);
  REQUIRE(file.docs->size() == 1);
  CHECK(file.inputs == std::vector<std::string>{"clusters/dev/apps.yaml"});
}

TEST_CASE("source tree: a kustomization is built, its documents point back to the files that declare them",
          "[unit]") {
  Fixture f;
  f.t.write("apps/dev/kustomization.yaml", "resources:\n  - release.yaml\n  - ../shared\n");
  f.t.write("apps/dev/release.yaml",
            "# the release\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: web\n"
            "spec:\n  chart:\n    spec:\n      chart: web\n");
  f.t.write("apps/shared/values.yaml", "kind: ConfigMap\nmetadata:\n  name: web-values\n");
  f.commit();
  f.kustomize_output =
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-values\n---\napiVersion: helm.toolkit.fluxcd.io/v2\n"
      "kind: HelmRelease\nmetadata:\n  name: web\nspec:\n  chart:\n    spec:\n      chart: web\n";
  RootRead got = read_root(f.tree, "apps/dev", f.env());
  INFO(f.said.text());
  REQUIRE(got.docs != nullptr);
  REQUIRE(f.kustomize_dirs.size() == 1);
  CHECK(f.kustomize_dirs[0].size() > std::string("apps/dev").size());
  CHECK(f.kustomize_dirs[0].rfind("/apps/dev") == f.kustomize_dirs[0].size() - std::string("/apps/dev").size());
  REQUIRE(got.docs->size() == 2);
  const Doc& cm = (*got.docs)[0];
  const Doc& hr = (*got.docs)[1];
  CHECK(cm.file == "apps/shared/values.yaml");
  CHECK(cm.line == 1);
  CHECK(hr.file == "apps/dev/release.yaml");
  CHECK(hr.line == 2);
  CHECK(hr.unit == "apps/dev");
  CHECK(got.inputs ==
        std::vector<std::string>{"apps/dev/kustomization.yaml", "apps/dev/release.yaml", "apps/shared/values.yaml"});
  CHECK(f.units["apps/dev"].count("apps/shared/values.yaml") == 1);
}

TEST_CASE("source tree: a remote kustomize resource is refused at its file and line before kustomize runs",
          "[unit]") {
  Fixture f;
  f.t.write("apps/kustomization.yaml", "resources:\n  - local.yaml\n  - https://example.com/evil.yaml\n");
  f.t.write("apps/local.yaml", "kind: ConfigMap\nmetadata:\n  name: local\n");
  f.commit();
  Closure closure = kustomize_closure(f.tree, "apps", f.budget);
  CHECK(closure.files.count("apps/local.yaml") == 1);
  REQUIRE(closure.failures.size() == 1);
  CHECK(closure.failures[0].where.file == "apps/kustomization.yaml");
  CHECK(closure.failures[0].where.line == 3);
  CHECK(closure.failures[0].message.find("https://example.com/evil.yaml") != std::string::npos);

  RootRead got = read_root(f.tree, "apps", f.env());
  CHECK(got.docs == nullptr);
  CHECK(f.kustomize_dirs.empty());
  REQUIRE_FALSE(f.said.problems.empty());
  CHECK(f.said.problems[0].second.file == "apps/kustomization.yaml");
  CHECK(f.said.problems[0].second.line == 3);
}

TEST_CASE("source tree: kustomization_file finds each spelling", "[unit]") {
  Fixture f;
  f.t.write("a/kustomization.yml", "resources: []\n");
  f.t.write("b/Kustomization", "resources: []\n");
  f.t.write("c/other.yaml", "kind: A\n");
  f.commit();
  CHECK(kustomization_file(f.tree, "a") == "a/kustomization.yml");
  CHECK(kustomization_file(f.tree, "b") == "b/Kustomization");
  CHECK(kustomization_file(f.tree, "c").empty());
}
