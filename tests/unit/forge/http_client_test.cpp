// http::Client on plain HTTP against a bare acceptor that counts connections: keep-alive reuse,
// headers both ways, a retried stale connection, and the request timeout.
#include <catch2/catch.hpp>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>

#include "http/client.hpp"

using namespace helmgate;
namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

// Serves each connection on its own thread; answers echo the X-Echo header. close_after: the server
// closes a connection after that many answers (to make pooled connections go stale).
struct CountingServer {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc, {asio::ip::make_address("127.0.0.1"), 0}};
  std::atomic<int> connections{0};
  std::atomic<int> requests{0};
  std::atomic<bool> stopping{false};
  int close_after = 1000;
  bool silent = false;  // read the request, never answer
  std::thread thread;
  std::vector<std::thread> sessions;

  CountingServer() {
    thread = std::thread([this] {
      for (;;) {
        tcp::socket s(ioc);
        boost::system::error_code ec;
        acceptor.accept(s, ec);
        if (ec || stopping) return;
        ++connections;
        sessions.emplace_back([this, sock = std::move(s)]() mutable {
          beast::flat_buffer buf;
          for (int n = 0; n < close_after; ++n) {
            beast::http::request<beast::http::string_body> req;
            boost::system::error_code e;
            beast::http::read(sock, buf, req, e);
            if (e) return;
            ++requests;
            if (silent) {
              std::this_thread::sleep_for(1500ms);
              return;
            }
            beast::http::response<beast::http::string_body> res{beast::http::status::ok, 11};
            res.set("X-Echo", std::string(req["X-Echo"]));
            res.body() = req.body();
            res.keep_alive(req.keep_alive());  // then closes after close_after anyway, like an idle timeout
            res.prepare_payload();
            beast::http::write(sock, res, e);
            if (e || !res.keep_alive()) return;
          }
        });
      }
    });
  }
  ~CountingServer() {
    // A blocking accept() is not woken by closing the acceptor on Linux: one last connection does it.
    stopping = true;
    boost::system::error_code ec;
    tcp::socket s(ioc);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port()), ec);
    thread.join();
    acceptor.close(ec);
    for (auto& t : sessions) t.join();
  }
  uint16_t port() { return acceptor.local_endpoint().port(); }
  std::string url() { return "http://127.0.0.1:" + std::to_string(port()) + "/x"; }
};

}  // namespace

TEST_CASE("http client: keep-alive reuse, headers both ways", "[unit][forge]") {
  uint16_t port;
  {
    CountingServer server;
    port = server.port();
    http::Client client;
    for (int i = 0; i < 5; ++i) {
      auto r = client.request({"POST", server.url(), {{"X-Echo", "n" + std::to_string(i)}}, "body" + std::to_string(i), {}});
      REQUIRE(r.ok());
      CHECK(r->status == 200);
      CHECK(r->header("x-echo") == "n" + std::to_string(i));
      CHECK(r->body == "body" + std::to_string(i));
    }
    CHECK(server.requests == 5);
    CHECK(server.connections == 1);
    // The one-shot helper does not keep connections.
    REQUIRE(http::request("GET", server.url()).ok());
    REQUIRE(http::request("GET", server.url()).ok());
    CHECK(server.connections == 3);
  }
  (void)port;
}

TEST_CASE("http client: a pooled connection the server closed is retried on a fresh one", "[unit][forge]") {
  CountingServer server;
  server.close_after = 2;  // promises keep-alive, then closes after two answers
  http::Client client;
  for (int i = 0; i < 4; ++i) REQUIRE(client.request({"GET", server.url(), {}, {}, {}}).ok());
  CHECK(server.requests == 4);
  CHECK(server.connections == 2);
}

TEST_CASE("http client: timeout and unreachable server", "[unit][forge]") {
  CountingServer server;
  server.silent = true;
  http::Client client;
  auto t0 = std::chrono::steady_clock::now();
  auto r = client.request({"GET", server.url(), {}, {}, 300ms});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == core::make_error_code(core::errc::timeout));
  CHECK(std::chrono::steady_clock::now() - t0 < 1400ms);

  auto refused = http::request("GET", "http://127.0.0.1:1/x");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == core::make_error_code(core::errc::unavailable));
  CHECK_FALSE(http::request("GET", "ftp://x/").ok());
  CHECK_FALSE(http::request("GET", "http://user:secret@127.0.0.1/").ok());
  CHECK(http::request("GET", "http://user:secret@127.0.0.1/").error().message.find("secret") == std::string::npos);
}
