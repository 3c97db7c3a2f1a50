// Issue 11, item 7: which definition and which source Flux uses, on repositories made for each case.
#include <catch2/catch.hpp>

#include <filesystem>

#include "core/yaml_bounded.hpp"
#include "release/typed_json.hpp"
#include "sources_support.hpp"

namespace fs = std::filesystem;
using namespace helmgate;
using test::Engine;
using test::TempRepo;

namespace {

// The HelmRelease `name` in the output of `kubectl kustomize dir`: the oracle for what Flux applies.
YAML::Node kustomize_build_release(const std::string& dir, const std::string& name) {
  process::ProcessOptions po;
  po.env = {"PATH=/usr/bin:/bin", "HOME=" + dir};
  auto r = process::run_process({test::require_env("HELMGATE_KUBECTL"), "kustomize", dir}, po);
  REQUIRE(r.ok());
  INFO(r->err);
  REQUIRE(r->exit_code == 0);
  for (const auto& doc : core::yaml::load_all(r->out)) {
    if (doc["kind"].as<std::string>() == "HelmRelease" && doc["metadata"]["name"].as<std::string>() == name) return doc;
  }
  FAIL("kustomize build of " << dir << " has no HelmRelease " << name);
  return {};
}

void write_base_and_overlay(const TempRepo& t) {
  t.write("apps/base/podinfo/kustomization.yaml", "resources: [release.yaml, repository.yaml]\n");
  t.write("apps/base/podinfo/repository.yaml", test::kPodinfoRepository);
  t.write("apps/base/podinfo/release.yaml",
          test::helm_release("podinfo", "podinfo", "6.0.0", "    replicaCount: 1\n    ingress:\n      hosts: [base.example]\n"));
  t.write("apps/prod/kustomization.yaml",
          "resources: [../base/podinfo]\n"
          "patches:\n"
          "  - target: {kind: HelmRelease, name: podinfo}\n"
          "    patch: |-\n"
          "      apiVersion: helm.toolkit.fluxcd.io/v2\n"
          "      kind: HelmRelease\n"
          "      metadata: {name: podinfo, namespace: podinfo}\n"
          "      spec:\n"
          "        chart: {spec: {version: \"6.5.4\"}}\n"
          "        values:\n"
          "          replicaCount: 3\n"
          "          tag: \"1.10\"\n"
          "          ingress: {hosts: [prod.example]}\n");
}

}  // namespace

TEST_CASE("one cluster path with a kustomize base and the overlay a Flux Kustomization applies", "[fidelity]") {
  TempRepo t("src-overlay");
  write_base_and_overlay(t);
  t.write("clusters/prod/apps.yaml", test::flux_kustomization("apps", "./apps/prod", "GitRepository", "flux-system"));
  const std::string c1 = t.commit("base, overlay, Flux Kustomization");
  auto repo = git::Repository::open(t.dir.string());
  REQUIRE(repo.ok());
  Engine e(test::work_dir(t));  // the cluster path is the repository root: it holds base and overlay

  auto d = release::discover(*repo, c1, e.opt);
  INFO(test::all_problems(d));
  REQUIRE(d.problems.empty());
  REQUIRE(d.releases.size() == 1);
  const release::Release& r = d.releases.front();
  CHECK(r.id() == "default/podinfo/podinfo");
  // What `kustomize build apps/prod` gives, which is what Flux applies.
  YAML::Node oracle = kustomize_build_release((t.dir / "apps/prod").string(), "podinfo");
  CHECK(r.chart.version == oracle["spec"]["chart"]["spec"]["version"].as<std::string>());
  CHECK(r.chart.version == "6.5.4");
  auto typed = release::typed::from_yaml(oracle["spec"]["values"]);
  REQUIRE(typed.ok);
  CHECK(r.values_json == release::typed::to_json(typed.value));
  CHECK(r.values_json.find("\"tag\":\"1.10\"") != std::string::npos);
  CHECK(r.root == "apps/prod");
  CHECK(r.where.file == "apps/base/podinfo/release.yaml");
  CHECK(test::all_notes(d).find("more than once") == std::string::npos);

  SECTION("without the Flux Kustomization the overlay still wins over the base it includes") {
    fs::remove(t.dir / "clusters/prod/apps.yaml");
    const std::string c2 = t.commit("no Flux Kustomization");
    auto d2 = release::discover(*repo, c2, e.opt);
    REQUIRE(d2.releases.size() == 1);
    CHECK(d2.releases.front().chart.version == "6.5.4");
    CHECK(d2.releases.front().values_json == r.values_json);
  }

  SECTION("two unrelated definitions: the first is shown and a note names both") {
    t.write("other/podinfo.yaml", test::helm_release("podinfo", "podinfo", "5.0.0", "    replicaCount: 9\n"));
    fs::remove(t.dir / "clusters/prod/apps.yaml");
    const std::string c3 = t.commit("a second, unrelated definition");
    auto d3 = release::discover(*repo, c3, e.opt);
    REQUIRE(d3.releases.size() == 1);
    CHECK(test::all_notes(d3).find("HelmRelease podinfo/podinfo is declared more than once") != std::string::npos);
    CHECK(test::all_notes(d3).find("other/podinfo.yaml") != std::string::npos);
  }
}

