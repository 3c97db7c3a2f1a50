#include <fcntl.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "queue/internal.hpp"
#include "queue/queue.hpp"

namespace helmgate::queue {
namespace {

namespace asio = boost::asio;
using core::errc;
using core::Error;
using Clock = std::chrono::steady_clock;

// Deliveries enqueued by one script call; large enough to amortise the round trip and the call, small
// enough that Redis, which runs nothing else while a script runs, is held for a few milliseconds at most.
constexpr size_t max_batch = 128;
// How long a call may take before its connection is given up (the synchronous client's socket timeout).
constexpr std::chrono::milliseconds call_timeout{5000};
// After a lane's connection failed, how long its deliveries take the background thread's path before the
// lane asks for a connection again.
constexpr std::chrono::milliseconds reconnect_pause{1000};

struct Item {
  std::vector<core::JobSpec> jobs;
  std::string dedupe_id;
  AsyncEnqueuer::Done done;
};

void answer(const AsyncEnqueuer::Done& done, core::Result<EnqueueOutcome> result) {
  try {
    done(std::move(result));
  } catch (const std::exception& e) {
    spdlog::error("queue: an enqueue callback threw: {}", e.what());
  } catch (...) {
    spdlog::error("queue: an enqueue callback threw");
  }
}

// One script call for a batch (each delivery still atomic on its own). Deliveries without jobs, and those
// the call refuses (a job without a kind), are answered at once.
struct BatchCall {
  BatchCall(const detail::Keys& keys, const Options& opts, std::vector<Item>& batch) : call(keys, opts) {
    for (size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].jobs.empty()) {
        answer(batch[i].done, EnqueueOutcome{});
      } else if (auto added = call.add(batch[i].jobs, batch[i].dedupe_id); !added) {
        answer(batch[i].done, added.error());
      } else {
        todo.push_back(i);
      }
    }
    if (todo.empty()) return;
    commands.push_back(detail::evalsha_argv(detail::script(detail::ScriptId::enqueue), call.keys, call.args));
    // replicated: one WAIT after the call covers every enqueue in it (WAIT waits for this connection's
    // last write to reach a replica).
    if (opts.durability == Options::Durability::replicated) {
      commands.push_back({"WAIT", "1", std::to_string(opts.replica_timeout.count())});
      waits_for_replica = true;
    }
  }

  // Answers each delivery of the call from its replies: the script's, then (replicated) WAIT's.
  void answer_from(std::vector<Item>& batch, const std::vector<ReplyPtr>& replies, const Options& opts) const {
    auto out = detail::parse_enqueue_replies(replies.front().get(), todo.size());
    if (waits_for_replica) {
      const redisReply* wait = replies.back().get();
      std::optional<Error> no_replica;
      if (wait->type == REDIS_REPLY_ERROR) {
        no_replica = detail::no_replica_error(opts, 0);
        no_replica->message += " (WAIT failed: " + detail::reply_string(wait) + ")";
      } else if (wait->type != REDIS_REPLY_INTEGER || wait->integer < 1) {
        no_replica = detail::no_replica_error(opts, wait->type == REDIS_REPLY_INTEGER ? wait->integer : 0);
      }
      if (no_replica) {
        spdlog::warn("queue: {} enqueue(s) not acknowledged: {}", todo.size(), no_replica->message);
        for (auto& o : out) o = *no_replica;
      }
    }
    for (size_t k = 0; k < todo.size(); ++k) answer(batch[todo[k]].done, std::move(out[k]));
  }

  // Answers each delivery of the call with the same error.
  void answer_all(std::vector<Item>& batch, const Error& err) const {
    for (size_t i : todo) answer(batch[i].done, err);
  }

  detail::EnqueueCall call;
  std::vector<size_t> todo;  // indexes into the batch, in the order of the call's deliveries
  std::vector<std::vector<std::string>> commands;
  bool waits_for_replica = false;  // a WAIT follows the script (queue.durability replicated)
};

}  // namespace

struct AsyncEnqueuer::Impl {
  class Lane;
  Impl(RedisUrl u, Options o)
      : opts(std::move(o)), keys(opts.key_prefix), url(u.for_prefix(opts.key_prefix)), redis(url) {}

  Options opts;
  detail::Keys keys;
  RedisUrl url;
  Redis redis;  // used only by the background thread

  std::mutex mu;
  std::condition_variable cv;
  std::deque<Item> pending;
  std::deque<std::shared_ptr<Lane>> connect_requests;  // lanes waiting for a connection
  bool stopping = false;
  std::thread thread;

