// Room (c), Flux Kustomizations: the paths one applies (this repository, tenants, notes for what is not
// followed), its Transform (targetNamespace, patches, postBuild variables), applying it to documents, and
// tenant trees opened at their ref. Small inputs made for each case.
#include <catch2/catch.hpp>

#include "release/flux_kustomization.hpp"
#include "release/post_build.hpp"
#include "release/tenants.hpp"
#include "release/yaml_util.hpp"
#include "support/rooms.hpp"
#include "support/temp_repo.hpp"

using namespace helmgate;
using namespace helmgate::release;

namespace {

using test::Said;

Doc doc(const std::string& text, const std::string& file = "clusters/dev/apps.yaml", int line = 3) {
  return test::doc(text, file, line);
}

std::string kustomization(const std::string& source_kind, const std::string& source_name, const std::string& extra = "") {
  return "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n"
         "  namespace: flux-system\nspec:\n  path: ./apps/dev\n  sourceRef:\n    kind: " + source_kind +
         "\n    name: " + source_name + "\n" + extra;
}

// The Transform of Flux Kustomization flux-system/apps with these spec fields (YAML under spec).
std::shared_ptr<const Transform> transform_with(const std::string& spec_fields, const ObjectIndex& objects, Said& said) {
  return transform_of(doc(kustomization("GitRepository", "flux-system", spec_fields)), "flux-system/apps", objects,
                      said.problem());
}

}  // namespace

TEST_CASE("flux kustomization: a path of this repository, and sources not followed are notes", "[unit]") {
  test::TempRepo self("rooms-ks-self");
  const std::string commit = self.commit("empty");
  auto repo = git::Repository::open(self.dir.string()).value();
  DiscoverOptions opt;
  ObjectIndex objects;
  Sources sources(repo, commit);
  const charts::Context charts = test::chart_context(opt, objects);
  Said said;
  const KustomizationEnv env{opt, objects, sources, charts, said.problem(), said.note()};

  // flux-system is what `flux bootstrap` names this repository.
  auto self_path = follow(doc(kustomization("GitRepository", "flux-system")), env);
  REQUIRE(self_path.size() == 1);
  CHECK(self_path[0].source == 0);
  CHECK(self_path[0].path == "apps/dev");
  CHECK(self_path[0].transform == nullptr);

  CHECK(follow(doc(kustomization("GitRepository", "team-a")), env).empty());
  REQUIRE(said.notes.size() == 1);
  CHECK(said.notes[0].first.find("GitRepository flux-system/team-a, which is not declared") != std::string::npos);
  CHECK(said.notes[0].second.file == "clusters/dev/apps.yaml");
  CHECK(said.notes[0].second.line == 3);

  CHECK(follow(doc(kustomization("Bucket", "assets")), env).empty());
  REQUIRE(said.notes.size() == 2);
  CHECK(said.notes[1].first.find("applies Bucket flux-system/assets; sources of this kind are not previewed") !=
        std::string::npos);

  // A source mapping wins over every other rule.
  opt.sources.push_back({"GitRepository", "", "team-a", "tenants/a", "--source"});
  auto mapped = follow(doc(kustomization("GitRepository", "team-a")), env);
  REQUIRE(mapped.size() == 1);
  CHECK(mapped[0].path == "tenants/a/apps/dev");

  CHECK(follow(doc("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"), env).empty());
  CHECK(said.problems.empty());
}

