#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "queue/internal.hpp"
#include "queue/queue.hpp"

namespace helmgate::queue {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using core::errc;
using core::Error;

// BLMOVE waits at most this long, so stop() takes effect promptly.
constexpr std::string_view fetch_block_seconds = "0.5";
constexpr auto fetch_block = 500ms;
constexpr auto reap_every_max = 1000ms;
constexpr int max_log_lines = 2000;

std::string default_worker_id() {
  static std::atomic<int> counter{0};
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
  return std::string(host.data()) + ":" + std::to_string(getpid()) + ":" + std::to_string(counter++);
}

// attempt n waits base*2^(n-1), +-25 % so that jobs failing together do not retry together.
int64_t backoff_ms(const Options& o, int attempts) {
  thread_local std::mt19937 rng{std::random_device{}()};
  double base = static_cast<double>(o.backoff_base.count());
  double cap = static_cast<double>(std::max<int64_t>(1, o.backoff_max.count()));
  double d = std::min(cap, base * std::pow(2.0, std::clamp(attempts - 1, 0, 40)));
  d *= std::uniform_real_distribution<double>(0.75, 1.25)(rng);
  return std::max<int64_t>(1, static_cast<int64_t>(std::min(d, cap)));
}

struct LeaseState {
  std::atomic<bool> superseded{false};
  std::atomic<bool> lost{false};
};

class Context final : public JobContext {
 public:
  Context(Redis& redis, const detail::Keys& keys, const JobRecord& job, std::shared_ptr<LeaseState> state)
      : redis_(redis),
        log_key_(keys.log(job.id)),
        job_key_(keys.job(job.id)),
        job_(job),
        state_(std::move(state)) {}

  const JobRecord& job() const override { return job_; }

  void log(std::string_view line) override {
    auto r = redis_.pipeline(
        {{"RPUSH", log_key_, std::string(line)}, {"LTRIM", log_key_, std::to_string(-max_log_lines), "-1"}});
    if (!r) spdlog::warn("job {}: could not append to the job log: {}", job_.id, r.error().message);
  }

  bool superseded() const override {
    if (state_->superseded) return true;
    // The heartbeat notices too, but only every visibility_timeout/3; runners ask between steps.
    auto now = Clock::now();
    if (now - last_check_ < 250ms) return false;
    last_check_ = now;
    auto r = redis_.command({"HGET", job_key_, "state"});
    if (r && detail::reply_string(r->get()) == core::state::superseded) state_->superseded = true;
    return state_->superseded;
  }

 private:
  Redis& redis_;
  std::string log_key_, job_key_;
  const JobRecord& job_;
  std::shared_ptr<LeaseState> state_;
  mutable Clock::time_point last_check_{};
};

}  // namespace

struct Worker::Impl {
  Impl(RedisUrl u, Options o, WorkerOptions w, RunnerTable r)
      : url(u.for_prefix(o.key_prefix)),
        opts(std::move(o)),
        wopts(std::move(w)),
        runners(std::move(r)),
        keys(opts.key_prefix) {
    if (wopts.worker_id.empty()) wopts.worker_id = default_worker_id();
    wopts.concurrency = std::max(1, wopts.concurrency);
    for (int i = 0; i < wopts.concurrency; ++i) fetchers.push_back(wopts.worker_id + "#" + std::to_string(i));
  }

  struct Held {
    std::string token;
    std::shared_ptr<LeaseState> state;
  };

  RedisUrl url;
  Options opts;
  WorkerOptions wopts;
  RunnerTable runners;
  detail::Keys keys;
  std::vector<std::string> fetchers;  // one name (and fetched list) per fetch thread

  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, Held> held;  // job id -> lease, renewed by the keeper
  std::atomic<bool> stopping{false};
  bool keeper_stop = false;
  bool started = false;
  std::vector<std::thread> threads;
  std::thread keeper;

