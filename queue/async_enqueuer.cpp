#include <spdlog/spdlog.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "queue/internal.hpp"
#include "queue/queue.hpp"

namespace helmgate::queue {
namespace {

using core::errc;
using core::Error;

// Enqueues sent in one pipeline; large enough to amortise the round trip, small enough that one
// slow batch does not hold many webhook replies.
constexpr size_t max_batch = 512;

}  // namespace

struct AsyncEnqueuer::Impl {
  struct Item {
    std::vector<core::JobSpec> jobs;
    std::string dedupe_id;
    Done done;
  };

  Impl(RedisUrl url, Options o) : opts(std::move(o)), keys(opts.key_prefix), redis(url.for_prefix(opts.key_prefix)) {}

  Options opts;
  detail::Keys keys;
  Redis redis;  // used only by the background thread

  std::mutex mu;
  std::condition_variable cv;
  std::deque<Item> pending;
  bool stopping = false;
  std::thread thread;

  static void call(const Done& done, core::Result<EnqueueOutcome> result) {
    try {
      done(std::move(result));
    } catch (const std::exception& e) {
      spdlog::error("queue: an enqueue callback threw: {}", e.what());
    } catch (...) {
      spdlog::error("queue: an enqueue callback threw");
    }
  }

  void run() {
    for (;;) {
      std::vector<Item> batch;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return stopping || !pending.empty(); });
        if (pending.empty()) return;  // stopping, and everything was answered
        while (!pending.empty() && batch.size() < max_batch) {
          batch.push_back(std::move(pending.front()));
          pending.pop_front();
        }
      }
      process(batch);
    }
  }

  // Redis just failed: whatever else is waiting would meet the same fate, one connect timeout per
  // batch, so answer it all now; the next enqueue tries a fresh connection.
  void fail_pending(const Error& err) {
    std::deque<Item> rest;
    {
      std::lock_guard lock(mu);
      rest.swap(pending);
    }
    if (!rest.empty()) spdlog::warn("queue: {} more pending enqueue(s) failed: {}", rest.size(), err.message);
    for (auto& item : rest) call(item.done, err);
  }

  void process(std::vector<Item>& batch) {
    std::vector<size_t> todo;  // indexes into batch still waiting for an answer
    std::vector<std::vector<std::string>> cmds;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].jobs.empty()) {
        call(batch[i].done, EnqueueOutcome{});
        continue;
      }
      auto c = detail::make_enqueue_call(keys, opts, batch[i].jobs, batch[i].dedupe_id);
      if (!c) {
        call(batch[i].done, c.error());
        continue;
      }
      todo.push_back(i);
      cmds.push_back(detail::evalsha_argv(detail::script(detail::ScriptId::enqueue), c->keys, c->args));
    }
    // Two rounds at most: the second only for commands that met NOSCRIPT (Redis restarted), which
    // did not run, so sending them again cannot enqueue twice.
    const bool replicated = opts.durability == Options::Durability::replicated;
    for (int round = 0; round < 2 && !todo.empty(); ++round) {
      // replicated: one WAIT after the batch covers every enqueue in it (WAIT waits for this
      // connection's last write to reach a replica).
      if (replicated) cmds.push_back({"WAIT", "1", std::to_string(opts.replica_timeout.count())});
      auto replies = replicated ? redis.pipeline(cmds, opts.replica_timeout) : redis.pipeline(cmds);
      if (replicated) cmds.pop_back();
      if (!replies) {
        Error err(errc::unavailable, "could not enqueue the job: " + replies.error().message);
        spdlog::warn("queue: {} enqueue(s) failed: {}", todo.size(), replies.error().message);
        for (size_t i : todo) call(batch[i].done, err);
        fail_pending(err);
        return;
      }
      std::optional<Error> no_replica;
      if (replicated) {
        const redisReply* w = replies->back().get();
        if (w->type == REDIS_REPLY_ERROR) {
          no_replica = detail::no_replica_error(opts, 0);
          no_replica->message += " (WAIT failed: " + detail::reply_string(w) + ")";
        } else if (w->type != REDIS_REPLY_INTEGER || w->integer < 1) {
          no_replica = detail::no_replica_error(opts, w->type == REDIS_REPLY_INTEGER ? w->integer : 0);
        }
        if (no_replica) spdlog::warn("queue: {} enqueue(s) not acknowledged: {}", todo.size(), no_replica->message);
      }
      std::vector<size_t> again;
      std::vector<std::vector<std::string>> again_cmds;
      for (size_t k = 0; k < todo.size(); ++k) {
        const redisReply* r = (*replies)[k].get();
        if (round == 0 && detail::is_noscript(r)) {
          again.push_back(todo[k]);
          again_cmds.push_back(std::move(cmds[k]));
          continue;
        }
        if (no_replica) {
          call(batch[todo[k]].done, *no_replica);
          continue;
        }
        call(batch[todo[k]].done, detail::parse_enqueue_reply(r));
      }
      todo = std::move(again);
      cmds = std::move(again_cmds);
      if (!todo.empty()) {
        if (auto loaded = detail::load_script(redis, detail::script(detail::ScriptId::enqueue)); !loaded) {
          Error err(errc::unavailable, "could not enqueue the job: " + loaded.error().message);
          for (size_t i : todo) call(batch[i].done, err);
          fail_pending(err);
          return;
        }
      }
    }
    for (size_t i : todo) {
      call(batch[i].done, Error(errc::internal, "Redis kept answering NOSCRIPT for the enqueue script"));
    }
  }
};

AsyncEnqueuer::AsyncEnqueuer(RedisUrl url, Options opts)
    : impl_(std::make_unique<Impl>(std::move(url), std::move(opts))) {
  impl_->thread = std::thread([this] { impl_->run(); });
}

AsyncEnqueuer::~AsyncEnqueuer() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_one();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void AsyncEnqueuer::enqueue(std::vector<core::JobSpec> jobs, std::string dedupe_id, Done done) {
  {
    std::lock_guard lock(impl_->mu);
    impl_->pending.push_back({std::move(jobs), std::move(dedupe_id), std::move(done)});
  }
  impl_->cv.notify_one();
}

}  // namespace helmgate::queue