TEST_CASE("flux kustomization: a tenant GitRepository is opened at its ref, once", "[unit]") {
  test::TempRepo self("rooms-ks-host");
  const std::string commit = self.commit("empty");
  test::TempRepo tenant("rooms-ks-tenant", "dev-team");
  tenant.write("apps/dev/release.yaml", "kind: ConfigMap\n");
  const std::string tenant_commit = tenant.commit("tenant");
  auto repo = git::Repository::open(self.dir.string()).value();
  Sources sources(repo, commit);
  int opened = 0;
  OpenSource open = [&](const std::string& url) -> core::Result<std::shared_ptr<const git::Repository>> {
    ++opened;
    CHECK(url == "https://git.example.com/team-a.git");
    auto r = git::Repository::open(tenant.dir.string());
    if (!r) return r.error();
    return std::make_shared<const git::Repository>(std::move(*r));
  };
  const Doc gr = doc("kind: GitRepository\nmetadata: {name: team-a, namespace: flux-system}\n"
                     "spec:\n  url: https://git.example.com/team-a.git\n  ref:\n    branch: dev-team\n");
  auto first = sources.open(gr, "flux-system/team-a", open);
  REQUIRE(first.index.has_value());
  CHECK(*first.index == 1);
  CHECK(first.label == "GitRepository flux-system/team-a (https://git.example.com/team-a.git, branch dev-team)");
  const SourceTree& t = sources.at(*first.index);
  CHECK(t.commit == tenant_commit);
  CHECK(t.prefix == "https://git.example.com/team-a.git@dev-team//");
  CHECK(t.read("apps/dev/release.yaml").has_value());
  auto again = sources.open(gr, "flux-system/team-a", open);
  CHECK(again.index == first.index);
  CHECK(opened == 1);

  auto no_branch = sources.open(doc("kind: GitRepository\nspec:\n  url: https://git.example.com/team-a.git\n"
                                    "  ref:\n    branch: nope\n"),
                                "flux-system/team-a", open);
  CHECK_FALSE(no_branch.index.has_value());
  CHECK(no_branch.why.rfind("has no branch 'nope'", 0) == 0);
  auto semver = sources.open(doc("kind: GitRepository\nspec:\n  url: https://x/y.git\n  ref:\n    semver: '>=1'\n"),
                             "flux-system/y", open);
  CHECK(semver.why == "selects a tag by semver range (not supported yet)");
  auto closed = sources.open(doc("kind: GitRepository\nspec:\n  url: https://x/z.git\n"), "flux-system/z", nullptr);
  CHECK(closed.label == "GitRepository flux-system/z (https://x/z.git, branch master)");
  CHECK(closed.why == "is not followed here (no repository access configured)");
}

TEST_CASE("flux kustomization: postBuild variables, Secrets decoded and sensitive, inline over substituteFrom",
          "[unit]") {
  ObjectIndex objects;
  objects.add(doc("kind: ConfigMap\nmetadata: {name: vars, namespace: flux-system}\ndata:\n  env: dev\n  region: eu\n",
                  "clusters/dev/vars.yaml", 1));
  objects.add(doc("kind: Secret\nmetadata: {name: secret-vars, namespace: flux-system}\ndata:\n  token: czNjcjN0\n",
                  "clusters/dev/secret.yaml", 1));
  Said said;
  auto t = transform_with("  postBuild:\n    substitute:\n      region: us\n    substituteFrom:\n"
                          "      - kind: ConfigMap\n        name: vars\n      - kind: Secret\n        name: secret-vars\n",
                          objects, said);
  REQUIRE(t != nullptr);
  CHECK(said.problems.empty());
  CHECK(t->substitute);
  CHECK(t->vars.at("env") == "dev");
  CHECK(t->vars.at("region") == "us");
  CHECK(t->vars.at("token") == "s3cr3t");
  CHECK(t->sensitive == std::vector<std::string>{"s3cr3t"});
  CHECK(t->file == "clusters/dev/apps.yaml");
  CHECK(t->line == 3);
  CHECK(t->digest.size() == 16);

  auto other = transform_with("  targetNamespace: web\n", objects, said);
  REQUIRE(other != nullptr);
  CHECK(other->digest != t->digest);
  CHECK(transform_with("", objects, said) == nullptr);
}

