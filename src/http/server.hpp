#pragma once
// HTTP/1.1 server on Boost.Beast: keep-alive, a body limit, separate header/body/idle timeouts, an
// io_context per I/O thread with each connection on one of them, and graceful shutdown that lets in-flight requests finish. Resource bounds: at
// most max_connections open (past it: 503 with Retry-After), and when accept(2) runs out of descriptors
// or memory the accept loop backs off (50 ms doubling to 1 s) and logs once per episode, not per error.
#include <boost/asio/io_context.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "http/metrics.hpp"
#include "http/router.hpp"

namespace helmgate::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: pick a free port (see Server::port())
  int threads = 0;       // I/O threads, each with its own connections; 0: one per core but one
  uint64_t max_body_bytes = 25ull * 1024 * 1024;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds shutdown_grace{30'000};
  // Open connections at most; past it a new connection is answered 503 with Retry-After and closed.
  int max_connections = 1024;
};

// Called after each response is written: route pattern ("" when unmatched), status, seconds taken.
using RequestObserver = std::function<void(const std::string& route, unsigned status, double seconds)>;

class Server {
 public:
  Server(ServerOptions opts, Router router);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens; throws std::system_error naming the address when it cannot.
  void listen();
  uint16_t port() const;
  void set_observer(RequestObserver obs);
  // Connection metrics (open, rejected past max_connections, accept errors); call before run().
  void set_metrics(RequestMetrics* metrics);

  // Runs the I/O threads; returns after shutdown() has drained (or the grace period ran out).
  void run();
  // Thread-safe and signal-safe to request from any thread: stop accepting, finish in-flight
  // requests, close idle keep-alive connections, then stop.
  void shutdown();

  // The first I/O thread's context (the acceptor's): for the caller's signals and timers.
  boost::asio::io_context& io_context();

  struct Impl;  // public so the connection sessions in server.cpp can refer to it

 private:
  std::shared_ptr<Impl> impl_;
};

// Parses "host:port" / ":port" / "[::1]:port"; throws std::invalid_argument with the reason.
void parse_listen(const std::string& listen, std::string& host, uint16_t& port);

}  // namespace helmgate::http
