// The helm-operator API generations the seed repository (fluxcd/helm-operator-get-started) went through,
// on a small repository made like it: FluxHelmRelease v1alpha2 (chartGitPath, valueFileSecrets), its
// migration to flux.weave.works/v1beta1 HelmRelease, a value change there, the migration to
// helm.fluxcd.io/v1; each migration is one release changing, never a removal plus an addition. Anything
// else that looks like a HelmRelease is a note with file, line and apiVersion. Real git, real helm.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "release/release.hpp"
#include "support/discovery.hpp"

namespace fs = std::filesystem;
using namespace helmgate;

namespace {

using test::all_reasons;
using test::Engine;
using test::find_release;
using test::TempRepo;

std::string work_dir(const char* name) {
  auto p = fs::temp_directory_path() / (std::string("hg-legacy-work-") + name + "-" + std::to_string(::getpid()));
  fs::remove_all(p);
  return p.string();
}

std::string text_of(const release::Discovery& d) {
  std::string s;
  for (const auto& p : d.problems) s += "problem " + p.where.file + ":" + std::to_string(p.where.line) + ": " + p.message + "\n";
  for (const auto& n : d.notes) s += "note " + n.where.file + ":" + std::to_string(n.where.line) + ": " + n.message + "\n";
  for (const auto& r : d.releases) {
    for (const auto& e : r.errors) s += "error " + r.id() + ": " + e.message + "\n";
  }
  return s;
}

// The seed's dev release in each generation, with the same namespace/name and values.
std::string dev_release(const std::string& generation, const std::string& tag) {
  const std::string values = "  values:\n    image:\n      repository: stefanprodan/podinfo\n      tag: \"" + tag +
                             "\"\n    replicaCount: 1\n";
  const std::string meta = "metadata:\n  name: podinfo-dev\n  namespace: dev\n  annotations:\n"
                           "    flux.weave.works/automated: \"true\"\n";
  if (generation == "v1alpha2") {
    return "---\napiVersion: helm.integrations.flux.weave.works/v1alpha2\nkind: FluxHelmRelease\n" + meta +
           "spec:\n  chartGitPath: podinfo\n  releaseName: podinfo-dev\n" + values;
  }
  const std::string api = generation == "v1beta1" ? "flux.weave.works/v1beta1" : "helm.fluxcd.io/v1";
  return "---\napiVersion: " + api + "\nkind: HelmRelease\n" + meta +
         "spec:\n  releaseName: podinfo-dev\n  chart:\n    git: git@github.com:stefanprodan/gitops-helm\n"
         "    path: charts/podinfo\n    ref: master\n" + values;
}

const char* kAdm = R"(apiVersion: helm.integrations.flux.weave.works/v1alpha2
kind: FluxHelmRelease
metadata:
  name: podinfo
  namespace: adm
spec:
  chartGitPath: podinfo
  valueFileSecrets:
    - name: podinfo-values
  values:
    replicaCount: 2
---
apiVersion: v1
kind: Secret
metadata:
  name: podinfo-values
  namespace: adm
stringData:
  values.yaml: |
    replicaCount: 5
    logLevel: debug
)";

}  // namespace

