// Room (d), HelmReleases: the Flux v2 reader and the helm-operator generations' reader on their own, over a
// small tree and object index made for each case; valuesFrom; the typed release spec.
#include <catch2/catch.hpp>

#include "release/helmrelease.hpp"
#include "release/helmrelease_operator.hpp"
#include "release/helmrelease_v2.hpp"
#include "release/values_from.hpp"
#include "support/rooms.hpp"

using namespace helmgate;
using namespace helmgate::release;
using test::doc;

namespace {

struct Fixture : test::TreeFixture {
  DiscoverOptions opt;
  ObjectIndex objects;
  ClusterSpec cluster{"dev", {""}, "1.30.0"};

  Fixture() : TreeFixture("rooms-hr") {}
  Release read(const std::string& text, int line = 1) {
    const charts::Context charts = test::chart_context(opt, objects, &tree);
    return read_release(doc(text, "apps/release.yaml", line), "apps", {"apps/release.yaml"},
                        ReleaseScope{cluster, opt, tree, objects, charts});
  }
};

std::string errors(const Release& r) {
  std::string s;
  for (const auto& e : r.errors) s += e.where.file + ":" + std::to_string(e.where.line) + ": " + e.message + "\n";
  return s;
}

const char* kRepository =
    "kind: HelmRepository\nmetadata: {name: podinfo, namespace: flux-system}\nspec:\n  url: https://charts.example.com\n";

std::string v2(const std::string& spec_extra) {
  return "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: podinfo\n  namespace: apps\n"
         "spec:\n  chart:\n    spec:\n      chart: podinfo\n      version: 6.5.0\n      sourceRef:\n"
         "        kind: HelmRepository\n        name: podinfo\n        namespace: flux-system\n" + spec_extra;
}

}  // namespace

TEST_CASE("helmrelease v2: names, chart, valuesFrom under spec.values, schema flags and the spec", "[unit]") {
  Fixture f;
  f.commit();
  f.objects.add(doc(kRepository, "infra/repo.yaml", 1));
  f.objects.add(doc("kind: ConfigMap\nmetadata: {name: values, namespace: apps}\ndata:\n  values.yaml: |\n"
                    "    replicas: 2\n    ui: {color: blue}\n",
                    "apps/values.yaml", 1));
  f.objects.add(doc("kind: Secret\nmetadata: {name: creds, namespace: apps}\nstringData:\n  token: hg-secret-token\n",
                    "apps/secret.yaml", 1));
  Release r = f.read(v2("  targetNamespace: web\n  install:\n    createNamespace: true\n    disableSchemaValidation: true\n"
                        "  upgrade:\n    disableOpenAPIValidation: true\n"
                        "  valuesFrom:\n    - kind: ConfigMap\n      name: values\n    - kind: Secret\n      name: creds\n"
                        "      valuesKey: token\n      targetPath: auth.token\n  values:\n    replicas: 3\n"));
  INFO(errors(r));
  CHECK(r.errors.empty());
  CHECK(r.id() == "dev/apps/podinfo");
  CHECK(r.kube_version == "1.30.0");
  CHECK(r.release_name == "web-podinfo");
  CHECK(r.target_namespace == "web");
  CHECK_FALSE(r.create_namespace);
  CHECK(r.install_checks.skip_schema_validation);
  CHECK_FALSE(r.upgrade_checks.skip_schema_validation);
  CHECK_FALSE(r.install_checks.skip_openapi_validation);
  CHECK(r.upgrade_checks.skip_openapi_validation);
  CHECK(r.chart.kind == ChartKind::helm_repository);
  CHECK(r.chart.url == "https://charts.example.com");
  CHECK(r.chart.version == "6.5.0");
  CHECK(r.values_json == R"({"auth":{"token":"hg-secret-token"},"replicas":3,"ui":{"color":"blue"}})");
  REQUIRE(r.values_from.size() == 2);
  CHECK(r.values_from[0].found);
  CHECK(r.values_from[1].label() == "Secret apps/creds[token] -> auth.token");
  CHECK(std::find(r.sensitive.begin(), r.sensitive.end(), "hg-secret-token") != r.sensitive.end());
  CHECK(std::find(r.inputs.begin(), r.inputs.end(), "apps/values.yaml") != r.inputs.end());
  CHECK(r.where.file == "apps/release.yaml");
  CHECK(r.spec.kind() == "HelmRelease");
  CHECK(r.spec.install_create_namespace() == std::optional<bool>(true));
}

TEST_CASE("helmrelease v2: what Flux refuses is an error of the release at its file:line", "[unit]") {
  Fixture f;
  f.commit();
  f.objects.add(doc(kRepository, "infra/repo.yaml", 1));
  f.objects.add(doc("kind: ConfigMap\nmetadata: {name: numbers, namespace: apps}\ndata:\n  values.yaml: 1.10\n",
                    "apps/numbers.yaml", 4));
  Release r = f.read(v2("  valuesFrom:\n    - kind: ConfigMap\n      name: absent\n    - kind: ConfigMap\n"
                        "      name: numbers\n    - kind: ConfigMap\n      name: numbers\n      targetPath: a..b\n"),
                     10);
  REQUIRE(r.errors.size() == 3);
  CHECK(r.errors[0].message.find("valuesFrom ConfigMap apps/absent[values.yaml] not found") != std::string::npos);
  CHECK(r.errors[0].where.file == "apps/release.yaml");
  CHECK(r.errors[0].where.line == 10);
  CHECK(r.errors[1].message.find("data.values.yaml: '1.1' is not a string in Kubernetes") != std::string::npos);
  CHECK(r.errors[1].where.file == "apps/numbers.yaml");
  CHECK(r.errors[1].where.line == 4);
  // Parsed from its own file (line 1 here is the document's own line): the targetPath's own line.
  CHECK(r.errors[2].where.file == "apps/release.yaml");
  Release at_line = f.read(v2("  valuesFrom:\n    - kind: ConfigMap\n      name: numbers\n      targetPath: a..b\n"));
  REQUIRE(at_line.errors.size() == 1);
  CHECK(at_line.errors[0].where.line == 18);

  Release list = f.read(v2("  values:\n    - a\n"));
  REQUIRE(list.errors.size() == 1);
  CHECK(list.errors[0].message == "spec.values must be a map (the HelmRelease CRD requires an object)");
}

