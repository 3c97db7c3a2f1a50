// Workers against a real Redis: runs, retries, dead letters, supersede while active, stop.
#include <atomic>
#include <catch2/catch.hpp>
#include <mutex>

#include "fixture.hpp"
#include "queue/internal.hpp"

namespace helmgate::queue::testing {
namespace {

WorkerOptions wopts(std::string id, int concurrency = 1) {
  return WorkerOptions{std::move(id), concurrency};
}

TEST_CASE("a worker runs a job, keeps its log and result", "[redis][queue]") {
  test::RedisTopology server;
  Queue q(url_of(server), fast_options());
  std::string id = enqueue_one(q, job_of_kind("apply"));
  RunnerTable runners;
  runners["apply"] = [](JobContext& ctx) {
    ctx.log("rendering " + ctx.job().spec.repo);
    ctx.log("done");
    CHECK_FALSE(ctx.superseded());
    return RunOutcome::ok("{\"applied\":1}");
  };
  Worker w(url_of(server), fast_options(), wopts("w1"), runners);
  w.start();
  REQUIRE(wait_until([&] { return state_of(q, id) == "succeeded"; }));
  JobRecord r = must_get(q, id);
  CHECK(r.result == "{\"applied\":1}");
  CHECK(r.attempts == 1);
  CHECK(r.worker == "w1#0");
  CHECK(r.started_ms > 0);
  CHECK(r.finished_ms >= r.started_ms);
  CHECK(r.log == std::vector<std::string>{"rendering org/app", "done"});
  auto done = q.list({.state = "succeeded", .kind = "", .repo = "", .limit = 10});
  REQUIRE(done.ok());
  CHECK(done->size() == 1);
}

TEST_CASE("a failing job retries with backoff, then succeeds", "[redis][queue]") {
  test::RedisTopology server;
  Options opts = fast_options();
  opts.max_attempts = 5;
  opts.backoff_base = 100ms;
  opts.backoff_max = 1000ms;
  Queue q(url_of(server), opts);
  std::string id = enqueue_one(q, job_of_kind("apply"));
  std::mutex mu;
  std::vector<std::chrono::steady_clock::time_point> runs;
  RunnerTable runners;
  runners["apply"] = [&](JobContext& ctx) {
    std::lock_guard lock(mu);
    runs.push_back(std::chrono::steady_clock::now());
    ctx.log("attempt " + std::to_string(ctx.job().attempts));
    if (runs.size() < 3) return RunOutcome::retry_later("forge answered 502");
    return RunOutcome::ok();
  };
  Worker w(url_of(server), opts, wopts("w1"), runners);
  w.start();
  REQUIRE(wait_until([&] { return state_of(q, id) == "succeeded"; }));
  JobRecord r = must_get(q, id);
  CHECK(r.attempts == 3);
  CHECK(r.error == "forge answered 502");  // the last failure stays visible
  CHECK(r.log == std::vector<std::string>{"attempt 1", "attempt 2", "attempt 3"});
  std::lock_guard lock(mu);
  REQUIRE(runs.size() == 3);
  // attempt 1 waits 100 ms +-25 %, attempt 2 200 ms +-25 %.
  CHECK(runs[1] - runs[0] >= 75ms);
  CHECK(runs[2] - runs[1] >= 150ms);
  auto s = q.stats();
  REQUIRE(s.ok());
  CHECK(s->by_state_kind[{"retrying", "apply"}] == 2);
  CHECK(s->by_state_kind[{"active", "apply"}] == 3);
  CHECK(s->by_state_kind[{"succeeded", "apply"}] == 1);
}

TEST_CASE("a job that keeps failing is dead-lettered after max_attempts", "[redis][queue]") {
  test::RedisTopology server;
  Options opts = fast_options();
  opts.max_attempts = 3;
  Queue q(url_of(server), opts);
  std::string id = enqueue_one(q, job_of_kind("apply"));
  std::atomic<int> calls{0};
  RunnerTable runners;
  runners["apply"] = [&](JobContext&) {
    ++calls;
    return RunOutcome::retry_later("cluster unreachable");
  };
  Worker w(url_of(server), opts, wopts("w1"), runners);
  w.start();
  REQUIRE(wait_until([&] { return state_of(q, id) == "dead"; }));
  JobRecord r = must_get(q, id);
  CHECK(r.attempts == 3);
  CHECK(r.error == "cluster unreachable");
  CHECK(calls == 3);
  auto dead = q.list({.state = "dead", .kind = "", .repo = "", .limit = 10});
  REQUIRE(dead.ok());
  REQUIRE(dead->size() == 1);
  CHECK(dead->front().id == id);
  auto s = q.stats();
  REQUIRE(s.ok());
  CHECK(s->dead == 1);
  CHECK(s->by_state_kind[{"dead", "apply"}] == 1);
}

TEST_CASE("a permanent failure is dead-lettered at once", "[redis][queue]") {
  test::RedisTopology server;
  Queue q(url_of(server), fast_options());
  std::string id = enqueue_one(q, job_of_kind("apply"));
  RunnerTable runners;
  runners["apply"] = [](JobContext&) { return RunOutcome::fail("values.yaml:3: not a mapping"); };
  Worker w(url_of(server), fast_options(), wopts("w1"), runners);
  w.start();
  REQUIRE(wait_until([&] { return state_of(q, id) == "dead"; }));
  JobRecord r = must_get(q, id);
  CHECK(r.attempts == 1);
  CHECK(r.error == "values.yaml:3: not a mapping");
}

TEST_CASE("a kind without a runner fails permanently with a clear error", "[redis][queue]") {
  test::RedisTopology server;
  Queue q(url_of(server), fast_options());
  std::string id = enqueue_one(q, job_of_kind("teleport"));
  RunnerTable runners;
  runners["apply"] = [](JobContext&) { return RunOutcome::ok(); };
  Worker w(url_of(server), fast_options(), wopts("w1"), runners);
  w.start();
  REQUIRE(wait_until([&] { return state_of(q, id) == "dead"; }));
  JobRecord r = must_get(q, id);
  CHECK(r.error == "no runner for kind teleport");
  CHECK(r.attempts == 1);
}

TEST_CASE("a runner that throws is retried", "[redis][queue]") {
  test::RedisTopology server;
  Queue q(url_of(server), fast_options());
  std::string id = enqueue_one(q, job_of_kind("apply"));
  std::atomic<int> calls{0};
  RunnerTable runners;
  runners["apply"] = [&](JobContext&) -> RunOutcome {
    if (++calls == 1) throw std::runtime_error("bad_alloc-ish");
    return RunOutcome::ok();
  };
  Worker w(url_of(server), fast_options(), wopts("w1"), runners);
  w.start();
  REQUIRE(wait_until([&] { return state_of(q, id) == "succeeded"; }));
  CHECK(must_get(q, id).attempts == 2);
}

TEST_CASE("an active job superseded by a newer head sees the flag and stays superseded", "[redis][queue]") {
  test::RedisTopology server;
  Queue q(url_of(server), fast_options());
  std::atomic<bool> old_started{false}, old_saw_flag{false};
  RunnerTable runners;
  runners["preview"] = [&](JobContext& ctx) {
    if (ctx.job().spec.head_sha == "old") {
      old_started = true;
      for (int i = 0; i < 500 && !ctx.superseded(); ++i) std::this_thread::sleep_for(10ms);
      old_saw_flag = ctx.superseded();
      return RunOutcome::ok("{\"posted\":true}");  // a runner that ignores the flag: result discarded
    }
    return RunOutcome::ok("{\"head\":\"new\"}");
  };
  Worker w(url_of(server), fast_options(), wopts("w1", 2), runners);
  w.start();
  std::string old_id = enqueue_one(q, preview(5, "old"));
  REQUIRE(wait_until([&] { return old_started.load(); }));
  CHECK(state_of(q, old_id) == "active");
  auto spec = preview(5, "new");
  auto r = q.enqueue(std::span<const core::JobSpec>(&spec, 1), "d-new");
  REQUIRE(r.ok());
  CHECK(r->superseded == std::vector<std::string>{old_id});
  std::string new_id = r->ids.front();
  REQUIRE(wait_until([&] { return state_of(q, new_id) == "succeeded"; }));
  REQUIRE(wait_until([&] { return must_get(q, old_id).finished_ms > 0; }));
  CHECK(old_saw_flag);
  JobRecord old = must_get(q, old_id);
  CHECK(old.state == "superseded");
  CHECK(old.superseded_by == new_id);
  CHECK(old.result.empty());
  auto s = q.stats();
  REQUIRE(s.ok());
  CHECK(s->by_state_kind[{"succeeded", "preview"}] == 1);
  CHECK(s->by_state_kind[{"superseded", "preview"}] == 1);
  CHECK(s->active == 0);
}

TEST_CASE("after a lease expires another worker completes the job - the stale worker is rejected",
          "[redis][queue]") {
  test::RedisTopology server;
  Options opts = fast_options();
  opts.visibility_timeout = 300ms;
  Queue q(url_of(server), opts);
  Redis redis(url_of(server));
  detail::Keys keys(opts.key_prefix);
  std::string id = enqueue_one(q, job_of_kind("apply"));

  // The stale worker: fetches and claims, then stalls (no heartbeat).
  REQUIRE(redis.command({"LMOVE", keys.wait, keys.fetched("stalled#0"), "RIGHT", "LEFT"}).ok());
  auto ck = keys.fixed();
  ck.push_back(keys.fetched("stalled#0"));
  auto args = detail::base_args(keys, opts);
  args.insert(args.end(), {id, "stale-token", "300", "stalled#0"});
  REQUIRE(detail::run_script(redis, detail::ScriptId::claim, ck, args).ok());

  std::atomic<int> runs{0};
  RunnerTable runners;
  runners["apply"] = [&](JobContext&) {
    ++runs;
    return RunOutcome::ok("{\"by\":\"healthy\"}");
  };
  Worker healthy(url_of(server), opts, wopts("healthy"), runners);
  healthy.start();  // its reaper requeues the expired lease, its fetcher runs the job
  REQUIRE(wait_until([&] { return state_of(q, id) == "succeeded"; }));
  CHECK(runs == 1);
  JobRecord r = must_get(q, id);
  CHECK(r.attempts == 2);
  CHECK(r.worker == "healthy#0");

  args = detail::base_args(keys, opts);
  args.insert(args.end(), {id, "stale-token", "{\"by\":\"stale\"}"});
  auto late = detail::run_script(redis, detail::ScriptId::complete, keys.fixed(), args);
  REQUIRE(late.ok());
  CHECK((*late)->integer == 0);
  args = detail::base_args(keys, opts);
  args.insert(args.end(), {id, "stale-token", "oops", "1", "0"});
  auto late_fail = detail::run_script(redis, detail::ScriptId::fail, keys.fixed(), args);
  REQUIRE(late_fail.ok());
  CHECK((*late_fail)->integer == 0);
  r = must_get(q, id);
  CHECK(r.state == "succeeded");
  CHECK(r.result == "{\"by\":\"healthy\"}");
  CHECK(detail::reply_string(redis.command({"HGET", keys.job(id), "completions"})->get()) == "1");
}

TEST_CASE("a long job keeps its lease through heartbeats", "[redis][queue]") {
  test::RedisTopology server;
  Options opts = fast_options();
  opts.visibility_timeout = 300ms;
  Queue q(url_of(server), opts);
  std::string id = enqueue_one(q, job_of_kind("apply"));
  std::atomic<int> runs{0};
  RunnerTable runners;
  runners["apply"] = [&](JobContext&) {
    ++runs;
    std::this_thread::sleep_for(1200ms);  // four visibility timeouts
    return RunOutcome::ok();
  };
  Worker a(url_of(server), opts, wopts("a"), runners);
  Worker b(url_of(server), opts, wopts("b"), runners);  // would take the job if the lease lapsed
  a.start();
  b.start();
  REQUIRE(wait_until([&] { return state_of(q, id) == "succeeded"; }));
  CHECK(runs == 1);
  CHECK(must_get(q, id).attempts == 1);
}

TEST_CASE("stop() is prompt and lets the running job finish", "[redis][queue]") {
  test::RedisTopology server;
  Queue q(url_of(server), fast_options());
  std::atomic<bool> started{false};
  RunnerTable runners;
  runners["apply"] = [&](JobContext&) {
    started = true;
    std::this_thread::sleep_for(300ms);
    return RunOutcome::ok();
  };
  Worker w(url_of(server), fast_options(), wopts("w1", 2), runners);
  w.start();
  std::string id = enqueue_one(q, job_of_kind("apply"));
  REQUIRE(wait_until([&] { return started.load(); }));
  auto t0 = std::chrono::steady_clock::now();
  w.stop();
  w.join();
  CHECK(std::chrono::steady_clock::now() - t0 < 1500ms);
  CHECK(state_of(q, id) == "succeeded");
  // Stopped: a new job stays queued, and the worker deregistered itself.
  std::string later = enqueue_one(q, job_of_kind("apply"));
  std::this_thread::sleep_for(100ms);
  CHECK(state_of(q, later) == "queued");
  Redis redis(url_of(server));
  CHECK(redis.command({"ZCARD", "{t}:workers"}).value()->integer == 0);
}

TEST_CASE("stats keep per-state counts and a duration histogram", "[redis][queue]") {
  test::RedisTopology server;
  Queue q(url_of(server), fast_options());
  for (int i = 0; i < 5; ++i) enqueue_one(q, job_of_kind("apply"));
  for (int i = 0; i < 2; ++i) enqueue_one(q, job_of_kind("broken"));
  RunnerTable runners;
  runners["apply"] = [](JobContext&) {
    std::this_thread::sleep_for(120ms);
    return RunOutcome::ok();
  };
  runners["broken"] = [](JobContext&) { return RunOutcome::fail("nope"); };
  Worker w(url_of(server), fast_options(), wopts("w1", 3), runners);
  w.start();
  REQUIRE(wait_until([&] {
    auto s = q.stats();
    return s.ok() && s->by_state_kind[{"succeeded", "apply"}] == 5 &&
           s->by_state_kind[{"dead", "broken"}] == 2;
  }));
  auto s = q.stats();
  REQUIRE(s.ok());
  CHECK(s->by_state_kind[{"queued", "apply"}] == 5);
  CHECK(s->by_state_kind[{"active", "apply"}] == 5);
  CHECK(s->waiting == 0);
  CHECK(s->active == 0);
  CHECK(s->delayed == 0);
  CHECK(s->dead == 2);
  REQUIRE(s->duration_buckets_s.size() == 10);
  CHECK(s->duration_buckets_s.front() == Approx(0.1));
  CHECK(s->duration_buckets_s.back() == Approx(300));
  REQUIRE(s->duration_counts.size() == 11);
  CHECK(s->duration_count == 7);
  CHECK(s->duration_counts.back() == 7);
  CHECK(s->duration_counts[0] == 2);  // the two instant failures
  CHECK(s->duration_counts[1] == 7);  // the 120 ms runs land under 0.5 s
  CHECK(s->duration_sum_s >= 0.5);
}

}  // namespace
}  // namespace helmgate::queue::testing
