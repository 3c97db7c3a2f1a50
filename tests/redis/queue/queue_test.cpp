// Queue operations that need no worker: enqueue, get, list, dedupe, coalescing of queued jobs,
// replay, reaper duties, statistics. Direct script calls stand in for a stalled worker.
#include <catch2/catch.hpp>

#include "fixture.hpp"
#include "queue/internal.hpp"

namespace helmgate::queue::testing {
namespace {

using core::errc;

int64_t llen(Redis& r, const std::string& key) {
  return r.command({"LLEN", key}).value()->integer;
}

TEST_CASE("enqueue stores the job, get and list read it back with filters", "[redis][queue]") {
  test::RedisTopology server;
  Queue q(url_of(server), fast_options());
  REQUIRE(q.ping().ok());

  auto a = preview(1, "aaa", "org/app");
  a.delivery_id = "d-1";
  std::string id1 = enqueue_one(q, a);
  std::string id2 = enqueue_one(q, job_of_kind("apply", "org/infra"));
  std::string id3 = enqueue_one(q, preview(2, "ccc", "org/infra"));
  CHECK(id1 != id2);
  CHECK(id2 != id3);

  JobRecord r = must_get(q, id1);
  CHECK(r.id == id1);
  CHECK(r.state == "queued");
  CHECK(r.spec.kind == "preview");
  CHECK(r.spec.repo == "org/app");
  CHECK(r.spec.pr == 1);
  CHECK(r.spec.head_sha == "aaa");
  CHECK(r.spec.delivery_id == "d-1");
  CHECK(r.attempts == 0);
  CHECK(r.max_attempts == 3);
  CHECK(r.created_ms > 0);
  CHECK(r.log.empty());

  auto missing = q.get("999999");
  REQUIRE(missing.ok());
  CHECK_FALSE(missing->has_value());

  auto all = q.list({});
  REQUIRE(all.ok());
  REQUIRE(all->size() == 3);
  CHECK((*all)[0].id == id3);  // newest first
  CHECK((*all)[2].id == id1);

  auto previews = q.list({.state = "", .kind = "preview", .repo = "", .limit = 50});
  REQUIRE(previews.ok());
  CHECK(previews->size() == 2);
  auto infra = q.list({.state = "queued", .kind = "", .repo = "org/infra", .limit = 50});
  REQUIRE(infra.ok());
  CHECK(infra->size() == 2);
  auto limited = q.list({.state = "", .kind = "", .repo = "", .limit = 1});
  REQUIRE(limited.ok());
  REQUIRE(limited->size() == 1);
  CHECK(limited->front().id == id3);
  auto none = q.list({.state = "succeeded", .kind = "", .repo = "", .limit = 50});
  REQUIRE(none.ok());
  CHECK(none->empty());

  auto s = q.stats();
  REQUIRE(s.ok());
  CHECK(s->waiting == 3);
  CHECK(s->by_state_kind[{"queued", "preview"}] == 2);
  CHECK(s->by_state_kind[{"queued", "apply"}] == 1);
}

TEST_CASE("enqueue without a kind is a bad request", "[redis][queue]") {
  test::RedisTopology server;
  Queue q(url_of(server), fast_options());
  core::JobSpec empty;
  auto r = q.enqueue(std::span<const core::JobSpec>(&empty, 1), "x");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == core::make_error_code(errc::bad_request));
}

TEST_CASE("a repeated delivery id returns the original ids and enqueues nothing", "[redis][queue]") {
  test::RedisTopology server;
  Queue q(url_of(server), fast_options());
  std::vector<core::JobSpec> jobs{job_of_kind("apply"), job_of_kind("apply", "org/other")};
  auto first = q.enqueue(jobs, "delivery-42");
  REQUIRE(first.ok());
  CHECK_FALSE(first->duplicate);
  REQUIRE(first->ids.size() == 2);

  auto second = q.enqueue(jobs, "delivery-42");
  REQUIRE(second.ok());
  CHECK(second->duplicate);
  CHECK(second->ids == first->ids);

  auto all = q.list({});
  REQUIRE(all.ok());
  CHECK(all->size() == 2);
  Redis redis(url_of(server));
  CHECK(llen(redis, "{t}:wait") == 2);
  auto ttl = redis.command({"TTL", "{t}:dedupe:delivery-42"});
  CHECK((*ttl)->integer > 3000);
}

TEST_CASE("a newer head supersedes the queued job of the same pull request", "[redis][queue]") {
  test::RedisTopology server;
  Queue q(url_of(server), fast_options());
  std::string old_id = enqueue_one(q, preview(7, "aaa"), "d1");
  std::string other_pr = enqueue_one(q, preview(8, "aaa"), "d2");

  auto spec = preview(7, "bbb");
  auto r = q.enqueue(std::span<const core::JobSpec>(&spec, 1), "d3");
  REQUIRE(r.ok());
  REQUIRE(r->ids.size() == 1);
  std::string new_id = r->ids.front();
  CHECK(new_id != old_id);
  REQUIRE(r->superseded == std::vector<std::string>{old_id});

  JobRecord old = must_get(q, old_id);
  CHECK(old.state == "superseded");
  CHECK(old.superseded_by == new_id);
  CHECK(old.finished_ms > 0);
  CHECK(state_of(q, other_pr) == "queued");

  Redis redis(url_of(server));
  auto wait = redis.command({"LRANGE", "{t}:wait", "0", "-1"});
  std::vector<std::string> ids;
  for (size_t i = 0; i < (*wait)->elements; ++i) ids.push_back(detail::reply_string((*wait)->element[i]));
  CHECK(ids == std::vector<std::string>{new_id, other_pr});

  // The same head again (another delivery, e.g. "reopened"): the queued job is reused.
  auto again = preview(7, "bbb");
  auto same = q.enqueue(std::span<const core::JobSpec>(&again, 1), "d4");
  REQUIRE(same.ok());
  CHECK_FALSE(same->duplicate);
  CHECK(same->ids == std::vector<std::string>{new_id});
  CHECK(same->superseded.empty());
  CHECK(llen(redis, "{t}:wait") == 2);

  auto s = q.stats();
  REQUIRE(s.ok());
  CHECK(s->by_state_kind[{"superseded", "preview"}] == 1);
}

TEST_CASE("a newer head supersedes a job waiting for its retry", "[redis][queue]") {
  test::RedisTopology server;
  Options opts = fast_options();
  opts.backoff_base = 60000ms;
  Queue q(url_of(server), opts);
  Redis redis(url_of(server));
  detail::Keys keys(opts.key_prefix);
  std::string old_id = enqueue_one(q, preview(3, "aaa"));
  // Claim and fail it by hand so it sits in the delayed set.
  auto fetched = redis.command({"LMOVE", keys.wait, keys.fetched("w"), "RIGHT", "LEFT"});
  REQUIRE(detail::reply_string(fetched->get()) == old_id);
  auto ck = keys.fixed();
  ck.push_back(keys.fetched("w"));
  auto base = detail::base_args(keys, opts);
  auto args = base;
  args.insert(args.end(), {old_id, "tok", "10000", "w"});
  REQUIRE(detail::run_script(redis, detail::ScriptId::claim, ck, args).ok());
  args = base;
  args.insert(args.end(), {old_id, "tok", "boom", "0", "60000"});
  auto f = detail::run_script(redis, detail::ScriptId::fail, keys.fixed(), args);
  REQUIRE(f.ok());
  CHECK((*f)->integer == 1);
  CHECK(state_of(q, old_id) == "retrying");

  std::string new_id = enqueue_one(q, preview(3, "bbb"));
  CHECK(state_of(q, old_id) == "superseded");
  CHECK(redis.command({"ZCARD", keys.delayed}).value()->integer == 0);
  CHECK(must_get(q, old_id).superseded_by == new_id);
}

TEST_CASE("replay creates a new job with replay_of and refuses unknown or unfinished jobs",
          "[redis][queue]") {
  test::RedisTopology server;
  Options opts = fast_options();
  Queue q(url_of(server), opts);
  std::string id = enqueue_one(q, job_of_kind("apply"));

  auto busy = q.replay(id);
  REQUIRE_FALSE(busy.ok());
  CHECK(busy.error().code == core::make_error_code(errc::conflict));

  auto unknown = q.replay("424242");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().code == core::make_error_code(errc::not_found));