TEST_CASE("an ExternalArtifact is followed to the source its ArtifactGenerator copies from", "[fidelity]") {
  // The tenant repository one of the generator's sources names (a GitRepository of another URL).
  TempRepo tenant("src-tenant");
  tenant.write("overlays/release.yaml", test::helm_release("tenant-app", "tenant", "6.1.0", "    replicaCount: 2\n"));
  tenant.write("overlays/repository.yaml", test::kPodinfoRepository);
  tenant.commit("tenant");

  TempRepo t("src-artifact");
  t.write("apps/base/release.yaml", test::helm_release("base-app", "apps", "6.0.0", "    replicaCount: 1\n"));
  t.write("apps/base/repository.yaml", test::kPodinfoRepository);
  t.write("charts/demo/Chart.yaml", "apiVersion: v2\nname: demo\nversion: 0.1.0\n");
  t.write("charts/demo/values.yaml", "replicaCount: 1\n");
  t.write("clusters/c/flux.yaml",
          "apiVersion: source.extensions.fluxcd.io/v1beta1\n"
          "kind: ArtifactGenerator\n"
          "metadata: {name: gen, namespace: flux-system}\n"
          "spec:\n"
          "  sources:\n"
          "    - {alias: mono, kind: GitRepository, name: flux-system}\n"
          "    - {alias: tenant, kind: GitRepository, name: tenant-repo}\n"
          "    - {alias: missing, kind: GitRepository, name: shared-repo}\n"
          "    - {alias: oci, kind: OCIRepository, name: manifests}\n"
          "  artifacts:\n"
          "    - name: apps\n"
          "      copy:\n"
          "        - {from: \"@mono/apps/base/**\", to: \"@artifact/base/\"}\n"
          "        - {from: \"@tenant/overlays/**\", to: \"@artifact/overlays/\"}\n"
          "        - {from: \"@missing/apps/**\", to: \"@artifact/shared/\"}\n"
          "    - name: from-oci\n"
          "      copy:\n"
          "        - {from: \"@oci/**\", to: \"@artifact/\"}\n"
          "    - name: demo-chart\n"
          "      copy:\n"
          "        - {from: \"@mono/charts/demo/**\", to: \"@artifact/\"}\n"
          "    - name: escaping\n"
          "      copy:\n"
          "        - {from: \"@mono/../../etc/**\", to: \"@artifact/\"}\n"
          "---\n"
          "apiVersion: source.toolkit.fluxcd.io/v1\n"
          "kind: GitRepository\n"
          "metadata: {name: tenant-repo, namespace: flux-system}\n"
          "spec: {interval: 1m, url: \"https://git.example.com/tenant.git\", ref: {branch: main}}\n"
          "---\n" +
              test::flux_kustomization("base", "./base", "ExternalArtifact", "apps") + "---\n" +
              test::flux_kustomization("tenant", "./overlays", "ExternalArtifact", "apps") + "---\n" +
              test::flux_kustomization("shared", "./shared", "ExternalArtifact", "apps") + "---\n" +
              test::flux_kustomization("oci", "./", "ExternalArtifact", "from-oci") +
              "---\n"
              "apiVersion: helm.toolkit.fluxcd.io/v2\n"
              "kind: HelmRelease\n"
              "metadata: {name: demo, namespace: apps}\n"
              "spec:\n"
              "  chartRef: {kind: ExternalArtifact, name: demo-chart, namespace: flux-system}\n"
              "---\n"
              "apiVersion: helm.toolkit.fluxcd.io/v2\n"
              "kind: HelmRelease\n"
              "metadata: {name: escaping, namespace: apps}\n"
              "spec:\n"
              "  chartRef: {kind: ExternalArtifact, name: escaping, namespace: flux-system}\n");
  const std::string c = t.commit("artifacts");
  auto repo = git::Repository::open(t.dir.string());
  REQUIRE(repo.ok());
  Engine e(test::work_dir(t));
  e.opt.clusters = {{"c", {"clusters/c"}, {}}};
  std::vector<std::string> opened;
  e.opt.open_source = [&](const std::string& url) -> core::Result<std::shared_ptr<const git::Repository>> {
    opened.push_back(url);
    if (url != "https://git.example.com/tenant.git") return core::Error(core::errc::not_found, "unexpected " + url);
    auto r = git::Repository::open(tenant.dir.string());
    if (!r) return r.error();
    return std::make_shared<const git::Repository>(std::move(*r));
  };

  auto d = release::discover(*repo, c, e.opt);
  INFO(test::all_problems(d) << test::all_notes(d));
  CHECK(d.problems.empty());
  // From this repository (the generator's flux-system source): apps/base.
  const release::Release* base = test::find_release(d, "c/apps/base-app");
  REQUIRE(base != nullptr);
  CHECK(base->where.file == "apps/base/release.yaml");
  // From the tenant GitRepository the generator names, not from this repository's overlays/.
  const release::Release* tenant_app = test::find_release(d, "c/tenant/tenant-app");
  REQUIRE(tenant_app != nullptr);
  CHECK(opened == std::vector<std::string>{"https://git.example.com/tenant.git"});
  CHECK(tenant_app->where.file.find("overlays/release.yaml") != std::string::npos);
  CHECK(test::joined(tenant_app->notes).find("GitRepository flux-system/tenant-repo") != std::string::npos);
  // A source that is not declared, and one of a kind helmgate does not read: notes, never silence.
  const std::string notes = test::all_notes(d);
  CHECK(notes.find("ExternalArtifact flux-system/apps, which is not previewed") != std::string::npos);
  CHECK(notes.find("GitRepository flux-system/shared-repo, which is not declared") != std::string::npos);
  CHECK(notes.find("OCIRepository flux-system/manifests; sources of kind OCIRepository are not read") != std::string::npos);
  // spec.chartRef of kind ExternalArtifact: the chart the generator copies from this repository.
  const release::Release* demo = test::find_release(d, "c/apps/demo");
  REQUIRE(demo != nullptr);
  INFO(test::all_errors(*demo));
  CHECK(demo->errors.empty());
  CHECK(demo->chart.kind == release::ChartKind::repo_dir);
  CHECK(demo->chart.path == "charts/demo");
  // A copy entry (Git content) naming a path above the repository is refused, not read.
  const release::Release* escaping = test::find_release(d, "c/apps/escaping");
  REQUIRE(escaping != nullptr);
  REQUIRE(escaping->errors.size() == 1);
  CHECK(escaping->errors[0].message.find("the chart path \"../../etc\"") != std::string::npos);
  CHECK(escaping->errors[0].message.find("'..'") != std::string::npos);
}