TEST_CASE("legacy: the seed's API generations are read, and each migration is one release that changed", "[fidelity]") {
  TempRepo t("legacy-seed");
  t.copy_from(test::corpus("helm-operator-get-started"), {"charts", "LICENSE"});
  t.write("releases/dev/podinfo.yaml", dev_release("v1alpha2", "1.10"));
  t.write("releases/adm/podinfo.yaml", kAdm);
  const std::string c1 = t.commit("FluxHelmRelease v1alpha2");
  auto repo = git::Repository::open(t.dir.string());
  REQUIRE(repo.ok());
  const std::string work = work_dir("seed");
  Engine e(work);
  e.opt.clusters = release::default_clusters(*repo, c1).value();

  auto d1 = release::discover(*repo, c1, e.opt);
  INFO(text_of(d1));
  REQUIRE(d1.problems.empty());
  REQUIRE(d1.notes.empty());
  REQUIRE(d1.releases.size() == 2);
  const auto* dev = find_release(d1, "default/dev/podinfo-dev");
  REQUIRE(dev != nullptr);
  CHECK(dev->errors.empty());
  CHECK(dev->api_version == "helm.integrations.flux.weave.works/v1alpha2");
  CHECK(dev->chart.kind == release::ChartKind::repo_dir);
  CHECK(dev->chart.path == "charts/podinfo");  // chartGitPath under the operator's charts path
  CHECK(dev->release_name == "podinfo-dev");
  CHECK(dev->target_namespace == "dev");
  CHECK(dev->create_namespace);
  CHECK(dev->where.file == "releases/dev/podinfo.yaml");
  CHECK(dev->values_json.find("\"tag\":\"1.10\"") != std::string::npos);  // quoted: a string
  const auto* adm = find_release(d1, "default/adm/podinfo");
  REQUIRE(adm != nullptr);
  CHECK(adm->errors.empty());
  CHECK(adm->release_name == "adm-podinfo");  // no releaseName: <namespace>-<name>
  // valueFileSecrets first (key values.yaml), spec.values on top.
  CHECK(adm->values_json == "{\"logLevel\":\"debug\",\"replicaCount\":2}");
  REQUIRE(adm->values_from.size() == 1);
  CHECK(adm->values_from[0].label() == "Secret adm/podinfo-values[values.yaml]");
  CHECK(std::find(adm->sensitive.begin(), adm->sensitive.end(), "debug") != adm->sensitive.end());

  // The FluxHelmRelease renders: the chart from this repository, the values as the operator merges them.
  render::RenderRequest req;
  req.chart.dir = (t.dir / dev->chart.path).string();
  req.chart.content_id = dev->chart.content_id;
  req.release_name = dev->release_name;
  req.namespace_ = dev->target_namespace;
  req.values_json = dev->values_json;
  auto rendered = e.renderer.render(req);
  REQUIRE(rendered.ok());
  CHECK(rendered->manifest.find("image: \"stefanprodan/podinfo:1.10\"") != std::string::npos);

  // Migration to flux.weave.works/v1beta1: the same namespace/name, so one release that changed.
  t.write("releases/dev/podinfo.yaml", dev_release("v1beta1", "1.10"));
  const std::string c2 = t.commit("Update Flux Helm Operator CRD to v1beta1");
  auto d2 = release::discover(*repo, c2, e.opt);
  INFO(text_of(d2));
  REQUIRE(d2.releases.size() == 2);
  const auto* dev2 = find_release(d2, "default/dev/podinfo-dev");
  REQUIRE(dev2 != nullptr);
  CHECK(dev2->errors.empty());
  CHECK(dev2->chart.path == "charts/podinfo");  // chart.git names another URL, the path exists here
  CHECK(dev2->values_json == dev->values_json);
  auto a12 = release::affected(d1, d2, repo->changed_paths(c1, c2).value());
  REQUIRE(a12.size() == 1);
  CHECK(a12[0].id == "default/dev/podinfo-dev");
  CHECK(a12[0].base != nullptr);
  CHECK(a12[0].head != nullptr);
  CHECK(all_reasons(a12[0]).find("migrated from FluxHelmRelease helm.integrations.flux.weave.works/v1alpha2 to "
                                 "HelmRelease flux.weave.works/v1beta1") != std::string::npos);

  // A value change in a v1beta1 HelmRelease (what the seed's history did 75 times) is seen.
  t.write("releases/dev/podinfo.yaml", dev_release("v1beta1", "1.11"));
  const std::string c3 = t.commit("Auto-release stefanprodan/podinfo:1.11");
  auto d3 = release::discover(*repo, c3, e.opt);
  auto a23 = release::affected(d2, d3, repo->changed_paths(c2, c3).value());
  REQUIRE(a23.size() == 1);
  CHECK(a23[0].id == "default/dev/podinfo-dev");
  INFO(all_reasons(a23[0]));
  CHECK(all_reasons(a23[0]).find("spec.values.image.tag") != std::string::npos);
  CHECK(all_reasons(a23[0]).find("releases/dev/podinfo.yaml") != std::string::npos);

  // Migration to helm.fluxcd.io/v1: again one release that changed.
  t.write("releases/dev/podinfo.yaml", dev_release("v1", "1.11"));
  const std::string c4 = t.commit("Update HelmRelease manifests to helm.fluxcd.io/v1");
  auto d4 = release::discover(*repo, c4, e.opt);
  auto a34 = release::affected(d3, d4, repo->changed_paths(c3, c4).value());
  REQUIRE(a34.size() == 1);
  CHECK(a34[0].base != nullptr);
  CHECK(a34[0].head != nullptr);
  CHECK(all_reasons(a34[0]).find("migrated from HelmRelease flux.weave.works/v1beta1 to HelmRelease helm.fluxcd.io/v1") !=
        std::string::npos);
  // And straight from FluxHelmRelease to helm.fluxcd.io/v1.
  auto a14 = release::affected(d1, d4, repo->changed_paths(c1, c4).value());
  REQUIRE(a14.size() == 1);
  CHECK(a14[0].base != nullptr);
  CHECK(a14[0].head != nullptr);
  fs::remove_all(work);
}

