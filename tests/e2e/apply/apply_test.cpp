// Apply on merge, end to end: a Git repository built from the corpora (podinfo chart kept in the repo,
// helm-operator v1 HelmReleases), the apply runner, real kube-apiservers (dev, staging, prod), real
// Redis and the real helm binary. Needs `eval "$(scripts/testenv env)"`.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <future>
#include <sys/resource.h>

#include "config/config.hpp"
#include "core/json.hpp"
#include "git/repository.hpp"
#include "kube/client.hpp"
#include "process/process.hpp"
#include "queue/apply_state.hpp"
#include "runners/apply_runner.hpp"
#include "runners/preview_pipeline.hpp"
#include "runners/tools.hpp"
#include "engine/workspace.hpp"
#include "support/apply_job.hpp"
#include "support/support.hpp"
#include "support/temp_repo.hpp"

namespace fs = std::filesystem;
using namespace helmgate;

namespace {

const std::string kRunId = std::to_string(::getpid()) + "x" + std::to_string(::time(nullptr) % 100000);
const std::string kRepoUrl = "https://git.example.invalid/platform/fleet.git";

struct Repo {
  fs::path dir = fs::temp_directory_path() / ("hg-apply-" + kRunId);
  Repo() {
    fs::remove_all(dir);
    fs::create_directories(dir);
    git({"init", "-q", "-b", "main"});
    fs::create_directories(dir / "charts");
    fs::copy(test::corpus("charts/podinfo-6.14.1"), dir / "charts/podinfo", fs::copy_options::recursive);
  }
  ~Repo() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  void git(std::vector<std::string> args) const { test::run_git(dir, std::move(args)); }
  void release(const std::string& path, const std::string& name, int replicas) const {
    fs::create_directories((dir / path).parent_path());
    std::ofstream(dir / path, std::ios::trunc)
        << "apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata:\n  name: " << name << "\n  namespace: hg-"
        << kRunId << "\nspec:\n  releaseName: " << name << "\n  chart:\n    git: " << kRepoUrl
        << "\n    path: charts/podinfo\n    ref: main\n  values:\n    replicaCount: " << replicas << "\n";
  }
  std::string commit(const std::string& msg) const {
    git({"add", "-A"});
    git({"commit", "-q", "--allow-empty", "-m", msg});
    return git::Repository::open(dir.string())->resolve("HEAD").value();
  }
};

std::string config_yaml(const std::string& prefix, const std::string& clusters) {
  std::string url = test::require_env("HELMGATE_TEST_REDIS_URL");
  return "redis: {url: \"" + url + "\"}\nqueue: {key_prefix: " + prefix +
         "}\nforges:\n- {name: gitea, kind: gitea, api_url: \"http://127.0.0.1:1\", webhook_secret_env: HG_UNUSED}\n"
         "repos:\n- name: platform/fleet\n  url: " + kRepoUrl + "\n  forge: gitea\n  clusters:\n" + clusters;
}

std::string cluster_yaml(const std::string& name, const std::string& path, const std::string& kubeconfig,
                         const std::string& extra = "") {
  return "  - {name: " + name + ", paths: [" + path + "], kubeconfig: \"" + kubeconfig + "\", kube_version: \"" +
         test::require_env("HELMGATE_TEST_KUBE_VERSION") + "\"" + extra + "}\n";
}

std::string fleet_clusters() {
  return cluster_yaml("dev", "releases/dev", test::require_env("HELMGATE_TEST_KUBECONFIG_DEV")) +
         cluster_yaml("staging", "releases/staging", test::require_env("HELMGATE_TEST_KUBECONFIG_STAGING")) +
         cluster_yaml("prod", "releases/prod", test::require_env("HELMGATE_TEST_KUBECONFIG_PROD"), ", requires: [dev]");
}

using Run = test::ApplyRun;

Run run_apply(queue::Runner& runner, const std::string& repo_dir, const std::string& before, const std::string& after,
              const std::string& replay_of = "") {
  return test::run_apply_job(runner, repo_dir, before, after, replay_of);
}

std::string helm(const std::vector<std::string>& args, const char* cluster) {
  std::vector<std::string> argv = {test::require_env("HELMGATE_HELM")};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--kubeconfig", test::require_env((std::string("HELMGATE_TEST_KUBECONFIG_") + cluster).c_str())});
  process::ProcessOptions po;
  po.env = {"HOME=" + fs::temp_directory_path().string(), "PATH=/usr/bin:/bin"};
  auto r = process::run_process(argv, po);
  REQUIRE(r.ok());
  INFO(r->err);
  REQUIRE(r->exit_code == 0);
  return r->out;
}

// Helm's revision of a release, 0 when not installed.
int revision(const char* cluster, const std::string& name) {
  std::string out = helm({"list", "-n", "hg-" + kRunId, "-o", "json"}, cluster);
  core::json::Document d;
  REQUIRE_FALSE(core::json::parse(d, out).has_value());
  for (const auto& r : d.GetArray()) {
    if (std::string(r["name"].GetString()) == name) {
      return r["revision"].IsString() ? std::atoi(r["revision"].GetString()) : r["revision"].GetInt();
    }
  }
  return 0;
}

int64_t replicas(const char* cluster, const std::string& name) {
  auto kc = kube::load_kubeconfig_file(test::require_env((std::string("HELMGATE_TEST_KUBECONFIG_") + cluster).c_str()));
  REQUIRE(kc.ok());
  kube::Client c(cluster, *kc);
  auto live = c.get({"apps/v1", "Deployment", "hg-" + kRunId, name + "-podinfo"});  // the chart's fullname
  REQUIRE(live.ok());
  REQUIRE(live->has_value());
  core::json::Document d;
  REQUIRE_FALSE(core::json::parse(d, **live).has_value());
  return core::json::get_int(d, "spec.replicas").value_or(-1);
}

}  // namespace

