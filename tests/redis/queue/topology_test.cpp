// Redis Cluster and Sentinel: URL forms, slot routing (MOVED/ASK), failover, and queue.durability
// replicated (WAIT). Each case starts the topology it needs itself, so all are [once].
#include <catch2/catch.hpp>
#include <functional>
#include <set>

#include "fixture.hpp"
#include "queue/apply_state.hpp"
#include "queue/fleet_store.hpp"
#include "queue/internal.hpp"

namespace helmgate::queue::testing {
namespace {

TEST_CASE("RedisUrl parses the cluster and sentinel forms", "[redis][queue][once]") {
  auto c = RedisUrl::parse("redis+cluster://127.0.0.1:7000,[::1]:7001,redis-b");
  REQUIRE(c.ok());
  CHECK(c->mode == RedisMode::cluster);
  REQUIRE(c->nodes.size() == 3);
  CHECK(c->nodes[1].host == "::1");
  CHECK(c->nodes[1].port == 7001);
  CHECK(c->nodes[2].port == 6379);

  auto s = RedisUrl::parse("redis+sentinel://:p%40ss@10.0.0.1,10.0.0.2:26380/helmgate-main/2");
  REQUIRE(s.ok());
  CHECK(s->mode == RedisMode::sentinel);
  CHECK(s->nodes[0].port == 26379);  // Sentinel's default port
  CHECK(s->nodes[1].port == 26380);
  CHECK(s->master == "helmgate-main");
  CHECK(s->db == 2);
  CHECK(s->password == "p@ss");
  CHECK(s->display() == "redis+sentinel://:***@10.0.0.1:26379,10.0.0.2:26380/helmgate-main/2");

  for (const char* bad : {"redis+cluster://h:1/2", "redis+sentinel://h:1", "redis+sentinel://h:1/bad name",
                          "redis+cluster://h:1,,h:2", "redis+sentinel://h:0/m", "redis+foo://h"}) {
    auto r = RedisUrl::parse(bad);
    INFO(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == core::make_error_code(core::errc::invalid_config));
  }
}

TEST_CASE("every key the product writes lies in the slot of its hash tag", "[redis][queue][once]") {
  // Cross-checked with the server's own CLUSTER KEYSLOT (a plain server answers it too).
  test::RedisServer server({"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"});
  detail::Keys k("helmgate");
  std::vector<std::string> keys = k.fixed();
  for (const auto& extra : {k.job("17"), k.log("17"), k.fetched("w#0"), k.dedupe("github:abc"), k.coalesce("pr:x")}) {
    keys.push_back(extra);
  }
  // apply_state and fleet_store spell their keys "{prefix}:apply:<repo>:<cluster>:..." and
  // "{prefix}:fleet:...", with repository names from Git (which may hold braces themselves).
  keys.push_back("{helmgate}:apply:org/{weird}:prod:last");
  keys.push_back("{helmgate}:fleet:remediations:prod");
  const int slot = cluster_slot("{helmgate}");
  for (const auto& key : keys) {
    INFO(key);
    CHECK(cluster_slot(key) == slot);
    CHECK(test::redis_ask(server.port(), {"CLUSTER", "KEYSLOT", key}) == std::to_string(slot));
  }
  for (const char* key : {"plain", "{}x", "a{b}c", "{{x}}", "\xff{\x01}"}) {
    INFO(key);
    CHECK(test::redis_ask(server.port(), {"CLUSTER", "KEYSLOT", key}) == std::to_string(cluster_slot(key)));
  }
}

// Moves `slot` from its owner to `to` the way redis-cli --cluster reshard does; `midway` runs when the
// keys have moved but the slot is still MIGRATING on the old owner (which then answers ASK).
void migrate_slot(test::RedisTopology& cl, int slot, size_t from, size_t to, const std::function<void()>& midway) {
  auto id = [&](size_t i) { return test::redis_ask(cl.node(i).port(), {"CLUSTER", "MYID"}); };
  std::string from_id = id(from), to_id = id(to);
  int from_port = cl.node(from).port(), to_port = cl.node(to).port();
  const std::string s = std::to_string(slot);
  REQUIRE(test::redis_ask(to_port, {"CLUSTER", "SETSLOT", s, "IMPORTING", from_id}) == "OK");
  REQUIRE(test::redis_ask(from_port, {"CLUSTER", "SETSLOT", s, "MIGRATING", to_id}) == "OK");
  for (;;) {
    std::string keys = test::redis_ask(from_port, {"CLUSTER", "GETKEYSINSLOT", s, "1000"});
    if (keys.empty()) break;
    std::vector<std::string> argv{"MIGRATE", "127.0.0.1", std::to_string(to_port), "", "0", "5000", "KEYS"};
    size_t start = 0;
    while (start <= keys.size()) {
      auto nl = keys.find('\n', start);
      argv.push_back(keys.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
    REQUIRE(test::redis_ask(from_port, argv) == "OK");
  }
  midway();
  for (size_t i = 0; i < cl.node_count(); ++i) {
    REQUIRE(test::redis_ask(cl.node(i).port(), {"CLUSTER", "SETSLOT", s, "NODE", to_id}) == "OK");
  }
}

TEST_CASE("on a Redis Cluster the queue talks to the owner of its slot and follows it when it moves",
          "[redis][queue][once]") {
  test::RedisTopology cl(test::Topology::cluster);
  Options opts = fast_options("moving");
  Queue q(url_of(cl, "moving"), opts);
  std::string id = enqueue_one(q, job_of_kind("apply"));

  const int slot = cluster_slot("{moving}");
  size_t owner = cl.node_count();
  for (size_t i = 0; i < cl.node_count(); ++i) {
    if (test::redis_ask(cl.node(i).port(), {"EXISTS", "{moving}:job:" + id}) == "1") owner = i;
  }
  REQUIRE(owner < cl.node_count());
  Redis raw(url_of(cl, "moving"));
  REQUIRE(raw.command({"PING"}).ok());
  CHECK(raw.node().port == cl.node(owner).port());

  // A key of another slot is reached through MOVED.
  REQUIRE(raw.command({"SET", "elsewhere", "1"}).ok());
  auto got = raw.command({"GET", "elsewhere"});
  REQUIRE(got.ok());
  CHECK(detail::reply_string(got->get()) == "1");

  size_t to = (owner + 1) % cl.node_count();
  migrate_slot(cl, slot, owner, to, [&] {
    // The old owner answers ASK for the moved job; one command goes to the importing node.
    CHECK(test::redis_ask(cl.node(owner).port(), {"HGET", "{moving}:job:" + id, "state"}).rfind("ASK ", 0) == 0);
    Redis asker(url_of(cl, "moving"));
    auto state = asker.command({"HGET", "{moving}:job:" + id, "state"});
    REQUIRE(state.ok());
    CHECK(detail::reply_string(state->get()) == "queued");
    CHECK(asker.node().port == cl.node(owner).port());  // ASK does not move the connection
  });
  // The queue's connection still points at the old owner: MOVED, then the new one.
  CHECK(must_get(q, id).state == "queued");
  std::string id2 = enqueue_one(q, job_of_kind("apply"));
  CHECK(test::redis_ask(cl.node(to).port(), {"EXISTS", "{moving}:job:" + id2}) == "1");
  auto s = q.stats();
  REQUIRE(s.ok());
  CHECK(s->waiting == 2);

  // ApplyState and FleetStore route by the same hash tag.
  ApplyState state(url_of(cl), "moving");
  REQUIRE(state.record_applied("org/app", "prod", AppliedRecord{"abc", true, id, 1}).ok());
  CHECK(test::redis_ask(cl.node(to).port(), {"EXISTS", "{moving}:apply:org/app:prod:last"}) == "1");
}

TEST_CASE("durability replicated fails the enqueue with unavailable when no replica acknowledges",
          "[redis][queue][once]") {
  test::RedisServer server;  // no replica at all
  Options opts = fast_options();
  opts.durability = Options::Durability::replicated;
  opts.replica_timeout = 100ms;
  Queue q(url_of(server), opts);
  auto spec = job_of_kind("apply");
  auto r = q.enqueue(std::span<const core::JobSpec>(&spec, 1), "d1");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == core::make_error_code(core::errc::unavailable));
  CHECK(r.error().message.find("no replica acknowledged the job within 100 ms") != std::string::npos);

  std::atomic<int> unavailable{0}, answered{0};
  {
    AsyncEnqueuer enq(url_of(server), opts);
    for (int i = 0; i < 50; ++i) {
      enq.enqueue({spec}, "a" + std::to_string(i), [&](core::Result<EnqueueOutcome> out) {
        if (!out.ok() && out.error().code == core::make_error_code(core::errc::unavailable)) ++unavailable;
        ++answered;
      });
    }
  }
  CHECK(answered == 50);
  CHECK(unavailable == 50);
}

TEST_CASE("on Sentinel the queue follows failovers and replicated enqueues wait for the replica",
          "[redis][queue][once]") {
  test::RedisTopology st(test::Topology::sentinel);
  Options opts = fast_options("fo");
  opts.durability = Options::Durability::replicated;
  Queue q(url_of(st, "fo"), opts);
  std::string id1 = enqueue_one(q, job_of_kind("apply"));
  const int first = st.primary().port();
  // The replica has it: WAIT answered 1.
  CHECK(test::redis_ask(st.node(1).port(), {"HGET", "{fo}:job:" + id1, "state"}) == "queued");

  st.failover();
  CHECK(st.primary().port() != first);
  // The old connection was killed by the sentinels (or now meets a replica): the queue asks again.
  std::string id2;
  REQUIRE(wait_until([&] {
    auto spec = job_of_kind("apply");
    auto r = q.enqueue(std::span<const core::JobSpec>(&spec, 1), {});
    if (r.ok()) id2 = r->ids.front();
    return r.ok();
  }));
  CHECK(must_get(q, id1).state == "queued");
  CHECK(test::redis_ask(st.primary().port(), {"EXISTS", "{fo}:job:" + id2}) == "1");

  st.kill_primary();
  REQUIRE(wait_until([&] {
    auto spec = job_of_kind("apply");
    return q.enqueue(std::span<const core::JobSpec>(&spec, 1), {}).ok();
  }));
  auto s = q.stats();
  REQUIRE(s.ok());
  CHECK(s->waiting == 3);

  // Never a write to a replica: a Redis object pinned to the replica by hand is refused (READONLY),
  // which is an unavailable error, not a silent success.
  RedisUrl replica = *RedisUrl::parse("redis://127.0.0.1:" + std::to_string(st.node(st.primary().port() == st.node(0).port() ? 1 : 0).port()));
  Redis direct(replica);
  auto w = direct.command({"SET", "{fo}:x", "1"});
  REQUIRE_FALSE(w.ok());
  CHECK(w.error().code == core::make_error_code(core::errc::unavailable));
}

}  // namespace
}  // namespace helmgate::queue::testing