  // Finish it through the scripts, as a worker would.
  Redis redis(url_of(server));
  detail::Keys keys(opts.key_prefix);
  REQUIRE(redis.command({"LMOVE", keys.wait, keys.fetched("w"), "RIGHT", "LEFT"}).ok());
  auto ck = keys.fixed();
  ck.push_back(keys.fetched("w"));
  auto args = detail::base_args(keys, opts);
  args.insert(args.end(), {id, "tok", "10000", "w"});
  REQUIRE(detail::run_script(redis, detail::ScriptId::claim, ck, args).ok());
  args = detail::base_args(keys, opts);
  args.insert(args.end(), {id, "tok", "{\"ok\":true}"});
  REQUIRE(detail::run_script(redis, detail::ScriptId::complete, keys.fixed(), args).ok());
  CHECK(must_get(q, id).result == "{\"ok\":true}");

  auto replayed = q.replay(id);
  REQUIRE(replayed.ok());
  CHECK(*replayed != id);
  JobRecord r = must_get(q, *replayed);
  CHECK(r.state == "queued");
  CHECK(r.replay_of == id);
  CHECK(r.spec.replay_of == id);
  CHECK(r.spec.kind == "apply");
}

TEST_CASE("the reaper requeues expired leases, rejects the stale holder and dead-letters exhausted jobs",
          "[redis][queue]") {
  test::RedisTopology server;
  Options opts = fast_options();
  opts.max_attempts = 2;
  Queue q(url_of(server), opts);
  Redis redis(url_of(server));
  detail::Keys keys(opts.key_prefix);
  std::string id = enqueue_one(q, job_of_kind("apply"));

  auto claim = [&](const std::string& token) {
    auto m = redis.command({"LMOVE", keys.wait, keys.fetched("stale"), "RIGHT", "LEFT"});
    REQUIRE(m.ok());
    REQUIRE(detail::reply_string(m->get()) == id);
    auto ck = keys.fixed();
    ck.push_back(keys.fetched("stale"));
    auto args = detail::base_args(keys, opts);
    args.insert(args.end(), {id, token, "100", "stale"});  // 100 ms lease, never renewed
    auto c = detail::run_script(redis, detail::ScriptId::claim, ck, args);
    REQUIRE(c.ok());
    REQUIRE((*c)->type == REDIS_REPLY_ARRAY);
  };
  auto complete = [&](const std::string& token) {
    auto args = detail::base_args(keys, opts);
    args.insert(args.end(), {id, token, "{}"});
    auto c = detail::run_script(redis, detail::ScriptId::complete, keys.fixed(), args);
    REQUIRE(c.ok());
    return (*c)->integer;
  };

  claim("first");
  CHECK(state_of(q, id) == "active");
  std::this_thread::sleep_for(150ms);
  auto moved = q.reap();
  REQUIRE(moved.ok());
  CHECK(*moved >= 1);
  JobRecord r = must_get(q, id);
  CHECK(r.state == "queued");
  CHECK(r.attempts == 1);
  CHECK(r.error.find("lease expired") != std::string::npos);
  CHECK(complete("first") == 0);  // the stale worker's result is discarded
  CHECK(state_of(q, id) == "queued");

  claim("second");
  std::this_thread::sleep_for(150ms);
  REQUIRE(q.reap().ok());
  r = must_get(q, id);
  CHECK(r.state == "dead");  // a job that keeps losing its worker is quarantined
  CHECK(r.attempts == 2);
  CHECK(r.error.find("dead-lettered") != std::string::npos);
  CHECK(complete("second") == 0);
  auto dead = q.list({.state = "dead", .kind = "", .repo = "", .limit = 10});
  REQUIRE(dead.ok());
  REQUIRE(dead->size() == 1);
  CHECK(dead->front().id == id);
}