  std::mutex lanes_mu;
  std::map<asio::io_context*, std::shared_ptr<Lane>> lanes;

  std::atomic<uint64_t> io_calls{0}, io_deliveries{0}, background_calls{0}, background_deliveries{0};

  std::shared_ptr<Lane> lane_for(asio::io_context& io);

  void submit(Item item) {
    {
      std::lock_guard lock(mu);
      pending.push_back(std::move(item));
    }
    cv.notify_one();
  }

  void request_connection(std::shared_ptr<Lane> lane) {
    {
      std::lock_guard lock(mu);
      connect_requests.push_back(std::move(lane));
    }
    cv.notify_one();
  }

  void run();
  void connect(const std::shared_ptr<Lane>& lane);

  // Redis just failed: whatever else is waiting would meet the same fate, one connect timeout per
  // batch, so answer it all now; the next enqueue tries a fresh connection.
  void fail_pending(const Error& err) {
    std::deque<Item> rest;
    {
      std::lock_guard lock(mu);
      rest.swap(pending);
    }
    if (!rest.empty()) spdlog::warn("queue: {} more pending enqueue(s) failed: {}", rest.size(), err.message);
    for (auto& item : rest) answer(item.done, err);
  }

  void process(std::vector<Item>& batch) {
    BatchCall bc(keys, opts, batch);
    if (bc.todo.empty()) return;
    auto fail_all = [&](const Error& err) {
      bc.answer_all(batch, err);
      fail_pending(err);
    };
    // Two rounds at most: the second only after NOSCRIPT (Redis restarted), when nothing ran, so
    // sending the call again cannot enqueue twice.
    for (int round = 0; round < 2; ++round) {
      background_calls.fetch_add(1, std::memory_order_relaxed);
      if (round == 0) background_deliveries.fetch_add(bc.todo.size(), std::memory_order_relaxed);
      auto replies =
          bc.waits_for_replica ? redis.pipeline(bc.commands, opts.replica_timeout) : redis.pipeline(bc.commands);
      if (!replies) {
        spdlog::warn("queue: {} enqueue(s) failed: {}", bc.todo.size(), replies.error().message);
        return fail_all(Error(errc::unavailable, "could not enqueue the job: " + replies.error().message));
      }
      const redisReply* r = replies->front().get();
      if (round == 0 && detail::is_noscript(r)) {
        if (auto loaded = detail::load_script(redis, detail::script(detail::ScriptId::enqueue)); !loaded) {
          return fail_all(Error(errc::unavailable, "could not enqueue the job: " + loaded.error().message));
        }
        continue;
      }
      return bc.answer_from(batch, *replies, opts);
    }
    bc.answer_all(batch, Error(errc::internal, "Redis kept answering NOSCRIPT for the enqueue script"));
  }
};

// The enqueues of one I/O thread (an io_context run by one thread) on a connection of its own, driven by
// that thread's event loop: no hand-off to another thread and back, and each thread batches what its
// connections received in one turn of its loop. The connection is opened by the background thread (it
// may block, and it follows the URL's topology), then handed over. Whenever the lane has no connection,
// or its call met something only the synchronous client handles (NOSCRIPT after a restart, MOVED, a
// failover's READONLY, LOADING), the deliveries take the background thread's path, which answers them as
// before; a call lost on a broken connection is answered unavailable, as there.
class AsyncEnqueuer::Impl::Lane : public std::enable_shared_from_this<Lane> {
 public:
  Lane(Impl& owner, asio::io_context& io) : owner_(owner), io_(io) {}

  asio::io_context& io() { return io_; }

  void enqueue(Item item) {
    if (state_ != State::up) {
      owner_.submit(std::move(item));
      if (state_ == State::down && Clock::now() >= retry_at_) {
        state_ = State::connecting;
        owner_.request_connection(shared_from_this());
      }
      return;
    }
    pending_.push_back(std::move(item));
    if (!busy_ && !flush_posted_) {
      // Sent once the loop has run what is ready now: the deliveries read in this turn go together.
      flush_posted_ = true;
      asio::post(io_, [self = shared_from_this()] {
        self->flush_posted_ = false;
        self->flush();
      });
    }
  }