TEST_CASE("spec.chartRef of kind HelmChart reads the HelmChart object", "[fidelity]") {
  TempRepo t("src-helmchart");
  t.write("charts/demo/Chart.yaml", "apiVersion: v2\nname: demo\nversion: 0.1.0\n");
  t.write("charts/demo/values.yaml", "replicaCount: 1\nimage: {tag: base}\n");
  t.write("charts/demo/values-prod.yaml", "image: {tag: \"1.10\"}\n");
  t.write("apps/charts.yaml",
          "apiVersion: source.toolkit.fluxcd.io/v1\n"
          "kind: HelmChart\n"
          "metadata: {name: ingress-nginx, namespace: flux-system}\n"
          "spec: {chart: ingress-nginx, version: 4.13.3, interval: 1h, sourceRef: {kind: HelmRepository, name: ingress-nginx}}\n"
          "---\n"
          "apiVersion: source.toolkit.fluxcd.io/v1\n"
          "kind: HelmRepository\n"
          "metadata: {name: ingress-nginx, namespace: flux-system}\n"
          "spec: {url: \"https://kubernetes.github.io/ingress-nginx\", interval: 1h}\n"
          "---\n"
          "apiVersion: source.toolkit.fluxcd.io/v1\n"
          "kind: HelmChart\n"
          "metadata: {name: demo, namespace: flux-system}\n"
          "spec:\n"
          "  chart: ./charts/demo\n"
          "  interval: 1h\n"
          "  sourceRef: {kind: GitRepository, name: flux-system}\n"
          "  valuesFiles: [charts/demo/values.yaml, charts/demo/values-prod.yaml]\n");
  t.write("apps/releases.yaml",
          "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: ingress-nginx, namespace: flux-system}\n"
          "spec: {chartRef: {kind: HelmChart, name: ingress-nginx}, releaseName: ingress-nginx}\n"
          "---\n"
          "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: demo, namespace: flux-system}\n"
          "spec: {chartRef: {kind: HelmChart, name: demo}, values: {replicaCount: 2}}\n");
  const std::string c = t.commit("HelmCharts");
  auto repo = git::Repository::open(t.dir.string());
  REQUIRE(repo.ok());
  Engine e(test::work_dir(t));
  auto d = release::discover(*repo, c, e.opt);
  REQUIRE(d.problems.empty());

  const release::Release* nginx = test::find_release(d, "default/flux-system/ingress-nginx");
  REQUIRE(nginx != nullptr);
  INFO(test::all_errors(*nginx));
  CHECK(nginx->errors.empty());
  CHECK(nginx->chart.kind == release::ChartKind::helm_repository);
  CHECK(nginx->chart.name == "ingress-nginx");
  CHECK(nginx->chart.version == "4.13.3");
  CHECK(nginx->chart.url == "https://kubernetes.github.io/ingress-nginx");
  CHECK(std::find(nginx->inputs.begin(), nginx->inputs.end(), "apps/charts.yaml") != nginx->inputs.end());

  const release::Release* demo = test::find_release(d, "default/flux-system/demo");
  REQUIRE(demo != nullptr);
  INFO(test::all_errors(*demo));
  CHECK(demo->errors.empty());
  CHECK(demo->chart.kind == release::ChartKind::repo_dir);
  CHECK(demo->chart.path == "charts/demo");
  // valuesFiles merged in order, spec.values on top; typed ("1.10" stays a string).
  CHECK(demo->values_json == "{\"image\":{\"tag\":\"1.10\"},\"replicaCount\":2}");
  CHECK(std::find(demo->inputs.begin(), demo->inputs.end(), "charts/demo/values-prod.yaml") != demo->inputs.end());

  SECTION("a HelmChart's source is in its own namespace: a sourceRef.namespace is not an API field") {
    // flux-local's cluster7 writes one; the API server drops it, so Flux looks in the HelmChart's namespace.
    t.replace("apps/charts.yaml", "metadata: {name: ingress-nginx, namespace: flux-system}\nspec: {chart: ingress-nginx",
              "metadata: {name: ingress-nginx, namespace: chart-ns}\nspec: {chart: ingress-nginx");
    t.replace("apps/charts.yaml", "sourceRef: {kind: HelmRepository, name: ingress-nginx}",
              "sourceRef: {kind: HelmRepository, name: ingress-nginx, namespace: flux-system}");
    t.replace("apps/releases.yaml", "chartRef: {kind: HelmChart, name: ingress-nginx}",
              "chartRef: {kind: HelmChart, name: ingress-nginx, namespace: chart-ns}");
    const std::string c2 = t.commit("HelmChart in another namespace");
    auto d2 = release::discover(*repo, c2, e.opt);
    const release::Release* n2 = test::find_release(d2, "default/flux-system/ingress-nginx");
    REQUIRE(n2 != nullptr);
    REQUIRE(n2->errors.size() == 1);
    CHECK(n2->errors[0].message.find("HelmRepository chart-ns/ingress-nginx referenced by HelmChart chart-ns/ingress-nginx "
                                     "spec.sourceRef (its namespace: 'flux-system' is not a field") != std::string::npos);
  }

  SECTION("a change to a values file of the HelmChart affects the release") {
    t.write("charts/demo/values-prod.yaml", "image: {tag: \"1.11\"}\n");
    const std::string c2 = t.commit("prod tag");
    auto d2 = release::discover(*repo, c2, e.opt);
    auto aff = release::affected(d, d2, repo->changed_paths(c, c2).value());
    REQUIRE(aff.size() == 1);
    CHECK(aff[0].id == "default/flux-system/demo");
  }
}

