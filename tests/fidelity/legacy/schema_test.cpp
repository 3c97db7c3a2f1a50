// spec.install.disableSchemaValidation / spec.upgrade.disableSchemaValidation (Flux v2): helm's
// --skip-schema-validation. A chart whose values.schema.json the values violate: the render fails with
// helm's schema error without the flag and succeeds with it; in a preview the flag of the action Flux
// would run counts (install for a release new at head, upgrade for one that was there at base).
// On merge the same flag reaches `helm upgrade --install` (against the test environment's dev cluster).
// Real git, real helm, the real preview pipeline.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "apply/helm.hpp"
#include "engine/plan.hpp"
#include "git/repository.hpp"
#include "release/release.hpp"
#include "process/process.hpp"
#include "render/renderer.hpp"
#include "runners/preview_pipeline.hpp"
#include "support/support.hpp"
#include "support/temp_repo.hpp"

namespace fs = std::filesystem;
using namespace helmgate;

namespace {

using test::TempRepo;

const char* kChart = "apiVersion: v2\nname: strict\nversion: 1.0.0\n";
const char* kSchema = R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "properties": {"replicaCount": {"type": "integer", "minimum": 1}},
  "required": ["replicaCount"]
})";
const char* kTemplate = R"(apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}
data:
  replicas: {{ .Values.replicaCount | quote }}
)";

// A Flux v2 HelmRelease of the chart in this repository with values the schema refuses.
std::string helm_release(const std::string& validation) {
  return R"(apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: strict
  namespace: apps
spec:
  interval: 10m
  chart:
    spec:
      chart: ./charts/strict
      sourceRef:
        kind: GitRepository
        name: flux-system
        namespace: flux-system
)" + validation + R"(  values:
    replicaCount: "two"
)";
}

std::string work_dir(const char* name) {
  auto p = fs::temp_directory_path() / (std::string("hg-legacy-schema-") + name + "-" + std::to_string(::getpid()));
  fs::remove_all(p);
  return p.string();
}

struct Outcome {
  int exit = -1;
  std::string status;
  std::string errors;
};

Outcome preview(const TempRepo& t, const std::string& base, const std::string& head, const std::string& cache) {
  runners::PreviewRequest req;
  req.repo = t.dir.string();
  req.base = base;
  req.head = head;
  req.formats = {runners::PreviewFormat::json};
  req.helm = test::require_env("HELMGATE_HELM");
  req.kubectl = test::require_env("HELMGATE_KUBECTL");
  req.cache_dir = cache;
  req.concurrency = 1;
  auto r = runners::run_preview(req);
  REQUIRE(r.ok());
  Outcome o;
  o.exit = r->exit_status();
  REQUIRE(r->report.releases.size() == 1);
  o.status = std::string(diff::to_string(r->report.releases[0].status));
  for (const auto& e : r->report.releases[0].errors) o.errors += e.message + "\n";
  for (const auto& e : r->report.errors) o.errors += e.message + "\n";
  return o;
}

}  // namespace