TEST_CASE("the reaper returns what silent workers fetched but never claimed", "[redis][queue]") {
  test::RedisTopology server;
  Options opts = fast_options();
  opts.worker_timeout = 200ms;
  Queue q(url_of(server), opts);
  Redis redis(url_of(server));
  detail::Keys keys(opts.key_prefix);
  std::string id = enqueue_one(q, job_of_kind("apply"));

  // A fetcher registers (heartbeat script), moves the id, then dies before claiming.
  auto args = detail::base_args(keys, opts);
  args.insert(args.end(), {"1000", "1", "ghost#0"});
  REQUIRE(detail::run_script(redis, detail::ScriptId::heartbeat, keys.fixed(), args).ok());
  REQUIRE(redis.command({"LMOVE", keys.wait, keys.fetched("ghost#0"), "RIGHT", "LEFT"}).ok());
  CHECK(llen(redis, keys.wait) == 0);

  REQUIRE(q.reap().ok());
  CHECK(llen(redis, keys.wait) == 0);  // not silent long enough yet
  std::this_thread::sleep_for(250ms);
  auto moved = q.reap();
  REQUIRE(moved.ok());
  CHECK(*moved == 1);
  CHECK(llen(redis, keys.wait) == 1);
  CHECK(llen(redis, keys.fetched("ghost#0")) == 0);
  CHECK(redis.command({"ZCARD", keys.workers}).value()->integer == 0);
  CHECK(state_of(q, id) == "queued");
}

