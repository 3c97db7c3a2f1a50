// AsyncEnqueuer: many producer threads, pipelined batches, and Redis going away.
#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>
#include <cstdio>
#include <mutex>
#include <set>
#include <thread>

#include "fixture.hpp"
#include "queue/redis.hpp"

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

// The commandstats line "cmdstat_<name>:calls=N,..." of the node serving the queue's keys.
int64_t script_calls(Redis& r, const std::string& name) {
  auto info = r.command({"INFO", "commandstats"});
  REQUIRE(info.ok());
  const redisReply* reply = info->get();
  REQUIRE(reply->type == REDIS_REPLY_STRING);  // INFO answers one bulk string (RESP2)
  std::string text(reply->str, reply->len);
  std::string key = "cmdstat_" + name + ":calls=";
  size_t at = text.find(key);
  if (at == std::string::npos) return 0;
  return std::stoll(text.substr(at + key.size()));
}

TEST_CASE("AsyncEnqueuer sends a batch in one script call, each delivery handled as if alone",
          "[redis][queue]") {
  test::RedisTopology server;
  Redis admin(url_of(server));
  struct Outcome {
    bool ok = false, duplicate = false;
    std::vector<std::string> ids, superseded;
    std::string error;
  };
  constexpr int n = 60;
  std::vector<Outcome> outcomes;
  std::vector<int> original;  // for each outcome, the index of the first delivery with its id
  std::vector<Outcome> applies;  // the same for the pushes between them
  std::vector<int> apply_original;
  std::atomic<int> answered{0};
  {
    AsyncEnqueuer enq(url_of(server), fast_options());
    Tally warm;
    enq.enqueue({job_of_kind("apply", "org/other")}, "warm", warm.callback());
    REQUIRE(wait_until([&] { return warm.total() == 1; }));
    REQUIRE(warm.ok == 1);
    REQUIRE(admin.command({"CONFIG", "RESETSTAT"}).ok());
    // Writes (scripts included) wait 300 ms: the first call holds the enqueuer, and every delivery
    // after it queues up for the next one.
    REQUIRE(admin.command({"CLIENT", "PAUSE", "300", "WRITE"}).ok());
    outcomes.resize(n + n / 10);
    applies.resize(n + (n + 3) / 7);
    auto record_in = [&](std::vector<Outcome>& into, size_t slot) {
      return [&, slot](core::Result<EnqueueOutcome> r) {
        auto& o = into[slot];
        if (r.ok()) {
          o.ok = true;
          o.duplicate = r->duplicate;
          o.ids = r->ids;
          o.superseded = r->superseded;
        } else {
          o.error = r.error().message;
        }
        ++answered;
      };
    };
    auto record = [&](size_t slot) { return record_in(outcomes, slot); };
    auto record_apply = [&](size_t slot) { return record_in(applies, slot); };
    for (int i = 0; i < n; ++i) {
      // One PR, a new head each time: each preview supersedes the one before it.
      auto spec = preview(7, "sha" + std::to_string(i));
      std::string delivery = "b-" + std::to_string(i);
      original.push_back(static_cast<int>(original.size()));
      enq.enqueue({spec}, delivery, record(original.size() - 1));
      if (i % 10 == 0) {  // the forge redelivers it, within the same batch
        original.push_back(original.back());
        enq.enqueue({spec}, delivery, record(original.size() - 1));
      }
      // Between them, pushes (apply jobs: no coalescing), one in seven delivered twice.
      std::string push = "p-" + std::to_string(i);
      apply_original.push_back(static_cast<int>(apply_original.size()));
      enq.enqueue({job_of_kind("apply", "org/r")}, push, record_apply(apply_original.size() - 1));
      if (i % 7 == 3) {
        apply_original.push_back(apply_original.back());
        enq.enqueue({job_of_kind("apply", "org/r")}, push, record_apply(apply_original.size() - 1));
      }
    }
    REQUIRE(wait_until([&] { return answered == static_cast<int>(outcomes.size() + applies.size()); }, 30s));
  }
  std::set<std::string> apply_ids;
  for (size_t k = 0; k < applies.size(); ++k) {
    const auto& o = applies[k];
    INFO("push " << k << ": " << o.error);
    REQUIRE(o.ok);
    REQUIRE(o.ids.size() == 1);
    CHECK(o.superseded.empty());
    CHECK(o.duplicate == (static_cast<int>(k) != apply_original[k]));
    if (o.duplicate) {
      CHECK(o.ids == applies[apply_original[k]].ids);
    } else {
      CHECK(apply_ids.insert(o.ids.front()).second);
    }
  }
  CHECK(apply_ids.size() == static_cast<size_t>(n));
  std::vector<std::string> chain;  // ids of the non-duplicate deliveries, in order
  for (size_t k = 0; k < outcomes.size(); ++k) {
    const auto& o = outcomes[k];
    INFO("delivery " << k << ": " << o.error);
    REQUIRE(o.ok);
    REQUIRE(o.ids.size() == 1);
    if (static_cast<int>(k) != original[k]) {
      CHECK(o.duplicate);
      CHECK(o.ids == outcomes[original[k]].ids);
      continue;
    }
    CHECK_FALSE(o.duplicate);
    if (chain.empty()) {
      CHECK(o.superseded.empty());
    } else {
      CHECK(o.superseded == std::vector<std::string>{chain.back()});
    }
    chain.push_back(o.ids.front());
  }
  CHECK(std::set<std::string>(chain.begin(), chain.end()).size() == static_cast<size_t>(n));
  // 66 deliveries, but only the one call held by the pause and one for the rest (a third at most,
  // should the enqueuer have taken a delivery before the others were all queued).
  CHECK(script_calls(admin, "evalsha") <= 3);
  // The wait list, the index, the sequence and the counters are written once per call, not per job.
  CHECK(script_calls(admin, "lpush") <= 3);
  CHECK(script_calls(admin, "zadd") <= 3 + (n - 1));  // plus one per superseded preview (its expiry)
  CHECK(script_calls(admin, "incr") == 0);
  // Workers take from the right: the jobs are there in the order they were created.
  auto waiting = admin.command({"LRANGE", "{" + fast_options().key_prefix + "}:wait", "0", "-1"});
  REQUIRE(waiting.ok());
  std::vector<long> order;
  for (size_t i = 0; i < (*waiting)->elements; ++i) order.push_back(std::stol((*waiting)->element[i]->str));
  CHECK(order.size() == static_cast<size_t>(n + 2));
  CHECK(std::is_sorted(order.rbegin(), order.rend()));
  auto seq = admin.command({"GET", "{" + fast_options().key_prefix + "}:seq"});
  REQUIRE(seq.ok());
  CHECK(std::stol((*seq)->str) == order.front());

  Queue q(url_of(server), fast_options());
  auto s = q.stats();
  REQUIRE(s.ok());
  CHECK(s->waiting == 2 + n);  // the warm-up apply, the pushes and the newest preview
  CHECK(s->by_state_kind[{"queued", "apply"}] == n + 1);
  CHECK(s->by_state_kind[{"superseded", "preview"}] == n - 1);
  auto newest = q.get(chain.back(), false);
  REQUIRE(newest.ok());
  REQUIRE(newest->has_value());
  CHECK((*newest)->state == "queued");
  auto first = q.get(chain.front(), false);
  REQUIRE(first.ok());
  REQUIRE(first->has_value());
  CHECK((*first)->state == "superseded");
  CHECK((*first)->superseded_by == chain[1]);
  CHECK((*first)->finished_ms > 0);  // a queued job superseded is finished (expires with the retention)
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

// An I/O thread as the HTTP server runs one: an io_context run by one thread, enqueuing on it.
struct IoThread {
  boost::asio::io_context io{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard = boost::asio::make_work_guard(io);
  std::thread thread{[this] { io.run(); }};
  std::thread::id id = thread.get_id();
  ~IoThread() { stop(); }
  void stop() {
    guard.reset();
    if (thread.joinable()) thread.join();
  }
};

// Enqueues from the I/O thread (as a request handler does) and counts the answers given on it.
struct OnIo {
  OnIo(AsyncEnqueuer& e, IoThread& t) : enq(e), io(t) {}
  AsyncEnqueuer& enq;
  IoThread& io;
  Tally tally;
  std::atomic<int> on_io_thread{0};

  void enqueue(core::JobSpec spec, std::string delivery) {
    boost::asio::post(io.io, [this, spec = std::move(spec), delivery = std::move(delivery)] {
      auto inner = tally.callback();
      enq.enqueue({spec}, delivery,
                  [this, inner](core::Result<EnqueueOutcome> r) {
                    if (std::this_thread::get_id() == io.id) ++on_io_thread;
                    inner(std::move(r));
                  },
                  &io.io);
    });
  }
  // Until an answer comes on the I/O thread: its own connection is open.
  bool wait_for_own_connection() {
    for (int i = 0; i < 500 && on_io_thread == 0; ++i) {
      int before = tally.total();
      enqueue(job_of_kind("apply"), "probe-" + std::to_string(i) + "-" + std::to_string(before));
      wait_until([&] { return tally.total() > before; });
      if (on_io_thread == 0) std::this_thread::sleep_for(20ms);
    }
    return on_io_thread > 0;
  }
};

TEST_CASE("AsyncEnqueuer on an I/O thread enqueues on that thread's own connection, batched, answered there",
          "[redis][queue]") {
  test::RedisTopology server;
  Redis admin(url_of(server));
  IoThread io;
  AsyncEnqueuer enq(url_of(server), fast_options());
  OnIo on(enq, io);
  // The first enqueues take the background thread's path while the connection is being opened.
  REQUIRE(on.wait_for_own_connection());
  const int probes = on.tally.total();
  REQUIRE(on.tally.ok == probes);

  REQUIRE(admin.command({"CONFIG", "RESETSTAT"}).ok());
  Tally& tally = on.tally;
  constexpr int n = 2000, dup_every = 10;
  on.on_io_thread = 0;
  // All posted in one handler: they reach the lane in one turn of its loop.
  std::vector<std::pair<core::JobSpec, std::string>> burst;
  for (int i = 0; i < n; ++i) {
    std::string delivery = "io-" + std::to_string(i);
    burst.emplace_back(preview(i + 1, "sha" + std::to_string(i)), delivery);
    if (i % dup_every == 0) burst.emplace_back(burst.back());  // a redelivery, in the same batch or the next
  }
  boost::asio::post(io.io, [&] {
    for (auto& [spec, delivery] : burst) {
      on.enqueue(spec, delivery);
    }
  });
  REQUIRE(wait_until([&] { return tally.total() == probes + static_cast<int>(burst.size()); }, 60s));
  INFO(tally.last_error);
  CHECK(tally.unavailable == 0);
  CHECK(tally.other == 0);
  CHECK(tally.ok == probes + n);
  CHECK(tally.duplicate == n / dup_every);
  CHECK(tally.ids.size() == static_cast<size_t>(probes + n));
  // Every answer came on the I/O thread: none took the background thread's path.
  CHECK(on.on_io_thread == static_cast<int>(burst.size()));
  // Batched: 2,200 deliveries in calls of up to 128, not one call each.
  CHECK(script_calls(admin, "evalsha") <= 40);
  const auto counts = enq.counts();
  CHECK(counts.io_deliveries >= burst.size());
  CHECK(counts.io_calls <= counts.io_deliveries / 16);
  CHECK(counts.background_deliveries + counts.io_deliveries >= static_cast<uint64_t>(probes) + burst.size());
  io.stop();

  Queue q(url_of(server), fast_options());
  auto s = q.stats();
  REQUIRE(s.ok());
  CHECK(s->by_state_kind[{"queued", "preview"}] == n);
  CHECK(s->waiting == probes + n);
}

TEST_CASE("AsyncEnqueuer on an I/O thread answers unavailable while Redis is down and reconnects after it",
          "[redis][queue]") {
  test::RedisTopology server;
  IoThread io;
  AsyncEnqueuer enq(url_of(server), fast_options());
  OnIo on(enq, io);
  REQUIRE(on.wait_for_own_connection());
  const int before = on.tally.total();

  server.kill();
  for (int i = 0; i < 200; ++i) on.enqueue(job_of_kind("apply"), "down-" + std::to_string(i));
  REQUIRE(wait_until([&] { return on.tally.total() == before + 200; }, 60s));
  CHECK(on.tally.unavailable == 200);
  CHECK(on.tally.last_error.find("Redis") != std::string::npos);

  // Back (scripts flushed on a single server: the lane meets NOSCRIPT and the background path loads it).
  server.start();
  on.on_io_thread = 0;
  REQUIRE(on.wait_for_own_connection());
  const int after = on.tally.total(), ok_after = on.tally.ok;
  for (int i = 0; i < 300; ++i) on.enqueue(job_of_kind("apply"), "back-" + std::to_string(i));
  REQUIRE(wait_until([&] { return on.tally.total() == after + 300; }, 60s));
  INFO(on.tally.last_error);
  CHECK(on.tally.ok == ok_after + 300);
  CHECK(on.on_io_thread > 300);
  io.stop();
}

TEST_CASE("AsyncEnqueuer on an I/O thread follows a Sentinel failover, replicated", "[redis][queue][once]") {
  test::RedisTopology st(test::Topology::sentinel);
  Options opts = fast_options("fo");
  opts.durability = Options::Durability::replicated;
  IoThread io;
  AsyncEnqueuer enq(url_of(st, "fo"), opts);
  OnIo on(enq, io);
  REQUIRE(on.wait_for_own_connection());
  const int first = st.primary().port();
  st.failover();
  REQUIRE(st.primary().port() != first);
  // The old primary is a replica now (READONLY) or the sentinels closed the connection: the lane hands
  // over and asks for a connection to the new primary; nothing acknowledged is on the old one only.
  on.on_io_thread = 0;
  REQUIRE(on.wait_for_own_connection());
  const int total = on.tally.total();
  for (int i = 0; i < 100; ++i) on.enqueue(job_of_kind("apply"), "after-" + std::to_string(i));
  REQUIRE(wait_until([&] { return on.tally.total() == total + 100; }, 60s));
  io.stop();
  Queue q(url_of(st, "fo"), opts);
  CHECK(on.tally.ok >= 100);
  for (const auto& id : on.tally.ids) {
    INFO("job " << id);
    CHECK(must_get(q, id).state == "queued");
  }
}

}  // namespace
}  // namespace helmgate::queue::testing