  // On the lane's thread, with the connection the background thread opened (or why it could not).
  void connected(core::Result<ContextPtr> c, const std::string& node) {
    if (closed_) return;
    state_ = State::down;
    if (!c) {
      spdlog::debug("queue: I/O thread connection not opened: {}", c.error().message);
      retry_at_ = Clock::now() + reconnect_pause;
      return;
    }
    int flags = ::fcntl((*c)->fd, F_GETFL, 0);
    if (flags < 0 || ::fcntl((*c)->fd, F_SETFL, flags | O_NONBLOCK) < 0) {
      spdlog::warn("queue: cannot make the connection to Redis at {} non-blocking", node);
      retry_at_ = Clock::now() + reconnect_pause;
      return;
    }
    ctx_ = std::move(c.value());
    node_ = node;
    ctx_->flags &= ~REDIS_BLOCK;  // hiredis then takes EAGAIN for "later", not for a timeout
    socket_.emplace(io_, ctx_->fd);
    watchdog_.emplace(io_);
    ++generation_;
    state_ = State::up;
    spdlog::debug("queue: I/O thread connected to Redis at {}", node_);
  }

  // From ~AsyncEnqueuer, once the lane's io_context no longer runs: whatever still waits is answered.
  void close() {
    closed_ = true;
    Error gone(errc::unavailable, "the job queue client is shutting down");
    if (call_) call_->answer_all(batch_, gone);
    for (auto& item : pending_) answer(item.done, gone);
    call_.reset();
    batch_.clear();
    pending_.clear();
    drop();
  }

 private:
  enum class State { down, connecting, up };

  void flush() {
    while (state_ == State::up && !busy_ && !pending_.empty()) {
      batch_.clear();
      while (!pending_.empty() && batch_.size() < max_batch) {
        batch_.push_back(std::move(pending_.front()));
        pending_.pop_front();
      }
      call_.emplace(owner_.keys, owner_.opts, batch_);
      if (call_->todo.empty()) {
        call_.reset();
        continue;
      }
      // Redis restarted or closed the idle connection: nothing was sent, the background path takes it.
      if (server_closed(ctx_->fd)) return abandon();
      for (const auto& argv : call_->commands) {
        if (append_command(ctx_.get(), argv) != REDIS_OK) return abandon();
      }
      owner_.io_calls.fetch_add(1, std::memory_order_relaxed);
      owner_.io_deliveries.fetch_add(call_->todo.size(), std::memory_order_relaxed);
      replies_.clear();
      busy_ = true;
      deadline_ = Clock::now() + call_timeout +
                  (call_->waits_for_replica ? owner_.opts.replica_timeout : std::chrono::milliseconds(0));
      if (!watching_) watch();
      return write();
    }
  }

  void write() {
    int done = 0;
    if (redisBufferWrite(ctx_.get(), &done) != REDIS_OK) return lost("write");
    if (done == 0) {
      return socket_->async_wait(asio::posix::descriptor_base::wait_write,
                                 [self = shared_from_this(), g = generation_](const boost::system::error_code& ec) {
                                   if (!ec && g == self->generation_) self->write();
                                 });
    }
    read();
  }

  void read() {
    socket_->async_wait(asio::posix::descriptor_base::wait_read,
                        [self = shared_from_this(), g = generation_](const boost::system::error_code& ec) {
                          if (!ec && g == self->generation_) self->readable();
                        });
  }

  void readable() {
    if (redisBufferRead(ctx_.get()) != REDIS_OK) return lost("read");
    while (replies_.size() < call_->commands.size()) {
      void* raw = nullptr;
      if (redisGetReplyFromReader(ctx_.get(), &raw) != REDIS_OK) return lost("read");
      if (raw == nullptr) return read();
      replies_.emplace_back(static_cast<redisReply*>(raw));
    }
    busy_ = false;
    const redisReply* script = replies_.front().get();
    // Refused before it ran: the background path sends it again and follows the server's answer (loads the
    // script, follows MOVED, asks the sentinels again). Only NOSCRIPT keeps the connection.
    if (detail::is_noscript(script)) {
      hand_over_batch();
      return flush();
    }
    if (is_transient_error(script)) {
      spdlog::info("queue: Redis at {} answered {}; the I/O thread reconnects", node_, detail::reply_string(script));
      return abandon();
    }
    call_->answer_from(batch_, replies_, owner_.opts);
    call_.reset();
    batch_.clear();
    flush();
  }

  void hand_over_batch() {
    if (call_) {
      for (size_t i : call_->todo) owner_.submit(std::move(batch_[i]));
    }
    call_.reset();
    batch_.clear();
  }

