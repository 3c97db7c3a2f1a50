// No acknowledged job is lost across Sentinel failovers: the real `helmgate serve` (a process) with
// queue.durability replicated takes signed push deliveries from 4 senders without pause while the
// sentinels fail over (SENTINEL FAILOVER) and then the new primary is SIGKILLed. A sender delivers a
// 503'd delivery again, as a forge does. Afterwards every job that was answered 202 (or 200
// "duplicate" to a redelivery) is in Redis, and a worker runs every one of them.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>

#include "handlers/signature.hpp"
#include "http/client.hpp"
#include "queue/queue.hpp"
#include "support/child_process.hpp"
#include "support/redis_topology.hpp"
#include "support/support.hpp"

namespace helmgate {
namespace {

using namespace std::chrono_literals;

constexpr const char* kSecret = "failover-webhook-secret";

struct Ledger {
  std::mutex mu;
  std::set<std::string> acked;                 // job ids answered 202 / 200 duplicate
  std::map<unsigned, int> statuses;            // HTTP status -> count (every attempt)
  int transport_errors = 0;
  std::vector<std::string> unexpected;         // bodies of answers other than 202/200/503
};

void sender(const std::string& url, const std::string& body, int who, std::atomic<bool>& stop, Ledger& ledger) {
  const std::string sig = handlers::sign_sha256(kSecret, body);
  static const std::regex ids_re("\"jobs\":\\[([^\\]]*)\\]");
  for (int n = 0; !stop; ++n) {
    const std::string delivery = "fo-" + std::to_string(who) + "-" + std::to_string(n);
    // A forge redelivers what was not acknowledged; give up only when the run ends.
    for (int attempt = 0; attempt < 200; ++attempt) {
      auto r = http::request("POST", url,
                             {{"Content-Type", "application/json"},
                              {"X-GitHub-Event", "push"},
                              {"X-GitHub-Delivery", delivery},
                              {"X-Hub-Signature-256", sig}},
                             body, 10s);
      std::lock_guard lock(ledger.mu);
      if (!r) {
        ++ledger.transport_errors;
      } else {
        ++ledger.statuses[r->status];
        if (r->status == 202 || r->status == 200) {
          std::smatch m;
          if (std::regex_search(r->body, m, ids_re)) {
            std::string list = m[1].str();
            for (size_t p = 0; (p = list.find('"', p)) != std::string::npos;) {
              auto q = list.find('"', p + 1);
              ledger.acked.insert(list.substr(p + 1, q - p - 1));
              p = q + 1;
            }
          } else {
            ledger.unexpected.push_back(r->body);
          }
          break;
        }
        if (r->status != 503) {
          ledger.unexpected.push_back(std::to_string(r->status) + " " + r->body);
          break;
        }
      }
      if (stop && attempt > 20) break;
      std::this_thread::sleep_for(20ms);
    }
  }
}

TEST_CASE("a Sentinel failover and a killed primary under load lose no acknowledged job (durability replicated)",
          "[redis][failover]") {
  spdlog::set_level(spdlog::level::warn);  // the checking worker would log every job
  test::RedisTopology st(test::Topology::sentinel);
  const int port = test::RedisServer::free_port();
  const std::string dir = st.dir();
  std::string sentinels;
  for (const auto& a : st.sentinel_addresses()) sentinels += (sentinels.empty() ? "" : ", ") + a;
  std::ofstream(dir + "/helmgate.yaml") << "server: {listen: \"127.0.0.1:" << port << "\"}\n"
                                        << "redis:\n  sentinel: {addresses: [" << sentinels << "], master: "
                                        << test::RedisTopology::master_name << "}\n"
                                        << "queue: {key_prefix: fo, durability: replicated, replica_timeout: 2s}\n"
                                        << "log: {level: info}\n"
                                        << "forges: [{name: github, kind: github, webhook_secret_env: HG_FO_SECRET}]\n";
  ::setenv("HG_FO_SECRET", kSecret, 1);
  ::setenv("HELMGATE_API_TOKEN", "unused-api-token", 1);
  test::ChildProcess serve({std::string(HELMGATE_BINARY_DIR) + "/helmgate", "serve", "--config", dir + "/helmgate.yaml"},
                           dir + "/serve.log");
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/webhooks/github";
  bool up = false;
  for (int i = 0; i < 200 && !up; ++i) {
    auto r = http::request("GET", "http://127.0.0.1:" + std::to_string(port) + "/healthz", {}, {}, 1s);
    up = r.ok();
    if (!up) std::this_thread::sleep_for(50ms);
  }
  INFO(test::read_file(dir + "/serve.log"));
  REQUIRE(up);

  const std::string body = test::read_file(test::corpus("github-webhooks/octokit/push/with-new-branch.payload.json"));
  Ledger ledger;
  std::atomic<bool> stop{false};
  std::vector<std::thread> senders;
  for (int i = 0; i < 4; ++i) senders.emplace_back(sender, url, body, i, std::ref(stop), std::ref(ledger));

  auto acked = [&] {
    std::lock_guard lock(ledger.mu);
    return ledger.acked.size();
  };
  auto wait_more = [&](size_t n) {
    auto deadline = std::chrono::steady_clock::now() + 30s;
    size_t base = acked();
    while (acked() < base + n && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
    return acked() >= base + n;
  };
  REQUIRE(wait_more(300));
  const size_t before_failover = acked();
  st.failover();
  REQUIRE(wait_more(300));  // the load goes on against the new primary
  const size_t before_kill = acked();
  st.kill_primary();
  REQUIRE(wait_more(300));
  stop = true;
  for (auto& t : senders) t.join();
  serve.terminate();

  std::set<std::string> ids;
  {
    std::lock_guard lock(ledger.mu);
    ids = ledger.acked;
    std::string summary;
    for (auto [status, n] : ledger.statuses) summary += " " + std::to_string(status) + "x" + std::to_string(n);
    WARN("acknowledged jobs: " << ids.size() << " (" << before_failover << " before SENTINEL FAILOVER, "
                               << before_kill << " before the primary was killed); answers:" << summary
                               << "; transport errors: " << ledger.transport_errors);
    for (const auto& u : ledger.unexpected) UNSCOPED_INFO("unexpected answer: " << u);
    CHECK(ledger.unexpected.empty());
    CHECK(ledger.statuses[202] > 0);
  }

  // Every acknowledged job is in Redis ...
  queue::Options opts;
  opts.key_prefix = "fo";
  opts.visibility_timeout = 5s;
  auto rurl = queue::RedisUrl::parse(st.url());
  REQUIRE(rurl.ok());
  queue::Queue q(*rurl, opts);
  std::vector<std::string> missing;
  for (const auto& id : ids) {
    auto j = q.get(id, false);
    if (!j.ok() || !j->has_value()) missing.push_back(id);
  }
  INFO("acknowledged but missing after the failovers: " << missing.size()
                                                        << (missing.empty() ? "" : " e.g. job " + missing.front()));
  CHECK(missing.empty());

  // ... and is run.
  std::mutex mu;
  std::set<std::string> ran;
  queue::RunnerTable runners;
  for (const char* kind : {"apply", "preview", "command"}) {
    runners[kind] = [&](queue::JobContext& ctx) {
      std::lock_guard lock(mu);
      ran.insert(ctx.job().id);
      return queue::RunOutcome::ok();
    };
  }
  queue::Worker worker(*rurl, opts, queue::WorkerOptions{"fo-check", 4}, runners);
  worker.start();
  auto deadline = std::chrono::steady_clock::now() + 120s;
  size_t not_run = ids.size();
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard lock(mu);
      not_run = 0;
      for (const auto& id : ids) not_run += ran.count(id) == 0 ? 1 : 0;
    }
    if (not_run == 0) break;
    std::this_thread::sleep_for(100ms);
  }
  worker.stop();
  worker.join();
  CHECK(not_run == 0);
}

}  // namespace
}  // namespace helmgate