TEST_CASE("helmrelease legacy: FluxHelmRelease and helm.fluxcd.io/v1 resolved like every generation", "[unit]") {
  Fixture f;
  f.t.write("charts/web/Chart.yaml", "apiVersion: v2\nname: web\nversion: 1.0.0\n");
  f.t.write("charts/web/values-prod.yaml", "tier: prod\n");
  f.commit();
  f.objects.add(doc("kind: Secret\nmetadata: {name: web-values, namespace: adm}\nstringData:\n  values.yaml: |\n"
                    "    debug: true\n",
                    "releases/secret.yaml", 1));
  Release flux = f.read("apiVersion: helm.integrations.flux.weave.works/v1alpha2\nkind: FluxHelmRelease\n"
                        "metadata: {name: web, namespace: adm}\nspec:\n  chartGitPath: web\n"
                        "  valueFileSecrets:\n    - name: web-values\n  values:\n    replicas: 1\n");
  INFO(errors(flux));
  CHECK(flux.errors.empty());
  CHECK(flux.release_name == "adm-web");
  CHECK(flux.target_namespace == "adm");
  CHECK(flux.create_namespace);
  CHECK(flux.chart.kind == ChartKind::repo_dir);
  CHECK(flux.chart.path == "charts/web");
  CHECK(flux.chart.content_id == f.tree.object_id("charts/web").value());
  CHECK(flux.values_json == R"({"debug":true,"replicas":1})");
  CHECK(std::find(flux.sensitive.begin(), flux.sensitive.end(), "true") != flux.sensitive.end());
  CHECK(flux.spec.kind() == "FluxHelmRelease");

  Release op = f.read("apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata: {name: web, namespace: prod}\n"
                      "spec:\n  releaseName: web-prod\n  chart:\n    git: https://git.example.com/charts.git\n"
                      "    path: charts/web\n    ref: main\n  valuesFrom:\n    - chartFileRef:\n        path: values-prod.yaml\n"
                      "    - chartFileRef:\n        path: absent.yaml\n");
  CHECK(op.release_name == "web-prod");
  CHECK(op.chart.kind == ChartKind::repo_dir);  // no configuration: the path exists here
  REQUIRE_FALSE(op.notes.empty());
  CHECK(op.notes[0].find("resolved to this repository") != std::string::npos);
  CHECK(op.values_json == R"({"tier":"prod"})");
  REQUIRE(op.errors.size() == 1);
  CHECK(op.errors[0].message.find("chartFileRef absent.yaml: charts/web/absent.yaml does not exist") != std::string::npos);

  f.opt.self_urls = {"https://git.example.com/this.git"};
  Release remote = f.read("apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata: {name: web, namespace: prod}\n"
                          "spec:\n  chart:\n    git: https://git.example.com/charts.git\n    path: charts/web\n"
                          "    ref: v2\n");
  CHECK(remote.chart.kind == ChartKind::remote_git);
  CHECK(remote.chart.version == "v2");
  CHECK(remote.chart.source.file == "apps/release.yaml");
}

TEST_CASE("helmrelease: a chart directory that is not in the tree is an error naming the commit", "[unit]") {
  Fixture f;
  f.commit();
  Release r;
  r.cluster = "dev";
  r.where = {"apps/release.yaml", 3, 0};
  resolve_repo_chart(r, f.tree, "./charts/absent/", "");
  CHECK(r.chart.path == "charts/absent");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].message ==
        "chart directory 'charts/absent' does not exist in the repository at " + f.tree.commit.substr(0, 12));
  CHECK(r.errors[0].where.line == 3);
}

TEST_CASE("release spec: kind, createNamespace and the spec fields that differ", "[unit]") {
  const Spec a(YAML::Load("kind: HelmRelease\nmetadata: {name: x, labels: {a: b}}\nspec:\n  values: {tag: '1.10'}\n"
                          "  install: {createNamespace: 'no'}\n"));
  const Spec b(YAML::Load("kind: HelmRelease\nmetadata: {name: x}\nspec:\n  values: {tag: 1.10}\n"
                          "  install: {createNamespace: 'no'}\n  interval: 5m\n"));
  CHECK(a.kind() == "HelmRelease");
  CHECK(a.install_create_namespace() == std::optional<bool>(false));
  CHECK(a.changed_fields(b, 8) == std::vector<std::string>{"spec.interval", "spec.values.tag"});
  CHECK(a.changed_fields(a, 8).empty());
  CHECK(a.changed_fields(b, 1).size() == 1);
  const Spec odd(YAML::Load("kind: HelmRelease\nspec:\n  install: {createNamespace: maybe}\n"));
  CHECK_FALSE(odd.install_create_namespace().has_value());
  const Spec none;
  CHECK(none.kind().empty());
  CHECK_FALSE(none.install_create_namespace().has_value());
  CHECK(none.changed_fields(Spec(), 8).empty());
  CHECK(none.changed_fields(b, 8) == std::vector<std::string>{"spec"});
}