TEST_CASE("flux kustomization: a missing substituteFrom and a value that is not a string are problems at file:line",
          "[unit]") {
  ObjectIndex objects;
  objects.add(doc("kind: ConfigMap\nmetadata: {name: vars, namespace: flux-system}\ndata:\n  replicas: 3\n",
                  "clusters/dev/vars.yaml", 5));
  Said said;
  auto t = transform_with("  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: vars\n"
                          "      - kind: Secret\n        name: absent\n      - kind: Secret\n        name: optional\n"
                          "        optional: true\n",
                          objects, said);
  REQUIRE(t != nullptr);
  REQUIRE(said.problems.size() == 2);
  CHECK(said.problems[0].first.find("ConfigMap flux-system/vars data.replicas is not a string") != std::string::npos);
  CHECK(said.problems[0].second.file == "clusters/dev/vars.yaml");
  CHECK(said.problems[0].second.line == 5);
  CHECK(said.problems[1].first.find("postBuild.substituteFrom Secret flux-system/absent is not in this cluster") !=
        std::string::npos);
  CHECK(said.problems[1].second.file == "clusters/dev/apps.yaml");
  CHECK(said.problems[1].second.line == 3);
  CHECK(t->vars.count("replicas") == 0);
}

TEST_CASE("post build: substitution keeps each document's file and line, a failure is at the Kustomization",
          "[unit]") {
  DiscoverOptions opt;
  opt.flux_strict_substitution = true;
  ParseBudget budget(100);
  Said said;
  Transform t;
  t.substitute = true;
  t.vars = {{"env", "dev"}};
  t.file = "clusters/dev/apps.yaml";
  t.line = 7;
  const Docs in = {doc("kind: ConfigMap\nmetadata:\n  name: web\ndata:\n  env: ${env}\n  tier: ${tier:=front}\n",
                       "apps/dev/cm.yaml", 12)};
  auto out = apply_transform(in, t, opt, budget, said.problem());
  REQUIRE(out.ok());
  REQUIRE((*out)->size() == 1);
  const Doc& d = (*out)->front();
  CHECK(d.file == "apps/dev/cm.yaml");
  CHECK(d.line == 12);
  CHECK(detail::scalar(detail::get(d.node, "data"), "env") == "dev");
  CHECK(detail::scalar(detail::get(d.node, "data"), "tier") == "front");

  const Docs unset = {doc("kind: ConfigMap\nmetadata:\n  name: web\ndata:\n  x: ${missing}\n", "apps/dev/cm.yaml", 1)};
  auto failed = apply_transform(unset, t, opt, budget, said.problem());
  CHECK_FALSE(failed.ok());
  REQUIRE(said.problems.size() == 1);
  CHECK(said.problems[0].first.find("fails its postBuild substitution") != std::string::npos);
  CHECK(said.problems[0].second.file == "clusters/dev/apps.yaml");
  CHECK(said.problems[0].second.line == 7);
}

TEST_CASE("post build: targetNamespace is applied as a kustomize overlay over the documents", "[unit]") {
  test::TempRepo work("rooms-postbuild");
  DiscoverOptions opt;
  opt.work_root = work.dir.string();
  std::string seen_kustomization;
  opt.kustomize = [&](const std::string& dir, const std::string&) -> core::Result<std::string> {
    seen_kustomization = test::read_file(dir + "/kustomization.yaml");
    return std::string("kind: ConfigMap\nmetadata:\n  name: web\n  namespace: web\n");
  };
  ParseBudget budget(100);
  Said said;
  Transform t;
  t.target_namespace = "web";
  t.file = "clusters/dev/apps.yaml";
  auto out = apply_transform({doc("kind: ConfigMap\nmetadata:\n  name: web\n", "apps/dev/cm.yaml", 2)}, t, opt, budget,
                             said.problem());
  REQUIRE(out.ok());
  CHECK(seen_kustomization.find("\"namespace\": \"web\"\n") != std::string::npos);
  CHECK(seen_kustomization.find("\"resources\":\n  - \"resources.yaml\"") != std::string::npos);
  REQUIRE((*out)->size() == 1);
  CHECK((*out)->front().file == "apps/dev/cm.yaml");
  CHECK((*out)->front().line == 2);
  CHECK(said.problems.empty());
}
