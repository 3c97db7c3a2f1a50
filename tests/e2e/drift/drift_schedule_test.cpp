// The scheduled drift job against the real test environment: a release applied by the real apply runner
// from a Git repository is scanned in sync (drift and inventory stored in Redis, read back here); edited by
// hand it is drifted, a remediation apply job is enqueued and, run by the apply runner, puts it back (the
// next scan is in sync); the hourly budget holds; the webhook hears "started" and "stopped"; two schedulers
// sharing one Redis scan a cluster once per interval; `helmgate drift` exits 0 in sync, 2 on drift, 1 on error.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include "config/config.hpp"
#include "core/json.hpp"
#include "http/client.hpp"
#include "http/server.hpp"
#include "kube/client.hpp"
#include "process/process.hpp"
#include "queue/fleet_store.hpp"
#include "queue/queue.hpp"
#include "runners/apply_runner.hpp"
#include "runners/drift_schedule.hpp"
#include "runners/forge_access.hpp"
#include "runners/tools.hpp"
#include "support/apply_job.hpp"
#include "support/support.hpp"
#include "support/temp_repo.hpp"

namespace fs = std::filesystem;
using namespace helmgate;

namespace {

const std::string kRun = std::to_string(::getpid()) + "x" + std::to_string(::time(nullptr) % 100000);
const std::string kChart = std::string(HELMGATE_SOURCE_DIR) + "/tests/e2e/fleet/charts/drift-demo";

// Records the bodies POSTed to /hook.
struct HookListener {
  std::mutex mu;
  std::vector<std::string> texts;
  std::optional<http::Server> server;
  std::thread thread;
  HookListener() {
    http::Router router;
    router.add(boost::beast::http::verb::post, "/hook", [this](std::shared_ptr<http::Context> ctx, http::Responder respond) {
      core::json::Document doc;
      if (!core::json::parse(doc, ctx->request.body()) && doc.IsObject()) {
        std::lock_guard lock(mu);
        texts.push_back(core::json::get_string(doc, "text").value_or("<no text>"));
      }
      respond(http::text_response(200, "ok", "text/plain"));
    });
    http::ServerOptions so;
    so.port = 0;
    so.threads = 1;
    server.emplace(so, std::move(router));
    server->listen();
    thread = std::thread([this] { server->run(); });
  }
  ~HookListener() {
    server->shutdown();
    thread.join();
  }
  std::vector<std::string> all() {
    std::lock_guard lock(mu);
    return texts;
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server->port()) + "/hook"; }
};

struct Fixture {
  std::string ns = "hg-drift-" + kRun;
  test::TempRepo repo{"drift-" + kRun};
  inline static int fixtures = 0;
  std::string prefix = "hgdrift" + kRun + "n" + std::to_string(++fixtures);  // each test its own leases
  std::string cache = (fs::temp_directory_path() / ("hg-drift-cache-" + kRun)).string();
  std::string yaml_unreachable() const {
    // The preview kubeconfig of staging with its server moved to a port nobody listens on.
    std::string kc = test::read_file(test::require_env("HELMGATE_TEST_KUBECONFIG_STAGING_PREVIEW"));
    const std::string server = test::require_env("HELMGATE_TEST_KUBE_SERVER_STAGING");
    REQUIRE(kc.find(server) != std::string::npos);
    kc.replace(kc.find(server), server.size(), "https://127.0.0.1:1");
    const std::string path = cache + "-gone.kubeconfig";
    std::ofstream(path) << kc;
    std::string y = yaml("");
    const std::string preview = test::require_env("HELMGATE_TEST_KUBECONFIG_STAGING_PREVIEW");
    y.replace(y.find(preview), preview.size(), path);
    return y;
  }
  kube::Client admin{"staging", kube::load_kubeconfig_file(test::require_env("HELMGATE_TEST_KUBECONFIG_STAGING")).value()};