TEST_CASE("apply on merge: install, upgrade only what changed, replay, prune, out-of-order merges", "[e2e]") {
  Repo repo;
  auto cfg = config::load_string(config_yaml("hgapply" + kRunId, fleet_clusters()));
  runners::ApplyRunnerOptions opt;
  opt.cache_root = (repo.dir.parent_path() / ("hg-apply-cache-" + kRunId)).string();
  auto runner = runners::make_apply_runner(cfg, opt);
  const std::string zero(40, '0');

  repo.release("releases/dev/web.yaml", "web", 1);
  repo.release("releases/dev/api.yaml", "api", 1);
  repo.release("releases/staging/web.yaml", "web", 2);
  repo.release("releases/prod/web.yaml", "web", 3);
  std::string c1 = repo.commit("four releases on three clusters");

  SECTION("the whole flow") {
    auto r1 = run_apply(runner, repo.dir.string(), zero, c1);
    INFO(r1.outcome.error);
    REQUIRE(r1.outcome.status == queue::RunOutcome::Status::succeeded);
    CHECK(r1.status["dev"] == "applied");
    CHECK(r1.status["staging"] == "applied");
    CHECK(r1.status["prod"] == "applied");
    CHECK(r1.outcomes["dev"]["web"] == "installed");
    CHECK(r1.outcomes["dev"]["api"] == "installed");
    CHECK(r1.outcomes["staging"]["web"] == "installed");
    CHECK(r1.outcomes["prod"]["web"] == "installed");
    // helm list on each cluster shows them (operators keep using helm).
    CHECK(helm({"list", "-n", "hg-" + kRunId, "-q"}, "DEV").find("api") != std::string::npos);
    CHECK(revision("DEV", "web") == 1);
    CHECK(revision("STAGING", "web") == 1);
    CHECK(revision("PROD", "web") == 1);
    CHECK(replicas("PROD", "web") == 3);

    // A values change upgrades only that release.
    repo.release("releases/dev/api.yaml", "api", 2);
    std::string c2 = repo.commit("api: 2 replicas");
    auto r2 = run_apply(runner, repo.dir.string(), c1, c2);
    REQUIRE(r2.outcome.status == queue::RunOutcome::Status::succeeded);
    CHECK(r2.outcomes["dev"]["api"] == "upgraded");
    CHECK(r2.outcomes["dev"].count("web") == 0);
    CHECK(r2.outcomes["prod"].empty());
    CHECK(revision("DEV", "api") == 2);
    CHECK(revision("DEV", "web") == 1);
    CHECK(replicas("DEV", "api") == 2);

    // Replay of the same apply: nothing changes.
    auto r3 = run_apply(runner, repo.dir.string(), c1, c2, "job-replayed");
    REQUIRE(r3.outcome.status == queue::RunOutcome::Status::succeeded);
    CHECK(r3.outcomes["dev"]["api"] == "unchanged");
    CHECK(revision("DEV", "api") == 2);

    // A worker killed after helm finished but before it recorded the digests (the chaos ledger's re-apply):
    // the retried job reads what the latest revision deployed from helm's own record (its description,
    // "helmgate digest <digest>") and does not upgrade again.
    {
      queue::ApplyState state(queue::RedisUrl::parse(cfg.redis_url).value(), cfg.queue.key_prefix);
      auto digests = state.digests(cfg.repos.front().name, "dev");
      REQUIRE(digests.ok());
      REQUIRE(digests->size() == 2);
      for (const auto& [id, d] : *digests) REQUIRE(state.set_digest(cfg.repos.front().name, "dev", id, "").ok());
    }
    auto retried = run_apply(runner, repo.dir.string(), c1, c2, "job-retried");
    REQUIRE(retried.outcome.status == queue::RunOutcome::Status::succeeded);
    CHECK(retried.outcomes["dev"]["api"] == "unchanged");
    CHECK(revision("DEV", "api") == 2);

    // Removing a release from Git uninstalls it.
    fs::remove(repo.dir / "releases/dev/web.yaml");
    std::string c3 = repo.commit("remove dev web");
    auto r4 = run_apply(runner, repo.dir.string(), c2, c3);
    REQUIRE(r4.outcome.status == queue::RunOutcome::Status::succeeded);
    CHECK(r4.outcomes["dev"]["web"] == "uninstalled");
    CHECK(revision("DEV", "web") == 0);
    CHECK(revision("DEV", "api") == 2);

    // Two merges processed out of order: the newer one first, then the older one is superseded.
    repo.release("releases/dev/api.yaml", "api", 3);
    repo.release("releases/prod/web.yaml", "web", 4);
    std::string c4 = repo.commit("api 3, prod web 4");
    repo.release("releases/dev/api.yaml", "api", 5);
    std::string c5 = repo.commit("api 5");
    auto r5 = run_apply(runner, repo.dir.string(), c4, c5);
    REQUIRE(r5.outcome.status == queue::RunOutcome::Status::succeeded);
    CHECK(r5.outcomes["dev"]["api"] == "upgraded");
    // The older merge's change to prod came along: the range starts at what prod last applied.
    CHECK(r5.outcomes["prod"]["web"] == "upgraded");
    auto r6 = run_apply(runner, repo.dir.string(), c3, c4);
    // Every cluster already runs a newer commit: the job itself ends superseded (not succeeded).
    REQUIRE(r6.outcome.status == queue::RunOutcome::Status::superseded);
    CHECK(r6.status["dev"] == "superseded");
    CHECK(r6.status["staging"] == "superseded");
    CHECK(r6.status["prod"] == "superseded");
    CHECK(replicas("DEV", "api") == 5);
    CHECK(replicas("PROD", "web") == 4);
  }
  for (const char* c : {"DEV", "STAGING", "PROD"}) {
    for (const char* rel : {"web", "api"}) {
      if (revision(c, rel) > 0) helm({"uninstall", rel, "-n", "hg-" + kRunId}, c);
    }
  }
  fs::remove_all(opt.cache_root);
}

