// The redis: section's cluster/sentinel forms and queue.durability.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "config/config.hpp"
#include "config_error.hpp"

using namespace helmgate;

namespace {
using test::error_of;
bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
}  // namespace

TEST_CASE("redis.cluster and redis.sentinel become the cluster and sentinel URL forms", "[unit][config]") {
  auto c = config::load_string("redis:\n  cluster:\n    nodes: [127.0.0.1:7000, '[::1]:7001', redis-b:7002]\n");
  CHECK(c.redis_url == "redis+cluster://127.0.0.1:7000,[::1]:7001,redis-b:7002");
  auto s = config::load_string(
      "redis:\n  sentinel:\n    addresses: [10.0.0.1:26379, 10.0.0.2:26379]\n    master: helmgate-main\n");
  CHECK(s.redis_url == "redis+sentinel://10.0.0.1:26379,10.0.0.2:26379/helmgate-main");
  auto d = config::load_string("redis:\n  sentinel:\n    addresses: [h:26379]\n    master: m\n    db: 2\n");
  CHECK(d.redis_url == "redis+sentinel://h:26379/m/2");
}

TEST_CASE("redis: cluster and sentinel mistakes name file, line and key", "[unit][config]") {
  CHECK(has(error_of("redis:\n  url: redis://h:6379\n  cluster:\n    nodes: [h:7000]\n"),
            "helmgate.yaml:2:3: redis: give one of url, url_env, cluster or sentinel"));
  CHECK(has(error_of("redis:\n  cluster:\n    nodes: [h:7000, nohostport]\n"),
            "helmgate.yaml:3:21: redis.cluster.nodes[1]: must be host:port (got 'nohostport')"));
  CHECK(has(error_of("redis:\n  cluster:\n    nodes: []\n"), "redis.cluster.nodes: must name at least one"));
  CHECK(has(error_of("redis:\n  cluster: {}\n"), "redis.cluster.nodes: is required"));
  CHECK(has(error_of("redis:\n  sentinel:\n    addresses: [h:26379]\n"), "redis.sentinel.master"));
  CHECK(has(error_of("redis:\n  sentinel:\n    addresses: [h:26379]\n    master: 'a b'\n"),
            "helmgate.yaml:4:13: redis.sentinel.master: must be the name the sentinels monitor"));
  CHECK(has(error_of("redis:\n  sentinel:\n    addresses: [h:99999]\n    master: m\n"),
            "redis.sentinel.addresses[0]: must be host:port"));
  CHECK(has(error_of("redis:\n  url: redis://h\n  password_env: PW\n"),
            "redis.password_env: is for redis.cluster and redis.sentinel"));
  CHECK(has(error_of("redis:\n  cluster:\n    nodes: [h:1]\n  password_env: 'not a name'\n"),
            "redis.password_env: must be an environment variable name"));
  CHECK(has(error_of("redis:\n  cluster:\n    nodes: [h:1]\n    seeds: [h:2]\n"), "redis.cluster.seeds: unknown key"));
}

TEST_CASE("redis.password_env puts the password into the URL, percent-encoded, only from the environment",
          "[unit][config]") {
  auto cfg = config::load_string(
      "redis:\n  sentinel:\n    addresses: [h:26379]\n    master: m\n  password_env: HG_TEST_REDIS_PW\n"
      "api:\n  token_env: HG_TEST_API_TOKEN\n");
  CHECK(cfg.redis_url == "redis+sentinel://h:26379/m");
  ::setenv("HG_TEST_API_TOKEN", "tok", 1);
  ::unsetenv("HG_TEST_REDIS_PW");
  std::string err;
  try {
    config::resolve_secrets(cfg, {false, true, false});
  } catch (const config::ConfigError& e) {
    err = e.what();
  }
  CHECK(has(err, "redis.password_env: environment variable HG_TEST_REDIS_PW is not set"));
  ::setenv("HG_TEST_REDIS_PW", "p@ss:w/rd", 1);
  config::resolve_secrets(cfg, {false, true, false});
  CHECK(cfg.redis_url == "redis+sentinel://:p%40ss%3Aw%2Frd@h:26379/m");
  ::unsetenv("HG_TEST_REDIS_PW");
}

TEST_CASE("queue.durability is local or replicated, with a replica timeout", "[unit][config]") {
  auto def = config::load_string("");
  CHECK_FALSE(def.queue.replicated);
  CHECK(def.queue.replica_timeout == std::chrono::milliseconds(1000));
  auto r = config::load_string("queue:\n  durability: replicated\n  replica_timeout: 250ms\n");
  CHECK(r.queue.replicated);
  CHECK(r.queue.replica_timeout == std::chrono::milliseconds(250));
  CHECK(has(error_of("queue:\n  durability: paranoid\n"),
            "helmgate.yaml:2:15: queue.durability: must be local (acknowledged once the primary has the job) or "
            "replicated"));
}
