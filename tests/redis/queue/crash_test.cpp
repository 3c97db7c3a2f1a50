// The queue's acceptance tests: workers SIGKILLed mid-run and Redis restarted lose nothing and
// record no job as completed twice.
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>

#include "fixture.hpp"
#include "queue/internal.hpp"
#include "support/child_process.hpp"

namespace helmgate::queue::testing {
namespace {

int64_t integer(Redis& r, const std::vector<std::string>& cmd) {
  auto rep = r.command(cmd);
  REQUIRE(rep.ok());
  return (*rep)->type == REDIS_REPLY_INTEGER ? (*rep)->integer
                                             : std::stoll("0" + detail::reply_string(rep->get()));
}

// Every id 1..n: state and how many times the completion script recorded it.
void check_all_succeeded_once(Redis& redis, const detail::Keys& keys, int n) {
  std::vector<std::vector<std::string>> cmds;
  for (int i = 1; i <= n; ++i) cmds.push_back({"HMGET", keys.job(std::to_string(i)), "state", "completions"});
  auto replies = redis.pipeline(cmds);
  REQUIRE(replies.ok());
  int not_succeeded = 0, not_once = 0;
  std::string example;
  for (int i = 0; i < n; ++i) {
    const redisReply* r = (*replies)[static_cast<size_t>(i)].get();
    std::string state = detail::reply_string(r->element[0]);
    std::string completions = detail::reply_string(r->element[1]);
    if (state != "succeeded") {
      ++not_succeeded;
      if (example.empty()) example = "job " + std::to_string(i + 1) + " is " + state;
    }
    if (completions != "1") {
      ++not_once;
      if (example.empty()) example = "job " + std::to_string(i + 1) + " completed " + completions + " times";
    }
  }
  INFO(example);
  CHECK(not_succeeded == 0);
  CHECK(not_once == 0);
}

TEST_CASE("10000 jobs survive SIGKILLed workers - none lost, none completed twice", "[redis][queue][crash]") {
  test::RedisTopology server;
  Options opts = fast_options("crash");
  opts.visibility_timeout = 2000ms;
  opts.worker_timeout = 2000ms;
  constexpr int job_count = 10000;
  Queue q(url_of(server), opts);
  Redis redis(url_of(server, opts.key_prefix));
  detail::Keys keys(opts.key_prefix);

  std::vector<core::JobSpec> batch(500, job_of_kind("crash"));
  for (int i = 0; i < job_count / 500; ++i) REQUIRE(q.enqueue(batch, {}).ok());
  REQUIRE(integer(redis, {"LLEN", keys.wait}) == job_count);

  int spawned = 0;
  auto spawn = [&] {
    std::string id = "cw-" + std::to_string(spawned++);
    return test::ChildProcess(
        {QUEUE_CRASH_WORKER, server.url(), opts.key_prefix, "2",
         std::to_string(opts.visibility_timeout.count()), std::to_string(opts.worker_timeout.count()), id},
        server.dir() + "/" + id + ".log");
  };
  auto t0 = std::chrono::steady_clock::now();
  std::vector<test::ChildProcess> workers;
  for (int i = 0; i < 4; ++i) workers.push_back(spawn());

  auto done = [&] { return integer(redis, {"SCARD", "{crash}:done"}); };
  REQUIRE(wait_until([&] { return done() >= 2500; }, 60s));
  int64_t active_at_kill = integer(redis, {"ZCARD", keys.leases});
  workers[0].kill(SIGKILL);
  workers[1].kill(SIGKILL);
  workers[0] = spawn();
  workers[1] = spawn();
  REQUIRE(wait_until([&] { return done() >= 6000; }, 60s));
  workers[2].kill(SIGKILL);
  workers[2] = spawn();

  auto succeeded = [&] {
    auto s = q.stats();
    return s.ok() ? s->by_state_kind[{"succeeded", "crash"}] : -1;
  };
  bool finished = wait_until([&] { return succeeded() >= job_count; }, 90s);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  INFO("succeeded " << succeeded() << " of " << job_count);
  REQUIRE(finished);

  for (auto& w : workers) CHECK(WEXITSTATUS(w.terminate()) == 0);

  auto s = q.stats();
  REQUIRE(s.ok());
  CHECK(s->by_state_kind[{"succeeded", "crash"}] == job_count);  // the completion transition ran exactly n times
  CHECK(s->by_state_kind.count({"dead", "crash"}) == 0);
  CHECK(s->waiting == 0);
  CHECK(s->active == 0);
  CHECK(s->delayed == 0);
  CHECK(s->dead == 0);
  CHECK(s->duration_count == job_count);
  CHECK(integer(redis, {"SCARD", "{crash}:done"}) == job_count);
  check_all_succeeded_once(redis, keys, job_count);

  std::vector<std::vector<std::string>> cmds;
  for (int i = 1; i <= job_count; ++i) cmds.push_back({"GET", "{crash}:runs:" + std::to_string(i)});
  auto runs = redis.pipeline(cmds);
  REQUIRE(runs.ok());
  int64_t executions = 0;
  for (const auto& r : *runs) executions += std::stoll(detail::reply_string(r.get()));
  std::fprintf(
      stderr,
      "crash test: %d jobs, 3 workers SIGKILLed (%lld leases held at the first kill), done in %.1f s; "
      "%lld executions (%lld re-run after a kill), %lld lease requeues counted\n",
      job_count, static_cast<long long>(active_at_kill), secs, static_cast<long long>(executions),
      static_cast<long long>(executions - job_count),
      static_cast<long long>(s->by_state_kind[{"queued", "crash"}] - job_count));
  CHECK(executions >= job_count);
}

TEST_CASE("jobs survive Redis restarts before and during processing", "[redis][queue][crash]") {
  test::RedisTopology server;
  Options opts = fast_options("restart");
  constexpr int job_count = 2000;
  Queue q(url_of(server), opts);
  Redis redis(url_of(server, opts.key_prefix));
  detail::Keys keys(opts.key_prefix);
  std::vector<core::JobSpec> batch(500, job_of_kind("restart"));
  for (int i = 0; i < job_count / 500; ++i) REQUIRE(q.enqueue(batch, {}).ok());

  server.stop();  // SIGTERM: Redis fsyncs the AOF
  server.start();
  CHECK(integer(redis, {"LLEN", keys.wait}) == job_count);
  CHECK(state_of(q, std::to_string(job_count)) == "queued");

  const RedisUrl url = url_of(server, opts.key_prefix);
  RunnerTable runners;
  runners["restart"] = [url](JobContext& ctx) {
    Redis r(url, 1000ms);
    auto rep = r.pipeline({{"SADD", "{restart}:done", ctx.job().id}});
    if (!rep) return RunOutcome::retry_later(rep.error().message);
    return RunOutcome::ok();
  };
  Worker worker(url, opts, WorkerOptions{"rw", 4}, runners);
  worker.start();
  REQUIRE(wait_until([&] { return integer(redis, {"SCARD", "{restart}:done"}) >= job_count / 4; }, 60s));
  server.stop();
  server.start();
  bool finished = wait_until(
      [&] {
        auto s = q.stats();
        return s.ok() && s->by_state_kind[{"succeeded", "restart"}] >= job_count;
      },
      60s);
  if (!finished) {
    for (int i = 1; i <= job_count; ++i) {
      auto j = q.get(std::to_string(i), false);
      if (j.ok() && j->has_value() && (*j)->state != "succeeded") {
        UNSCOPED_INFO("job " << i << " is " << (*j)->state << " (attempts " << (*j)->attempts
                             << ", error: " << (*j)->error << ")");
      }
    }
  }
  REQUIRE(finished);
  worker.stop();
  worker.join();
  CHECK(integer(redis, {"SCARD", "{restart}:done"}) == job_count);
  check_all_succeeded_once(redis, keys, job_count);
  auto s = q.stats();
  REQUIRE(s.ok());
  CHECK(s->by_state_kind[{"succeeded", "restart"}] == job_count);
  CHECK(s->waiting == 0);
  CHECK(s->active == 0);
}

}  // namespace
}  // namespace helmgate::queue::testing