// helm 4 installs server-side, and helmgate then leaves helm's own OpenAPI check out of the release's
// upgrades (apply::server_checks_manifests): the API server's typed apply patch must still refuse what that
// check would have, the release failing with the server's reason.
TEST_CASE("apply: without helm's OpenAPI check, a server-side upgrade still fails on an unknown field", "[e2e]") {
  Repo repo;
  auto cfg = config::load_string(config_yaml("hgapplyssa" + kRunId, cluster_yaml("dev", "releases/dev",
                                                                                  test::require_env("HELMGATE_TEST_KUBECONFIG_DEV"))));
  runners::ApplyRunnerOptions opt;
  opt.cache_root = (repo.dir.parent_path() / ("hg-apply-ssa-cache-" + kRunId)).string();
  auto runner = runners::make_apply_runner(cfg, opt);
  const std::string zero(40, '0');
  fs::create_directories(repo.dir / "charts/typo/templates");
  std::ofstream(repo.dir / "charts/typo/Chart.yaml") << "apiVersion: v2\nname: typo\nversion: 0.1.0\n";
  std::ofstream(repo.dir / "charts/typo/templates/cm.yaml")
      << "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-settings\n"
         "{{- if .Values.typo }}\ndtaa:\n{{- else }}\ndata:\n{{- end }}\n  level: {{ .Values.level | quote }}\n";
  auto release = [&](bool typo, const std::string& level) {
    fs::create_directories(repo.dir / "releases/dev");
    std::ofstream(repo.dir / "releases/dev/typo.yaml", std::ios::trunc)
        << "apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata:\n  name: typo\n  namespace: hg-" << kRunId
        << "\nspec:\n  releaseName: typo\n  chart:\n    git: " << kRepoUrl
        << "\n    path: charts/typo\n    ref: main\n  values:\n    typo: " << (typo ? "true" : "false")
        << "\n    level: " << level << "\n";
    return repo.commit(level);
  };
  const std::string c1 = release(false, "info");
  auto r1 = run_apply(runner, repo.dir.string(), zero, c1);
  REQUIRE(r1.outcomes["dev"]["typo"] == "installed");
  const std::string c2 = release(false, "debug");
  auto r2 = run_apply(runner, repo.dir.string(), c1, c2);
  REQUIRE(r2.outcomes["dev"]["typo"] == "upgraded");
  CHECK(revision("DEV", "typo") == 2);

  const std::string c3 = release(true, "warn");
  auto r3 = run_apply(runner, repo.dir.string(), c2, c3);
  CHECK(r3.outcomes["dev"]["typo"] == "failed");
  std::string reason;
  for (const auto& c : r3.result.clusters) {
    for (const auto& rel : c.releases) {
      if (rel.release_name == "typo") reason = rel.reason;
    }
  }
  INFO(reason);
  CHECK(reason.find("dtaa") != std::string::npos);
  CHECK(reason.find("field not declared in schema") != std::string::npos);
  // The live object still holds what the last good apply wrote.
  auto kc = kube::load_kubeconfig_file(test::require_env("HELMGATE_TEST_KUBECONFIG_DEV"));
  REQUIRE(kc.ok());
  kube::Client client("dev", *kc);
  auto live = client.get({"v1", "ConfigMap", "hg-" + kRunId, "typo-settings"});
  REQUIRE(live.ok());
  REQUIRE(live->has_value());
  CHECK((*live)->find("\"debug\"") != std::string::npos);
  helm({"uninstall", "typo", "-n", "hg-" + kRunId}, "DEV");  fs::remove_all(opt.cache_root);
}

