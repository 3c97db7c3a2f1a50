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

// Deliveries enqueued by one script call; large enough to amortise the round trip and the call, small
// enough that Redis, which runs nothing else while a script runs, is held for a few milliseconds at most.
constexpr size_t max_batch = 128;

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
    // One script call for the whole batch (each delivery still atomic on its own).
    detail::EnqueueCall enqueue_call(keys, opts);
    std::vector<size_t> todo;  // indexes into batch, in the order of the call's deliveries
    for (size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].jobs.empty()) {
        call(batch[i].done, EnqueueOutcome{});
      } else if (auto added = enqueue_call.add(batch[i].jobs, batch[i].dedupe_id); !added) {
        call(batch[i].done, added.error());
      } else {
        todo.push_back(i);
      }
    }
    if (todo.empty()) return;
    auto fail_all = [&](const Error& err) {
      for (size_t i : todo) call(batch[i].done, err);
      fail_pending(err);
    };
    const auto& script = detail::script(detail::ScriptId::enqueue);
    std::vector<std::vector<std::string>> cmds{
        detail::evalsha_argv(script, enqueue_call.keys, enqueue_call.args)};
    // replicated: one WAIT after the call covers every enqueue in it (WAIT waits for this
    // connection's last write to reach a replica).
    const bool replicated = opts.durability == Options::Durability::replicated;
    if (replicated) cmds.push_back({"WAIT", "1", std::to_string(opts.replica_timeout.count())});
    // Two rounds at most: the second only after NOSCRIPT (Redis restarted), when nothing ran, so
    // sending the call again cannot enqueue twice.
    for (int round = 0; round < 2; ++round) {
      auto replies = replicated ? redis.pipeline(cmds, opts.replica_timeout) : redis.pipeline(cmds);
      if (!replies) {
        spdlog::warn("queue: {} enqueue(s) failed: {}", todo.size(), replies.error().message);
        return fail_all(Error(errc::unavailable, "could not enqueue the job: " + replies.error().message));
      }
      const redisReply* r = replies->front().get();
      if (round == 0 && detail::is_noscript(r)) {
        if (auto loaded = detail::load_script(redis, script); !loaded) {
          return fail_all(Error(errc::unavailable, "could not enqueue the job: " + loaded.error().message));
        }
        continue;
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
      auto outcomes = detail::parse_enqueue_replies(r, todo.size());
      for (size_t k = 0; k < todo.size(); ++k) {
        if (no_replica) outcomes[k] = *no_replica;
        call(batch[todo[k]].done, std::move(outcomes[k]));
      }
      return;
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
