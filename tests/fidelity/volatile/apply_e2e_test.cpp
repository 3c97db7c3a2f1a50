// Apply on merge with a chart whose output changes on every render (genCA, randAlphaNum), against the
// real kube-apiserver, Redis and helm of scripts/testenv: a merge that does not change the release's chart
// or values does not upgrade it, even on a worker whose render cache is empty (so its render differs from
// the installed one); a real change still upgrades. Flux's helm-controller behaves the same (it compares
// chart and values digests, not a fresh render). Needs `eval "$(scripts/testenv env)"`.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <mutex>

#include "config/config.hpp"
#include "core/json.hpp"
#include "kube/client.hpp"
#include "process/process.hpp"
#include "runners/apply_runner.hpp"
#include "support/apply_job.hpp"
#include "support/support.hpp"
#include "support/temp_repo.hpp"
#include "vol_chart.hpp"

namespace fs = std::filesystem;
using namespace helmgate;

namespace {

const std::string kRunId = std::to_string(::getpid()) + "r" + std::to_string(::time(nullptr) % 100000);
const std::string kNs = "hg-volatile-" + kRunId;
const std::string kRepoUrl = "https://git.example.invalid/platform/fleet.git";

// timeout: a spec field that changes neither the chart nor the values (so neither Flux's chart nor its
// config digest), but makes the release affected.
std::string release_yaml(const std::string& greeting, int timeout) {
  return "apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata:\n  name: vol\n  namespace: " + kNs +
         "\nspec:\n  releaseName: vol\n  timeout: " + std::to_string(timeout) + "\n  chart:\n    git: " + kRepoUrl +
         "\n    path: charts/vol\n    ref: main\n  values:\n    greeting: " + greeting + "\n";
}

// release -> outcome, and the whole log for failure messages.
std::map<std::string, std::string> run_apply(queue::Runner& runner, const std::string& dir, const std::string& before,
                                             const std::string& after) {
  return test::run_apply_job(runner, dir, before, after).releases();
}

process::ProcessResult helm(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {test::require_env("HELMGATE_HELM")};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--kubeconfig", test::require_env("HELMGATE_TEST_KUBECONFIG_DEV")});
  process::ProcessOptions po;
  po.env = {"HOME=" + fs::temp_directory_path().string(), "PATH=/usr/bin:/bin"};
  po.timeout = std::chrono::seconds(120);
  auto r = process::run_process(argv, po);
  REQUIRE(r.ok());
  return *r;
}

int revision() {
  auto r = helm({"list", "-n", kNs, "-o", "json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  core::json::Document d;
  REQUIRE_FALSE(core::json::parse(d, r.out).has_value());
  for (const auto& x : d.GetArray()) {
    if (std::string(x["name"].GetString()) == "vol") {
      return x["revision"].IsString() ? std::atoi(x["revision"].GetString()) : x["revision"].GetInt();
    }
  }
  return 0;
}

// The manifests a renderer cached under cache_root (the render cache's files, end marker included).
std::vector<std::string> cached_renders(const std::string& cache_root) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(cache_root + "/renders", ec); it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (ec) break;
    if (it->is_regular_file() && it->path().parent_path().filename() != "volatile") out.push_back(test::read_file(it->path().string()));
  }
  return out;
}

}  // namespace

TEST_CASE("volatile: apply does not upgrade a release whose chart and values did not change, a real change does",
          "[fidelity]") {
  test::TempRepo repo("volatile-apply-" + kRunId);
  test::write_volatile_chart(repo);
  repo.write("releases/dev/vol.yaml", release_yaml("hello", 300));
  const std::string c1 = repo.commit("install vol");

  std::string url = test::require_env("HELMGATE_TEST_REDIS_URL");
  auto cfg = config::load_string(
      "redis: {url: \"" + url + "\"}\nqueue: {key_prefix: hgvolatile" + kRunId +
      "}\nforges:\n- {name: gitea, kind: gitea, api_url: \"http://127.0.0.1:1\", webhook_secret_env: HG_UNUSED}\n"
      "repos:\n- name: platform/fleet\n  url: " + kRepoUrl + "\n  forge: gitea\n  clusters:\n"
      "  - {name: dev, paths: [releases/dev], kubeconfig: \"" + test::require_env("HELMGATE_TEST_KUBECONFIG_DEV") +
      "\", kube_version: \"" + test::require_env("HELMGATE_TEST_KUBE_VERSION") + "\"}\n");
  // Two workers sharing Redis (what was applied) but not a render cache.
  const std::string cache_a = (fs::temp_directory_path() / ("hg-volatile-cache-a-" + kRunId)).string();
  const std::string cache_b = (fs::temp_directory_path() / ("hg-volatile-cache-b-" + kRunId)).string();
  runners::ApplyRunnerOptions opt_a, opt_b;
  opt_a.cache_root = cache_a;
  opt_b.cache_root = cache_b;
  auto worker_a = runners::make_apply_runner(cfg, opt_a);
  auto worker_b = runners::make_apply_runner(cfg, opt_b);

  auto r1 = run_apply(worker_a, repo.dir.string(), std::string(40, '0'), c1);
  CHECK(r1["vol"] == "installed");
  CHECK(revision() == 1);

  // The HelmRelease changes, its chart and values do not: the release is affected and rendered again
  // by the other worker, whose render differs from the installed one only in the random parts.
  repo.write("releases/dev/vol.yaml", release_yaml("hello", 600));
  const std::string c2 = repo.commit("timeout only");
  auto r2 = run_apply(worker_b, repo.dir.string(), c1, c2);
  CHECK(r2["vol"] == "unchanged");
  CHECK(revision() == 1);
  // The control: the two workers' renders of the same inputs differ.
  auto a = cached_renders(cache_a), b = cached_renders(cache_b);
  REQUIRE(a.size() == 1);
  REQUIRE(b.size() == 1);
  CHECK(a[0] != b[0]);

  // A real change next to the random content upgrades.
  repo.write("releases/dev/vol.yaml", release_yaml("world", 600));
  const std::string c3 = repo.commit("greeting");
  auto r3 = run_apply(worker_b, repo.dir.string(), c2, c3);
  CHECK(r3["vol"] == "upgraded");
  CHECK(revision() == 2);
  auto kc = kube::load_kubeconfig_file(test::require_env("HELMGATE_TEST_KUBECONFIG_DEV"));
  REQUIRE(kc.ok());
  kube::Client client("dev", *kc);
  auto live = client.get({"v1", "ConfigMap", kNs, "vol-config"});
  REQUIRE(live.ok());
  REQUIRE(live->has_value());
  CHECK((*live)->find("\"greeting\":\"world\"") != std::string::npos);

  helm({"uninstall", "vol", "-n", kNs});
  fs::remove_all(cache_a);
  fs::remove_all(cache_b);
}