  Fixture() {
    repo.copy_from(fs::path(kChart).parent_path().string(), {"drift-demo"});
    repo.write("releases/staging/shop.yaml",
               "apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata:\n  name: shop\n  namespace: " + ns +
                   "\nspec:\n  releaseName: shop\n  chart:\n    git: " + repo.dir.string() +
                   "\n    path: drift-demo\n    ref: main\n  values:\n    image: registry.invalid/web:1.0\n"
                   "    password: drift-pass-42\n");
  }
  ~Fixture() {
    (void)admin.request("DELETE", "/api/v1/namespaces/" + ns);
    std::error_code ec;
    fs::remove_all(cache, ec);
  }
  std::string yaml(const std::string& drift, const std::string& hook = "") const {
    std::string y = "redis: {url: \"" + test::require_env("HELMGATE_TEST_REDIS_URL") + "\"}\nqueue: {key_prefix: " + prefix +
                    "}\nrender: {sandbox: off}\n"
                    "forges:\n- {name: gitea, kind: gitea, api_url: \"" + test::require_env("HELMGATE_TEST_GITEA_URL") +
                    "/api/v1\", webhook_secret_env: HG_UNUSED}\n";
    if (!hook.empty()) y += "egress: {allow: [\"" + hook.substr(0, hook.rfind('/') + 1) + "\"], allow_http: true}\n";
    y += "repos:\n- name: " + test::require_env("HELMGATE_TEST_GITEA_REPO") + "\n  url: " + repo.dir.string() + "\n  forge: gitea\n  clusters:\n" +
         "  - name: staging\n    paths: [releases/staging]\n    kubeconfig: \"" +
         test::require_env("HELMGATE_TEST_KUBECONFIG_STAGING") + "\"\n    preview_kubeconfig: \"" +
         test::require_env("HELMGATE_TEST_KUBECONFIG_STAGING_PREVIEW") + "\"\n    kube_version: \"" +
         test::require_env("HELMGATE_TEST_KUBE_VERSION") + "\"\n    drift: {namespaces: [" + ns + "]" + drift + "}\n";
    return y;
  }
  void patch_image(const std::string& image) {
    auto r = admin.request("PATCH", "/apis/apps/v1/namespaces/" + ns + "/deployments/shop-web?fieldManager=kubectl-edit",
                           R"([{"op":"replace","path":"/spec/template/spec/containers/0/image","value":")" + image + R"("}])",
                           "application/json-patch+json");
    REQUIRE(r.ok());
    INFO(r->body);
    REQUIRE(r->status == 200);
  }
};

const engine::ReleaseDrift* shop(const engine::ClusterDrift& d) {
  for (const auto& r : d.releases) {
    if (r.release_name == "shop") return &r;
  }
  return nullptr;
}

std::string state_of(const runners::DriftScan& s) {
  const auto* r = shop(s.drift);
  return r == nullptr ? "<absent>" : std::string(engine::to_string(r->state));
}

http::Headers gitea_headers() {
  return {{"Authorization", "token " + test::require_env("HELMGATE_TEST_GITEA_TOKEN")}, {"Content-Type", "application/json"}};
}
std::string gitea_repo_api() {
  return test::require_env("HELMGATE_TEST_GITEA_URL") + "/api/v1/repos/" + test::require_env("HELMGATE_TEST_GITEA_REPO");
}

// An issue on the test environment's Gitea repository: its number.
int64_t create_issue(const std::string& title) {
  auto r = http::request("POST", gitea_repo_api() + "/issues", gitea_headers(), "{\"title\":" + core::json::quote(title) + "}");
  REQUIRE(r.ok());
  INFO(r->body);
  REQUIRE(r->status == 201);
  core::json::Document d;
  REQUIRE_FALSE(core::json::parse(d, r->body).has_value());
  return core::json::get_int(d, "number").value_or(0);
}

std::vector<std::string> issue_comments(int64_t issue) {
  auto r = http::request("GET", gitea_repo_api() + "/issues/" + std::to_string(issue) + "/comments", gitea_headers());
  REQUIRE(r.ok());
  REQUIRE(r->status == 200);
  core::json::Document d;
  REQUIRE_FALSE(core::json::parse(d, r->body).has_value());
  std::vector<std::string> out;
  for (const auto& c : d.GetArray()) out.push_back(core::json::get_string(c, "body").value_or(""));
  return out;
}

struct Cli {
  int exit_code;
  std::string out, err;
};
Cli helmgate_drift(const std::string& config_file, std::vector<std::string> extra = {}) {
  std::vector<std::string> argv = {std::string(HELMGATE_BINARY_DIR) + "/helmgate", "drift", "--config", config_file};
  argv.insert(argv.end(), extra.begin(), extra.end());
  process::ProcessOptions po;
  po.env = {"PATH=/usr/bin:/bin", "HOME=" + fs::temp_directory_path().string(),
            "HELMGATE_HELM=" + test::require_env("HELMGATE_HELM"), "HELMGATE_KUBECTL=" + test::require_env("HELMGATE_KUBECTL"),
            "HELMGATE_CACHE_DIR=" + (fs::temp_directory_path() / ("hg-drift-cli-" + kRun)).string()};
  po.timeout = std::chrono::milliseconds(180'000);
  auto r = process::run_process(argv, po);
  REQUIRE(r.ok());
  return {r->exit_code, r->out, r->err};
}

}  // namespace