TEST_CASE("a GitRepository whose URL names this repository's remote is this repository", "[fidelity]") {
  TempRepo t("src-remote");
  t.git({"remote", "add", "upstream", "https://git.example.org/someone/else.git"});
  t.git({"remote", "add", "origin", "git@GitHub.com:Acme/Fleet.git"});
  t.write("charts/demo/Chart.yaml", "apiVersion: v2\nname: demo\nversion: 0.1.0\n");
  t.write("apps/release.yaml",
          test::helm_release("podinfo", "apps", "6.0.0", "    replicaCount: 1\n") + "---\n" + test::kPodinfoRepository +
              "---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: demo, namespace: apps}\n"
              "spec: {chart: {spec: {chart: ./charts/demo, sourceRef: {kind: GitRepository, name: fleet, namespace: flux-system}}}}\n");
  t.write("clusters/c/sync.yaml",
          "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: {name: fleet, namespace: flux-system}\n"
          "spec: {interval: 1m, url: \"https://github.com/acme/fleet\", ref: {branch: main}}\n---\n" +
              test::flux_kustomization("apps", "./apps", "GitRepository", "fleet"));
  const std::string c = t.commit("a GitRepository not named flux-system");
  auto repo = git::Repository::open(t.dir.string());
  REQUIRE(repo.ok());
  const auto remotes = repo->remote_urls();
  REQUIRE(remotes.size() == 2);
  CHECK(remotes.front() == "git@GitHub.com:Acme/Fleet.git");  // origin first

  Engine e(test::work_dir(t));
  e.opt.clusters = {{"c", {"clusters/c"}, {}}};

  SECTION("with the remotes: followed here, and its chart is a directory of this repository") {
    e.opt.remote_urls = remotes;
    auto d = release::discover(*repo, c, e.opt);
    INFO(test::all_problems(d) << test::all_notes(d));
    CHECK(test::find_release(d, "c/apps/podinfo") != nullptr);
    const release::Release* demo = test::find_release(d, "c/apps/demo");
    REQUIRE(demo != nullptr);
    CHECK(demo->chart.kind == release::ChartKind::repo_dir);
    CHECK(demo->chart.path == "charts/demo");
  }
  SECTION("without them (or with a configured URL naming another repository) it is another repository") {
    auto d = release::discover(*repo, c, e.opt);
    CHECK(d.releases.empty());
    CHECK(test::all_notes(d).find("GitRepository flux-system/fleet") != std::string::npos);
    e.opt.remote_urls = remotes;
    e.opt.self_urls = {"https://github.com/acme/other"};
    auto d2 = release::discover(*repo, c, e.opt);
    CHECK(d2.releases.empty());
  }
}