  // The connection broke, or stopped answering, with a call on the wire: it may have run, so it is
  // answered unavailable (the sender delivers again and the delivery id finds what ran), as the
  // synchronous client answers a lost reply. The lane pauses before it asks for a connection again.
  void lost(const std::string& what) {
    std::string detail = ctx_ && ctx_->err != 0 ? std::string(ctx_->errstr) : std::string("connection lost");
    Error err(errc::unavailable, "could not enqueue the job: Redis at " + node_ + " is unavailable (" + what +
                                     ": " + detail + "); check that Redis is running and reachable");
    spdlog::warn("queue: {} enqueue(s) failed: {}", call_->todo.size(), err.message);
    call_->answer_all(batch_, err);
    call_.reset();
    batch_.clear();
    abandon();
    retry_at_ = Clock::now() + reconnect_pause;
  }

  // The connection cannot go on, and what it holds surely did not run: that and everything waiting
  // behind it goes to the background thread's path.
  void abandon() {
    hand_over_batch();
    for (auto& item : pending_) owner_.submit(std::move(item));
    pending_.clear();
    drop();
  }

  void drop() {
    ++generation_;  // waits of this connection now do nothing
    busy_ = false;
    if (socket_) {
      boost::system::error_code ignored;
      socket_->cancel(ignored);
      socket_->release();  // hiredis owns the descriptor and closes it
      socket_.reset();
    }
    watchdog_.reset();
    watching_ = false;
    ctx_.reset();
    if (state_ == State::up) state_ = State::down;
  }

  // A call with no answer past its deadline gives the connection up (a Redis that stopped answering).
  // The check runs each second while calls go out, and stops when the lane is idle: a pending wait would
  // keep the io_context's run() from returning at shutdown.
  void watch() {
    watching_ = true;
    watchdog_->expires_after(std::chrono::seconds(1));
    watchdog_->async_wait([self = shared_from_this(), g = generation_](const boost::system::error_code& ec) {
      if (ec || g != self->generation_) return;
      self->watching_ = false;
      if (!self->busy_) return;
      if (Clock::now() >= self->deadline_) return self->lost("no answer in time");
      self->watch();
    });
  }

  Impl& owner_;
  asio::io_context& io_;
  State state_ = State::down;
  bool closed_ = false;
  Clock::time_point retry_at_{};
  ContextPtr ctx_;
  std::string node_;
  std::optional<asio::posix::stream_descriptor> socket_;
  std::optional<asio::steady_timer> watchdog_;
  bool watching_ = false;
  uint64_t generation_ = 0;
  std::deque<Item> pending_;
  bool flush_posted_ = false;
  bool busy_ = false;  // a call is on the wire
  std::vector<Item> batch_;
  std::optional<BatchCall> call_;
  std::vector<ReplyPtr> replies_;
  Clock::time_point deadline_{};
};

std::shared_ptr<AsyncEnqueuer::Impl::Lane> AsyncEnqueuer::Impl::lane_for(asio::io_context& io) {
  std::lock_guard lock(lanes_mu);
  auto& lane = lanes[&io];
  if (!lane) lane = std::make_shared<Lane>(*this, io);
  return lane;
}

void AsyncEnqueuer::Impl::connect(const std::shared_ptr<Lane>& lane) {
  Redis r(url);
  auto c = r.release();
  asio::post(lane->io(), [lane, c = std::move(c), node = r.node().display()]() mutable {
    lane->connected(std::move(c), node);
  });
}

void AsyncEnqueuer::Impl::run() {
  for (;;) {
    std::vector<Item> batch;
    std::deque<std::shared_ptr<Lane>> connects;
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return stopping || !pending.empty() || !connect_requests.empty(); });
      if (pending.empty() && connect_requests.empty()) return;  // stopping, and everything was answered
      connects.swap(connect_requests);
      while (!pending.empty() && batch.size() < max_batch) {
        batch.push_back(std::move(pending.front()));
        pending.pop_front();
      }
    }
    for (const auto& lane : connects) connect(lane);
    process(batch);
  }
}

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
  std::lock_guard lock(impl_->lanes_mu);
  for (auto& [io, lane] : impl_->lanes) lane->close();
}

AsyncEnqueuer::Counts AsyncEnqueuer::counts() const {
  constexpr auto relaxed = std::memory_order_relaxed;
  return {impl_->io_calls.load(relaxed), impl_->io_deliveries.load(relaxed), impl_->background_calls.load(relaxed),
          impl_->background_deliveries.load(relaxed)};
}

void AsyncEnqueuer::enqueue(std::vector<core::JobSpec> jobs, std::string dedupe_id, Done done,
                            boost::asio::io_context* io) {
  Item item{std::move(jobs), std::move(dedupe_id), std::move(done)};
  if (io == nullptr) return impl_->submit(std::move(item));
  impl_->lane_for(*io)->enqueue(std::move(item));
}

}  // namespace helmgate::queue
