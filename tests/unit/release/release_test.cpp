// Discovery and affected analysis on real Flux repositories (the corpora), with real git and kustomize.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "release/release.hpp"
#include "release/kustomize_build.hpp"
#include "release/yaml_util.hpp"
#include "support/discovery.hpp"
#include "support/rooms.hpp"

namespace fs = std::filesystem;
using namespace helmgate;

using test::all_reasons;
using test::Engine;
using test::TempRepo;

TEST_CASE("flux2-kustomize-helm-example: overlays, valuesFrom Secret, invalid YAML", "[unit]") {
  TempRepo t("flux2");
  t.copy_from(test::corpus("flux2-kustomize-helm-example"), {"apps", "clusters", "infrastructure", "LICENSE"});
  const std::string base = t.commit("corpus");
  auto repo = git::Repository::open(t.dir.string());
  REQUIRE(repo.ok());
  Engine e((t.dir.parent_path() / ("hg-work-" + std::to_string(::getpid()))).string());
  e.opt.clusters = release::default_clusters(*repo, base).value();
  REQUIRE(e.opt.clusters.size() == 2);

  auto d0 = release::discover(*repo, base, e.opt);
  INFO((d0.problems.empty() ? std::string() : d0.problems.front().message));
  REQUIRE(d0.problems.empty());
  // podinfo (apps, through ArtifactGenerator + kustomize overlays), cert-manager and envoy-gateway per cluster
  REQUIRE(d0.releases.size() == 6);
  const release::Release* staging = nullptr;
  for (const auto& r : d0.releases) {
    if (r.id() == "staging/podinfo/podinfo") staging = &r;
  }
  REQUIRE(staging != nullptr);
  CHECK(staging->chart.kind == release::ChartKind::helm_repository);
  CHECK(staging->chart.version == ">=1.0.0-alpha");  // from the staging patch
  CHECK(staging->values_json.find("podinfo.staging") != std::string::npos);
  CHECK(staging->where.file == "apps/base/podinfo/release.yaml");

  SECTION("a kustomize patch in one overlay affects only that cluster") {
    t.replace("apps/staging/podinfo-values.yaml", "podinfo.staging", "podinfo.staging.example.org");
    const std::string head = t.commit("staging hostname");
    auto d1 = release::discover(*repo, head, e.opt);
    auto aff = release::affected(d0, d1, repo->changed_paths(base, head).value());
    REQUIRE(aff.size() == 1);
    CHECK(aff[0].id == "staging/podinfo/podinfo");
    CHECK(all_reasons(aff[0]).find("spec.values.httpRoute.hostnames") != std::string::npos);
    CHECK(all_reasons(aff[0]).find("apps/staging/podinfo-values.yaml") != std::string::npos);
  }

  SECTION("a value arriving through valuesFrom Secret affects both clusters and is marked sensitive") {
    const std::string canary = "hg-canary-5b1d-secret-value";
    t.write("apps/base/podinfo/secret.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: podinfo-secret\n  namespace: podinfo\n"
            "stringData:\n  values.yaml: |\n    ui:\n      message: first\n");
    t.replace("apps/base/podinfo/kustomization.yaml", "  - release.yaml", "  - release.yaml\n  - secret.yaml");
    t.replace("apps/base/podinfo/release.yaml", "  values:\n    redis:",
              "  valuesFrom:\n    - kind: Secret\n      name: podinfo-secret\n  values:\n    redis:");
    const std::string mid = t.commit("valuesFrom secret");
    auto dm = release::discover(*repo, mid, e.opt);
    t.replace("apps/base/podinfo/secret.yaml", "message: first", "message: " + canary);
    const std::string head = t.commit("change secret value");
    auto d1 = release::discover(*repo, head, e.opt);
    auto aff = release::affected(dm, d1, repo->changed_paths(mid, head).value());
    REQUIRE(aff.size() == 2);
    for (const auto& a : aff) {
      CHECK(all_reasons(a).find("valuesFrom Secret podinfo/podinfo-secret[values.yaml] changed") != std::string::npos);
      CHECK(all_reasons(a).find(canary) == std::string::npos);
      REQUIRE(a.head != nullptr);
      CHECK(std::find(a.head->sensitive.begin(), a.head->sensitive.end(), canary) != a.head->sensitive.end());
    }
  }

  SECTION("invalid YAML names the file and line, and the release is not reported as removed") {
    t.write("apps/staging/podinfo-values.yaml", "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
                                                "metadata:\n  name: podinfo\n  namespace: [podinfo\n");
    const std::string head = t.commit("broken");
    auto d1 = release::discover(*repo, head, e.opt);
    REQUIRE_FALSE(d1.problems.empty());
    CHECK(d1.problems.front().where.file == "apps/staging/podinfo-values.yaml");
    CHECK(d1.problems.front().where.line >= 5);
    auto aff = release::affected(d0, d1, repo->changed_paths(base, head).value());
    REQUIRE(aff.size() == 1);
    CHECK(aff[0].head_failed);
  }
}

