#pragma once
// The durable job queue on Redis. Every state transition is one Lua script; all keys share one hash
// tag ("{<prefix>}") so the scripts also run on Redis Cluster. Delivery is at-least-once: a job is
// leased to a worker for a visibility timeout that the worker's heartbeat renews; a reaper requeues
// jobs whose lease expired (dead worker). Completion is accepted only from the current lease holder
// (by lease token), so a job is never recorded completed twice.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/job.hpp"
#include "queue/redis.hpp"

namespace boost::asio {
class io_context;
}

namespace helmgate::queue {

struct Options {
  std::string key_prefix = "helmgate";                   // keys: "{helmgate}:..."
  std::chrono::milliseconds visibility_timeout{60'000};  // lease length; heartbeat renews at 1/3
  int max_attempts = 5;                                  // then dead-lettered
  std::chrono::milliseconds backoff_base{2'000};         // attempt n waits base*2^(n-1) +- jitter
  std::chrono::milliseconds backoff_max{300'000};
  std::chrono::seconds retention{7 * 24 * 3600};     // finished job records kept this long
  std::chrono::seconds dedupe_ttl{72 * 3600};        // delivery ids remembered this long
  std::chrono::milliseconds worker_timeout{30'000};  // a worker silent this long is dead
  // local: an enqueue is acknowledged once the primary has it (AOF everysec: a host crash can lose
  // the last second). replicated: also only once a replica has it (WAIT 1 replica_timeout); when
  // none acknowledges in time the enqueue fails with errc::unavailable (the webhook answers 503 and
  // the sender delivers again; the job may still be on the primary, and the redelivery then finds
  // it by its delivery id).
  enum class Durability { local, replicated };
  Durability durability = Durability::local;
  std::chrono::milliseconds replica_timeout{1000};
};

struct JobRecord {
  std::string id;
  core::JobSpec spec;
  std::string state;  // core::state::*
  int attempts = 0;
  int max_attempts = 0;
  int64_t created_ms = 0, updated_ms = 0, started_ms = 0, finished_ms = 0, next_run_ms = 0;
  std::string worker;  // fetcher that ran the last attempt: "<worker_id>#<thread>"
  std::string result;  // JSON text set by the runner on success (may be empty)
  std::string error;   // last error message
  std::string replay_of;
  std::string superseded_by;
  std::vector<std::string> log;  // log lines, oldest first (only when requested)
};

struct EnqueueOutcome {
  std::vector<std::string> ids;         // one per spec, in order (the original ids on a duplicate)
  bool duplicate = false;               // the dedupe id was seen before: nothing enqueued
  std::vector<std::string> superseded;  // older jobs this enqueue superseded (coalescing)
};

struct ListFilter {
  std::string state, kind, repo;  // empty = any
  size_t limit = 50;
};

struct Stats {
  // (state, kind) -> how many times a job entered that state since the queue's keys were created:
  // monotonic counters (Prometheus helmgate_jobs_total{state,kind}). "succeeded" is written only
  // by the completion script, so it counts completions exactly.
  std::map<std::pair<std::string, std::string>, int64_t> by_state_kind;
  int64_t waiting = 0, delayed = 0, active = 0, dead = 0;
  // Run time of every finished attempt (claim to complete/fail), as a Prometheus histogram.
  std::vector<double> duration_buckets_s;  // upper bounds, ascending (+Inf implied)
  std::vector<int64_t> duration_counts;    // cumulative counts per bucket, then +Inf
  double duration_sum_s = 0;
  int64_t duration_count = 0;
};

// Synchronous facade on one connection. Not thread-safe: one per thread.
class Queue {
 public:
  Queue(RedisUrl url, Options opts);
  ~Queue();
  Queue(Queue&&) noexcept;
  Queue& operator=(Queue&&) noexcept;

  // Atomically: if dedupe_id (non-empty) was seen, returns the original ids with duplicate=true.
  // Otherwise stores every job, pushes it to the wait list, applies coalescing (a job with the same
  // coalesce_key that is queued/retrying/active is marked superseded, unless it has the same
  // head_sha and is still queued, in which case that job's id is returned instead of a new one),
  // and records the dedupe id. Returns only after Redis has accepted the write.
  core::Result<EnqueueOutcome> enqueue(std::span<const core::JobSpec> jobs, std::string_view dedupe_id);

  core::Result<std::optional<JobRecord>> get(std::string_view id, bool with_log = true);
  core::Result<std::vector<JobRecord>> list(const ListFilter& filter);  // newest first
  // New job with the same spec and replay_of = id. errc::not_found if the job is unknown (or expired),
  // errc::conflict while it is still queued/active/retrying.
  core::Result<std::string> replay(std::string_view id);
  core::Result<Stats> stats();
  core::Result<void> ping();

  // Reaper duties, safe to run from any number of processes concurrently: requeue jobs whose lease
  // expired (counting the attempt; dead-letter when attempts are exhausted), move due retries back
  // to the wait list, return jobs fetched by dead workers but never claimed, drop expired records
  // from the indexes. Returns how many jobs were moved.
  core::Result<int64_t> reap();

  const Options& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Enqueue from many threads without blocking them. errc::unavailable when Redis cannot take the job.
// Without an io_context, a background thread pipelines the pending enqueues on its own connection and
// calls `done` on that thread (callers post back to their own executor). With the io_context the caller
// runs on (one run by a single thread, such as an HTTP server's I/O thread), the enqueue goes out on that
// thread's own connection, batched with the others of the same turn of its loop, and `done` runs on that
// thread; until that connection is open, and whenever it cannot serve (Redis restarted, a failover, a
// slot moved), the background thread's path serves instead.
class AsyncEnqueuer {
 public:
  using Done = std::function<void(core::Result<EnqueueOutcome>)>;
  AsyncEnqueuer(RedisUrl url, Options opts);
  // Finishes what is pending on the background thread, then stops. The io_contexts given to enqueue
  // must outlive the enqueuer and no longer run when it is destroyed (what their connections still hold
  // is then answered unavailable).
  ~AsyncEnqueuer();
  void enqueue(std::vector<core::JobSpec> jobs, std::string dedupe_id, Done done,
               boost::asio::io_context* io = nullptr);

  // Script calls sent (a call sent again after NOSCRIPT counts twice) and the deliveries they carried
  // (once; a delivery an I/O thread's connection handed over counts on both), by connection: the I/O
  // threads' own, or the background thread's. Deliveries over calls is the batch size; the background
  // path serving steadily means the I/O threads cannot keep their connections.
  struct Counts {
    uint64_t io_calls = 0, io_deliveries = 0, background_calls = 0, background_deliveries = 0;
  };
  Counts counts() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// What a runner sees while it runs a job.
class JobContext {
 public:
  virtual ~JobContext() = default;
  virtual const JobRecord& job() const = 0;
  virtual void log(std::string_view line) = 0;  // appended to the job's log (secrets must be redacted first)
  // True once a newer job superseded this one: the runner must stop and post nothing.
  virtual bool superseded() const = 0;
};

struct RunOutcome {
  // superseded: the runner found its work already overtaken (a newer commit applied everywhere); the job
  // ends in the terminal state 'superseded' with its result, like one superseded by coalescing.
  enum class Status { succeeded, retry, permanent_failure, superseded };
  Status status = Status::succeeded;
  std::string result;  // JSON on success
  std::string error;   // reason on failure

  static RunOutcome ok(std::string result_json = {}) {
    return {Status::succeeded, std::move(result_json), {}};
  }
  static RunOutcome retry_later(std::string why) { return {Status::retry, {}, std::move(why)}; }
  static RunOutcome fail(std::string why) { return {Status::permanent_failure, {}, std::move(why)}; }
  static RunOutcome superseded(std::string result_json = {}) { return {Status::superseded, std::move(result_json), {}}; }
};

using Runner = std::function<RunOutcome(JobContext&)>;
using RunnerTable = std::map<std::string, Runner, std::less<>>;  // by job kind

struct WorkerOptions {
  std::string worker_id;  // unique per worker loop; default "<host>:<pid>:<n>"
  int concurrency = 1;    // jobs run at once by this Worker (one thread each)
};

// Fetch, run, ack. A kind with no runner fails permanently with "no runner for kind X".
class Worker {
 public:
  Worker(RedisUrl url, Options opts, WorkerOptions wopts, RunnerTable runners);
  ~Worker();  // stop() + join
  void start();
  // Stops fetching; jobs in progress finish (or, if the process dies, their leases expire).
  void stop();
  void join();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace helmgate::queue
