#pragma once
// Helpers shared by the queue tests: fast timings, job specs, polling.
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "queue/queue.hpp"
#include "support/redis_server.hpp"
#include "support/redis_topology.hpp"

namespace helmgate::queue::testing {

using namespace std::chrono_literals;

inline Options fast_options(std::string prefix = "t") {
  Options o;
  o.key_prefix = std::move(prefix);
  o.visibility_timeout = 1500ms;
  o.max_attempts = 3;
  o.backoff_base = 20ms;
  o.backoff_max = 200ms;
  o.retention = std::chrono::seconds(3600);
  o.dedupe_ttl = std::chrono::seconds(3600);
  o.worker_timeout = 1500ms;
  return o;
}

inline RedisUrl url_of(const test::RedisServer& s) {
  auto u = RedisUrl::parse(s.url());
  REQUIRE(u.ok());
  return u.value();
}

// The topology's URL; a Redis object made from it talks to the node serving "{<prefix>}" (the
// queue's own classes set that themselves; raw keys elsewhere are reached through MOVED).
inline RedisUrl url_of(const test::RedisTopology& s, std::string_view prefix = "t") {
  auto u = RedisUrl::parse(s.url());
  REQUIRE(u.ok());
  return u->for_prefix(prefix);
}

inline core::JobSpec preview(int64_t pr, std::string head, std::string repo = "org/app") {
  core::JobSpec s;
  s.kind = "preview";
  s.forge = "github";
  s.repo = std::move(repo);
  s.pr = pr;
  s.head_sha = std::move(head);
  s.base_sha = "base";
  return s;
}

inline core::JobSpec job_of_kind(std::string kind, std::string repo = "org/app") {
  core::JobSpec s;
  s.kind = std::move(kind);
  s.forge = "github";
  s.repo = std::move(repo);
  return s;
}

inline bool wait_until(const std::function<bool()>& cond, std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return cond();
}

inline std::string enqueue_one(Queue& q, const core::JobSpec& spec, std::string_view dedupe = {}) {
  auto r = q.enqueue(std::span<const core::JobSpec>(&spec, 1), dedupe);
  INFO((r.ok() ? std::string() : r.error().message));
  REQUIRE(r.ok());
  REQUIRE(r->ids.size() == 1);
  return r->ids.front();
}

inline JobRecord must_get(Queue& q, std::string_view id) {
  auto r = q.get(id);
  INFO((r.ok() ? std::string() : r.error().message));
  REQUIRE(r.ok());
  REQUIRE(r->has_value());
  return **r;
}

inline std::string state_of(Queue& q, std::string_view id) {
  auto r = q.get(id, false);
  if (!r.ok() || !r->has_value()) return "<missing>";
  return (*r)->state;
}

}  // namespace helmgate::queue::testing
