// RedisUrl parsing and the Redis connection wrapper, against a real redis-server.
#include "queue/redis.hpp"

#include <catch2/catch.hpp>

#include "fixture.hpp"

namespace helmgate::queue::testing {
namespace {

TEST_CASE("RedisUrl parses every documented form", "[redis][queue][once]") {
  auto u = RedisUrl::parse("redis://localhost");
  REQUIRE(u.ok());
  CHECK(u->host == "localhost");
  CHECK(u->port == 6379);
  CHECK(u->db == 0);

  u = RedisUrl::parse("redis://:s3cret@10.0.0.5:6380/2");
  REQUIRE(u.ok());
  CHECK(u->host == "10.0.0.5");
  CHECK(u->port == 6380);
  CHECK(u->db == 2);
  CHECK(u->username.empty());
  CHECK(u->password == "s3cret");

  u = RedisUrl::parse("redis://alice:p%40ss%3Aw@redis.internal/0");
  REQUIRE(u.ok());
  CHECK(u->username == "alice");
  CHECK(u->password == "p@ss:w");

  u = RedisUrl::parse("redis://[::1]:7000");
  REQUIRE(u.ok());
  CHECK(u->host == "::1");
  CHECK(u->port == 7000);
}

TEST_CASE("RedisUrl rejects malformed URLs with a clear error", "[redis][queue][once]") {
  for (const char* bad :
       {"localhost:6379", "http://x", "rediss://x", "redis://", "redis://h:0", "redis://h:70000",
        "redis://h:abc", "redis://h/x", "redis://h/-1", "redis://[::1", "redis://h:", "redis://:%zz@h"}) {
    auto u = RedisUrl::parse(bad);
    INFO(bad);
    REQUIRE_FALSE(u.ok());
    CHECK(u.error().code == core::make_error_code(core::errc::invalid_config));
    CHECK(u.error().message.find("redis://") != std::string::npos);
    CHECK(u.error().message.find("zz") == std::string::npos);
  }
}

TEST_CASE("RedisUrl::display hides the password", "[redis][queue][once]") {
  auto u = RedisUrl::parse("redis://alice:topsecret@h:1234/3");
  REQUIRE(u.ok());
  CHECK(u->display() == "redis://alice:***@h:1234/3");
  CHECK(u->display().find("topsecret") == std::string::npos);
  CHECK(RedisUrl::parse("redis://h")->display() == "redis://h:6379");
}

TEST_CASE("Redis authenticates, selects the database and never reports the password", "[redis][queue][once]") {
  test::RedisServer server({"--requirepass", "hunter2"});
  auto good = RedisUrl::parse("redis://:hunter2@127.0.0.1:" + std::to_string(server.port()) + "/3");
  REQUIRE(good.ok());
  Redis redis(*good);
  REQUIRE(redis.command({"SET", "k", "v"}).ok());
  auto db3 = redis.command({"DBSIZE"});
  REQUIRE(db3.ok());
  CHECK((*db3)->integer == 1);
  REQUIRE(redis.command({"SELECT", "0"}).ok());
  CHECK(redis.command({"DBSIZE"}).value()->integer == 0);

  auto bad = RedisUrl::parse("redis://:wrongpass@127.0.0.1:" + std::to_string(server.port()));
  Redis wrong(*bad);
  auto r = wrong.command({"PING"});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == core::make_error_code(core::errc::unavailable));
  CHECK(r.error().message.find("AUTH") != std::string::npos);
  CHECK(r.error().message.find("wrongpass") == std::string::npos);
}

TEST_CASE("Redis reports unavailable while the server is down and reconnects lazily", "[redis][queue][once]") {
  test::RedisServer server;
  Redis redis(url_of(server), 1000ms);
  REQUIRE(redis.command({"SET", "k", "1"}).ok());
  server.kill();
  auto r = redis.command({"GET", "k"});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == core::make_error_code(core::errc::unavailable));
  CHECK(r.error().message.find("127.0.0.1") != std::string::npos);
  auto p = redis.pipeline({{"PING"}, {"PING"}});
  REQUIRE_FALSE(p.ok());
  CHECK(p.error().code == core::make_error_code(core::errc::unavailable));

  server.start();
  auto again = redis.command({"PING"});
  REQUIRE(again.ok());

  // An error reply is not a connection problem.
  auto e = redis.command({"INCR", "k", "extra"});
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().code == core::make_error_code(core::errc::internal));
  CHECK(redis.command({"PING"}).ok());
}

TEST_CASE("Redis blocking commands outlive the socket timeout", "[redis][queue][once]") {
  test::RedisServer server;
  Redis redis(url_of(server), 200ms);
  auto t0 = std::chrono::steady_clock::now();
  auto r = redis.blocking_command({"BLPOP", "nothing", "0.6"}, 600ms);
  REQUIRE(r.ok());
  CHECK((*r)->type == REDIS_REPLY_NIL);
  CHECK(std::chrono::steady_clock::now() - t0 >= 550ms);
  CHECK(redis.command({"PING"}).ok());
}

}  // namespace
}  // namespace helmgate::queue::testing
