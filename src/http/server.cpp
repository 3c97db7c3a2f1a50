#include "http/server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>

#include <algorithm>
#include <array>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

namespace helmgate::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
// One io_context per I/O thread, and each connection on one of them: a connection's handlers run on
// one thread, one after another, without a strand (whose executor copies, reference counts and mutex
// cost about a fifth of serve's CPU per request). Naming the executor's type (rather than Beast's
// type-erased default) spares every handler a type-erased executor copy.
using Executor = asio::io_context::executor_type;
using Socket = asio::basic_stream_socket<tcp, Executor>;
using Stream = beast::basic_stream<tcp, Executor>;

// By default one I/O thread per core but one: a single thread takes about 20,000 signed deliveries a
// second here, far more than forges send, and the core left over goes to Redis, the workers' renders and
// the kernel's network work. On two cores shared with Redis one I/O thread is also faster than two
// (bench/ingest): each thread enqueues on its own Redis connection, and two split the batches.
int io_threads(int configured) {
  int n = configured > 0 ? configured : static_cast<int>(std::thread::hardware_concurrency()) - 1;
  return std::max(n, 1);
}

std::vector<std::unique_ptr<asio::io_context>> make_contexts(int n) {
  std::vector<std::unique_ptr<asio::io_context>> out;
  for (int i = 0; i < n; ++i) out.push_back(std::make_unique<asio::io_context>(1));  // run by one thread
  return out;
}

