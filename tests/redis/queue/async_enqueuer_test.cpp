// AsyncEnqueuer: many producer threads, pipelined batches, and Redis going away.
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <mutex>
#include <set>
#include <thread>

#include "fixture.hpp"

namespace helmgate::queue::testing {
namespace {

struct Tally {
  std::atomic<int> ok{0}, duplicate{0}, unavailable{0}, other{0};
  std::mutex mu;
  std::set<std::string> ids;
  std::string last_error;
  int total() const { return ok + duplicate + unavailable + other; }

  AsyncEnqueuer::Done callback() {
    return [this](core::Result<EnqueueOutcome> r) {
      if (!r.ok()) {
        std::lock_guard lock(mu);
        last_error = r.error().message;
        if (r.error().code == core::make_error_code(core::errc::unavailable))
          ++unavailable;
        else
          ++other;
        return;
      }
      if (r->duplicate) {
        ++duplicate;
        return;
      }
      std::lock_guard lock(mu);
      for (auto& id : r->ids) ids.insert(id);
      ++ok;
    };
  }
};

TEST_CASE("AsyncEnqueuer takes enqueues from many threads, pipelined", "[redis][queue]") {
  test::RedisTopology server;
  constexpr int thread_count = 4, per_thread = 5000, dup_every = 10;
  Tally tally;
  auto t0 = std::chrono::steady_clock::now();
  {
    AsyncEnqueuer enq(url_of(server), fast_options());
    std::vector<std::thread> producers;
    for (int t = 0; t < thread_count; ++t) {
      producers.emplace_back([&, t] {
        for (int i = 0; i < per_thread; ++i) {
          std::string delivery = "d-" + std::to_string(t) + "-" + std::to_string(i);
          auto spec = preview(t * per_thread + i + 1, "sha" + std::to_string(i));
          spec.delivery_id = delivery;
          enq.enqueue({spec}, delivery, tally.callback());
          // A forge redelivery of an earlier webhook.
          if (i % dup_every == 0) enq.enqueue({spec}, delivery, tally.callback());
        }
      });
    }
    for (auto& p : producers) p.join();
    REQUIRE(
        wait_until([&] { return tally.total() == thread_count * (per_thread + per_thread / dup_every); }, 60s));
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  int enqueues = thread_count * (per_thread + per_thread / dup_every);
  std::fprintf(stderr, "AsyncEnqueuer: %d enqueues from %d threads in %.3f s = %.0f/s\n", enqueues, thread_count,
               secs, enqueues / secs);
  INFO(tally.last_error);
  CHECK(tally.unavailable == 0);
  CHECK(tally.other == 0);
  CHECK(tally.ok == thread_count * per_thread);
  CHECK(tally.duplicate == thread_count * per_thread / dup_every);
  CHECK(tally.ids.size() == static_cast<size_t>(thread_count * per_thread));

  Queue q(url_of(server), fast_options());
  auto s = q.stats();
  REQUIRE(s.ok());
  CHECK(s->waiting == thread_count * per_thread);
  CHECK(s->by_state_kind[{"queued", "preview"}] == thread_count * per_thread);
  // Loose bound: the machine is shared; the measured rate is printed above.
  CHECK(enqueues / secs > 2000);
}

TEST_CASE("AsyncEnqueuer answers every callback with unavailable while Redis is down, then recovers",
          "[redis][queue]") {
  test::RedisTopology server;
  AsyncEnqueuer enq(url_of(server), fast_options());
  {
    Tally warmup;
    enq.enqueue({job_of_kind("apply")}, "warm", warmup.callback());
    REQUIRE(wait_until([&] { return warmup.total() == 1; }));
    REQUIRE(warmup.ok == 1);
  }
  server.kill();
  Tally tally;
  constexpr int thread_count = 3, per_thread = 400;
  std::vector<std::thread> producers;
  for (int t = 0; t < thread_count; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        enq.enqueue({job_of_kind("apply")}, "down-" + std::to_string(t) + "-" + std::to_string(i),
                    tally.callback());
      }
    });
  }
  for (auto& p : producers) p.join();
  REQUIRE(wait_until([&] { return tally.total() == thread_count * per_thread; }, 30s));
  CHECK(tally.unavailable == thread_count * per_thread);
  CHECK(tally.ok == 0);
  CHECK(tally.last_error.find("Redis") != std::string::npos);

  server.start();
  Tally after;
  enq.enqueue({job_of_kind("apply")}, "after", after.callback());
  REQUIRE(wait_until([&] { return after.total() == 1; }));
  CHECK(after.ok == 1);
}

TEST_CASE("AsyncEnqueuer's destructor answers everything still pending", "[redis][queue]") {
  test::RedisTopology server;
  Tally tally;
  {
    AsyncEnqueuer enq(url_of(server), fast_options());
    for (int i = 0; i < 3000; ++i)
      enq.enqueue({job_of_kind("apply")}, "p-" + std::to_string(i), tally.callback());
  }
  CHECK(tally.total() == 3000);
  CHECK(tally.ok == 3000);
}

TEST_CASE("AsyncEnqueuer rejects a job without a kind without touching the others", "[redis][queue]") {
  test::RedisTopology server;
  Tally tally;
  {
    AsyncEnqueuer enq(url_of(server), fast_options());
    enq.enqueue({core::JobSpec{}}, "bad", tally.callback());
    enq.enqueue({job_of_kind("apply")}, "good", tally.callback());
  }
  CHECK(tally.other == 1);
  CHECK(tally.ok == 1);
}

}  // namespace
}  // namespace helmgate::queue::testing