TEST_CASE("schema validation: the render fails with helm's schema error unless disableSchemaValidation", "[fidelity]") {
  TempRepo t("legacy-schema");
  t.write("charts/strict/Chart.yaml", kChart);
  t.write("charts/strict/values.schema.json", kSchema);
  t.write("charts/strict/templates/cm.yaml", kTemplate);
  // The cluster path exists before the release does (a path new at head is another case of issue 11).
  t.write("clusters/dev/namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n");
  const std::string empty = t.commit("empty fleet");

  // The renderer: the same request with and without the flag.
  const std::string work = work_dir("render");
  render::Options ro;
  ro.helm = test::require_env("HELMGATE_HELM");
  ro.kubectl = test::require_env("HELMGATE_KUBECTL");
  ro.work_dir = work;
  render::Renderer renderer(ro);
  render::RenderRequest req;
  req.chart.dir = (t.dir / "charts/strict").string();
  req.chart.shown = "charts/strict";
  req.release_name = "strict";
  req.namespace_ = "apps";
  req.values_json = R"({"replicaCount":"two"})";
  auto refused = renderer.render(req);
  REQUIRE_FALSE(refused.ok());
  INFO(refused.error().message);
  CHECK(refused.error().message.find("values don't meet the specifications of the schema") != std::string::npos);
  CHECK(refused.error().message.find("replicaCount") != std::string::npos);
  req.skip_schema_validation = true;
  auto rendered = renderer.render(req);
  INFO((rendered ? std::string() : rendered.error().message));
  REQUIRE(rendered.ok());
  CHECK(rendered->manifest.find("replicas: \"two\"") != std::string::npos);

  // Discovery reads both fields; the apply plan passes the flag of the action it will run.
  t.write("clusters/dev/strict.yaml", helm_release("  install:\n    disableSchemaValidation: true\n"));
  const std::string with_install = t.commit("install skips the schema");
  {
    auto repo = git::Repository::open(t.dir.string());
    release::DiscoverOptions opt;
    opt.work_root = work + "/trees";
    opt.clusters = release::default_clusters(*repo, with_install).value();
    auto d = release::discover(*repo, with_install, opt);
    REQUIRE(d.releases.size() == 1);
    CHECK(d.releases[0].install_checks.skip_schema_validation);
    CHECK_FALSE(d.releases[0].upgrade_checks.skip_schema_validation);
    release::Affected a;
    a.id = d.releases[0].id();
    a.head = &d.releases[0];
    git::MirrorCache mirrors(work + "/mirrors");
    engine::ChartSources head{&*repo, with_install, &mirrors, work + "/trees", {}};
    engine::Observed nothing;  // not installed: helm installs, install.disableSchemaValidation counts
    auto install = engine::plan_release(a, nothing, head, renderer, with_install);
    INFO(install.failure);
    CHECK(install.failure.empty());
    CHECK(install.decision.action == apply::Action::install);
    CHECK(install.spec.skip_schema_validation);
    // Installed: helm would upgrade, and upgrade.disableSchemaValidation is not set. The plan renders as
    // that upgrade will (schema validated), so the release fails with helm's schema error before any helm
    // action runs; install.disableSchemaValidation does not leak into the upgrade.
    engine::Observed installed;
    installed.helm["apps/strict"] = {"strict", "apps", "deployed", 1, {}};
    auto upgrade = engine::plan_release(a, installed, head, renderer, with_install);
    INFO(upgrade.failure);
    CHECK(upgrade.failure.find("values don't meet the specifications of the schema") != std::string::npos);
    CHECK(upgrade.failure.find("replicaCount") != std::string::npos);
    CHECK(upgrade.decision.action == apply::Action::none);
    CHECK_FALSE(upgrade.spec.skip_schema_validation);
  }

  const std::string cache = work_dir("cache");
  // New at head with install.disableSchemaValidation: installs, renders.
  auto a = preview(t, empty, with_install, cache);
  INFO(a.errors);
  CHECK(a.status == "added");
  CHECK(a.errors.empty());
  CHECK(a.exit == 2);

  // Without the flag: helm's schema error, the preview fails.
  t.write("clusters/dev/strict.yaml", helm_release(""));
  const std::string without = t.commit("no flag");
  auto b = preview(t, empty, without, cache);
  CHECK(b.status == "error");
  CHECK(b.errors.find("values don't meet the specifications of the schema") != std::string::npos);
  CHECK(b.exit == 1);

  // upgrade.disableSchemaValidation only: a new release is installed, and the install validates...
  t.write("clusters/dev/strict.yaml", helm_release("  upgrade:\n    disableSchemaValidation: true\n"));
  const std::string with_upgrade = t.commit("upgrade skips the schema");
  auto c = preview(t, empty, with_upgrade, cache);
  CHECK(c.status == "error");
  CHECK(c.errors.find("values don't meet the specifications of the schema") != std::string::npos);
  // ...while a release that was there at base is upgraded, and the upgrade does not validate.
  auto d = preview(t, with_install, with_upgrade, cache);
  INFO(d.errors);
  CHECK(d.status != "error");
  CHECK(d.errors.empty());
  fs::remove_all(work);
  fs::remove_all(cache);
}

TEST_CASE("schema validation on merge: helm upgrade --install gets --skip-schema-validation (dev cluster)", "[fidelity]") {
  const fs::path tmp = work_dir("apply");
  fs::create_directories(tmp / "strict/templates");
  std::ofstream(tmp / "strict/Chart.yaml") << kChart;
  std::ofstream(tmp / "strict/values.schema.json") << kSchema;
  std::ofstream(tmp / "strict/templates/cm.yaml") << kTemplate;
  apply::HelmEnv henv;
  henv.helm = test::require_env("HELMGATE_HELM");
  henv.kubeconfig = test::require_env("HELMGATE_TEST_KUBECONFIG_DEV");
  henv.cluster = "dev";
  henv.work_dir = (tmp / "helm-home").string();
  henv.timeout = std::chrono::seconds(60);
  apply::ReleaseSpec spec;
  const std::string ns = "hg-legacy-schema-" + std::to_string(::getpid());
  spec.id = "dev/" + ns + "/strict";
  spec.release_name = "strict";
  spec.namespace_ = ns;
  spec.chart_args = {(tmp / "strict").string()};
  spec.values_json = R"({"replicaCount":"two"})";
  auto refused = apply::upgrade_install(henv, spec, true, "install strict");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("values don't meet the specifications of the schema") != std::string::npos);
  spec.skip_schema_validation = true;
  auto installed = apply::upgrade_install(henv, spec, true, "install strict");
  INFO((installed ? std::string() : installed.error().message));
  REQUIRE(installed.ok());
  CHECK(*installed == 1);
  auto got = apply::run_helm(henv, {"get", "values", "--namespace=" + ns, "--output=json", "--", "strict"}, "get values");
  REQUIRE(got.ok());
  CHECK(got->out.find("\"replicaCount\":\"two\"") != std::string::npos);
  // Clean up what this test made on the shared cluster.
  CHECK(apply::run_helm(henv, {"uninstall", "--namespace=" + ns, "--", "strict"}, "uninstall").ok());
  process::ProcessOptions po;
  po.env = {"PATH=/usr/bin:/bin", "HOME=" + tmp.string()};
  auto del = process::run_process({test::require_env("HELMGATE_KUBECTL"), "--kubeconfig=" + henv.kubeconfig, "delete",
                                  "namespace", "--wait=false", "--", ns},
                                 po);
  CHECK(del.ok());
  fs::remove_all(tmp);
}