class Session;

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  Impl(ServerOptions o, Router r)
      : opts(std::move(o)),
        router(std::move(r)),
        contexts(make_contexts(io_threads(opts.threads))),
        ioc(*contexts.front()),
        accept_strand(asio::make_strand(ioc)),
        acceptor(accept_strand),
        accept_timer(accept_strand),
        grace(ioc) {}

  ServerOptions opts;
  Router router;
  std::vector<std::unique_ptr<asio::io_context>> contexts;  // one per I/O thread
  asio::io_context& ioc;  // the first: the acceptor, shutdown and the caller's signals
  // The acceptor, its back-off timer and the back-off state below are used on this strand only.
  asio::strand<asio::io_context::executor_type> accept_strand;
  tcp::acceptor acceptor;
  asio::steady_timer accept_timer;
  asio::steady_timer grace;
  size_t next_context = 0;  // new connections take the contexts in turn (on accept_strand)
  std::vector<asio::executor_work_guard<Executor>> guards;  // keep every context running until drained
  RequestObserver observer;
  RequestMetrics* metrics = nullptr;
  std::atomic<bool> draining{false};

  std::mutex mu;
  std::map<uint64_t, std::weak_ptr<Session>> sessions;
  uint64_t next_session = 0;
  std::atomic<int> rejecting{0};  // 503 answers still being written

  // A back-off episode: accept(2) keeps failing (out of descriptors or memory, or any error many times
  // in a row). One line when it starts, one every 30 s while it lasts, one when it ends.
  std::chrono::milliseconds backoff{0};
  uint64_t episode_failures = 0;
  int consecutive_failures = 0;
  std::chrono::steady_clock::time_point episode_start{}, episode_logged{};

  void accept();
  void on_accept(beast::error_code ec, Socket socket);
  void back_off(const beast::error_code& ec);
  void admit(Socket socket);
  void begin_shutdown();
  void session_closed(uint64_t id);
  void finish_if_drained();
  void stop_all() {
    for (auto& c : contexts) c->stop();
  }
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Socket&& socket, std::shared_ptr<Server::Impl> server, uint64_t id)
      : stream_(std::move(socket)), server_(std::move(server)), id_(id) {}

  ~Session() { server_->session_closed(id_); }

  void start() {
    // Beast reads at most what the buffer can hold without growing (512 bytes for a new one): room for
    // a typical request's header and a small body takes one recv(2) instead of eight.
    buffer_.reserve(kInitialBuffer);
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_header(); });
  }

  // Runs on the session's thread: an idle keep-alive connection is closed now; one with a request in
  // progress closes after its response.
  void drain() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if (self->idle_) self->stream_.socket().close();
    });
  }

 private:
  void read_header() {
    if (server_->draining) return close();
    parser_.emplace();
    parser_->body_limit(server_->opts.max_body_bytes);
    parser_->header_limit(64 * 1024);
    idle_ = buffer_.size() == 0;
    stream_.expires_after(requests_ == 0 ? server_->opts.header_timeout : server_->opts.idle_timeout);
    beast::http::async_read_header(stream_, buffer_, *parser_,
                                   [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    idle_ = false;
    if (ec) return on_read_error(ec, true);
    started_ = std::chrono::steady_clock::now();
    ++requests_;
    auto& req = parser_->get();
    if (beast::iequals(req[beast::http::field::expect], "100-continue")) {
      auto cont = std::make_shared<beast::http::response<beast::http::empty_body>>(beast::http::status::continue_,
                                                                                   req.version());
      beast::http::async_write(stream_, *cont, [self = shared_from_this(), cont](beast::error_code wec, size_t) {
        if (wec) return self->close();
        self->read_body();
      });
      return;
    }
    // The same for the body: room for what the header announced (up to kMaxReserve), so a push
    // webhook arrives in one or two reads rather than one per 512 bytes.
    if (auto length = parser_->content_length()) {
      size_t want = buffer_.size() + static_cast<size_t>(std::min<uint64_t>(*length, kMaxReserve));
      if (want > buffer_.capacity()) buffer_.reserve(want);
    }
    read_body();
  }

  void read_body() {
    stream_.expires_after(server_->opts.body_timeout);
    beast::http::async_read(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, size_t) { self->on_body(ec); });
  }

  void on_read_error(beast::error_code ec, bool in_header) {
    if (ec == beast::http::error::end_of_stream || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset || ec == asio::error::eof || ec == asio::error::bad_descriptor) {
      return close();
    }
    if (ec == beast::http::error::body_limit) {
      return reply_and_close(413, "request body exceeds the limit of " +
                                      std::to_string(server_->opts.max_body_bytes) + " bytes");
    }
    if (ec == beast::http::error::header_limit) return reply_and_close(431, "request headers too large");
    if (ec == beast::error::timeout) {
      // An idle keep-alive connection timing out is normal; a half-sent request gets a 408.
      if (in_header && buffer_.size() == 0) return close();
      return reply_and_close(408, "request not received in time");
    }
    return reply_and_close(400, std::string("malformed HTTP request: ") + ec.message());
  }

  void on_body(beast::error_code ec) {
    if (ec) return on_read_error(ec, false);
    auto ctx = std::make_shared<Context>();
    ctx->request = parser_->release();
    ctx->io = &stream_.get_executor().context();
    version_ = ctx->request.version();
    keep_alive_ = ctx->request.keep_alive();
    unsigned status = 0;
    const Handler* h = server_->router.match(*ctx, &status);
    if (h == nullptr) {
      route_.clear();
      return write(error_response(status, status == 404 ? "no such route" : "method not allowed", version_));
    }
    route_ = ctx->route;
    // The handler may answer from another thread (e.g. after Redis replied); the guard keeps the
    // connection's io_context running until it does, and dispatching to it brings the answer back to
    // this connection's thread.
    auto guard = asio::make_work_guard(stream_.get_executor());
    auto answered = std::make_shared<std::atomic<bool>>(false);
    Responder respond = [self = shared_from_this(), guard, answered](Response res) mutable {
      if (answered->exchange(true)) return;
      asio::dispatch(self->stream_.get_executor(),
                     [self, res = std::move(res)]() mutable { self->write(std::move(res)); });
      guard.reset();
    };
    try {
      (*h)(ctx, std::move(respond));
    } catch (const std::exception& e) {
      spdlog::error("http: handler for {} threw: {}", route_, e.what());
      if (!answered->exchange(true)) write(error_response(500, "internal error", version_));
    }
  }

  void reply_and_close(unsigned status, const std::string& reason) {
    keep_alive_ = false;
    route_.clear();
    write(error_response(status, reason, version_, false));
  }

  void write(Response res) {
    bool keep = keep_alive_ && !server_->draining;
    res.version(version_);
    res.keep_alive(keep);
    status_ = res.result_int();
    if (res.chunked()) res.prepare_payload();  // wire_text writes the body whole, with its length
    stream_.expires_after(server_->opts.body_timeout);
    auto text = std::make_shared<std::string>(wire_text(res));
    asio::async_write(stream_, asio::buffer(*text),
                      [self = shared_from_this(), text, keep](beast::error_code ec, size_t) { self->on_write(ec, keep); });
  }

  void on_write(beast::error_code ec, bool keep) {
    if (server_->observer) {
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
      server_->observer(route_, status_, secs);
    }
    if (ec || !keep) return close();
    // An idle keep-alive connection keeps a small buffer, not the largest body it ever read.
    if (buffer_.size() == 0 && buffer_.capacity() > kInitialBuffer * 4) {
      buffer_.shrink_to_fit();
      buffer_.reserve(kInitialBuffer);
    }
    read_header();
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.socket().close(ignored);
  }

  static constexpr size_t kInitialBuffer = 4 * 1024;
  static constexpr uint64_t kMaxReserve = 64 * 1024;

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<beast::http::request_parser<beast::http::string_body>> parser_;
  std::shared_ptr<Server::Impl> server_;
  uint64_t id_;
  bool idle_ = true;
  bool keep_alive_ = true;
  unsigned version_ = 11;
  unsigned status_ = 0;
  uint64_t requests_ = 0;
  std::string route_;
  std::chrono::steady_clock::time_point started_{};
};

