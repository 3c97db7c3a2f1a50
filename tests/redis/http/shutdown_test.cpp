// Graceful shutdown: a request in flight is answered; new connections are refused afterwards.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "http/client.hpp"
#include "http/server.hpp"

using namespace helmgate;
using namespace std::chrono_literals;

TEST_CASE("shutdown finishes in-flight requests and then stops", "[redis][http]") {
  http::Router router;
  std::atomic<bool> entered{false};
  router.add(http::beast_http::verb::get, "/slow", [&](std::shared_ptr<http::Context>, http::Responder respond) {
    entered = true;
    std::thread([respond = std::move(respond)] {
      std::this_thread::sleep_for(500ms);
      respond(http::json_response(200, "{\"done\":true}"));
    }).detach();
  });
  http::ServerOptions so;
  so.port = 0;
  so.threads = 2;
  so.shutdown_grace = 30000ms;
  http::Server server(so, std::move(router));
  server.listen();
  auto port = server.port();
  std::thread runner([&] { server.run(); });

  auto inflight = std::async(std::launch::async, [port] {
    return http::request("GET", "http://127.0.0.1:" + std::to_string(port) + "/slow");
  });
  while (!entered) std::this_thread::sleep_for(5ms);
  auto t0 = std::chrono::steady_clock::now();
  server.shutdown();
  auto res = inflight.get();
  REQUIRE(res.ok());
  CHECK(res->status == 200);
  CHECK(res->body.find("done") != std::string::npos);
  runner.join();
  CHECK(std::chrono::steady_clock::now() - t0 < 20s);  // drained, not cut off by the grace timer
  auto after = http::request("GET", "http://127.0.0.1:" + std::to_string(port) + "/slow", {}, {}, 1000ms);
  CHECK_FALSE(after.ok());
}
