// engine::render_request, golden: the render request of every release of two corpus repositories and of
// made-up releases covering the chart kinds and the inputs a request carries.
#include "engine_support.hpp"

using namespace helmgate;
using test::TempRepo;

namespace {

std::string requests_at(TempRepo& t, const std::string& name) {
  const std::string commit = t.commit(name);
  test::WorkspaceDir w(name);
  auto repo = git::Repository::open(t.dir.string());
  REQUIRE(repo.ok());
  auto d = release::discover(*repo, commit, test::discover_options(*w.ws, *repo, commit));
  engine::ChartSources src{&*repo, commit, w.ws->mirrors.get(), w.ws->trees_dir(), test::open_egress()};
  return test::describe_requests(d, src);
}

}  // namespace

TEST_CASE("render requests of the helm-operator-get-started corpus (in-repo chart path)", "[unit][golden]") {
  TempRepo t("golden-hoge");
  t.copy_from(test::corpus("helm-operator-get-started"), {"charts", "namespaces", "releases"});
  test::check_golden("requests-helm-operator-get-started.txt", requests_at(t, "golden-hoge"));
}

TEST_CASE("render requests of the flux2-kustomize-helm-example corpus (kustomize overlays, OCI, values)", "[unit][golden]") {
  TempRepo t("golden-flux2");
  t.copy_from(test::corpus("flux2-kustomize-helm-example"), {"apps", "clusters", "infrastructure"});
  test::check_golden("requests-flux2-kustomize-helm-example.txt", requests_at(t, "golden-flux2"));
}

TEST_CASE("render requests of made-up releases: OCI, in-repo chart, valuesFrom, createNamespace, postRenderers", "[unit][golden]") {
  TempRepo t("golden-madeup");
  t.write("charts/demo/Chart.yaml", "apiVersion: v2\nname: demo\nversion: 0.1.0\n");
  t.write("charts/demo/values.yaml", "replicaCount: 1\n");
  t.write("charts/demo/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: demo}\ndata: {n: \"{{ .Values.replicaCount }}\"}\n");
  t.write("clusters/dev/flux-system.yaml", test::kSelfRepository);
  // In-repo chart path through this repository's GitRepository, with createNamespace and postRenderers.
  t.write("clusters/dev/demo.yaml",
          "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: demo, namespace: apps}\n"
          "spec:\n  interval: 5m\n  targetNamespace: demo-target\n  install: {createNamespace: true}\n"
          "  chart:\n    spec:\n      chart: ./charts/demo\n      sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}\n"
          "  values: {replicaCount: 3}\n"
          "  postRenderers:\n  - kustomize:\n      patches:\n      - target: {kind: ConfigMap}\n"
          "        patch: |\n          - op: add\n            path: /metadata/labels\n            value: {team: a}\n");
  // valuesFrom a ConfigMap and a Secret (a key of each) over inline values.
  t.write("clusters/dev/values.yaml",
          "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web-values, namespace: apps}\n"
          "data:\n  values.yaml: |\n    image: {tag: \"1.10\"}\n    replicas: 2\n---\n"
          "apiVersion: v1\nkind: Secret\nmetadata: {name: web-secret, namespace: apps}\n"
          "stringData:\n  password: s3cret-value-1234\n");
  t.write("clusters/dev/web.yaml",
          "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: web, namespace: apps}\n"
          "spec:\n  interval: 5m\n  chart:\n    spec:\n      chart: podinfo\n      version: \">=6.0.0 <7.0.0\"\n"
          "      sourceRef: {kind: HelmRepository, name: podinfo}\n"
          "  valuesFrom:\n  - {kind: ConfigMap, name: web-values}\n"
          "  - {kind: Secret, name: web-secret, valuesKey: password, targetPath: auth.password}\n"
          "  values: {replicas: 1, ui: {color: blue}}\n---\n"
          "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata: {name: podinfo, namespace: apps}\n"
          "spec: {interval: 1h, url: \"https://stefanprodan.github.io/podinfo\"}\n");
  // OCI: an OCIRepository chartRef pinned by digest, and a HelmRepository of type oci.
  t.write("clusters/dev/oci.yaml",
          "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata: {name: podinfo-oci, namespace: apps}\n"
          "spec:\n  interval: 1h\n  url: oci://ghcr.io/stefanprodan/charts/podinfo\n"
          "  ref: {tag: 6.5.0, digest: \"sha256:" + std::string(64, 'a') + "\"}\n---\n"
          "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: by-digest, namespace: apps}\n"
          "spec:\n  interval: 5m\n  chartRef: {kind: OCIRepository, name: podinfo-oci}\n  values: {a: 1}\n---\n"
          "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata: {name: charts-oci, namespace: apps}\n"
          "spec: {type: oci, interval: 1h, url: \"oci://registry.example.com/charts/\"}\n---\n"
          "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: by-tag, namespace: apps}\n"
          "spec:\n  interval: 5m\n  install: {disableSchemaValidation: true}\n"
          "  chart:\n    spec: {chart: redis, version: 18.1.0, sourceRef: {kind: HelmRepository, name: charts-oci}}\n");
  test::check_golden("requests-made-up.txt", requests_at(t, "golden-madeup"));
}

TEST_CASE("a chart URL the egress policy refuses is an error of the request, naming where it is declared", "[unit]") {
  TempRepo t("golden-egress");
  t.write("clusters/dev/web.yaml",
          "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: web, namespace: apps}\n"
          "spec:\n  interval: 5m\n  chart:\n    spec: {chart: podinfo, sourceRef: {kind: HelmRepository, name: podinfo}}\n---\n"
          "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata: {name: podinfo, namespace: apps}\n"
          "spec: {interval: 1h, url: \"https://charts.elsewhere.example/podinfo\"}\n");
  const std::string commit = t.commit("egress");
  test::WorkspaceDir w("golden-egress");
  auto repo = git::Repository::open(t.dir.string());
  REQUIRE(repo.ok());
  auto d = release::discover(*repo, commit, test::discover_options(*w.ws, *repo, commit));
  REQUIRE(d.releases.size() == 1);
  core::EgressPolicy only;
  only.allow = {"charts.example.com"};
  engine::ChartSources src{&*repo, commit, w.ws->mirrors.get(), w.ws->trees_dir(), only};
  auto q = engine::render_request(d.releases.front(), src);
  REQUIRE_FALSE(q.ok());
  CHECK(q.error().code == core::errc::forbidden);
  CHECK(q.error().message.find("clusters/dev/web.yaml") != std::string::npos);
}
