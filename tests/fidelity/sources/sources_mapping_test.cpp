// Issue 11, item 7: OCIRepository digests, and sources mapped to paths of the repository (--source,
// repos[].sources), on repositories made for each case.
#include <catch2/catch.hpp>

#include <filesystem>

#include "config/config.hpp"
#include "engine/chart_request.hpp"
#include "release/sources.hpp"
#include "sources_support.hpp"

namespace fs = std::filesystem;
using namespace helmgate;
using test::Engine;
using test::TempRepo;

namespace {

const std::string kDigest = "sha256:d363081e45627aa396d6c8cb2d4ee59fcb7a79c223a967ae601c8c8ba4e7b7f3";

std::string oci_repository(const std::string& name, const std::string& ref) {
  return "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n  name: " + name +
         "\n  namespace: flux-system\nspec:\n  interval: 1h\n  url: oci://ghcr.io/kyverno/charts/kyverno\n  ref:\n" + ref;
}

std::string chart_ref_release(const std::string& name, const std::string& kind, const std::string& source) {
  return "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: " + name +
         ", namespace: flux-system}\nspec: {chartRef: {kind: " + kind + ", name: " + source + "}}\n";
}

std::string config_error(const std::string& yaml) {
  try {
    config::load_string(yaml, "helmgate.yaml");
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("an OCIRepository's digest wins over its tag and is pulled as oci://...@sha256:...", "[fidelity]") {
  TempRepo t("src-digest");
  t.write("oci.yaml", oci_repository("tag-and-digest", "    tag: 3.2.3\n    digest: " + kDigest + "\n") + "---\n" +
                          oci_repository("digest-only", "    digest: " + kDigest + "\n") + "---\n" +
                          oci_repository("semver-and-tag", "    semver: \">=3.0.0\"\n    tag: 3.2.3\n") + "---\n" +
                          oci_repository("bad-digest", "    tag: 3.2.3\n    digest: sha256:zz\n"));
  t.write("releases.yaml", chart_ref_release("a", "OCIRepository", "tag-and-digest") + "---\n" +
                               chart_ref_release("b", "OCIRepository", "digest-only") + "---\n" +
                               chart_ref_release("c", "OCIRepository", "semver-and-tag") + "---\n" +
                               chart_ref_release("d", "OCIRepository", "bad-digest"));
  const std::string c = t.commit("OCIRepositories");
  auto repo = git::Repository::open(t.dir.string());
  REQUIRE(repo.ok());
  Engine e(test::work_dir(t));
  auto d = release::discover(*repo, c, e.opt);
  REQUIRE(d.releases.size() == 4);
  const auto* a = test::find_release(d, "default/flux-system/a");
  const auto* b = test::find_release(d, "default/flux-system/b");
  const auto* cs = test::find_release(d, "default/flux-system/c");
  const auto* bad = test::find_release(d, "default/flux-system/d");
  REQUIRE((a && b && cs && bad));
  CHECK(a->errors.empty());
  CHECK(a->chart.kind == release::ChartKind::oci);
  CHECK(a->chart.digest == kDigest);
  CHECK(a->chart.describe() == "oci://ghcr.io/kyverno/charts/kyverno:3.2.3@" + kDigest);
  CHECK(b->chart.digest == kDigest);
  CHECK(b->chart.version.empty());
  CHECK(cs->chart.digest.empty());
  CHECK(cs->chart.version == ">=3.0.0");  // semver over tag, as source-controller orders them
  REQUIRE(bad->errors.size() == 1);
  CHECK(bad->errors[0].message.find("spec.ref.digest \"sha256:zz\" must be an OCI digest") != std::string::npos);
  CHECK(bad->errors[0].where.file == "oci.yaml");
  CHECK(bad->errors[0].where.line == 46);

  // What helm is asked to pull.
  render::ChartSource src;
  src.origin = render::ChartOrigin::oci;
  src.url = a->chart.url;
  src.version = a->chart.version;
  src.digest = a->chart.digest;
  const auto args = render::helm_pull_arguments(src, "/dest");
  CHECK(args == std::vector<std::string>{"pull", "--destination=/dest", "--", "oci://ghcr.io/kyverno/charts/kyverno@" + kDigest});
  // What `helm upgrade --install` gets on merge: the same reference, no --version.
  CHECK(engine::helm_chart_args(src) == std::vector<std::string>{"oci://ghcr.io/kyverno/charts/kyverno@" + kDigest});
  src.digest.clear();
  CHECK(engine::helm_chart_args(src) ==
        std::vector<std::string>{"oci://ghcr.io/kyverno/charts/kyverno", "--version", "3.2.3"});
  CHECK(render::helm_pull_arguments(src, "/dest") ==
        std::vector<std::string>{"pull", "--version=3.2.3", "--destination=/dest", "--", "oci://ghcr.io/kyverno/charts/kyverno"});

  SECTION("a new digest under the same tag is a chart change") {
    t.replace("oci.yaml", "digest: " + kDigest, "digest: sha256:" + std::string(64, 'a'));
    const std::string c2 = t.commit("new digest");
    auto d2 = release::discover(*repo, c2, e.opt);
    auto aff = release::affected(d, d2, repo->changed_paths(c, c2).value());
    REQUIRE(aff.size() == 1);
    CHECK(aff[0].id == "default/flux-system/a");
    REQUIRE(!aff[0].reasons.empty());
    CHECK(aff[0].reasons[0].find("chart source changed") != std::string::npos);
  }

  SECTION("the pinned helm takes that reference and fetches the manifest by digest, not the tag list") {
    // No registry here: helm's first request shows what it resolves (a closed local port refuses it).
    auto run = [&](std::vector<std::string> argv) {
      fs::create_directories(t.dir / "helm-home");
      argv.insert(argv.begin(), test::require_env("HELMGATE_HELM"));
      process::ProcessOptions po;
      po.env = {"PATH=/usr/bin:/bin", "HOME=" + (t.dir / "helm-home").string()};
      po.timeout = std::chrono::seconds(60);
      auto r = process::run_process(argv, po);
      REQUIRE(r.ok());
      return r->err;
    };
    src.url = "oci://127.0.0.1:9/charts/kyverno";
    src.digest = kDigest;
    const std::string by_digest = run(render::helm_pull_arguments(src, (t.dir / "pulled").string()));
    CHECK(by_digest.find("/v2/charts/kyverno/manifests/" + kDigest) != std::string::npos);
    CHECK(by_digest.find("invalid reference") == std::string::npos);
    // The old form (the digest as --version) lists tags instead: the failure this fixes.
    const std::string as_version =
        run({"pull", "--version=" + kDigest, "--destination=" + (t.dir / "pulled").string(), "--", src.url});
    CHECK(as_version.find("/tags/list") != std::string::npos);
  }
}

TEST_CASE("source mappings are parsed as flux-local's --sources, with kinds", "[fidelity]") {
  auto m = release::parse_source_mapping("apps=externalartifact", "--source");
  REQUIRE(m.ok());
  CHECK((m->kind.empty() && m->namespace_.empty() && m->name == "apps" && m->path == "externalartifact"));
  m = release::parse_source_mapping("flux-system/apps=./deploy/apps/", "--source");
  REQUIRE(m.ok());
  CHECK((m->namespace_ == "flux-system" && m->path == "deploy/apps"));
  m = release::parse_source_mapping("OCIRepository/podinfo=.", "--source");
  REQUIRE(m.ok());
  CHECK((m->kind == "OCIRepository" && m->namespace_.empty() && m->path.empty()));
  m = release::parse_source_mapping("ExternalArtifact/flux-system/apps=a/b", "--source");
  REQUIRE(m.ok());
  CHECK((m->kind == "ExternalArtifact" && m->namespace_ == "flux-system"));
  for (const char* bad : {"apps", "apps=../up", "apps=/etc", "Deployment/x=a", "A/b/c/d=x", "bad_name=x", "apps=a/../../x"}) {
    INFO(bad);
    CHECK_FALSE(release::parse_source_mapping(bad, "--source").ok());
  }
  CHECK(release::parse_source_mapping("apps=../up", "--source").error().message.find("it has a '..' part") != std::string::npos);

  // The same syntax as a per-repository configuration key, checked at load with file and line.
  const std::string head = "forges: [{kind: github, webhook_secret_env: S}]\nrepos:\n  - name: a/b\n    forge: github\n";
  auto cfg = config::load_string(head + "    sources: [\"ExternalArtifact/flux-system/apps=deploy/apps\"]\n");
  CHECK(cfg.repos[0].sources == std::vector<std::string>{"ExternalArtifact/flux-system/apps=deploy/apps"});
  CHECK(config_error(head + "    sources: [\"apps=../x\"]\n").find("helmgate.yaml:5:15: repos[0].sources[0]: the path") !=
        std::string::npos);
  CHECK(config_error(head + "    sources: [apps]\n").find("repos[0].sources[0]: 'apps' has no NAME=PATH") != std::string::npos);
  // The example documents the key.
  CHECK(test::read_file(test::source_dir() + "/config/examples/helmgate.yaml").find("# sources: [") != std::string::npos);
}

TEST_CASE("sources mapped to paths of the repository are read there", "[fidelity]") {
  TempRepo t("src-mapped");
  // flux-local's cluster11 layout: an ExternalArtifact made from GitRepositories this cluster does not
  // declare, whose contents sit under externalartifact/ (flux-local: --sources apps=externalartifact).
  t.write("externalartifact/apps/base/release.yaml",
          test::helm_release("renovate", "default", "37.64.3", "    replicaCount: 1\n"));
  t.write("externalartifact/apps/base/repository.yaml", test::kPodinfoRepository);
  // (flux-local's fixture has none here; kustomize then refuses '../base', in Flux as anywhere)
  t.write("externalartifact/apps/base/kustomization.yaml", "resources: [release.yaml, repository.yaml]\n");
  t.write("externalartifact/apps/overlays/kustomization.yaml",
          "resources: [../base]\npatches:\n  - patch: |-\n      apiVersion: helm.toolkit.fluxcd.io/v2\n"
          "      kind: HelmRelease\n      metadata: {name: renovate, namespace: default}\n"
          "      spec: {values: {resources: {requests: {cpu: 100m}}}}\n");
  t.write("cluster/apps.yaml",
          test::flux_kustomization("apps", "./apps/overlays/", "ExternalArtifact", "apps") +
              "---\napiVersion: source.extensions.fluxcd.io/v1beta1\nkind: ArtifactGenerator\n"
              "metadata: {name: my-app, namespace: flux-system}\n"
              "spec:\n  sources:\n    - {alias: base, kind: GitRepository, name: shared-repo}\n"
              "    - {alias: overlays, kind: GitRepository, name: tenant-repo}\n"
              "  artifacts:\n    - name: apps\n      copy:\n        - {from: \"@base/apps/**\", to: \"@artifact/apps/base\"}\n"
              "        - {from: \"@overlays/apps/overlays/**\", to: \"@artifact/apps/overlays/\"}\n");
  // An OCIRepository of manifests and one of a chart, and charts of a HelmRepository, all kept here.
  t.write("deploy/app/release.yaml", test::helm_release("from-oci", "oci", "6.0.0", "    replicaCount: 4\n") + "---\n" +
                                         test::kPodinfoRepository);
  t.write("charts/podinfo/Chart.yaml", "apiVersion: v2\nname: podinfo\nversion: 6.0.0\n");
  t.write("charts/kyverno/Chart.yaml", "apiVersion: v2\nname: kyverno\nversion: 3.2.3\n");
  t.write("cluster/oci.yaml",
          test::flux_kustomization("oci-app", "./app", "OCIRepository", "manifests") + "---\n" +
              oci_repository("kyverno", "    tag: 3.2.3\n") + "---\n" + chart_ref_release("kyverno", "OCIRepository", "kyverno") +
              "---\n" + test::helm_release("podinfo-local", "flux-system", "6.0.0", "    replicaCount: 5\n"));
  const std::string c = t.commit("mapped sources");
  auto repo = git::Repository::open(t.dir.string());
  REQUIRE(repo.ok());
  Engine e(test::work_dir(t));
  e.opt.clusters = {{"cluster", {"cluster"}, {}}};

  SECTION("unmapped: the ExternalArtifact and the OCIRepository of manifests are notes, never silence") {
    auto d = release::discover(*repo, c, e.opt);
    CHECK(test::find_release(d, "cluster/default/renovate") == nullptr);
    CHECK(test::find_release(d, "cluster/oci/from-oci") == nullptr);
    const std::string notes = test::all_notes(d);
    CHECK(notes.find("GitRepository flux-system/tenant-repo, which is not declared") != std::string::npos);
    CHECK(notes.find("--source GitRepository/flux-system/tenant-repo=PATH") != std::string::npos);
    CHECK(notes.find("OCIRepository flux-system/manifests") != std::string::npos);
    const auto* k = test::find_release(d, "cluster/flux-system/kyverno");
    REQUIRE(k != nullptr);
    CHECK(k->chart.kind == release::ChartKind::oci);
  }
  SECTION("mapped: each is read from its path, the overlay as `kustomize build` gives it") {
    for (const char* m : {"apps=externalartifact", "OCIRepository/flux-system/manifests=deploy",
                          "OCIRepository/kyverno=charts/kyverno", "HelmRepository/flux-system/podinfo=charts"}) {
      e.opt.sources.push_back(release::parse_source_mapping(m, "--source").value());
    }
    auto d = release::discover(*repo, c, e.opt);
    INFO(test::all_problems(d) << test::all_notes(d));
    CHECK(d.problems.empty());
    const auto* renovate = test::find_release(d, "cluster/default/renovate");
    REQUIRE(renovate != nullptr);
    CHECK(renovate->root == "externalartifact/apps/overlays");
    CHECK(renovate->values_json.find("\"cpu\":\"100m\"") != std::string::npos);
    const auto* from_oci = test::find_release(d, "cluster/oci/from-oci");
    REQUIRE(from_oci != nullptr);
    CHECK(from_oci->where.file == "deploy/app/release.yaml");
    const auto* k = test::find_release(d, "cluster/flux-system/kyverno");
    REQUIRE(k != nullptr);
    CHECK(k->chart.kind == release::ChartKind::repo_dir);
    CHECK(k->chart.path == "charts/kyverno");
    CHECK(test::joined(k->notes).find("source mapping OCIRepository/kyverno from --source") != std::string::npos);
    // A HelmRepository mapping holds its charts by name; every release of that repository reads them here.
    const auto* local = test::find_release(d, "cluster/flux-system/podinfo-local");
    REQUIRE(local != nullptr);
    CHECK(local->chart.kind == release::ChartKind::repo_dir);
    CHECK(local->chart.path == "charts/podinfo");
    CHECK(test::joined(local->notes).find("version '6.0.0' is not checked") != std::string::npos);
  }
  SECTION("a mapped path that does not exist is an error naming it") {
    e.opt.sources.push_back(release::parse_source_mapping("apps=nowhere", "--source").value());
    auto d = release::discover(*repo, c, e.opt);
    CHECK(test::all_problems(d).find("path 'nowhere/apps/overlays' does not exist") != std::string::npos);
  }
}

TEST_CASE("helmgate preview --source: checked, named in --help", "[fidelity]") {
  const std::string bin = test::binary_dir() + "/helmgate";
  process::ProcessOptions po;
  po.env = {"PATH=/usr/bin:/bin", "HOME=/tmp", "HELMGATE_SANDBOX=off"};
  auto help = process::run_process({bin, "preview", "--help"}, po);
  REQUIRE(help.ok());
  CHECK(help->out.find("--source [KIND/][NAMESPACE/]NAME=PATH") != std::string::npos);
  TempRepo t("src-cli");
  t.write("a.yaml", "x: 1\n");
  t.commit("one");
  auto r = process::run_process({bin, "preview", "--repo", t.dir.string(), "--base", "HEAD", "--head", "HEAD", "--source",
                                "apps=../outside"},
                               po);
  REQUIRE(r.ok());
  CHECK(r->exit_code == 1);
  CHECK(r->err.find("--source: source mapping \"apps=../outside\" has a path that") != std::string::npos);
  // A local directory: inside the working tree it is that repository path; outside it is refused.
  auto outside = process::run_process({bin, "preview", "--repo", t.dir.string(), "--base", "HEAD", "--head", "HEAD",
                                      "--source", "apps=" + fs::temp_directory_path().string()},
                                     po);
  REQUIRE(outside.ok());
  CHECK(outside->exit_code == 1);
  CHECK(outside->err.find("is not inside the repository's working tree") != std::string::npos);
  auto inside = process::run_process({bin, "preview", "--repo", t.dir.string(), "--base", "HEAD", "--head", "HEAD",
                                     "--format", "text", "--source", "apps=" + (t.dir / "deploy").string()},
                                    po);
  REQUIRE(inside.ok());
  INFO(inside->err);
  CHECK(inside->exit_code == 0);
}
