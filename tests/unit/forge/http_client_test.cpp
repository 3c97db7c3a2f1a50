// http::Client on plain HTTP against a bare test server that counts connections: keep-alive reuse,
// headers both ways, a retried stale connection, and the request timeout.
#include <catch2/catch.hpp>

#include <thread>

#include "http/client.hpp"
#include "support/http_test_server.hpp"

using namespace helmgate;
using namespace std::chrono_literals;

namespace {

// Answers echo the X-Echo header and the body.
bool echo(const test::HttpTestServer::Request& req, test::HttpTestServer::Response& res) {
  res.set("X-Echo", std::string(req["X-Echo"]));
  res.body() = req.body();
  return true;
}

}  // namespace

TEST_CASE("http client: keep-alive reuse, headers both ways", "[unit][forge]") {
  uint16_t port;
  {
    test::HttpTestServer server(echo);
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
  test::HttpTestServer server(echo, 2);  // promises keep-alive, then closes after two answers
  http::Client client;
  for (int i = 0; i < 4; ++i) REQUIRE(client.request({"GET", server.url(), {}, {}, {}}).ok());
  CHECK(server.requests == 4);
  CHECK(server.connections == 2);
}

TEST_CASE("http client: timeout and unreachable server", "[unit][forge]") {
  // Reads the request, never answers.
  test::HttpTestServer server([](const auto&, auto&) {
    std::this_thread::sleep_for(1500ms);
    return false;
  });
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