  std::vector<std::string> args(std::initializer_list<std::string> extra) const {
    auto a = detail::base_args(keys, opts);
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  // Sleeps unless stop() is called meanwhile.
  void pause(std::chrono::milliseconds d) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, d, [&] { return stopping.load(); });
  }

  void redis_trouble(int& failures, const Error& e, std::string_view what) {
    if (failures % 20 == 0) spdlog::warn("worker {}: {} failed: {}", wopts.worker_id, what, e.message);
    ++failures;
    pause(std::min<std::chrono::milliseconds>(2000ms, 50ms * (1 << std::min(failures, 6))));
  }

  void fetch_loop(size_t n) {
    Redis redis(url);
    const std::string& name = fetchers[n];
    const std::string fetched = keys.fetched(name);
    const auto& hb = detail::script(detail::ScriptId::heartbeat);
    const auto register_cmd = detail::evalsha_argv(
        hb, keys.fixed(), args({std::to_string(opts.visibility_timeout.count()), "1", name}));
    std::optional<std::string> unclaimed;  // fetched into our list but not yet claimed
    std::string token;                     // kept across claim retries: a lost reply is then harmless
    int failures = 0;
    // Our fetched list may hold ids we never learned about: a BLMOVE whose reply was lost with the
    // connection, or a previous process with the same worker id that died. Return them to the wait
    // list before fetching (at start and after every fetch failure); a live fetcher is never reaped.
    bool recover = true;
    for (;;) {
      if (!unclaimed) {
        if (stopping) break;
        if (recover) {
          auto a = args({name});
          auto r = detail::run_script(redis, detail::ScriptId::release, keys.fixed(), a);
          if (!r) {
            redis_trouble(failures, r.error(), "recovering fetched jobs");
            continue;
          }
          if ((*r)->integer > 0)
            spdlog::info("worker {}: returned {} fetched job(s) to the queue", name, (*r)->integer);
          recover = false;
        }
        // Registering in the same round trip as the fetch guarantees the reaper knows this fetcher
        // (and so can recover its list) before anything lands in it.
        auto r = redis.pipeline(
            {register_cmd, {"BLMOVE", keys.wait, fetched, "RIGHT", "LEFT", std::string(fetch_block_seconds)}},
            fetch_block);
        if (!r) {
          recover = true;
          redis_trouble(failures, r.error(), "fetching a job");
          continue;
        }
        if (detail::is_noscript((*r)[0].get())) (void)detail::load_script(redis, hb);
        const redisReply* moved = (*r)[1].get();
        if (moved->type == REDIS_REPLY_ERROR) {
          redis_trouble(failures, Error(errc::internal, detail::reply_string(moved)), "BLMOVE");
          continue;
        }
        failures = 0;
        if (moved->type != REDIS_REPLY_STRING) continue;  // timed out: nothing waiting
        unclaimed = detail::reply_string(moved);
        token = detail::random_token();
      }
      const std::string id = *unclaimed;
      std::vector<std::string> claim_keys = keys.fixed();
      claim_keys.push_back(fetched);
      auto c = detail::run_script(redis, detail::ScriptId::claim, claim_keys,
                                  args({id, token, std::to_string(opts.visibility_timeout.count()), name}));
      if (!c) {
        // The id stays in our fetched list; if we stop or die, release/reaper put it back.
        if (stopping && failures >= 3) break;
        redis_trouble(failures, c.error(), "claiming job " + id);
        continue;
      }
      unclaimed.reset();
      failures = 0;
      if ((*c)->type != REDIS_REPLY_ARRAY) {
        spdlog::debug("worker {}: job {} is no longer claimable (superseded or taken); dropped", name, id);
        continue;
      }
      run_job(redis, name, c->get(), id, token);
    }
  }

  void run_job(Redis& redis, const std::string& fetcher, const redisReply* hash, const std::string& id,
               const std::string& token) {
    auto state = std::make_shared<LeaseState>();
    {
      std::lock_guard lock(mu);
      held[id] = Held{token, state};
    }
    auto parsed = detail::parse_job_hash(hash, id);
    RunOutcome outcome;
    JobRecord job;
    if (!parsed) {
      job.id = id;
      outcome = RunOutcome::fail(parsed.error().message);
    } else {
      job = std::move(parsed.value());
      spdlog::info("job {} ({} {}) started on {} (attempt {}/{})", job.id, job.spec.kind, job.spec.repo,
                   fetcher, job.attempts, job.max_attempts);
      auto it = runners.find(job.spec.kind);
      if (it == runners.end()) {
        outcome = RunOutcome::fail("no runner for kind " + job.spec.kind);
      } else {
        Context ctx(redis, keys, job, state);
        try {
          outcome = it->second(ctx);
        } catch (const std::exception& e) {
          outcome = RunOutcome::retry_later("the " + job.spec.kind + " runner threw: " + e.what());
        } catch (...) {
          outcome = RunOutcome::retry_later("the " + job.spec.kind + " runner threw an unknown exception");
        }
      }
    }
    record(redis, job, token, outcome);
    std::lock_guard lock(mu);
    held.erase(id);
  }

  // Writes the outcome; the lease stays held (and renewed) until Redis has it, so a short Redis
  // outage does not make the job run again.
  void record(Redis& redis, const JobRecord& job, const std::string& token, const RunOutcome& outcome) {
    const bool superseded = outcome.status == RunOutcome::Status::superseded;
    const bool ok = outcome.status == RunOutcome::Status::succeeded || superseded;
    const bool permanent = outcome.status == RunOutcome::Status::permanent_failure;
    const int64_t delay = backoff_ms(opts, job.attempts);
    auto a = ok ? args({job.id, token, outcome.result, superseded ? "superseded" : ""})
                : args({job.id, token, outcome.error, permanent ? "1" : "0", std::to_string(delay)});
    const auto give_up = Clock::now() + opts.visibility_timeout;
    int failures = 0;
    for (;;) {
      auto r = detail::run_script(redis, ok ? detail::ScriptId::complete : detail::ScriptId::fail,
                                  keys.fixed(), a);
      if (r) {
        report(job, outcome, (*r)->integer, delay);
        return;
      }
      if (r.error().code != make_error_code(errc::unavailable) || Clock::now() > give_up) {
        spdlog::error(
            "job {} ({}): could not record its outcome: {}; its lease will expire and it will run again",
            job.id, job.spec.kind, r.error().message);
        return;
      }
      if (failures++ % 20 == 0)
        spdlog::warn("job {}: recording its outcome failed, retrying: {}", job.id, r.error().message);
      std::this_thread::sleep_for(std::min(1000ms, 50ms * (1 << std::min(failures, 5))));
    }
  }

  static void report(const JobRecord& job, const RunOutcome& outcome, long long code, int64_t delay) {
    const auto& kind = job.spec.kind;
    if (code == 4) {
      spdlog::info("job {} ({}): outcome recorded (confirmed after a reconnect)", job.id, kind);
    } else if (code == 0) {
      spdlog::warn(
          "job {} ({}): lease lost (this worker missed its heartbeats and the job was given to another "
          "worker); outcome discarded",
          job.id, kind);
    } else if (code == 2) {
      spdlog::info("job {} ({}) finished after being superseded by a newer job; outcome discarded", job.id,
                   kind);
    } else if (code == 5) {
      spdlog::info("job {} ({}) ended superseded: its work was already overtaken", job.id, kind);
    } else if (outcome.status == RunOutcome::Status::succeeded) {
      spdlog::info("job {} ({}) succeeded", job.id, kind);
    } else if (code == 3) {
      spdlog::error("job {} ({}) dead-lettered after attempt {}/{}: {}", job.id, kind, job.attempts,
                    job.max_attempts, outcome.error);
    } else {
      spdlog::warn("job {} ({}) failed (attempt {}/{}), retrying in {} ms: {}", job.id, kind, job.attempts,
                   job.max_attempts, delay, outcome.error);
    }
  }

  void keeper_loop() {
    Redis redis(url);
    Queue reaper(url, opts);
    const auto hb_every = std::clamp<std::chrono::milliseconds>(
        std::min(opts.visibility_timeout / 3, opts.worker_timeout / 3), 20ms, 20000ms);
    const auto reap_every =
        std::clamp<std::chrono::milliseconds>(opts.visibility_timeout / 2, 20ms, reap_every_max);
    auto next_hb = Clock::now();
    // Spread the reapers of many workers over the period.
    auto next_reap = Clock::now() + std::chrono::milliseconds(std::random_device{}() % reap_every.count());
    int failures = 0;
    std::unique_lock lock(mu);
    while (!keeper_stop) {
      cv.wait_until(lock, std::min(next_hb, next_reap), [&] { return keeper_stop; });
      if (keeper_stop) break;
      auto now = Clock::now();
      if (now >= next_hb) {
        std::vector<std::pair<std::string, Held>> snapshot(held.begin(), held.end());
        lock.unlock();
        heartbeat(redis, snapshot, failures);
        lock.lock();
        next_hb = now + hb_every;
      }
      if (now >= next_reap) {
        lock.unlock();
        auto moved = reaper.reap();
        if (!moved) {
          if (failures++ % 20 == 0) spdlog::warn("worker {}: {}", wopts.worker_id, moved.error().message);
        } else if (*moved > 0) {
          spdlog::debug("worker {}: the reaper moved {} job(s)", wopts.worker_id, *moved);
        }
        lock.lock();
        next_reap = now + reap_every;
      }
    }
    lock.unlock();
    auto a = detail::base_args(keys, opts);
    a.insert(a.end(), fetchers.begin(), fetchers.end());
    if (auto r = detail::run_script(redis, detail::ScriptId::release, keys.fixed(), a); !r) {
      spdlog::warn("worker {}: could not deregister (the reaper will clean up): {}", wopts.worker_id,
                   r.error().message);
    }
  }

  void heartbeat(Redis& redis, const std::vector<std::pair<std::string, Held>>& snapshot, int& failures) {
    auto a = args({std::to_string(opts.visibility_timeout.count()), std::to_string(fetchers.size())});
    a.insert(a.end(), fetchers.begin(), fetchers.end());
    for (const auto& [id, h] : snapshot) {
      a.push_back(id);
      a.push_back(h.token);
    }
    auto r = detail::run_script(redis, detail::ScriptId::heartbeat, keys.fixed(), a);
    if (!r) {
      if (failures++ % 20 == 0)
        spdlog::warn("worker {}: heartbeat failed: {}", wopts.worker_id, r.error().message);
      return;
    }
    const redisReply* codes = r->get();
    for (size_t i = 0; i < snapshot.size() && i < codes->elements; ++i) {
      const auto& [id, h] = snapshot[i];
      long long code = codes->element[i]->integer;
      if (code == 0 && !h.state->lost.exchange(true)) {
        spdlog::warn("job {}: lease lost; another worker may run it, this run's outcome will be discarded",
                     id);
      }
      if (code == 2) h.state->superseded = true;
    }
  }
};

Worker::Worker(RedisUrl url, Options opts, WorkerOptions wopts, RunnerTable runners)
    : impl_(std::make_unique<Impl>(std::move(url), std::move(opts), std::move(wopts), std::move(runners))) {}

Worker::~Worker() {
  stop();
  join();
}

void Worker::start() {
  std::lock_guard lock(impl_->mu);
  if (impl_->started) return;
  impl_->started = true;
  spdlog::info("worker {} starting {} fetcher(s), kinds: {}", impl_->wopts.worker_id, impl_->fetchers.size(),
               [&] {
                 std::string k;
                 for (const auto& [name, r] : impl_->runners) k += (k.empty() ? "" : ",") + name;
                 return k;
               }());
  impl_->keeper = std::thread([this] { impl_->keeper_loop(); });
  for (size_t i = 0; i < impl_->fetchers.size(); ++i) {
    impl_->threads.emplace_back([this, i] { impl_->fetch_loop(i); });
  }
}

void Worker::stop() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
}

void Worker::join() {
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  {
    std::lock_guard lock(impl_->mu);
    impl_->keeper_stop = true;
  }
  impl_->cv.notify_all();
  if (impl_->keeper.joinable()) impl_->keeper.join();
}

}  // namespace helmgate::queue