// Answers 503 to a connection past max_connections and closes it. The answer is written first, then the
// request (if any) is read and dropped until the client closes or a second passes: closing with unread
// data would reset the connection and could destroy the answer before the client reads it.
class Rejecter : public std::enable_shared_from_this<Rejecter> {
 public:
  Rejecter(Socket&& socket, std::shared_ptr<Server::Impl> server)
      : stream_(std::move(socket)), server_(std::move(server)) {}
  ~Rejecter() { --server_->rejecting; }

  void start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->stream_.expires_after(std::chrono::seconds(1));
      asio::async_write(self->stream_, asio::buffer(busy()), [self](beast::error_code ec, size_t) {
        if (ec) return self->close();
        beast::error_code ignored;
        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        self->drain();
      });
    });
  }

 private:
  static const std::string& busy() {
    static const std::string body = "{\"error\":\"too many open connections, retry in a few seconds\"}\n";
    static const std::string text = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                                    "Retry-After: 5\r\nConnection: close\r\nContent-Length: " +
                                    std::to_string(body.size()) + "\r\n\r\n" + body;
    return text;
  }

  void drain() {
    stream_.async_read_some(asio::buffer(sink_), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->close();
      self->drain();
    });
  }
  void close() {
    beast::error_code ignored;
    stream_.socket().close(ignored);
  }

  Stream stream_;
  std::shared_ptr<Server::Impl> server_;
  std::array<char, 4096> sink_{};
};

namespace {

// Errors that say the process or the system is out of something: retrying at once only spins.
bool exhausted(const beast::error_code& ec) {
  namespace errc = boost::system::errc;
  return ec == errc::too_many_files_open || ec == errc::too_many_files_open_in_system ||
         ec == errc::no_buffer_space || ec == errc::not_enough_memory;
}

}  // namespace

void Server::Impl::accept() {
  auto& context = *contexts[next_context++ % contexts.size()];
  acceptor.async_accept(context.get_executor(), [self = shared_from_this()](beast::error_code ec, Socket socket) {
    self->on_accept(ec, std::move(socket));
  });
}

void Server::Impl::on_accept(beast::error_code ec, Socket socket) {
  if (ec) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open() || draining) return;
    if (metrics != nullptr) metrics->accept_failed(ec.message());
    // A connection aborted before it was accepted is the client's business; exhaustion at once, and
    // any error that repeats, start a back-off episode instead of a busy loop.
    if (exhausted(ec) || ++consecutive_failures >= 16) return back_off(ec);
    return accept();
  }
  consecutive_failures = 0;
  if (backoff.count() > 0) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - episode_start);
    spdlog::info("http: accepting connections again after {} failed accept(s) in {} ms", episode_failures, ms.count());
    backoff = std::chrono::milliseconds(0);
    episode_failures = 0;
  }
  admit(std::move(socket));
  if (!draining) accept();
}

void Server::Impl::back_off(const beast::error_code& ec) {
  constexpr std::chrono::milliseconds kFirst{50}, kMax{1000};
  constexpr std::chrono::seconds kRemind{30};
  auto now = std::chrono::steady_clock::now();
  ++episode_failures;
  if (backoff.count() == 0) {
    backoff = kFirst;
    episode_start = episode_logged = now;
    size_t open = 0;
    {
      std::lock_guard lock(mu);
      open = sessions.size();
    }
    spdlog::warn("http: accept failed: {} ({} connection(s) open); pausing accepts, retrying from {} ms up to {} ms "
                 "apart; logged again when it recovers or every {} s",
                 ec.message(), open, kFirst.count(), kMax.count(), kRemind.count());
  } else {
    backoff = std::min(backoff * 2, std::chrono::milliseconds(kMax));
    if (now - episode_logged >= kRemind) {
      episode_logged = now;
      spdlog::warn("http: accept still failing: {} ({} failure(s) in {} s)", ec.message(), episode_failures,
                   std::chrono::duration_cast<std::chrono::seconds>(now - episode_start).count());
    }
  }
  accept_timer.expires_after(backoff);
  accept_timer.async_wait([self = shared_from_this()](beast::error_code wec) {
    if (wec || self->draining || !self->acceptor.is_open()) return;
    self->accept();
  });
}