TEST_CASE("drift schedule: stored scans and a hand edit remediated within budget with webhook and CLI", "[e2e][drift]") {
  Fixture fx;
  HookListener hook;
  const int64_t issue = create_issue("drift of staging " + kRun);
  auto cfg = config::load_string(fx.yaml(", interval: 30s, jitter: 0, remediate: true, max_remediations_per_hour: 1, "
                                         "webhook_url: \"" + hook.url() + "\", tracking_issue: " + std::to_string(issue),
                                         hook.url()));
  cfg.forges[0].token = test::require_env("HELMGATE_TEST_GITEA_TOKEN");
  const std::string c1 = fx.repo.commit("shop on staging");
  const std::string zero(40, '0');

  // The release is installed the way helmgate does it: the apply runner on a push.
  runners::ApplyRunnerOptions ao;
  ao.cache_root = fx.cache;
  auto apply = runners::make_apply_runner(cfg, ao);
  {
    test::RecordingContext ctx;
    ctx.rec.id = "install-" + kRun;
    ctx.rec.spec.kind = "apply";
    ctx.rec.spec.forge = "gitea";
    ctx.rec.spec.repo = cfg.repos[0].name;
    ctx.rec.spec.ref = "refs/heads/main";
    ctx.rec.spec.before = zero;
    ctx.rec.spec.after = c1;
    auto installed = apply(ctx);
    INFO(installed.error);
    REQUIRE(installed.status == queue::RunOutcome::Status::succeeded);
  }

  auto ws = runners::runner_workspace({}, {}, fx.cache + "/drift", 2);
  runners::DriftSchedulerOptions so;
  so.queue.key_prefix = fx.prefix;
  so.tick = std::chrono::milliseconds(200);
  so.forges = std::make_shared<runners::ForgeAccess>(runners::make_forge_access(cfg));
  std::mutex mu;
  std::vector<runners::DriftScan> scans;
  so.on_scan = [&](const runners::DriftScan& s) {
    std::lock_guard lock(mu);
    scans.push_back(s);
  };
  runners::DriftScheduler sched(cfg, ws, so);
  const auto& repo_cfg = cfg.repos[0];
  const auto& cluster = repo_cfg.clusters[0];

  // The schedule's first scan: stored in Redis, read back.
  sched.start();
  for (int i = 0; i < 600; ++i) {
    {
      std::lock_guard lock(mu);
      if (!scans.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  sched.stop();
  REQUIRE(scans.size() == 1);
  INFO(engine::to_json(scans[0].drift));
  CHECK(scans[0].commit == c1);
  CHECK(state_of(scans[0]) == "in_sync");
  std::printf("drift e2e: scan of staging (1 release, records of one namespace) took %lld ms\n",
              static_cast<long long>(scans[0].duration_ms));
  queue::FleetStore store(queue::RedisUrl::parse(cfg.redis_url).value(), fx.prefix);
  auto drift_json = store.get(queue::FleetKind::drift, "staging");
  auto inventory_json = store.get(queue::FleetKind::inventory, "staging");
  REQUIRE(drift_json.ok());
  REQUIRE(drift_json->has_value());
  REQUIRE(inventory_json.ok());
  REQUIRE(inventory_json->has_value());
  CHECK((*drift_json)->json.find("\"id\":\"staging/" + fx.ns + "/shop\"") != std::string::npos);
  CHECK((*drift_json)->json.find("\"state\":\"in_sync\"") != std::string::npos);
  CHECK((*drift_json)->at_ms > 0);
  CHECK((*inventory_json)->json.find("\"reachable\":true") != std::string::npos);
  CHECK(hook.all().empty());  // nothing started or stopped drifting

  // The CLI: in sync, exit 0.
  const fs::path cfg_file = fs::temp_directory_path() / ("hg-drift-cfg-" + kRun + ".yaml");
  std::ofstream(cfg_file) << fx.yaml("");
  auto cli_ok = helmgate_drift(cfg_file.string());
  INFO(cli_ok.out << cli_ok.err);
  CHECK(cli_ok.exit_code == 0);
  CHECK(cli_ok.out.find(fx.ns + "/shop") != std::string::npos);

  // By hand: drifted, a remediation job is enqueued, the webhook hears it started.
  fx.patch_image("registry.invalid/web:6.6.6-hotfix");
  runners::ScanFollowUp fu;
  auto drifted = sched.scan_now(repo_cfg, cluster, &fu);
  INFO(engine::to_json(drifted.drift));
  REQUIRE(state_of(drifted) == "drifted");
  CHECK(engine::to_json(drifted.drift).find("drift-pass-42") == std::string::npos);
  REQUIRE(fu.remediated == std::vector<std::string>{"staging/" + fx.ns + "/shop"});
  REQUIRE_FALSE(fu.job_id.empty());
  INFO(fu.errors.size() << (fu.errors.empty() ? "" : fu.errors[0]));
  CHECK(fu.signals == std::vector<std::string>{"webhook", "issue"});
  auto started_comments = issue_comments(issue);
  REQUIRE(started_comments.size() == 1);
  CHECK(started_comments[0].find("<!-- helmgate:drift:staging -->") == 0);
  CHECK(started_comments[0].find("started drifting: staging/" + fx.ns + "/shop") != std::string::npos);
  REQUIRE(hook.all().size() == 1);
  CHECK(hook.all()[0].find("started drifting: staging/" + fx.ns + "/shop") != std::string::npos);

  auto cli_drift = helmgate_drift(cfg_file.string(), {"--json"});
  INFO(cli_drift.err);
  CHECK(cli_drift.exit_code == 2);
  core::json::Document doc;
  REQUIRE_FALSE(core::json::parse(doc, cli_drift.out).has_value());
  CHECK(cli_drift.out.find("\"state\":\"drifted\"") != std::string::npos);
  auto cli_table = helmgate_drift(cfg_file.string(), {"--cluster", "staging"});
  CHECK(cli_table.exit_code == 2);
  CHECK(cli_table.out.find("drifted  apps/v1 Deployment " + fx.ns + "/shop-web (changed)") != std::string::npos);
  CHECK(helmgate_drift(cfg_file.string(), {"--cluster", "nowhere"}).exit_code == 1);
  // One helm process at a time finds the same drift; a pool size out of range is a usage error.
  auto one_job = helmgate_drift(cfg_file.string(), {"--cluster", "staging", "--render-jobs", "1"});
  CHECK(one_job.exit_code == 2);
  CHECK(one_job.out.find("drifted  apps/v1 Deployment " + fx.ns + "/shop-web (changed)") != std::string::npos);
  auto too_many = helmgate_drift(cfg_file.string(), {"--render-jobs", "65"});
  CHECK(too_many.exit_code == 1);
  CHECK(too_many.err.find("render-jobs") != std::string::npos);

  // The enqueued job is a remediation of that release at the scanned commit; the apply runner runs it.
  queue::Queue q(queue::RedisUrl::parse(cfg.redis_url).value(), so.queue);
  auto job = q.get(fu.job_id, false);
  REQUIRE(job.ok());
  REQUIRE(job->has_value());
  const auto& spec = (*job)->spec;
  CHECK(spec.kind == "apply");
  CHECK(spec.after == c1);
  CHECK(spec.clusters == std::vector<std::string>{"staging"});
  CHECK(spec.remediate == fu.remediated);
  test::RecordingContext ctx;
  ctx.rec.id = fu.job_id;
  ctx.rec.spec = spec;
  auto outcome = apply(ctx);
  std::string log;
  for (const auto& l : ctx.lines) log += l + "\n";
  INFO(outcome.error << "\n" << log);
  REQUIRE(outcome.status == queue::RunOutcome::Status::succeeded);
  CHECK(log.find("upgrade -> upgraded") != std::string::npos);

  // Back in sync; the webhook hears it stopped.
  auto fixed = sched.scan_now(repo_cfg, cluster, &fu);
  INFO(engine::to_json(fixed.drift));
  CHECK(state_of(fixed) == "in_sync");
  CHECK(fu.job_id.empty());
  REQUIRE(hook.all().size() == 2);
  CHECK(hook.all()[1].find("stopped drifting: staging/" + fx.ns + "/shop (now in_sync)") != std::string::npos);
  auto stopped_comments = issue_comments(issue);  // the same comment, edited
  REQUIRE(stopped_comments.size() == 1);
  CHECK(stopped_comments[0].find("stopped drifting: staging/" + fx.ns + "/shop") != std::string::npos);
  CHECK(stopped_comments[0].find("0 drifted, 1 in sync") != std::string::npos);

  // Edited again within the hour: drifted, but the budget (1 per hour) is spent: no job.
  fx.patch_image("registry.invalid/web:7.7.7");
  auto again = sched.scan_now(repo_cfg, cluster, &fu);
  CHECK(state_of(again) == "drifted");
  CHECK(fu.remediated.empty());
  CHECK(fu.job_id.empty());
  CHECK(store.remediations_last_hour("staging", runners::wall_ms()).value() == 1);
  fs::remove(cfg_file);
}

TEST_CASE("drift schedule: two schedulers on one Redis scan a cluster once per interval", "[e2e][drift]") {
  Fixture fx;
  auto cfg = config::load_string(fx.yaml(", jitter: 0"));
  fx.repo.commit("shop on staging");
  // 30s is the configuration's minimum; the test sets a short interval on the loaded configuration.
  const auto interval = std::chrono::milliseconds(4'000);
  cfg.repos[0].clusters[0].drift.interval = interval;
  auto ws = runners::runner_workspace({}, {}, fx.cache, 2);
  std::mutex mu;
  std::vector<std::pair<std::string, std::chrono::steady_clock::time_point>> starts;
  auto options = [&](const std::string& owner) {
    runners::DriftSchedulerOptions so;
    so.owner = owner;
    so.queue.key_prefix = fx.prefix;
    so.tick = std::chrono::milliseconds(100);
    so.on_scan = [&, owner](const runners::DriftScan& s) {
      std::lock_guard lock(mu);
      starts.emplace_back(owner, std::chrono::steady_clock::now() - std::chrono::milliseconds(s.duration_ms));
    };
    return so;
  };
  runners::DriftScheduler a(cfg, ws, options("worker-a")), b(cfg, ws, options("worker-b"));
  const auto t0 = std::chrono::steady_clock::now();
  a.start();
  b.start();
  std::this_thread::sleep_for(interval * 2 + std::chrono::milliseconds(1'500));
  a.stop();
  b.stop();
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  std::lock_guard lock(mu);
  std::sort(starts.begin(), starts.end(), [](const auto& x, const auto& y) { return x.second < y.second; });
  std::string seen;
  for (const auto& [owner, at] : starts) {
    seen += owner + " at " + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(at - t0).count()) + " ms; ";
  }
  INFO(seen);
  // One scan per interval started, never two: at most ceil(elapsed / interval) scans, and at least 2.
  const auto max_scans = static_cast<size_t>(elapsed / interval) + 1;
  CHECK(starts.size() >= 2);
  CHECK(starts.size() <= max_scans);
  for (size_t i = 1; i < starts.size(); ++i) {
    CHECK(starts[i].second - starts[i - 1].second >= interval - std::chrono::milliseconds(300));
  }
}

TEST_CASE("drift scan: an unreachable cluster is stored as such and nothing throws", "[e2e][drift]") {
  Fixture fx;
  auto cfg = config::load_string(fx.yaml_unreachable());
  fx.repo.commit("shop on staging");
  auto ws = runners::runner_workspace({}, {}, fx.cache, 2);
  runners::DriftSchedulerOptions so;
  so.queue.key_prefix = fx.prefix;
  runners::DriftScheduler sched(cfg, ws, so);
  auto scan = sched.scan_now(cfg.repos[0], cfg.repos[0].clusters[0]);
  INFO(engine::to_json(scan.drift));
  CHECK_FALSE(scan.inventory.reachable);
  CHECK(scan.drift.error.rfind("cluster staging is not reachable: ", 0) == 0);
  REQUIRE(scan.drift.releases.size() == 1);  // the declared release, its state unknown
  CHECK(scan.drift.releases[0].state == engine::DriftState::unknown);
  CHECK(scan.duration_ms < 30'000);
  queue::FleetStore store(queue::RedisUrl::parse(cfg.redis_url).value(), fx.prefix);
  auto inv = store.get(queue::FleetKind::inventory, "staging");
  REQUIRE(inv.ok());
  REQUIRE(inv->has_value());
  CHECK((*inv)->json.find("\"reachable\":false") != std::string::npos);
  auto drift = store.get(queue::FleetKind::drift, "staging");
  REQUIRE(drift.ok());
  REQUIRE(drift->has_value());
  CHECK((*drift)->json.find("\"error\":\"cluster staging is not reachable") != std::string::npos);
  fs::remove(fx.cache + "-gone.kubeconfig");
}
