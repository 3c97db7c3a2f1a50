// The preview pipeline as a library: tenant repositories (flux2-multi-tenancy) are followed or named,
// Flux Kustomization targetNamespace/patches/postBuild are applied before discovery, and values marked
// sensitive by configuration never reach a report. Real git, real helm, real kustomize.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "release/release.hpp"
#include "process/process.hpp"
#include "render/renderer.hpp"
#include "runners/preview_pipeline.hpp"
#include "engine/redaction.hpp"
#include "support/preview_request.hpp"
#include "support/support.hpp"
#include "support/temp_repo.hpp"

namespace fs = std::filesystem;
using namespace helmgate;

namespace {

using test::TempRepo;

std::string work_dir(const char* name) {
  auto p = fs::temp_directory_path() / (std::string("hg-preview-work-") + name + "-" + std::to_string(::getpid()));
  fs::remove_all(p);
  return p.string();
}

struct Engine {
  render::Renderer renderer;
  git::MirrorCache mirrors;
  release::DiscoverOptions opt;
  explicit Engine(const std::string& work)
      : renderer([&] {
          render::Options o;
          o.helm = test::require_env("HELMGATE_HELM");
          o.kubectl = test::require_env("HELMGATE_KUBECTL");
          o.work_dir = work;
          return o;
        }()),
        mirrors(work + "/mirrors") {
    opt.work_root = work + "/trees";
    opt.cache = release::make_doc_cache();
    opt.kustomize = [this](const std::string& dir, const std::string& key) { return renderer.kustomize_build(dir, key); };
    opt.open_source = [this](const std::string& url) -> core::Result<std::shared_ptr<const git::Repository>> {
      auto r = mirrors.open(url);
      if (!r) return r.error();
      return std::make_shared<const git::Repository>(std::move(*r));
    };
  }
};

std::string notes_of(const release::Discovery& d) {
  std::string s;
  for (const auto& n : d.notes) s += n.cluster + ": " + n.message + "\n";
  return s;
}

std::string problems_of(const release::Discovery& d) {
  std::string s;
  for (const auto& p : d.problems) s += p.where.file + ":" + std::to_string(p.where.line) + ": " + p.message + "\n";
  return s;
}

const release::Release* find(const release::Discovery& d, const std::string& id) {
  for (const auto& r : d.releases) {
    if (r.id() == id) return &r;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("flux2-multi-tenancy: an unreachable tenant GitRepository is named in a note, not skipped silently",
          "[unit]") {
  TempRepo t("mt-note");
  t.copy_from(test::corpus("flux2-multi-tenancy"), {"clusters", "infrastructure", "tenants", "LICENSE"});
  const std::string head = t.commit("corpus");
  auto repo = git::Repository::open(t.dir.string());
  const std::string work = work_dir("mt-note");
  Engine e(work);
  e.opt.clusters = release::default_clusters(*repo, head).value();
  REQUIRE(e.opt.clusters.size() == 2);
  auto d = release::discover(*repo, head, e.opt);
  INFO(problems_of(d) << notes_of(d));
  CHECK(d.problems.empty());
  CHECK(d.releases.empty());
  // Once per cluster, naming the Kustomization, the GitRepository, its URL and ref.
  for (const char* cluster : {"staging", "production"}) {
    CHECK(notes_of(d).find(std::string(cluster) +
                           ": Flux Kustomization apps/dev-team applies GitRepository apps/dev-team "
                           "(https://github.com/fluxcd/flux2-multi-tenancy, branch dev-team), which could not be "
                           "fetched") != std::string::npos);
  }
  CHECK(notes_of(d).find("releases declared there are not in this preview") != std::string::npos);
  // The kyverno Kustomization reads an OCIRepository: also named.
  CHECK(notes_of(d).find("applies OCIRepository flux-system/kyverno-controller (oci://ghcr.io/kyverno/manifests/kyverno)") !=
        std::string::npos);
  // The note points at the Kustomization's file.
  bool located = false;
  for (const auto& n : d.notes) located |= n.where.file == "tenants/base/dev-team/sync.yaml" && n.where.line > 0;
  CHECK(located);

  // The same notes reach the report, in every format.
  runners::PreviewRequest req;
  req.repo = t.dir.string();
  req.base = head;
  req.head = head;
  req.cache_dir = work + "/pipeline";
  req.formats = {runners::PreviewFormat::markdown, runners::PreviewFormat::text, runners::PreviewFormat::json};
  auto res = runners::run_preview(req);
  REQUIRE(res.ok());
  CHECK(res->exit_status() == 0);
  REQUIRE(res->markdown_parts.size() == 1);
  CHECK(res->markdown_parts[0].find("> **Note** tenants/base/dev-team/sync.yaml:") != std::string::npos);
  CHECK(res->text.find("note: tenants/base/dev-team/sync.yaml:") != std::string::npos);
  CHECK(res->json.find("\"notes\":[{\"message\":") != std::string::npos);
  CHECK(res->json.find("[staging] Flux Kustomization apps/dev-team applies GitRepository apps/dev-team") !=
        std::string::npos);
  CHECK(res->report.errors.empty());
  fs::remove_all(work);
}

TEST_CASE("flux2-multi-tenancy: a reachable tenant GitRepository is followed with its overlay", "[unit]") {
  // The tenant's branch, as its own repository.
  TempRepo tenant("mt-tenant", "dev-team");
  tenant.copy_from(test::corpus("flux2-multi-tenancy/_branch-dev-team"), {"base", "staging", "production"});
  const std::string tenant_commit = tenant.commit("dev-team");

  TempRepo t("mt-follow");
  t.copy_from(test::corpus("flux2-multi-tenancy"), {"clusters", "infrastructure", "tenants", "LICENSE"});
  t.replace("tenants/base/dev-team/sync.yaml", "https://github.com/fluxcd/flux2-multi-tenancy",
            "file://" + tenant.dir.string());
  const std::string head = t.commit("tenant on a local URL");
  auto repo = git::Repository::open(t.dir.string());
  const std::string work = work_dir("mt-follow");
  Engine e(work);
  e.opt.clusters = release::default_clusters(*repo, head).value();
  auto d = release::discover(*repo, head, e.opt);
  INFO(problems_of(d) << notes_of(d));
  CHECK(d.problems.empty());
  CHECK(notes_of(d).find("GitRepository apps/dev-team") == std::string::npos);
  REQUIRE(d.releases.size() == 2);
  const auto* staging = find(d, "staging/apps/podinfo");
  const auto* production = find(d, "production/apps/podinfo");
  REQUIRE(staging != nullptr);
  REQUIRE(production != nullptr);
  // tenants/staging patches the tenant Kustomization to ./staging, whose overlay sets these.
  CHECK(staging->chart.version == ">=1.0.0-alpha");
  CHECK(staging->values_json.find("\"replicaCount\":1") != std::string::npos);
  CHECK(production->chart.version != ">=1.0.0-alpha");
  CHECK(staging->chart.url == "https://stefanprodan.github.io/podinfo");
  REQUIRE_FALSE(staging->notes.empty());
  CHECK(staging->notes.back().find("declared in GitRepository apps/dev-team (file://" + tenant.dir.string() +
                                   ", branch dev-team) at commit " + tenant_commit.substr(0, 12)) != std::string::npos);
  CHECK(staging->where.file.find("//base/podinfo-release.yaml") != std::string::npos);

  // Unchanged tenant + unrelated change in this repository: the tenant's releases are not affected.
  t.write("README.md", "docs\n");
  const std::string head2 = t.commit("docs");
  auto d2 = release::discover(*repo, head2, e.opt);
  CHECK(release::affected(d, d2, repo->changed_paths(head, head2).value()).empty());
  fs::remove_all(work);
}

TEST_CASE("Flux Kustomization targetNamespace, patches and postBuild substitution apply before discovery", "[unit]") {
  TempRepo t("flux-ks");
  t.write("clusters/prod/apps.yaml", R"(apiVersion: kustomize.toolkit.fluxcd.io/v1
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
  targetNamespace: team-a
  patches:
    - patch: |
        - op: add
          path: /spec/values/replicaCount
          value: 5
      target:
        kind: HelmRelease
        name: web
  postBuild:
    substitute:
      cluster_name: prod
      region: overridden-inline
    substituteFrom:
      - kind: ConfigMap
        name: cluster-vars
      - kind: Secret
        name: cluster-secrets
      - kind: ConfigMap
        name: absent-but-optional
        optional: true
)");
  t.write("clusters/prod/vars.yaml", R"(apiVersion: v1
kind: ConfigMap
metadata:
  name: cluster-vars
  namespace: flux-system
data:
  region: eu-1
  tier: gold
---
apiVersion: v1
kind: Secret
metadata:
  name: cluster-secrets
  namespace: flux-system
stringData:
  api_token: hg-canary-subst-token-91
)");
  t.write("apps/web.yaml", R"(apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: charts
spec:
  url: https://charts.example.com
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: web
spec:
  chart:
    spec:
      chart: web
      sourceRef:
        kind: HelmRepository
        name: charts
  values:
    host: "${cluster_name}.${region}.example.com"
    tier: ${tier}
    token: ${api_token}
    fallback: ${missing:=fallback-value}
    empty: "[${not_set}]"
    literal: "$${kept}"
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: raw
  annotations:
    kustomize.toolkit.fluxcd.io/substitute: disabled
spec:
  chart:
    spec:
      chart: raw
      sourceRef:
        kind: HelmRepository
        name: charts
  values:
    script: "echo ${HOME}"
)");
  const std::string head = t.commit("apps");
  auto repo = git::Repository::open(t.dir.string());
  const std::string work = work_dir("flux-ks");
  Engine e(work);
  e.opt.clusters = release::default_clusters(*repo, head).value();
  // "[${not_set}]" reads as "[]" without StrictPostBuildSubstitutions (Flux before v1.9 of
  // kustomize-controller, or the gate turned off); strict mode is tested in tests/fidelity/legacy.
  e.opt.flux_strict_substitution = false;
  auto d = release::discover(*repo, head, e.opt);
  INFO(problems_of(d) << notes_of(d));
  REQUIRE(d.problems.empty());
  REQUIRE(d.releases.size() == 2);
  const auto* web = find(d, "prod/team-a/web");
  REQUIRE(web != nullptr);  // targetNamespace moved it (and its HelmRepository) to team-a
  CHECK(web->errors.empty());
  CHECK(web->chart.url == "https://charts.example.com");
  CHECK(web->target_namespace == "team-a");
  CHECK(web->where.file == "apps/web.yaml");
  const std::string& v = web->values_json;
  INFO(v);
  CHECK(v.find("\"replicaCount\":5") != std::string::npos);                         // spec.patches
  CHECK(v.find("\"host\":\"prod.overridden-inline.example.com\"") != std::string::npos);  // inline wins
  CHECK(v.find("\"tier\":\"gold\"") != std::string::npos);                               // substituteFrom ConfigMap
  CHECK(v.find("\"fallback\":\"fallback-value\"") != std::string::npos);
  CHECK(v.find("\"empty\":\"[]\"") != std::string::npos);
  CHECK(v.find("\"literal\":\"${kept}\"") != std::string::npos);
  // A value from a substituteFrom Secret is sensitive, like valuesFrom Secret data.
  CHECK(std::find(web->sensitive.begin(), web->sensitive.end(), "hg-canary-subst-token-91") != web->sensitive.end());
  const auto* raw = find(d, "prod/team-a/raw");
  REQUIRE(raw != nullptr);
  CHECK(raw->values_json.find("echo ${HOME}") != std::string::npos);

  // Changing a substituted value affects the release that uses it, and says which file changed.
  t.replace("clusters/prod/vars.yaml", "tier: gold", "tier: silver");
  const std::string head2 = t.commit("tier");
  auto d2 = release::discover(*repo, head2, e.opt);
  auto aff = release::affected(d, d2, repo->changed_paths(head, head2).value());
  REQUIRE(aff.size() == 1);
  CHECK(aff[0].id == "prod/team-a/web");
  std::string reasons;
  for (const auto& r : aff[0].reasons) reasons += r + "\n";
  CHECK(reasons.find("spec.values.tier") != std::string::npos);

  // A missing required substituteFrom is a problem at the Kustomization's file and line.
  t.replace("clusters/prod/apps.yaml", "        name: cluster-vars", "        name: no-such-vars");
  const std::string head3 = t.commit("missing vars");
  auto d3 = release::discover(*repo, head3, e.opt);
  REQUIRE_FALSE(d3.problems.empty());
  CHECK(d3.problems.front().where.file == "clusters/prod/apps.yaml");
  CHECK(d3.problems.front().message.find("postBuild.substituteFrom ConfigMap flux-system/no-such-vars") !=
        std::string::npos);
  fs::remove_all(work);
}

TEST_CASE("values paths marked sensitive are found in merged values", "[unit]") {
  const std::string values = "auth:\n  password: hunter2-long\n  user: admin\ndb:\n  apiKey: k-123456\n"
                             "cache:\n  apiKey: k-654321\n  nested: {apiKey: deep-key}\nshort: {apiKey: ab}\n";
  auto got = engine::sensitive_values(values, {"auth.password", "*.apiKey"});
  std::sort(got.begin(), got.end());
  CHECK(got == std::vector<std::string>{"hunter2-long", "k-123456", "k-654321"});
  CHECK(engine::sensitive_values(values, {"auth"}) == std::vector<std::string>{"hunter2-long", "admin"});
  CHECK(engine::sensitive_values("{not yaml", {"a"}).empty());
  CHECK(engine::sensitive_values(values, {}).empty());
}

TEST_CASE("the pipeline scrubs values marked sensitive by configuration from every format", "[unit]") {
  TempRepo t("sensitive");
  t.copy_from(test::corpus("charts"), {"podinfo-6.14.1"});
  t.write("releases/podinfo.yaml", R"(apiVersion: helm.fluxcd.io/v1
kind: HelmRelease
metadata:
  name: podinfo
  namespace: demo
spec:
  chart:
    git: git@github.com:example/fleet
    path: podinfo-6.14.1
  values:
    ui:
      message: hg-canary-config-marked-1
)");
  const std::string base = t.commit("release");
  t.replace("releases/podinfo.yaml", "hg-canary-config-marked-1", "hg-canary-config-marked-2");
  const std::string head = t.commit("message");

  const std::string work = work_dir("sensitive");
  auto req = test::preview_request(t.dir.string(), base, head, work, {runners::PreviewFormat::markdown, runners::PreviewFormat::text, runners::PreviewFormat::json});
  config::Repo cfg;
  cfg.name = "example/fleet";
  cfg.url = "git@github.com:example/fleet";
  cfg.sensitive_values = {"ui.message"};
  req.repo_config = cfg;
  auto res = runners::run_preview(req);
  INFO((res.ok() ? res->text : res.error().message));
  REQUIRE(res.ok());
  CHECK(res->exit_status() == 2);
  CHECK(res->render_stats.renders == 2);
  REQUIRE(res->report.releases.size() == 1);
  CHECK(res->report.releases[0].notes.front().find("the URL names the configured repository") != std::string::npos);
  for (const std::string* out : {&res->markdown_parts.front(), &res->text, &res->json}) {
    CHECK(out->find("hg-canary-config-marked") == std::string::npos);
    CHECK(out->find("<redacted") != std::string::npos);
  }

  // Without the configuration the value is an ordinary one and shows (the control for the check above).
  req.repo_config.reset();
  auto plain = runners::run_preview(req);
  REQUIRE(plain.ok());
  CHECK(plain->text.find("hg-canary-config-marked-2") != std::string::npos);
  // The second run hits the render cache on disk.
  CHECK(plain->render_stats.renders == 0);
  CHECK(plain->render_stats.cache_hits == 2);
  fs::remove_all(work);
}
