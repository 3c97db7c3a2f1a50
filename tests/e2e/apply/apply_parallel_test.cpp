// One cluster's releases applied in parallel (issue 15): Flux v2 HelmReleases over the repository's podinfo
// chart on the test environment's dev API server, with real helm and Redis. Independent releases run
// at once, never more than the cluster's apply_concurrency; spec.dependsOn orders them, and a release
// whose dependency failed is not applied. Needs `eval "$(scripts/testenv env)"`.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "config/config.hpp"
#include "git/repository.hpp"
#include "process/process.hpp"
#include "runners/apply_runner.hpp"
#include "support/apply_job.hpp"
#include "support/support.hpp"
#include "support/temp_repo.hpp"

namespace fs = std::filesystem;
using namespace helmgate;

namespace {

const std::string kRun = std::to_string(::getpid()) + "p" + std::to_string(::time(nullptr) % 100000);
const std::string kNs = "hg-par-" + kRun;
const std::string kRepoUrl = "https://git.example.invalid/platform/fleet.git";

struct FluxRepo {
  fs::path dir = fs::temp_directory_path() / ("hg-apply-par-" + kRun);
  FluxRepo() {
    fs::remove_all(dir);
    fs::create_directories(dir / "charts");
    test::run_git(dir, {"init", "-q", "-b", "main"});
    fs::copy(test::corpus("charts/podinfo-6.14.1"), dir / "charts/podinfo", fs::copy_options::recursive);
  }
  ~FluxRepo() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  void release(const std::string& name, int replicas, const std::string& depends_on = "",
               const std::string& chart = "podinfo") const {
    fs::create_directories(dir / "releases/dev");
    std::ofstream(dir / ("releases/dev/" + name + ".yaml"), std::ios::trunc)
        << "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: " << name << ", namespace: " << kNs
        << "}\nspec:\n  interval: 5m\n  install: {createNamespace: true}\n"
        << (depends_on.empty() ? "" : "  dependsOn: [{name: " + depends_on + "}]\n")
        << "  chart:\n    spec:\n      chart: ./charts/" << chart
        << "\n      sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}\n"
        << "  values: {replicaCount: " << replicas << "}\n";
  }
  std::string commit(const std::string& msg) const {
    test::run_git(dir, {"add", "-A"});
    test::run_git(dir, {"commit", "-q", "--allow-empty", "-m", msg});
    return git::Repository::open(dir.string())->resolve("HEAD").value();
  }
};

void helm_uninstall(const std::string& name) {
  process::ProcessOptions po;
  po.env = {"HOME=" + fs::temp_directory_path().string(), "PATH=/usr/bin:/bin"};
  (void)process::run_process({test::require_env("HELMGATE_HELM"), "uninstall", name, "-n", kNs, "--kubeconfig",
                              test::require_env("HELMGATE_TEST_KUBECONFIG_DEV")},
                             po);
}

const engine::ReleaseResult& find(const engine::ClusterResult& c, const std::string& name) {
  auto it = std::find_if(c.releases.begin(), c.releases.end(), [&](const auto& r) { return r.release_name == name; });
  REQUIRE(it != c.releases.end());
  return *it;
}

// Most helm runs in flight at one moment, from their start times and durations.
int peak_overlap(const std::vector<engine::ReleaseResult>& rs) {
  std::vector<std::pair<int64_t, int>> ev;
  for (const auto& r : rs) {
    if (r.started_ms == 0) continue;
    ev.emplace_back(r.started_ms, 1);
    ev.emplace_back(r.started_ms + r.ms, -1);
  }
  std::sort(ev.begin(), ev.end());  // an end before a start at the same instant
  int now = 0, peak = 0;
  for (const auto& [t, d] : ev) peak = std::max(peak, now += d);
  return peak;
}

}  // namespace

