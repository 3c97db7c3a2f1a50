// One drift scan of the test environment's three clusters (runners/drift_fleet.hpp) against the real API
// servers and helm: three releases every cluster declares alike are rendered once each (the renderer's
// helm runs counted), a release whose chart fails to render is unknown on every cluster with helm's error
// while the others get their own verdicts (installed on staging: in sync; elsewhere: missing), and the
// schedule's one-cluster scan of the same workspace renders nothing again; the worker's schedule, taking
// the three clusters' leases in one tick, scans them together (each render once) and stores each.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

#include "config/config.hpp"
#include "kube/client.hpp"
#include "process/process.hpp"
#include "queue/fleet_store.hpp"
#include "runners/drift_fleet.hpp"
#include "runners/drift_schedule.hpp"
#include "runners/tools.hpp"
#include "support/support.hpp"
#include "support/temp_repo.hpp"

namespace fs = std::filesystem;
using namespace helmgate;

namespace {

const std::string kRun = std::to_string(::getpid()) + "x" + std::to_string(::time(nullptr) % 100000);
const std::string kChart = std::string(HELMGATE_SOURCE_DIR) + "/tests/e2e/fleet/charts/drift-demo";
const char* const kClusters[] = {"dev", "staging", "prod"};

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string helmrelease(const std::string& name, const std::string& ns, const std::string& repo, const std::string& chart) {
  return "apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata:\n  name: " + name + "\n  namespace: " + ns +
         "\nspec:\n  releaseName: " + name + "\n  chart:\n    git: " + repo + "\n    path: " + chart +
         "\n    ref: main\n  values:\n    image: registry.invalid/web:2.0\n";
}

int helm(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {test::require_env("HELMGATE_HELM")};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--kubeconfig", test::require_env("HELMGATE_TEST_KUBECONFIG_STAGING")});
  process::ProcessOptions po;
  po.env = {"HOME=" + fs::temp_directory_path().string(), "PATH=/usr/bin:/bin"};
  po.timeout = std::chrono::milliseconds(120'000);
  auto r = process::run_process(argv, po);
  REQUIRE(r.ok());
  INFO(r->err);
  return r->exit_code;
}

const engine::ReleaseDrift* find(const runners::DriftScan& s, const std::string& name) {
  for (const auto& r : s.drift.releases) {
    if (r.release_name == name) return &r;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("fleet scan: a release shared by three clusters is rendered once, a broken render is its release's alone",
          "[e2e][drift]") {
  const std::string ns = "hg-fscan-" + kRun;
  test::TempRepo repo("fscan-" + kRun);
  repo.copy_from(fs::path(kChart).parent_path().string(), {"drift-demo"});
  repo.write("broken/Chart.yaml", "apiVersion: v2\nname: broken\nversion: 0.1.0\n");
  repo.write("broken/templates/all.yaml", "{{ fail \"this chart is broken on purpose\" }}\n");
  for (const char* c : kClusters) {
    for (const char* name : {"shop", "api"}) {
      repo.write(std::string("releases/") + c + "/" + name + ".yaml", helmrelease(name, ns, repo.dir.string(), "drift-demo"));
    }
    repo.write(std::string("releases/") + c + "/broken.yaml", helmrelease("broken", ns, repo.dir.string(), "broken"));
  }
  repo.commit("three releases on three clusters");
  const std::string cache = (fs::temp_directory_path() / ("hg-fscan-cache-" + kRun)).string();
  kube::Client admin("staging", kube::load_kubeconfig_file(test::require_env("HELMGATE_TEST_KUBECONFIG_STAGING")).value());
  struct Cleanup {
    std::function<void()> run;
    ~Cleanup() { run(); }
  } cleanup{[&] {
    (void)admin.request("DELETE", "/api/v1/namespaces/" + ns);
    std::error_code ec;
    fs::remove_all(cache, ec);
  }};
  // shop is installed on staging only, as Git declares it.
  REQUIRE(helm({"install", "shop", kChart, "--namespace", ns, "--create-namespace", "--set", "image=registry.invalid/web:2.0"}) == 0);

  std::string y = "redis: {url: \"" + test::require_env("HELMGATE_TEST_REDIS_URL") +
                  "\"}\nqueue: {key_prefix: hgfscan" + kRun + "}\nrender: {sandbox: off}\nforges:\n- {name: gitea, kind: gitea, api_url: \"http://127.0.0.1:1\", "
                  "webhook_secret_env: HG_UNUSED}\nrepos:\n- name: platform/fscan\n  url: " + repo.dir.string() +
                  "\n  forge: gitea\n  clusters:\n";
  for (const char* c : kClusters) {
    y += std::string("  - name: ") + c + "\n    paths: [releases/" + c + "]\n    kubeconfig: \"" +
         test::require_env(("HELMGATE_TEST_KUBECONFIG_" + upper(c)).c_str()) + "\"\n    preview_kubeconfig: \"" +
         test::require_env(("HELMGATE_TEST_KUBECONFIG_" + upper(c) + "_PREVIEW").c_str()) + "\"\n    kube_version: \"" +
         test::require_env("HELMGATE_TEST_KUBE_VERSION") + "\"\n    drift: {namespaces: [" + ns + "]}\n";
  }
  auto cfg = config::load_string(y);
  auto ws = runners::runner_workspace({}, {}, cache, 2);
  const auto targets = runners::drift_clusters(cfg);
  REQUIRE(targets.size() == 3);

  runners::RenderCounts counts;
  auto scans = runners::scan_clusters(targets, *ws, {}, &counts);
  REQUIRE(scans.size() == 3);
  INFO(runners::scan_costs(counts, scans));
  CHECK(counts.releases == 9);
  CHECK(counts.keys == 3);           // shop, api, broken: the same inputs on every cluster
  CHECK(counts.rendered == 2);       // helm ran once for shop and once for api ...
  CHECK(counts.failed == 1);         // ... and once for broken, not three times
  CHECK(ws->renderer->stats().renders == 2);
  for (size_t i = 0; i < scans.size(); ++i) {
    const auto& s = scans[i];
    INFO(s.cluster << ": " << engine::to_json(s.drift));
    CHECK(s.cluster == kClusters[i]);
    CHECK(s.drift.error.empty());
    CHECK(s.inventory.reachable);
    REQUIRE(s.drift.releases.size() == 3);
    const auto* broken = find(s, "broken");
    REQUIRE(broken != nullptr);
    CHECK(broken->state == engine::DriftState::unknown);
    CHECK(broken->error.find("the desired state could not be rendered") != std::string::npos);
    CHECK(broken->error.find("this chart is broken on purpose") != std::string::npos);
    const auto* shop = find(s, "shop");
    const auto* api = find(s, "api");
    REQUIRE(shop != nullptr);
    REQUIRE(api != nullptr);
    CHECK(shop->error.empty());
    CHECK(api->state == engine::DriftState::missing);
    CHECK(shop->state == (s.cluster == "staging" ? engine::DriftState::in_sync : engine::DriftState::missing));
    CHECK(s.requests.total > 0);
  }
  // staging compared shop's four objects live: each read and dry-run once (its Secret by GET).
  CHECK(scans[1].requests.dry_runs == 4);
  CHECK(scans[1].requests.gets + scans[1].requests.list_hits == 4);

  // The schedule's scan: one cluster, the same workspace: every render from the cache.
  auto one = runners::scan_cluster(cfg.repos[0], cfg.repos[0].clusters[1], *ws);
  INFO(engine::to_json(one.drift));
  CHECK(ws->renderer->stats().renders == 2);
  REQUIRE(find(one, "shop") != nullptr);
  CHECK(find(one, "shop")->state == engine::DriftState::in_sync);
  REQUIRE(find(one, "broken") != nullptr);
  CHECK(find(one, "broken")->state == engine::DriftState::unknown);

  // The worker's schedule, a fresh workspace: the three leases taken in one tick, scanned together.
  auto ws2 = runners::runner_workspace({}, {}, cache + "/schedule", 2);
  runners::DriftSchedulerOptions so;
  so.queue.key_prefix = cfg.queue.key_prefix;  // the leases and the stored scans: this test's own
  so.tick = std::chrono::milliseconds(200);
  std::mutex mu;
  std::vector<std::string> scanned;
  so.on_scan = [&](const runners::DriftScan& s) {
    std::lock_guard lock(mu);
    scanned.push_back(s.cluster + " " + std::string(engine::to_string(find(s, "shop") ? find(s, "shop")->state
                                                                                          : engine::DriftState::unknown)));
  };
  runners::DriftScheduler sched(cfg, ws2, so);
  sched.start();
  for (int i = 0; i < 600; ++i) {
    {
      std::lock_guard lock(mu);
      if (scanned.size() >= 3) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  sched.stop();
  CHECK(scanned == std::vector<std::string>{"dev missing", "staging in_sync", "prod missing"});
  CHECK(ws2->renderer->stats().renders == 2);
  queue::FleetStore store(queue::RedisUrl::parse(cfg.redis_url).value(), so.queue.key_prefix);
  for (const char* c : kClusters) {
    auto stored = store.get(queue::FleetKind::drift, c);
    REQUIRE(stored.ok());
    REQUIRE(stored->has_value());
    CHECK((*stored)->json.find("\"release\":\"broken\",\"namespace\":\"" + ns + "\",\"state\":\"unknown\"") != std::string::npos);
  }
}