TEST_CASE("helm-operator-get-started: chart.git resolves to this repository - a template change affects its users",
          "[unit]") {
  TempRepo t("hop");
  t.copy_from(test::corpus("helm-operator-get-started"), {"charts", "namespaces", "releases", "LICENSE"});
  const std::string base = t.commit("corpus");
  auto repo = git::Repository::open(t.dir.string());
  Engine e((t.dir.parent_path() / ("hg-work-hop-" + std::to_string(::getpid()))).string());
  e.opt.clusters = release::default_clusters(*repo, base).value();
  REQUIRE(e.opt.clusters.size() == 1);
  CHECK(e.opt.clusters[0].name == "default");
  auto d0 = release::discover(*repo, base, e.opt);
  REQUIRE(d0.releases.size() == 4);
  for (const auto& r : d0.releases) {
    if (r.name == "sealed-secrets") {
      CHECK(r.chart.kind == release::ChartKind::helm_repository);
      CHECK(r.chart.version == "1.6.1");
    } else {
      CHECK(r.chart.kind == release::ChartKind::repo_dir);
      CHECK(r.chart.path == "charts/podinfo");
      REQUIRE_FALSE(r.notes.empty());
      CHECK(r.notes[0].find("resolved to this repository") != std::string::npos);
    }
  }
  t.replace("charts/podinfo/templates/deployment.yaml", "metadata:", "metadata:\n  annotations:\n    x: y");
  const std::string head = t.commit("chart template");
  auto d1 = release::discover(*repo, head, e.opt);
  auto aff = release::affected(d0, d1, repo->changed_paths(base, head).value());
  REQUIRE(aff.size() == 3);
  for (const auto& a : aff) CHECK(all_reasons(a).find("chart directory charts/podinfo changed") != std::string::npos);

  // An image tag bump in one release affects only it.
  t.replace("releases/dev/podinfo.yaml", "tag: dev-hdtwcel9", "tag: dev-next");
  const std::string head2 = t.commit("tag bump");
  auto d2 = release::discover(*repo, head2, e.opt);
  auto aff2 = release::affected(d1, d2, repo->changed_paths(head, head2).value());
  REQUIRE(aff2.size() == 1);
  CHECK(aff2[0].id == "default/dev/podinfo-dev");
  CHECK(all_reasons(aff2[0]).find("spec.values.image.tag") != std::string::npos);
}