TEST_CASE("legacy: a HelmRelease of an apiVersion helmgate does not read is a note with file, line and apiVersion",
          "[fidelity]") {
  TempRepo t("legacy-unknown");
  t.copy_from(test::corpus("helm-operator-get-started"), {"charts"});
  t.write("releases/dev/podinfo.yaml", dev_release("v1", "1.10"));
  t.write("releases/old.yaml", R"(# three releases nobody reads
apiVersion: helm.integrations.flux.weave.works/v1alpha
kind: FluxHelmRelease
metadata:
  name: backend
  namespace: test
spec:
  chartGitPath: podinfo
  values:
    - name: image
      value: stefanprodan/podinfo:0.1
---
apiVersion: helm.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: future
spec: {}
---
apiVersion: apps.example.com/v1
kind: HelmRelease
metadata:
  name: other-operator
  namespace: apps
)");
  const std::string c = t.commit("unknown generations");
  auto repo = git::Repository::open(t.dir.string());
  const std::string work = work_dir("unknown");
  Engine e(work);
  e.opt.clusters = release::default_clusters(*repo, c).value();
  auto d = release::discover(*repo, c, e.opt);
  INFO(text_of(d));
  CHECK(d.problems.empty());
  REQUIRE(d.releases.size() == 1);  // the helm.fluxcd.io/v1 one
  REQUIRE(d.notes.size() == 3);
  struct Want {
    int line;
    const char* text;
  };
  const Want want[] = {
      {2, "FluxHelmRelease \"test/backend\" has apiVersion \"helm.integrations.flux.weave.works/v1alpha\", which "
          "helmgate does not read"},
      {13, "HelmRelease \"default/future\" has apiVersion \"helm.fluxcd.io/v2\", which helmgate does not read"},
      {19, "HelmRelease \"apps/other-operator\" has apiVersion \"apps.example.com/v1\", which helmgate does not read"},
  };
  for (const auto& w : want) {
    const auto it = std::find_if(d.notes.begin(), d.notes.end(), [&](const release::Problem& n) {
      return n.message.find(w.text) != std::string::npos;
    });
    REQUIRE(it != d.notes.end());
    CHECK(it->where.file == "releases/old.yaml");
    CHECK(it->where.line == w.line);
    CHECK(it->message.find("that release is not in this preview") != std::string::npos);
  }
  CHECK(d.unread.count("default/test/backend") == 1);

  // A release that moves to an apiVersion helmgate does not read is unknown at head: never "removed"
  // (which the apply would uninstall)...
  t.replace("releases/dev/podinfo.yaml", "apiVersion: helm.fluxcd.io/v1", "apiVersion: helm.fluxcd.io/v2");
  const std::string c2 = t.commit("to an unknown generation");
  auto d2 = release::discover(*repo, c2, e.opt);
  auto gone = release::affected(d, d2, repo->changed_paths(c, c2).value());
  REQUIRE(gone.size() == 1);
  CHECK(gone[0].id == "default/dev/podinfo-dev");
  CHECK(gone[0].head == nullptr);
  CHECK(gone[0].head_failed);
  CHECK(all_reasons(gone[0]).find("at head it is a \"HelmRelease helm.fluxcd.io/v2\", which helmgate does not read") !=
        std::string::npos);
  CHECK(all_reasons(gone[0]).find("not uninstalled") != std::string::npos);
  // ...and one that comes back from it is not "added": its base is unknown.
  auto back = release::affected(d2, d, repo->changed_paths(c2, c).value());
  REQUIRE(back.size() == 1);
  CHECK(back[0].base == nullptr);
  CHECK(back[0].base_failed);
  CHECK(all_reasons(back[0]).find("at base it was a \"HelmRelease helm.fluxcd.io/v2\"") != std::string::npos);
  fs::remove_all(work);
}

