// Honest outcomes of a preview, each on a small repository made for it (a local chart, Flux HelmReleases
// in flat cluster directories or behind Flux Kustomizations), through run_preview with real git and helm:
// - a release whose base or head cannot be read is an error that says what failed and where, while a
//   cluster path or Flux Kustomization that is new at head is an honest addition rendered in full;
// - "changed files" names only the release's own inputs;
// - resources are keyed with their effective namespace (cluster-scoped ones, also by a rendered CRD, without);
// - one malformed file no longer hides the other releases of its path;
// - the live diff is labelled live/head; ssh user names are not masked; preview needs no forge settings.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "config/config.hpp"
#include "core/redact.hpp"
#include "diff/normalize.hpp"
#include "diff/scope.hpp"
#include "diff/unified.hpp"
#include "engine/plan.hpp"
#include "release/release.hpp"
#include "runners/preview_pipeline.hpp"
#include "support/preview_request.hpp"
#include "support/support.hpp"
#include "support/temp_repo.hpp"

namespace fs = std::filesystem;
using namespace helmgate;

namespace {

using test::TempRepo;

// A chart with a namespaced object, a cluster-scoped one, a cluster-scoped and a namespaced CRD with one
// object each, and a kind nobody declares; none of them sets metadata.namespace.
void write_chart(const TempRepo& t) {
  t.write("charts/app/Chart.yaml", "apiVersion: v2\nname: app\nversion: 0.1.0\n");
  t.write("charts/app/values.yaml", "msg: hello\n");
  t.write("charts/app/templates/cm.yaml",
          "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  msg: {{ .Values.msg | quote }}\n");
  t.write("charts/app/templates/role.yaml",
          "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: {{ .Release.Name }}-reader\n"
          "  annotations:\n    msg: {{ .Values.msg | quote }}\nrules: []\n");
  t.write("charts/app/templates/crs.yaml",
          "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: {{ .Release.Name }}-w\nspec:\n  msg: {{ .Values.msg | quote }}\n"
          "---\napiVersion: example.com/v1\nkind: Gadget\nmetadata:\n  name: {{ .Release.Name }}-g\nspec:\n  msg: {{ .Values.msg | quote }}\n");
  auto crd = [](const std::string& kind, const std::string& plural, const std::string& scope) {
    return "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: " + plural +
           ".example.com\nspec:\n  group: example.com\n  scope: " + scope + "\n  names:\n    kind: " + kind +
           "\n    plural: " + plural + "\n  versions:\n    - name: v1\n      served: true\n      storage: true\n"
           "      schema:\n        openAPIV3Schema:\n          type: object\n          x-kubernetes-preserve-unknown-fields: true\n";
  };
  t.write("charts/app/crds/widgets.yaml", crd("Widget", "widgets", "Cluster"));
  t.write("charts/app/crds/gadgets.yaml", crd("Gadget", "gadgets", "Namespaced"));
}

std::string helm_release(const std::string& name, const std::string& msg, const std::string& ns = "apps") {
  return "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: " + name + "\n  namespace: " + ns +
         "\nspec:\n  interval: 5m\n  chart:\n    spec:\n      chart: ./charts/app\n      sourceRef:\n        kind: GitRepository\n"
         "        name: flux-system\n        namespace: flux-system\n  values:\n    msg: " + msg + "\n";
}

std::string flux_kustomization(const std::string& name, const std::string& path) {
  return "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: " + name +
         "\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: " + path +
         "\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n";
}

const char* kBroken = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: c\n  namespace: [apps\n";

struct Preview {
  std::string work;
  explicit Preview(const std::string& name)
      : work((fs::temp_directory_path() / ("hg-outcomes-" + name + "-" + std::to_string(::getpid()))).string()) {
    fs::remove_all(work);
  }
  ~Preview() {
    std::error_code ec;
    fs::remove_all(work, ec);
  }
  runners::PreviewResult run(const TempRepo& t, const std::string& base, const std::string& head) const {
    auto req = test::preview_request(t.dir.string(), base, head, work, {runners::PreviewFormat::markdown, runners::PreviewFormat::json});
    req.max_part_bytes = 0;
    auto res = runners::run_preview(req);
    INFO((res ? std::string() : res.error().message));
    REQUIRE(res.ok());
    return std::move(*res);
  }
};

const diff::ReleaseReport* find(const runners::PreviewResult& r, const std::string& cluster, const std::string& name) {
  for (const auto& x : r.report.releases) {
    if (x.cluster == cluster && x.name == name) return &x;
  }
  return nullptr;
}

std::string errors_of(const diff::ReleaseReport& r) {
  std::string s;
  for (const auto& e : r.errors) s += e.where() + ": " + e.message + "\n";
  return s;
}

std::string keys_of(const diff::ReleaseReport& r) {
  std::string s;
  for (const auto& d : r.resources) s += std::string(diff::to_string(d.change)) + " " + d.key + "\n";
  return s;
}

std::string reasons_of(const diff::ReleaseReport& r) {
  std::string s;
  for (const auto& x : r.reasons) s += x + "\n";
  return s;
}

}  // namespace

TEST_CASE("outcomes: a cluster path new at head is rendered in full as added (item 7)", "[fidelity]") {
  TempRepo t("outcomes-newpath");
  write_chart(t);
  t.write("clusters/dev/a.yaml", helm_release("a", "one"));
  const std::string base = t.commit("dev");
  t.write("clusters/prod/x.yaml", helm_release("x", "prod"));
  const std::string head = t.commit("a new cluster path");
  Preview p("newpath");
  auto res = p.run(t, base, head);
  INFO(res.markdown_parts.front());
  CHECK(res.report.errors.empty());
  const auto* x = find(res, "prod", "x");
  REQUIRE(x != nullptr);
  CHECK(x->status == diff::ReleaseStatus::added);
  CHECK(x->errors.empty());
  CHECK(reasons_of(*x).find("HelmRelease added") != std::string::npos);
  // Everything the chart renders, as added.
  CHECK(x->count(diff::Change::added) == 6);  // 2 CRDs, ConfigMap, ClusterRole, Widget, Gadget
  CHECK(x->count(diff::Change::changed) == 0);
  CHECK(res.exit_status() == 2);
}

TEST_CASE("outcomes: a release whose base cannot be read is an error that says what failed (item 4)", "[fidelity]") {
  TempRepo t("outcomes-base");
  write_chart(t);
  t.write("clusters/dev/a.yaml", helm_release("a", "one"));
  t.write("clusters/dev/c.yaml", kBroken);  // the deploy branch holds a malformed file
  t.write("clusters/dev/flux.yaml", flux_kustomization("apps", "./apps/dev"));  // its path does not exist yet
  t.write("clusters/ops/namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n");
  const std::string base = t.commit("broken deploy branch");
  t.write("clusters/dev/c.yaml", helm_release("c", "fixed"));
  t.write("apps/dev/r.yaml", helm_release("r", "late"));
  t.write("clusters/ops/flux-new.yaml", flux_kustomization("apps-new", "./apps/new"));  // new at head, and its path
  t.write("apps/new/n.yaml", helm_release("n", "new"));
  t.replace("clusters/dev/a.yaml", "msg: one", "msg: two");
  const std::string head = t.commit("fix");
  Preview p("base");
  auto res = p.run(t, base, head);
  INFO(res.markdown_parts.front());

  // c sat in the malformed file: not "added +0 ~0 -0", an error naming the file and line.
  const auto* c = find(res, "dev", "c");
  REQUIRE(c != nullptr);
  CHECK(c->status == diff::ReleaseStatus::error);
  CHECK(c->resources.empty());
  INFO(errors_of(*c));
  CHECK(std::any_of(c->errors.begin(), c->errors.end(), [](const diff::Problem& e) {
    return e.file == "clusters/dev/c.yaml" && e.line > 0 && e.message.find("could not be read at base") != std::string::npos &&
           e.message.find("invalid YAML") != std::string::npos;
  }));
  // r's Flux Kustomization existed at base but its path did not: an error too, naming the path.
  const auto* r = find(res, "dev", "r");
  REQUIRE(r != nullptr);
  CHECK(r->status == diff::ReleaseStatus::error);
  INFO(errors_of(*r));
  CHECK(std::any_of(r->errors.begin(), r->errors.end(), [](const diff::Problem& e) {
    return e.file == "apps/dev" && e.message.find("path 'apps/dev' does not exist") != std::string::npos;
  }));
  // A Kustomization new at head with a new path: an honest addition, rendered in full.
  const auto* n = find(res, "ops", "n");
  REQUIRE(n != nullptr);
  CHECK(n->status == diff::ReleaseStatus::added);
  CHECK(n->errors.empty());
  CHECK(n->count(diff::Change::added) == 6);
  // a was readable at base (the malformed file is another): its change is shown as usual.
  const auto* a = find(res, "dev", "a");
  REQUIRE(a != nullptr);
  CHECK(a->status == diff::ReleaseStatus::changed);
  CHECK(a->count(diff::Change::changed) == 4);
  CHECK(res.exit_status() == 1);
  CHECK(res.json.find("\"has_errors\":true") != std::string::npos);
}

TEST_CASE("outcomes: \"changed files\" lists only the release's own inputs (item 4)", "[fidelity]") {
  TempRepo t("outcomes-files");
  write_chart(t);
  // A flat cluster directory: every file is read as one root.
  t.write("clusters/dev/a.yaml", helm_release("a", "one"));
  t.write("clusters/dev/b.yaml", helm_release("b", "one"));
  t.write("clusters/dev/aa-namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n");
  t.write("clusters/dev/aa-values.yaml",
          "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a-values\n  namespace: apps\ndata:\n  values.yaml: |\n    extra: 1\n");
  t.replace("clusters/dev/a.yaml", "  values:\n", "  valuesFrom:\n    - kind: ConfigMap\n      name: a-values\n  values:\n");
  // A kustomize overlay with two releases and a patch for one of them.
  t.write("apps/base/p.yaml", helm_release("p", "one"));
  t.write("apps/base/q.yaml", helm_release("q", "one"));
  t.write("apps/base/kustomization.yaml", "resources:\n  - p.yaml\n  - q.yaml\n");
  t.write("apps/dev/kustomization.yaml", "resources:\n  - ../base\npatches:\n  - path: p-patch.yaml\n");
  t.write("apps/dev/p-patch.yaml",
          "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: p\n  namespace: apps\nspec:\n"
          "  values:\n    msg: patched\n");
  t.write("clusters/dev/zz-apps.yaml", flux_kustomization("apps", "./apps/dev"));
  const std::string base = t.commit("base");
  t.replace("clusters/dev/a.yaml", "msg: one", "msg: two");
  t.replace("clusters/dev/aa-values.yaml", "extra: 1", "extra: 2");
  t.replace("clusters/dev/b.yaml", "msg: one", "msg: two");
  t.write("clusters/dev/aa-namespace.yaml",
          "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n  labels:\n    team: x\n");
  t.replace("apps/dev/p-patch.yaml", "msg: patched", "msg: patched-again");
  t.replace("apps/base/q.yaml", "msg: one", "msg: two");
  const std::string head = t.commit("changes");
  Preview p("files");
  auto res = p.run(t, base, head);
  INFO(res.markdown_parts.front());
  auto files = [&](const std::string& name) {
    const auto* r = find(res, "dev", name);
    REQUIRE(r != nullptr);
    for (const auto& x : r->reasons) {
      if (x.rfind("changed files: ", 0) == 0) return x.substr(15);
    }
    return std::string("(none)");
  };
  // Its own file first, then its valuesFrom ConfigMap's; not b's file, not the Namespace.
  CHECK(files("a") == "clusters/dev/a.yaml, clusters/dev/aa-values.yaml");
  CHECK(files("b") == "clusters/dev/b.yaml");
  CHECK(files("p") == "apps/dev/p-patch.yaml");
  CHECK(files("q") == "apps/base/q.yaml");
  CHECK(res.exit_status() == 2);
}

TEST_CASE("outcomes: resource keys carry the effective namespace, cluster-scoped ones none (item 4)", "[fidelity]") {
  TempRepo t("outcomes-ns");
  write_chart(t);
  t.write("clusters/dev/a.yaml", helm_release("a", "one", "flux-system"));
  t.replace("clusters/dev/a.yaml", "  interval: 5m\n", "  interval: 5m\n  targetNamespace: team-a\n");
  const std::string base = t.commit("a");
  t.replace("clusters/dev/a.yaml", "msg: one", "msg: two");
  const std::string head = t.commit("msg");
  Preview p("ns");
  auto res = p.run(t, base, head);
  INFO(res.markdown_parts.front());
  const auto* a = find(res, "dev", "a");
  REQUIRE(a != nullptr);
  INFO(keys_of(*a));
  // helm template renders none of them with metadata.namespace; helm install puts the namespaced ones in
  // the target namespace (team-a, from spec.targetNamespace).
  // (the release name is team-a-a: Flux prefixes it with the target namespace)
  CHECK(keys_of(*a) == "changed core/ConfigMap/team-a/team-a-a\n"
                       "changed example.com/Gadget/team-a/team-a-a-g\n"  // namespaced by its rendered CRD
                       "changed example.com/Widget//team-a-a-w\n"        // cluster-scoped by its rendered CRD
                       "changed rbac.authorization.k8s.io/ClusterRole//team-a-a-reader\n");
  for (const auto& d : a->resources) {
    if (d.kind == "ConfigMap") {
      CHECK(d.namespace_ == "team-a");
      CHECK(d.diff.find("--- base/core/ConfigMap/team-a/team-a-a") != std::string::npos);
    }
    // In the text too, as the server stores it (the Gadget's hunk reaches metadata).
    if (d.kind == "Gadget") CHECK(d.diff.find("\n   namespace: team-a\n") != std::string::npos);
    if (d.kind == "Widget") CHECK(d.diff.find("namespace:") == std::string::npos);
  }
  CHECK(res.markdown_parts.front().find("ConfigMap//") == std::string::npos);
}

TEST_CASE("outcomes: scope of kinds without a rendered CRD (item 4)", "[fidelity]") {
  diff::Scopes s;
  CHECK(s.cluster_scoped("", "Namespace"));
  CHECK(s.cluster_scoped("rbac.authorization.k8s.io", "ClusterRoleBinding"));
  CHECK(s.cluster_scoped("storage.k8s.io", "StorageClass"));
  CHECK_FALSE(s.cluster_scoped("", "ConfigMap"));
  CHECK_FALSE(s.cluster_scoped("apps", "Deployment"));
  CHECK_FALSE(s.cluster_scoped("rbac.authorization.k8s.io", "Role"));
  // Custom kinds without a rendered CRD: the "Cluster" naming convention.
  CHECK(s.cluster_scoped("cert-manager.io", "ClusterIssuer"));
  CHECK_FALSE(s.cluster_scoped("cert-manager.io", "Issuer"));
  // A rendered CRD wins over the convention.
  s.add_crds("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: clusterthings.x.io\n"
             "spec:\n  group: x.io\n  scope: Namespaced\n  names:\n    kind: ClusterThing\n    plural: clusterthings\n");
  CHECK_FALSE(s.cluster_scoped("x.io", "ClusterThing"));
  diff::ParseOptions po;
  po.default_namespace = "ns1";
  po.scopes = &s;
  auto parsed = diff::parse_manifest("apiVersion: x.io/v1\nkind: ClusterThing\nmetadata:\n  name: t\n---\n"
                                     "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: n\n---\n"
                                     "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  namespace: other\n",
                                     po);
  REQUIRE(parsed.ok());
  REQUIRE(parsed->size() == 3);
  CHECK((*parsed)[0].key() == "x.io/ClusterThing/ns1/t");
  CHECK((*parsed)[1].key() == "core/Namespace//n");
  CHECK((*parsed)[2].key() == "core/Service/other/s");  // a namespace the chart sets is kept
}

TEST_CASE("outcomes: one malformed file no longer hides the other releases of its path (item 4)", "[fidelity]") {
  TempRepo t("outcomes-malformed");
  write_chart(t);
  t.write("clusters/dev/a.yaml", helm_release("a", "one"));
  t.write("clusters/dev/b.yaml", helm_release("b", "one"));
  t.write("clusters/dev/c.yaml", helm_release("c", "one"));
  t.write("clusters/prod/d.yaml", helm_release("d", "one"));
  const std::string base = t.commit("base");
  t.replace("clusters/dev/a.yaml", "msg: one", "msg: two");
  t.replace("clusters/dev/b.yaml", "msg: one", "msg: two");
  t.write("clusters/dev/c.yaml", kBroken);
  t.replace("clusters/prod/d.yaml", "msg: one", "msg: two");
  const std::string head = t.commit("two changes and a malformed file");
  Preview p("malformed");
  auto res = p.run(t, base, head);
  const std::string md = res.markdown_parts.front();
  INFO(md);
  // The malformed file, with file:line, at the top.
  REQUIRE(res.report.errors.size() == 1);
  CHECK(res.report.errors[0].file == "clusters/dev/c.yaml");
  CHECK(res.report.errors[0].line > 0);
  for (const char* name : {"a", "b"}) {
    const auto* r = find(res, "dev", name);
    REQUIRE(r != nullptr);
    INFO(name << "\n" << errors_of(*r));
    // Its diff is shown ...
    CHECK(r->count(diff::Change::changed) == 4);
    // ... marked: the sync of its path fails as a whole, because of that file.
    REQUIRE(r->errors.size() == 1);
    CHECK(r->errors[0].message.find("the sync of path clusters/dev would fail as a whole") != std::string::npos);
    CHECK(r->errors[0].file == "clusters/dev/c.yaml");
    CHECK(r->errors[0].line > 0);
  }
  // The release in the malformed file: an error, not "removed".
  const auto* c = find(res, "dev", "c");
  REQUIRE(c != nullptr);
  CHECK(c->status == diff::ReleaseStatus::error);
  CHECK(c->resources.empty());
  // Another cluster path is not concerned.
  const auto* d = find(res, "prod", "d");
  REQUIRE(d != nullptr);
  CHECK(d->status == diff::ReleaseStatus::changed);
  CHECK(d->errors.empty());
  CHECK(res.exit_status() == 1);
}

TEST_CASE("outcomes: on merge, a release of a path with a malformed file is not applied (item 4)", "[fidelity]") {
  // Flux fails the sync of the whole path: the apply must not install what the preview marked.
  TempRepo t("outcomes-apply");
  write_chart(t);
  t.write("clusters/dev/a.yaml", helm_release("a", "one"));
  t.write("clusters/dev/c.yaml", helm_release("c", "one"));
  const std::string base = t.commit("base");
  t.replace("clusters/dev/a.yaml", "msg: one", "msg: two");
  t.write("clusters/dev/c.yaml", kBroken);
  const std::string head = t.commit("head");
  auto repo = git::Repository::open(t.dir.string());
  REQUIRE(repo.ok());
  Preview p("apply");
  render::Options ro;
  ro.helm = test::require_env("HELMGATE_HELM");
  ro.kubectl = test::require_env("HELMGATE_KUBECTL");
  ro.work_dir = p.work + "/work";
  render::Renderer renderer(ro);
  release::DiscoverOptions dopt;
  dopt.clusters = {{"dev", {"clusters/dev"}, {}}};
  dopt.work_root = p.work + "/trees";
  auto bd = release::discover(*repo, base, dopt);
  auto hd = release::discover(*repo, head, dopt);
  auto aff = release::affected(bd, hd, repo->changed_paths(base, head).value());
  REQUIRE(aff.size() == 2);
  engine::ChartSources src;
  src.repo = &*repo;
  src.commit = head;
  src.trees_dir = p.work + "/trees";
  for (const auto& a : aff) {
    auto plan = engine::plan_release(a, engine::Observed{}, src, renderer, head);
    INFO(a.id << ": " << plan.failure);
    if (a.id == "dev/apps/a") {
      CHECK(plan.failure.find("path clusters/dev cannot be read in full") != std::string::npos);
      CHECK(plan.failure.find("clusters/dev/c.yaml:") != std::string::npos);
    } else {
      CHECK(a.head_failed);
      CHECK(plan.failure.find("not uninstalled") != std::string::npos);
    }
  }
}

TEST_CASE("outcomes: the live diff is labelled live/head (item 4)", "[fidelity]") {
  // validate_cluster builds the live diff with these labels (tests/e2e/kube checks it on a real server).
  diff::ParseOptions po;
  auto live = diff::parse_manifest("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: n\ndata:\n  k: v1\n", po);
  auto head = diff::parse_manifest("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: n\ndata:\n  k: v2\n", po);
  REQUIRE(live.ok());
  REQUIRE(head.ok());
  auto d = diff::diff_resources(*live, *head, 3, "live", "head");
  REQUIRE(d.size() == 1);
  CHECK(d[0].diff.rfind("--- live/core/ConfigMap/n/a\n+++ head/core/ConfigMap/n/a\n", 0) == 0);
}

TEST_CASE("outcomes: ssh user names are shown, credentials stay masked (item 7)", "[fidelity]") {
  CHECK(core::redact_url("ssh://git@github.com/org/repo.git") == "ssh://git@github.com/org/repo.git");
  CHECK(core::redact_url("git@github.com:org/repo.git") == "git@github.com:org/repo.git");
  CHECK(core::redact_url("ssh://git:pw@github.com/org/repo.git") == "ssh://***@github.com/org/repo.git");
  CHECK(core::redact_url("git:pw@github.com:org/repo.git") == "***@github.com:org/repo.git");
  CHECK(core::redact_url("https://tok@github.com/org/repo.git") == "https://***@github.com/org/repo.git");
  CHECK(core::redact_url("https://x-access-token:tok@github.com/org/repo.git") == "https://***@github.com/org/repo.git");
  CHECK(core::strip_userinfo("ssh://git@github.com/org/repo.git") == "ssh://git@github.com/org/repo.git");
  CHECK(core::strip_userinfo("https://u:tok@github.com/org/repo.git") == "https://github.com/org/repo.git");
}

TEST_CASE("outcomes: a configuration for local previews needs no forge settings (item 7)", "[fidelity]") {
  const std::string yaml =
      "repos:\n  - url: https://git.example.com/org/fleet.git\n    clusters:\n      - name: dev\n        paths: [clusters/dev]\n";
  auto cfg = config::load_string(yaml, "local.yaml", config::Use::preview);
  REQUIRE(cfg.repos.size() == 1);
  CHECK(cfg.repos[0].clusters.at(0).paths.at(0) == "clusters/dev");
  // serve and worker still need them.
  CHECK_THROWS_WITH(config::load_string(yaml, "local.yaml", config::Use::server), Catch::Contains("repos[0].name"));
  // A forge without a webhook secret variable is fine for a preview, not for serve.
  const std::string with_forge =
      "forges:\n  - kind: gitea\n    api_url: https://git.example.com/api/v1\n"
      "repos:\n  - name: org/fleet\n    forge: gitea\n    url: https://git.example.com/org/fleet.git\n";
  CHECK_NOTHROW(config::load_string(with_forge, "f.yaml", config::Use::preview));
  CHECK_THROWS_WITH(config::load_string(with_forge, "f.yaml", config::Use::server), Catch::Contains("webhook_secret_env"));
  // What is given is still checked.
  CHECK_THROWS_WITH(config::load_string("repos:\n  - name: fleet\n", "x.yaml", config::Use::preview),
                    Catch::Contains("must be 'owner/name'"));
  CHECK_THROWS_WITH(config::load_string("repos:\n  - forge: nope\n", "x.yaml", config::Use::preview),
                    Catch::Contains("unknown forge 'nope'"));
}