// A kustomization that only lists files (flux bootstrap's flux-system folder) is built by discovery itself,
// without kustomize; what it gives must be what kubectl kustomize gives: the same documents, as Kubernetes
// would read them, in kustomize's default order.
TEST_CASE("a plain kustomization is built without kustomize: the documents and order of kubectl kustomize",
          "[unit]") {
  test::TreeFixture f("plain-kustomize");
  f.t.write("k/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- all.yaml\n- nested\n"
            "- ./more.yml\n");
  // Kinds from kustomize's first and last lists, others sorted by group, version and kind; namespaces
  // (none sorts last) and names; the same kind in another group.
  const char* kinds[][4] = {
      {"v1", "ConfigMap", "zeta", "b"},
      {"v1", "ConfigMap", "alpha", "b"},
      {"v1", "ConfigMap", "zzz", "a"},
      {"v1", "ConfigMap", "mid", ""},
      {"v1", "ConfigMap", "Upper", "a"},
      {"kustomize.toolkit.fluxcd.io/v1", "Kustomization", "flux-system", "flux-system"},
      {"source.toolkit.fluxcd.io/v1", "GitRepository", "flux-system", "flux-system"},
      {"apps/v1", "Deployment", "web", "apps"},
      {"v1", "Namespace", "apps", ""},
      {"admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "v", ""},
      {"admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", "m", ""},
      {"helm.toolkit.fluxcd.io/v2", "HelmRelease", "web", "apps"},
      {"example.com/v2", "Alpha", "x", ""},
      {"example.com/v1", "Beta", "x", ""},
      {"example.com/v1", "Alpha", "x", ""},
      {"v1", "Widget", "w", ""},
      {"fake.example.com/v1", "ServiceAccount", "sa", ""},
      {"v1", "ServiceAccount", "sa", ""},
      {"apiextensions.k8s.io/v1", "CustomResourceDefinition", "crd", ""},
      {"rbac.authorization.k8s.io/v1", "ClusterRole", "cr", ""},
      {"v1", "Secret", "s", "apps"},
  };
  std::string all;
  for (const auto& k : kinds) {
    all += std::string("---\napiVersion: ") + k[0] + "\nkind: " + k[1] + "\nmetadata:\n  name: " + k[2] + "\n";
    if (*k[3] != '\0') all += std::string("  namespace: ") + k[3] + "\n";
    all += "  annotations:\n    kustomize.toolkit.fluxcd.io/reconcile: disabled\n";
  }
  f.t.write("k/all.yaml", all);
  f.t.write("k/nested/kustomization.yml", "resources:\n  - a.yaml\n");
  f.t.write("k/nested/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: nested\n  namespace: apps\n");
  // Scalars whose type a YAML reader could change, empty documents and comments.
  std::string more = "---\n# only a comment\n";
  const char* scalars[] = {"version: \"1.10\"", "plain: 1.10", "octal: 010", "flag: \"yes\"", "'on': 'off'",
                           "tilde: ~", "multi: |\n    a\n    b", "hex: 0x1F", "exp: 1e3", "big: 12345678901234567890",
                           "date: \"2001-12-14\"", "half: .5",
                           "sexa: 1:20", "plus: +12", "under: 1_000", "oct: 0o17", "bin: 0b101", "\"Y\": \"n\"",
                           "nul: Null", "str: !!str 12", "neg: -0",
                           "e: 6.8523015e+5", "pair: {a: &a x, b: *a}"};
  int typed = 0;
  for (const char* sc : scalars) {
    more += "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: typed" + std::to_string(typed++) + "\ndata:\n  " +
            sc + "\n";
  }
  f.t.write("k/more.yml", more);
  f.commit();

  const std::string work = (f.t.dir.parent_path() / ("hg-work-plain-" + std::to_string(::getpid()))).string();
  Engine e(work);
  int runs = 0;
  e.opt.kustomize = [&](const std::string& dir, const std::string& key) {
    ++runs;
    return e.renderer.kustomize_build(dir, key);
  };
  release::ParseBudget budget{1000};
  test::Said said;
  auto build = [&](const std::string& dir) {
    std::vector<std::string> inputs;
    return release::build_kustomization(f.tree, dir, inputs, release::TreeEnv{e.opt, budget, said.problem(), nullptr});
  };
  auto native = build("k");
  INFO(said.text());
  REQUIRE(native.ok());
  CHECK(runs == 0);
  auto real = e.renderer.kustomize_build((f.t.dir / "k").string(), "");
  REQUIRE(real.ok());
  auto parsed = release::parse_documents("k", *real);
  REQUIRE(std::holds_alternative<release::Docs>(parsed));
  const auto& want = std::get<release::Docs>(parsed);
  const auto& got = **native;
  REQUIRE(got.size() == want.size());
  REQUIRE(got.size() == std::size(kinds) + 1 + std::size(scalars));
  using release::detail::scalar;
  for (size_t i = 0; i < got.size(); ++i) {
    const auto id = [](const YAML::Node& n) {
      return scalar(n, "apiVersion") + " " + scalar(n, "kind") + " " +
             scalar(release::detail::get(n, "metadata"), "namespace") + "/" +
             scalar(release::detail::get(n, "metadata"), "name");
    };
    INFO(i << ": " << id(got[i].node) << " / kustomize: " << id(want[i].node));
    CHECK(id(got[i].node) == id(want[i].node));
    CHECK(release::detail::digest(got[i].node) == release::detail::digest(want[i].node));
    CHECK(got[i].unit == "k");
  }
  // Every document keeps the file and line it was written at.
  for (const auto& d : got) {
    if (scalar(release::detail::get(d.node, "metadata"), "name") == "nested") {
      CHECK(d.file == "k/nested/a.yaml");
      CHECK(d.line == 1);
    }
    if (scalar(release::detail::get(d.node, "metadata"), "name") == "typed0") {
      CHECK(d.file == "k/more.yml");
      CHECK(d.line == 4);
    }
  }

  // What is not plain goes to kustomize: a namespace transformer, a patch, an id twice, a List, a
  // local-config document, a merge key, a plain directory.
  std::vector<std::pair<std::string, std::string>> not_plain = {
      {"resources:\n- a.yaml\nnamespace: other\n", "kind: ConfigMap\napiVersion: v1\nmetadata:\n  name: a\n"},
      {"resources:\n- a.yaml\npatches:\n- path: a.yaml\n", "kind: ConfigMap\napiVersion: v1\nmetadata:\n  name: a\n"},
      {"resources:\n- a.yaml\n", "kind: ConfigMap\napiVersion: v1\nmetadata:\n  name: a\n---\nkind: ConfigMap\n"
                                 "apiVersion: v1\nmetadata:\n  name: a\n  namespace: default\n"},
      {"resources:\n- a.yaml\n", "kind: ConfigMapList\napiVersion: v1\nitems: []\nmetadata:\n  name: l\n"},
      {"resources:\n- a.yaml\n", "kind: ConfigMap\napiVersion: v1\nmetadata:\n  name: a\n  annotations:\n"
                                 "    config.kubernetes.io/local-config: \"true\"\n"},
      {"resources:\n- a.yaml\n", "kind: ConfigMap\napiVersion: v1\nmetadata: &m\n  name: a\ndata:\n  <<: {x: y}\n"},
      {"resources:\n- a.yaml\n- plain\n", "kind: ConfigMap\napiVersion: v1\nmetadata:\n  name: a\n"},
  };
  // ... and a document with a scalar kustomize types otherwise (YAML 1.1's yes, a timestamp), or refuses
  // (.inf, a key that is not a string, a key twice), or an explicit tag.
  for (const char* sc : {"flag: yes", "on: x", "date: 2001-12-14", "x: -.inf", "True: x", "8080: x", "b: !!binary aGk=",
                         "twice: 1\n  twice: 2"}) {
    not_plain.emplace_back("resources:\n- a.yaml\n",
                           std::string("kind: ConfigMap\napiVersion: v1\nmetadata:\n  name: a\ndata:\n  ") + sc + "\n");
  }
  for (size_t i = 0; i < not_plain.size(); ++i) {
    const std::string dir = "np" + std::to_string(i);
    f.t.write(dir + "/kustomization.yaml", not_plain[i].first);
    f.t.write(dir + "/a.yaml", not_plain[i].second);
    f.t.write(dir + "/plain/b.yaml", "kind: ConfigMap\napiVersion: v1\nmetadata:\n  name: b\n");
  }
  f.commit();
  for (size_t i = 0; i < not_plain.size(); ++i) {
    INFO("case " << i << ": " << not_plain[i].first);
    const int before = runs;
    build("np" + std::to_string(i));
    CHECK(runs == before + 1);
  }
}