TEST_CASE("finished records leave the indexes after the retention", "[redis][queue]") {
  test::RedisTopology server;
  Options opts = fast_options();
  opts.retention = std::chrono::seconds(1);
  Queue q(url_of(server), opts);
  Redis redis(url_of(server));
  detail::Keys keys(opts.key_prefix);
  std::string id = enqueue_one(q, job_of_kind("apply"));
  REQUIRE(redis.command({"LMOVE", keys.wait, keys.fetched("w"), "RIGHT", "LEFT"}).ok());
  auto ck = keys.fixed();
  ck.push_back(keys.fetched("w"));
  auto args = detail::base_args(keys, opts);
  args.insert(args.end(), {id, "tok", "10000", "w"});
  REQUIRE(detail::run_script(redis, detail::ScriptId::claim, ck, args).ok());
  args = detail::base_args(keys, opts);
  args.insert(args.end(), {id, "tok", "broken", "1", "0"});
  REQUIRE(detail::run_script(redis, detail::ScriptId::fail, keys.fixed(), args).ok());
  CHECK(state_of(q, id) == "dead");
  auto ttl = redis.command({"PTTL", keys.job(id)});
  CHECK((*ttl)->integer > 0);
  CHECK((*ttl)->integer <= 1000);

  REQUIRE(wait_until(
      [&] {
        REQUIRE(q.reap().ok());
        return redis.command({"ZCARD", keys.index}).value()->integer == 0;
      },
      5s));
  CHECK(redis.command({"ZCARD", keys.dead}).value()->integer == 0);
  CHECK(state_of(q, id) == "<missing>");
  auto replay = q.replay(id);
  REQUIRE_FALSE(replay.ok());
  CHECK(replay.error().code == core::make_error_code(errc::not_found));
}

TEST_CASE("every script survives a Redis restart that flushed the script cache", "[redis][queue]") {
  test::RedisTopology server;
  Queue q(url_of(server), fast_options());
  std::string id = enqueue_one(q, job_of_kind("apply"));
  Redis redis(url_of(server));
  REQUIRE(redis.command({"SCRIPT", "FLUSH"}).ok());
  std::string id2 = enqueue_one(q, job_of_kind("apply"));
  CHECK(id2 != id);
  REQUIRE(redis.command({"SCRIPT", "FLUSH"}).ok());
  CHECK(q.reap().ok());
}

TEST_CASE("queue calls fail with unavailable while Redis is down", "[redis][queue]") {
  test::RedisTopology server;
  Queue q(url_of(server), fast_options());
  REQUIRE(q.ping().ok());
  server.kill();
  auto spec = job_of_kind("apply");
  auto r = q.enqueue(std::span<const core::JobSpec>(&spec, 1), "d");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == core::make_error_code(errc::unavailable));
  CHECK(core::http_status_for(r.error().code) == 503);
  CHECK_FALSE(q.get("1").ok());
  CHECK_FALSE(q.list({}).ok());
  CHECK_FALSE(q.stats().ok());
  CHECK_FALSE(q.reap().ok());
  server.start();
  CHECK(q.enqueue(std::span<const core::JobSpec>(&spec, 1), "d").ok());
}

}  // namespace
}  // namespace helmgate::queue::testing

namespace helmgate::queue::testing {
namespace {

TEST_CASE("a script sent again after its reply was lost is recognised, not applied twice", "[redis][queue]") {
  test::RedisTopology server;
  Options opts = fast_options();
  Queue q(url_of(server), opts);
  Redis redis(url_of(server));
  detail::Keys keys(opts.key_prefix);
  std::string id = enqueue_one(q, job_of_kind("apply"));
  REQUIRE(redis.command({"LMOVE", keys.wait, keys.fetched("w"), "RIGHT", "LEFT"}).ok());
  auto ck = keys.fixed();
  ck.push_back(keys.fetched("w"));
  auto args = detail::base_args(keys, opts);
  args.insert(args.end(), {id, "tok", "10000", "w"});
  for (int i = 0; i < 2; ++i) {
    auto c = detail::run_script(redis, detail::ScriptId::claim, ck, args);
    REQUIRE(c.ok());
    CHECK((*c)->type == REDIS_REPLY_ARRAY);
  }
  CHECK(must_get(q, id).attempts == 1);
  // Another fetcher that meets the same id (e.g. a stale copy in the wait list) does not get it.
  auto other = args;
  other[3] = "other-token";
  auto c = detail::run_script(redis, detail::ScriptId::claim, ck, other);
  REQUIRE(c.ok());
  CHECK((*c)->type == REDIS_REPLY_NIL);

  args = detail::base_args(keys, opts);
  args.insert(args.end(), {id, "tok", "{}"});
  auto first = detail::run_script(redis, detail::ScriptId::complete, keys.fixed(), args);
  auto again = detail::run_script(redis, detail::ScriptId::complete, keys.fixed(), args);
  REQUIRE(first.ok());
  REQUIRE(again.ok());
  CHECK((*first)->integer == 1);
  CHECK((*again)->integer == 4);
  CHECK(detail::reply_string(redis.command({"HGET", keys.job(id), "completions"})->get()) == "1");
  auto s = q.stats();
  REQUIRE(s.ok());
  CHECK(s->by_state_kind[{"succeeded", "apply"}] == 1);
  CHECK(s->duration_count == 1);
}

}  // namespace
}  // namespace helmgate::queue::testing
