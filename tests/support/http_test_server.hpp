#pragma once
// A blocking HTTP/1.1 server on 127.0.0.1 for tests that need a bare peer: one thread accepts, one thread
// per connection reads requests and answers each with what the handler fills in (200, empty body by
// default). It counts connections and requests; close_after closes a connection after that many answers
// (to make a client's pooled connection go stale). A handler that returns false closes the connection
// without answering.
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <climits>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace helmgate::test {

class HttpTestServer {
 public:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  using Response = boost::beast::http::response<boost::beast::http::string_body>;
  using Handler = std::function<bool(const Request&, Response&)>;

  explicit HttpTestServer(Handler handler, int close_after = INT_MAX)
      : handler_(std::move(handler)), close_after_(close_after) {
    thread_ = std::thread([this] { accept_loop(); });
  }
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;
  ~HttpTestServer() {
    // A blocking accept() is not woken by closing the acceptor on Linux: one last connection does it.
    stopping_ = true;
    boost::system::error_code ec;
    tcp::socket s(ioc_);
    s.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port()), ec);
    thread_.join();
    s.close(ec);
    acceptor_.close(ec);
    for (auto& t : sessions_) t.join();
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string url(const std::string& path = "/x") const { return "http://127.0.0.1:" + std::to_string(port()) + path; }

  std::atomic<int> connections{0};
  std::atomic<int> requests{0};

 private:
  using tcp = boost::asio::ip::tcp;

  void accept_loop() {
    for (;;) {
      tcp::socket s(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(s, ec);
      if (ec || stopping_) return;
      ++connections;
      sessions_.emplace_back([this, sock = std::move(s)]() mutable { serve(sock); });
    }
  }

  void serve(tcp::socket& sock) {
    namespace http = boost::beast::http;
    boost::beast::flat_buffer buf;
    for (int n = 0; n < close_after_; ++n) {
      Request req;
      boost::system::error_code e;
      http::read(sock, buf, req, e);
      if (e) return;
      ++requests;
      Response res{http::status::ok, 11};
      if (!handler_(req, res)) return;
      // Promises keep-alive when asked, then still closes after close_after, like an idle timeout.
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      http::write(sock, res, e);
      if (e || !res.keep_alive()) return;
    }
  }

  boost::asio::io_context ioc_;
  tcp::acceptor acceptor_{ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}};
  Handler handler_;
  int close_after_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::vector<std::thread> sessions_;
};

}  // namespace helmgate::test