TEST_CASE("legacy: helm-operator fields (targetNamespace name, valueFileSecrets, chartFileRef, externalSourceRef)",
          "[fidelity]") {
  TempRepo t("legacy-fields");
  t.copy_from(test::corpus("helm-operator-get-started"), {"charts"});
  t.write("charts/podinfo/values-prod.yaml", "replicaCount: 4\nlogLevel: warn\n");
  t.write("releases/team.yaml", R"(apiVersion: flux.weave.works/v1beta1
kind: HelmRelease
metadata:
  name: podinfo
  namespace: flux
spec:
  targetNamespace: team
  chart:
    git: ssh://git@example.com/fleet
    path: charts/podinfo
  valueFileSecrets:
    - name: first
  valuesFrom:
    - configMapKeyRef:
        name: second
    - chartFileRef:
        path: values-prod.yaml
    - externalSourceRef:
        url: https://example.com/values.yaml
        optional: true
  values:
    logLevel: info
---
apiVersion: v1
kind: Secret
metadata:
  name: first
  namespace: flux
stringData:
  values.yaml: "replicaCount: 1\nui: {message: from-secret}\n"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: second
  namespace: flux
data:
  values.yaml: "replicaCount: 3\nui: {color: red}\n"
)");
  t.write("releases/broken.yaml", R"(apiVersion: helm.integrations.flux.weave.works/v1alpha2
kind: FluxHelmRelease
metadata:
  name: escape
  namespace: adm
spec:
  chartGitPath: ../../etc
---
apiVersion: helm.fluxcd.io/v1
kind: HelmRelease
metadata:
  name: missing-file
  namespace: adm
spec:
  chart:
    git: ssh://git@example.com/fleet
    path: charts/podinfo
  valuesFrom:
    - chartFileRef:
        path: no-such-values.yaml
)");
  const std::string c = t.commit("fields");
  auto repo = git::Repository::open(t.dir.string());
  const std::string work = work_dir("fields");
  Engine e(work);
  e.opt.clusters = release::default_clusters(*repo, c).value();
  auto d = release::discover(*repo, c, e.opt);
  INFO(text_of(d));
  const auto* r = find_release(d, "default/flux/podinfo");
  REQUIRE(r != nullptr);
  CHECK(r->errors.empty());
  CHECK(r->release_name == "flux-team-podinfo");  // GetReleaseName: namespace, target namespace, name
  CHECK(r->target_namespace == "team");
  // valueFileSecrets, then valuesFrom in order (ConfigMap, chart file), then spec.values on top.
  CHECK(r->values_json == "{\"logLevel\":\"info\",\"replicaCount\":4,\"ui\":{\"color\":\"red\",\"message\":\"from-secret\"}}");
  REQUIRE(r->values_from.size() == 2);
  CHECK(r->values_from[0].label() == "Secret flux/first[values.yaml]");
  CHECK(r->values_from[1].label() == "ConfigMap flux/second[values.yaml]");
  REQUIRE(r->notes.size() >= 1);
  CHECK(std::any_of(r->notes.begin(), r->notes.end(), [](const std::string& n) {
    return n.find("spec.valuesFrom[2] externalSourceRef https://example.com/values.yaml is a URL") != std::string::npos;
  }));

  const auto* escape = find_release(d, "default/adm/escape");
  REQUIRE(escape != nullptr);
  REQUIRE_FALSE(escape->errors.empty());
  CHECK(escape->errors.front().message.find("spec.chartGitPath \"../../etc\"") != std::string::npos);
  CHECK(escape->errors.front().where.file == "releases/broken.yaml");

  const auto* missing = find_release(d, "default/adm/missing-file");
  REQUIRE(missing != nullptr);
  REQUIRE(missing->errors.size() == 1);
  CHECK(missing->errors.front().message ==
        "spec.valuesFrom[0] chartFileRef no-such-values.yaml: charts/podinfo/no-such-values.yaml does not exist");
  fs::remove_all(work);
}