TEST_CASE("apply: a cluster's independent releases run in parallel up to apply_concurrency, dependsOn orders them",
          "[e2e]") {
  FluxRepo repo;
  const std::string yaml =
      "redis: {url: \"" + test::require_env("HELMGATE_TEST_REDIS_URL") + "\"}\nqueue: {key_prefix: hgpar" + kRun +
      "}\nforges:\n- {name: gitea, kind: gitea, api_url: \"http://127.0.0.1:1\", webhook_secret_env: HG_UNUSED}\n"
      "repos:\n- name: platform/fleet\n  url: " + kRepoUrl + "\n  forge: gitea\n  clusters:\n"
      "  - {name: dev, paths: [releases/dev], kubeconfig: \"" + test::require_env("HELMGATE_TEST_KUBECONFIG_DEV") +
      "\", kube_version: \"" + test::require_env("HELMGATE_TEST_KUBE_VERSION") + "\", apply_concurrency: 3}\n";
  auto cfg = config::load_string(yaml);
  REQUIRE(cfg.repos.front().clusters.front().apply_concurrency == 3);
  runners::ApplyRunnerOptions opt;
  opt.cache_root = (repo.dir.parent_path() / ("hg-apply-par-cache-" + kRun)).string();
  auto runner = runners::make_apply_runner(cfg, opt);

  const std::vector<std::string> independent = {"p0", "p1", "p2", "p3", "p4", "p5"};
  for (const auto& n : independent) repo.release(n, 1);
  repo.release("db", 1);
  repo.release("api", 1, "db");
  repo.release("web", 1, "api");
  std::string c1 = repo.commit("nine releases, db <- api <- web");

  auto r1 = test::run_apply_job(runner, repo.dir.string(), std::string(40, '0'), c1);
  INFO(r1.outcome.error);
  REQUIRE(r1.outcome.status == queue::RunOutcome::Status::succeeded);
  REQUIRE(r1.result.clusters.size() == 1);
  const auto& dev = r1.result.clusters.front();
  REQUIRE(dev.releases.size() == 9);
  for (const auto& r : dev.releases) {
    INFO(r.release_name << ": " << r.reason);
    CHECK(r.outcome == engine::ReleaseOutcome::installed);
    CHECK(r.started_ms > 0);
  }
  // In parallel, bounded: never more than 3 helm runs at once, and more than one did run at once.
  const int peak = peak_overlap(dev.releases);
  CHECK(peak >= 2);
  CHECK(peak <= 3);
  // dependsOn: api started after db finished, web after api.
  const auto& db = find(dev, "db");
  const auto& api = find(dev, "api");
  const auto& web = find(dev, "web");
  CHECK(api.started_ms >= db.started_ms + db.ms);
  CHECK(web.started_ms >= api.started_ms + api.ms);

  // db's chart goes missing: it fails before helm runs; api and web, which depend on it, are not applied,
  // while p0 (independent) is.
  repo.release("db", 2, "", "missing");
  repo.release("api", 2, "db");
  repo.release("web", 2, "api");
  repo.release("p0", 2);
  std::string c2 = repo.commit("db breaks");
  auto r2 = test::run_apply_job(runner, repo.dir.string(), c1, c2);
  REQUIRE(r2.result.clusters.size() == 1);
  const auto& dev2 = r2.result.clusters.front();
  CHECK(r2.outcomes["dev"]["db"] == "failed");
  CHECK(r2.outcomes["dev"]["api"] == "failed");
  CHECK(r2.outcomes["dev"]["web"] == "failed");
  CHECK(r2.outcomes["dev"]["p0"] == "upgraded");
  CHECK(find(dev2, "api").reason.find("dependsOn HelmRelease " + kNs + "/db, which was not applied") != std::string::npos);
  CHECK(find(dev2, "web").reason.find("dependsOn HelmRelease " + kNs + "/api") != std::string::npos);
  CHECK(find(dev2, "api").started_ms == 0);  // helm never ran for it

  for (const auto& n : independent) helm_uninstall(n);
  for (const char* n : {"db", "api", "web"}) helm_uninstall(n);
  fs::remove_all(opt.cache_root);
}
