// Discovery and affected analysis on real Flux repositories (the corpora), with real git and kustomize.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "release/release.hpp"
#include "support/discovery.hpp"

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