void Server::Impl::admit(Socket socket) {
  beast::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  std::shared_ptr<Session> s;
  {
    std::lock_guard lock(mu);
    if (sessions.size() >= static_cast<size_t>(std::max(1, opts.max_connections))) {
      if (metrics != nullptr) metrics->connection_rejected();
      // Answering costs a little per connection too: past a few answers in flight, the connection is
      // only closed (as the socket goes out of scope).
      if (rejecting.load() >= 64) return;
      ++rejecting;
      std::make_shared<Rejecter>(std::move(socket), shared_from_this())->start();
      return;
    }
    uint64_t id = ++next_session;
    s = std::make_shared<Session>(std::move(socket), shared_from_this(), id);
    sessions[id] = s;
    if (metrics != nullptr) metrics->connections_open(sessions.size());
  }
  s->start();
}

void Server::Impl::session_closed(uint64_t id) {
  std::lock_guard lock(mu);
  sessions.erase(id);
  if (metrics != nullptr) metrics->connections_open(sessions.size());
  if (draining && sessions.empty()) {
    asio::post(ioc, [self = shared_from_this()] { self->finish_if_drained(); });
  }
}

void Server::Impl::finish_if_drained() {
  std::lock_guard lock(mu);
  if (!sessions.empty()) return;
  guards.clear();
  grace.cancel();
}

void Server::Impl::begin_shutdown() {
  if (draining.exchange(true)) return;
  spdlog::info("http: shutting down: no new connections, finishing in-flight requests (grace {} ms)",
               opts.shutdown_grace.count());
  asio::dispatch(accept_strand, [self = shared_from_this()] {
    beast::error_code ignored;
    self->acceptor.close(ignored);
    self->accept_timer.cancel();
  });
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(mu);
    for (auto& [id, weak] : sessions) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->drain();
  live.clear();
  grace.expires_after(opts.shutdown_grace);
  grace.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec) return;  // cancelled: drained in time
    spdlog::warn("http: grace period over, closing remaining connections");
    self->stop_all();
  });
  finish_if_drained();
}

Server::Server(ServerOptions opts, Router router) : impl_(std::make_shared<Impl>(std::move(opts), std::move(router))) {}

Server::~Server() {
  impl_->stop_all();
}

void Server::listen() {
  auto& o = impl_->opts;
  beast::error_code ec;
  tcp::resolver resolver(impl_->ioc);
  auto results = resolver.resolve(o.host, std::to_string(o.port), tcp::resolver::passive, ec);
  if (ec || results.empty()) {
    throw std::system_error(ec, "cannot resolve listen address '" + o.host + "'");
  }
  tcp::endpoint ep = results.begin()->endpoint();
  auto& a = impl_->acceptor;
  a.open(ep.protocol());
  a.set_option(asio::socket_base::reuse_address(true));
  a.bind(ep, ec);
  if (ec) throw std::system_error(ec, "cannot listen on " + o.host + ":" + std::to_string(o.port));
  a.listen(asio::socket_base::max_listen_connections);
  for (auto& c : impl_->contexts) impl_->guards.push_back(asio::make_work_guard(c->get_executor()));
  impl_->accept();
}

uint16_t Server::port() const { return impl_->acceptor.local_endpoint().port(); }

void Server::set_observer(RequestObserver obs) { impl_->observer = std::move(obs); }

void Server::set_metrics(RequestMetrics* metrics) { impl_->metrics = metrics; }

void Server::run() {
  std::vector<std::thread> threads;
  for (size_t i = 1; i < impl_->contexts.size(); ++i) {
    threads.emplace_back([c = impl_->contexts[i].get()] { c->run(); });
  }
  impl_->ioc.run();
  for (auto& t : threads) t.join();
}

void Server::shutdown() {
  asio::post(impl_->ioc, [impl = impl_] { impl->begin_shutdown(); });
}

asio::io_context& Server::io_context() { return impl_->ioc; }

}  // namespace helmgate::http