TEST_CASE("apply: a cluster that is down fails its own apply and retries - the others succeed - requires blocks", "[e2e]") {
  Repo repo;
  // A kubeconfig for a cluster nobody listens on.
  std::string kc = test::read_file(test::require_env("HELMGATE_TEST_KUBECONFIG_STAGING"));
  kc = std::regex_replace(kc, std::regex("server: https://127.0.0.1:[0-9]+"), "server: https://127.0.0.1:1");
  fs::path down_kc = fs::temp_directory_path() / ("hg-down-" + kRunId + ".kubeconfig");
  std::ofstream(down_kc) << kc;
  auto cfg = config::load_string(config_yaml(
      "hgdown" + kRunId,
      cluster_yaml("dev", "releases/dev", test::require_env("HELMGATE_TEST_KUBECONFIG_DEV")) +
          cluster_yaml("down", "releases/down", down_kc.string()) +
          cluster_yaml("prod", "releases/prod", test::require_env("HELMGATE_TEST_KUBECONFIG_PROD"), ", requires: [down]")));
  runners::ApplyRunnerOptions opt;
  opt.cache_root = (repo.dir.parent_path() / ("hg-down-cache-" + kRunId)).string();
  opt.connect_timeout = std::chrono::milliseconds(2000);
  auto runner = runners::make_apply_runner(cfg, opt);
  repo.release("releases/dev/solo.yaml", "solo", 1);
  repo.release("releases/down/solo.yaml", "solo", 1);
  repo.release("releases/prod/solo.yaml", "solo", 1);
  std::string c1 = repo.commit("one release per cluster");
  auto r = run_apply(runner, repo.dir.string(), std::string(40, '0'), c1);
  CHECK(r.outcome.status == queue::RunOutcome::Status::retry);  // the queue retries it with backoff
  CHECK(r.outcome.error.find("down unreachable") != std::string::npos);
  CHECK(r.status["dev"] == "applied");
  CHECK(r.outcomes["dev"]["solo"] == "installed");
  CHECK(r.status["down"] == "unreachable");
  CHECK(r.status["prod"] == "blocked");
  CHECK(revision("DEV", "solo") == 1);
  CHECK(revision("PROD", "solo") == 0);
  // The retry does not touch what already applied.
  auto again = run_apply(runner, repo.dir.string(), std::string(40, '0'), c1);
  CHECK(again.outcome.status == queue::RunOutcome::Status::retry);
  CHECK(again.outcomes["dev"]["solo"] == "unchanged");
  CHECK(revision("DEV", "solo") == 1);
  helm({"uninstall", "solo", "-n", "hg-" + kRunId}, "DEV");
  fs::remove(down_kc);
  fs::remove_all(opt.cache_root);
}