TEST_CASE("postBuild substitution in discovery: the forms, strict mode, substituteStrategy Always", "[fidelity]") {
  TempRepo t("legacy-subst");
  auto kustomization = [&](const std::string& post_build) {
    t.write("clusters/dev/apps.yaml", R"(apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps
  sourceRef:
    kind: GitRepository
    name: flux-system
)" + post_build);
  };
  kustomization("  postBuild:\n    substitute:\n      cluster: dev-eu-1\n      image: ghcr.io/acme/web:1.10\n");
  t.write("apps/web.yaml", R"(apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: charts
  namespace: flux-system
spec:
  url: https://charts.example.com
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: web
  namespace: flux-system
spec:
  chart:
    spec:
      chart: web
      sourceRef:
        kind: HelmRepository
        name: charts
  values:
    env: "${cluster%%-*}"
    region: "${cluster#*-}"
    upper: "${cluster^^}"
    repo: "${image%:*}"
    tag: "${image##*:}"
    host: "${cluster/-/.}.example.com"
    dots: "${cluster//-/.}"
    length: "${#cluster}"
    first: "${cluster:0:3}"
    fallback: "${tier:=standard}"
    kept: "$${cluster}"
)");
  const std::string c1 = t.commit("forms");
  auto repo = git::Repository::open(t.dir.string());
  const std::string work = work_dir("subst");
  Engine e(work);
  e.opt.clusters = release::default_clusters(*repo, c1).value();
  auto d1 = release::discover(*repo, c1, e.opt);
  INFO(text_of(d1));
  REQUIRE(d1.problems.empty());
  REQUIRE(d1.releases.size() == 1);
  CHECK(d1.releases[0].values_json ==
        "{\"dots\":\"dev.eu.1\",\"env\":\"dev\",\"fallback\":\"standard\",\"first\":\"dev\",\"host\":\"dev.eu-1.example.com\","
        "\"kept\":\"${cluster}\",\"length\":\"8\",\"region\":\"eu-1\",\"repo\":\"ghcr.io/acme/web\",\"tag\":\"1.10\","
        "\"upper\":\"DEV-EU-1\"}");

  // Strict mode (kustomize-controller's default since v1.9): an unset variable without a default fails the
  // Kustomization, as a problem at its file and line; its releases are not previewed (the root failed).
  t.replace("apps/web.yaml", "fallback: \"${tier:=standard}\"", "fallback: \"${tier}\"");
  const std::string c2 = t.commit("unset variable");
  auto d2 = release::discover(*repo, c2, e.opt);
  REQUIRE(d2.problems.size() == 1);
  CHECK(d2.problems[0].where.file == "clusters/dev/apps.yaml");
  CHECK(d2.problems[0].where.line == 1);
  CHECK(d2.problems[0].message.find("post build failed for HelmRelease/web: variable substitution failed: "
                                    "variable not set (strict mode): \"tier\"") != std::string::npos);
  CHECK(d2.releases.empty());
  CHECK_FALSE(d2.failed_roots.empty());
  // With the feature gate off, it reads as "".
  e.opt.flux_strict_substitution = false;
  auto d2b = release::discover(*repo, c2, e.opt);
  REQUIRE(d2b.problems.empty());
  REQUIRE(d2b.releases.size() == 1);
  CHECK(d2b.releases[0].values_json.find("\"fallback\":\"\"") != std::string::npos);
  e.opt.flux_strict_substitution = true;

  // No variable at all: kustomize-controller does not substitute (substituteStrategy WithVariables)...
  t.replace("apps/web.yaml", "fallback: \"${tier}\"", "fallback: \"${tier:=standard}\"");
  kustomization("  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: absent\n        optional: true\n");
  const std::string c3 = t.commit("no variables");
  auto d3 = release::discover(*repo, c3, e.opt);
  INFO(text_of(d3));
  REQUIRE(d3.releases.size() == 1);
  CHECK(d3.releases[0].values_json.find("\"fallback\":\"${tier:=standard}\"") != std::string::npos);
  // ...unless substituteStrategy: Always (non-strict here: the other references are unset).
  kustomization("  postBuild:\n    substituteStrategy: Always\n");
  const std::string c4 = t.commit("always");
  e.opt.flux_strict_substitution = false;
  auto d4 = release::discover(*repo, c4, e.opt);
  INFO(text_of(d4));
  REQUIRE(d4.releases.size() == 1);
  CHECK(d4.releases[0].values_json.find("\"fallback\":\"standard\"") != std::string::npos);
  CHECK(d4.releases[0].values_json.find("\"env\":\"\"") != std::string::npos);
  fs::remove_all(work);
}
