// FleetStore on a real redis-server: drift/inventory JSON per cluster with its time, the scan lease (one
// holder per interval, free again after it), the hourly remediation budget (never more than the maximum,
// whatever the number of callers; a sliding hour).
#include <catch2/catch.hpp>
#include <atomic>
#include <thread>
#include <vector>

#include "queue/fleet_store.hpp"
#include "support/redis_server.hpp"

using namespace helmgate;

namespace {
queue::FleetStore store_of(const test::RedisServer& r) { return queue::FleetStore(queue::RedisUrl::parse(r.url()).value(), "t"); }
}  // namespace

TEST_CASE("fleet store: put and get and all per kind and cluster", "[redis][fleet]") {
  test::RedisServer redis;
  auto s = store_of(redis);
  auto none = s.get(queue::FleetKind::drift, "staging");
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  REQUIRE(s.put(queue::FleetKind::drift, "staging", R"({"cluster":"staging","n":1})", 1000).ok());
  REQUIRE(s.put(queue::FleetKind::drift, "dev", R"({"cluster":"dev"})", 2000).ok());
  REQUIRE(s.put(queue::FleetKind::inventory, "staging", R"({"reachable":true})", 3000).ok());
  REQUIRE(s.put(queue::FleetKind::drift, "staging", R"({"cluster":"staging","n":2})", 4000).ok());
  auto got = s.get(queue::FleetKind::drift, "staging");
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  CHECK((*got)->json == R"({"cluster":"staging","n":2})");
  CHECK((*got)->at_ms == 4000);
  auto all = s.all(queue::FleetKind::drift);
  REQUIRE(all.ok());
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].cluster == "dev");
  CHECK((*all)[0].at_ms == 2000);
  CHECK((*all)[1].cluster == "staging");
  auto inv = s.all(queue::FleetKind::inventory);
  REQUIRE(inv.ok());
  REQUIRE(inv->size() == 1);
  CHECK((*inv)[0].json == R"({"reachable":true})");
}

TEST_CASE("fleet store: one scan lease per cluster and interval", "[redis][fleet]") {
  test::RedisServer redis;
  auto a = store_of(redis);
  auto b = store_of(redis);
  const auto interval = std::chrono::milliseconds(600);
  CHECK(a.take_scan("staging", "a", interval).value());
  CHECK_FALSE(b.take_scan("staging", "b", interval).value());
  CHECK_FALSE(a.take_scan("staging", "a", interval).value());
  CHECK(b.take_scan("prod", "b", interval).value());  // another cluster, another lease
  std::this_thread::sleep_for(interval + std::chrono::milliseconds(150));
  CHECK(b.take_scan("staging", "b", interval).value());
  CHECK_FALSE(a.take_scan("staging", "a", interval).value());
}

TEST_CASE("fleet store: the remediation budget holds across callers and slides with the hour", "[redis][fleet]") {
  test::RedisServer redis;
  auto s = store_of(redis);
  const int64_t t0 = 10'000'000;
  CHECK(s.remediations_last_hour("staging", t0).value() == 0);
  CHECK(s.reserve_remediations("staging", 2, 3, t0).value() == 2);
  CHECK(s.reserve_remediations("staging", 5, 3, t0 + 1000).value() == 1);
  CHECK(s.reserve_remediations("staging", 1, 3, t0 + 2000).value() == 0);
  CHECK(s.reserve_remediations("dev", 1, 3, t0 + 2000).value() == 1);  // per cluster
  CHECK(s.remediations_last_hour("staging", t0 + 2000).value() == 3);
  // An hour after the first two, they no longer count.
  CHECK(s.remediations_last_hour("staging", t0 + 3'600'000).value() == 1);
  CHECK(s.reserve_remediations("staging", 5, 3, t0 + 3'600'000).value() == 2);

  // Many callers at once: never more than the maximum granted.
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto own = store_of(redis);
      for (int j = 0; j < 5; ++j) granted += own.reserve_remediations("prod", 1, 4, t0).value();
    });
  }
  for (auto& t : threads) t.join();
  CHECK(granted == 4);
}