// Not a test: bench/apply/run drives this hidden case ("[.bench]") and prints its table. Three ways to
// bring the same change (new values for N releases on each of 3 clusters) to the clusters, in alternating
// rounds: helmgate's apply job (after the preview of the change, as when a PR is merged: its renders are
// in the render cache), `helmfile sync` (one per cluster, the three at once; HELMGATE_BENCH_HELMFILE) and
// a plain loop of `helm upgrade --install`, whose CPU time (of the helm processes) over the cores is the
// floor. One more helmgate apply without a preview before it shows what the renders cost.
TEST_CASE("bench: apply 10 releases x 3 clusters", "[.bench]") {
  const int n = std::atoi(std::getenv("HELMGATE_BENCH_RELEASES") != nullptr ? std::getenv("HELMGATE_BENCH_RELEASES") : "10");
  const int rounds = std::atoi(std::getenv("HELMGATE_BENCH_ROUNDS") != nullptr ? std::getenv("HELMGATE_BENCH_ROUNDS") : "2");
  const std::string helmfile = test::require_env("HELMGATE_BENCH_HELMFILE");
  const std::string helm_bin = test::require_env("HELMGATE_HELM");
  const char* clusters[] = {"dev", "staging", "prod"};
  auto upper = [](std::string s) {
    for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return s;
  };
  auto kubeconfig = [&](const char* c) { return test::require_env(("HELMGATE_TEST_KUBECONFIG_" + upper(c)).c_str()); };
  Repo repo;
  auto write_all = [&](int replicas) {
    for (const char* c : clusters) {
      for (int i = 0; i < n; ++i) repo.release(std::string("releases/") + c + "/r" + std::to_string(i) + ".yaml", "r" + std::to_string(i), replicas);
    }
  };
  // No `requires` here: it orders prod after dev on purpose, and this measures the parallel case.
  // HELMGATE_BENCH_CONCURRENCY: the clusters' apply_concurrency (default: the configuration's default).
  const char* conc = std::getenv("HELMGATE_BENCH_CONCURRENCY");
  const std::string extra = conc != nullptr ? std::string(", apply_concurrency: ") + conc : std::string();
  std::string all_clusters = cluster_yaml("dev", "releases/dev", kubeconfig("dev"), extra) +
                             cluster_yaml("staging", "releases/staging", kubeconfig("staging"), extra) +
                             cluster_yaml("prod", "releases/prod", kubeconfig("prod"), extra);
  auto cfg = config::load_string(config_yaml("hgbench" + kRunId, all_clusters));
  const int concurrency = cfg.repos.front().clusters.front().apply_concurrency;
  runners::ApplyRunnerOptions opt;
  opt.cache_root = (repo.dir.parent_path() / ("hg-bench-cache-" + kRunId)).string();
  opt.workspace = runners::runner_workspace(helm_bin, test::require_env("HELMGATE_KUBECTL"), opt.cache_root, 2);
  auto runner = runners::make_apply_runner(cfg, opt);
  auto seconds = [](auto start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  auto children_cpu = [] {
    rusage u{};
    ::getrusage(RUSAGE_CHILDREN, &u);
    auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return tv(u.ru_utime) + tv(u.ru_stime);
  };
  const double cores = static_cast<double>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
  const fs::path work = repo.dir.parent_path() / ("hg-bench-work-" + kRunId);
  fs::create_directories(work);
  int replicas = 1;
  write_all(replicas);
  std::string prev = repo.commit("install");
  auto r0 = run_apply(runner, repo.dir.string(), std::string(40, '0'), prev);
  REQUIRE(r0.outcome.status == queue::RunOutcome::Status::succeeded);

  // helmgate: the change previewed (untimed, as at PR time), then the apply job timed.
  auto self_cpu = [] {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return tv(u.ru_utime) + tv(u.ru_stime);
  };
  double hg_cpu = 0, hf_cpu = 0;  // of the last helmgate / helmfile run: the process's own and its children's
  double hg_self = 0;
  size_t hg_renders = 0;
  auto helmgate = [&](bool previewed) {
    write_all(++replicas);
    std::string c = repo.commit("values " + std::to_string(replicas));
    if (previewed) {
      runners::PreviewRequest pr;
      pr.repo = repo.dir.string();
      pr.base = prev;
      pr.head = c;
      pr.repo_config = cfg.repos.front();
      pr.workspace = opt.workspace.get();
      pr.formats = {runners::PreviewFormat::json};
      auto p = runners::run_preview(pr);
      REQUIRE(p.ok());
      REQUIRE(p->report.releases.size() == static_cast<size_t>(3 * n));
    }
    const double cpu0 = children_cpu() + self_cpu(), self0 = self_cpu();
    const size_t renders0 = opt.workspace->renderer->stats().renders;
    auto t = std::chrono::steady_clock::now();
    auto r = run_apply(runner, repo.dir.string(), prev, c);
    double s = seconds(t);
    hg_cpu = children_cpu() + self_cpu() - cpu0;
    hg_self = self_cpu() - self0;
    hg_renders = opt.workspace->renderer->stats().renders - renders0;
    REQUIRE(r.outcome.status == queue::RunOutcome::Status::succeeded);
    for (const char* cl : clusters) {
      REQUIRE(r.outcomes[cl].size() == static_cast<size_t>(n));
      for (const auto& [name, outcome] : r.outcomes[cl]) REQUIRE(outcome == "upgraded");
    }
    prev = c;
    return s;
  };
  // helmfile sync: one helmfile.yaml per cluster (its kubeconfig), the three processes at once.
  auto helmfile_sync = [&] {
    const std::string values = (work / ("hf-values-" + std::to_string(++replicas) + ".yaml")).string();
    std::ofstream(values) << "replicaCount: " << replicas << "\n";
    std::vector<std::future<core::Result<process::ProcessResult>>> runs;
    const double cpu0 = children_cpu();
    auto t = std::chrono::steady_clock::now();
    for (const char* cl : clusters) {
      const fs::path dir = work / ("helmfile-" + std::string(cl));
      fs::create_directories(dir);
      std::ofstream f(dir / "helmfile.yaml", std::ios::trunc);
      f << "helmDefaults:\n  createNamespace: true\n  historyMax: 10\nreleases:\n";
      for (int i = 0; i < n; ++i) {
        f << "- name: r" << i << "\n  namespace: hg-" << kRunId << "\n  chart: " << (repo.dir / "charts/podinfo").string()
          << "\n  values:\n  - " << values << "\n";
      }
      f.close();
      runs.push_back(std::async(std::launch::async, [&, dir, cl] {
        process::ProcessOptions po;
        po.cwd = dir.string();
        po.env = {"HOME=" + dir.string(), "PATH=" + fs::path(helm_bin).parent_path().string() + ":/usr/bin:/bin",
                  "KUBECONFIG=" + kubeconfig(cl), "HELM_CACHE_HOME=" + (dir / "cache").string(),
                  "HELM_CONFIG_HOME=" + (dir / "config").string(), "HELM_DATA_HOME=" + (dir / "data").string()};
        // No Catch2 assertion off the test's thread: the result is checked below.
        return process::run_process({helmfile, "--helm-binary", helm_bin, "--file", (dir / "helmfile.yaml").string(), "sync"}, po);
      }));
    }
    for (auto& f : runs) {
      auto r = f.get();
      REQUIRE(r.ok());
      INFO(r->err);
      REQUIRE(r->exit_code == 0);
    }
    double s = seconds(t);
    hf_cpu = children_cpu() - cpu0;
    return s;
  };
  // The plain loop: the same upgrades one after another; the CPU time of those helm processes.
  auto helm_loop = [&](double& cpu) {
    const std::string values = (work / ("helm-values-" + std::to_string(++replicas) + ".yaml")).string();
    std::ofstream(values) << "replicaCount: " << replicas << "\n";
    double cpu0 = children_cpu();
    auto t = std::chrono::steady_clock::now();
    for (const char* cl : clusters) {
      for (int i = 0; i < n; ++i) {
        helm({"upgrade", "--install", "r" + std::to_string(i), (repo.dir / "charts/podinfo").string(), "--namespace",
              "hg-" + kRunId, "--values", values, "--history-max", "10", "--create-namespace"},
             upper(cl).c_str());
      }
    }
    double s = seconds(t);
    cpu = children_cpu() - cpu0;
    return s;
  };
  std::string out = "BENCH releases_per_cluster=" + std::to_string(n) + " clusters=3 cores=" + std::to_string(static_cast<int>(cores)) +
                    " concurrency=" + std::to_string(concurrency) + " rounds=" + std::to_string(rounds);
  char buf[256];
  for (int k = 1; k <= rounds; ++k) {
    double cpu = 0;
    double hg = helmgate(true);
    double hf = helmfile_sync();
    double hl = helm_loop(cpu);
    const double hgc = hg_cpu, hfc = hf_cpu;
    std::snprintf(buf, sizeof buf, " helmgate%d=%.2f helmfile%d=%.2f helm%d=%.2f helmcpu%d=%.2f floor%d=%.2f hgcpu%d=%.2f hfcpu%d=%.2f",
                  k, hg, k, hf, k, hl, k, cpu, k, cpu / cores, k, hgc, k, hfc);
    out += buf;
  }
  std::snprintf(buf, sizeof buf, " hgself=%.2f hgrenders=%zu", hg_self, hg_renders);
  out += buf;
  const double unpreviewed = helmgate(false);
  std::snprintf(buf, sizeof buf, " helmgate_unpreviewed=%.2f unpreviewed_renders=%zu unpreviewed_cpu=%.2f", unpreviewed, hg_renders, hg_cpu);
  out += buf;
  std::printf("%s\n", out.c_str());
  for (const char* cl : clusters) {
    for (int i = 0; i < n; ++i) helm({"uninstall", "r" + std::to_string(i), "-n", "hg-" + kRunId}, upper(cl).c_str());
  }
  fs::remove_all(work);
  fs::remove_all(opt.cache_root);
}
