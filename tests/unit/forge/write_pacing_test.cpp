// The bench/loop stall (issue 15): one preview in twenty took 42-50 s, and an apply job ran 30-40 s after
// its work was done. Each preview writes 7 times to the forge (3 pending statuses, the comment, 3 final
// statuses); the identity's WriteLimiter kept GitHub's secondary limit of 80 writes a minute for every
// forge kind, so on Gitea the 12th preview in a minute slept until the window freed up. Gitea has no such
// limit: its writes keep only the concurrency cap. GitHub keeps its window (github_test.cpp).
#include <catch2/catch.hpp>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>

#include "fake_clock.hpp"
#include "forge/kinds.hpp"
#include "forge/router.hpp"

using namespace helmgate;
namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

// Answers every request 201 with a comment-shaped JSON body, keep-alive, one thread per connection.
struct AcceptingForge {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc, {asio::ip::make_address("127.0.0.1"), 0}};
  std::atomic<int> writes{0};
  std::atomic<bool> stopping{false};
  std::thread thread;
  std::vector<std::thread> sessions;

  AcceptingForge() {
    thread = std::thread([this] {
      for (;;) {
        tcp::socket s(ioc);
        boost::system::error_code ec;
        acceptor.accept(s, ec);
        if (ec || stopping) return;
        sessions.emplace_back([this, sock = std::move(s)]() mutable {
          beast::flat_buffer buf;
          for (;;) {
            beast::http::request<beast::http::string_body> req;
            boost::system::error_code e;
            beast::http::read(sock, buf, req, e);
            if (e) return;
            if (req.method() != beast::http::verb::get) ++writes;
            beast::http::response<beast::http::string_body> res{beast::http::status::created, 11};
            res.set(beast::http::field::content_type, "application/json");
            res.body() = R"({"id":1,"body":"x","user":{"login":"helmgate"}})";
            res.keep_alive(req.keep_alive());
            res.prepare_payload();
            beast::http::write(sock, res, e);
            if (e || !res.keep_alive()) return;
          }
        });
      }
    });
  }
  ~AcceptingForge() {
    stopping = true;
    boost::system::error_code ec;
    tcp::socket s(ioc);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port()), ec);
    thread.join();
    s.close(ec);
    acceptor.close(ec);
    for (auto& t : sessions) t.join();
  }
  uint16_t port() { return acceptor.local_endpoint().port(); }
};

}  // namespace

TEST_CASE("gitea: 20 previews' writes in a burst are not held to GitHub's 80 a minute (bench/loop stall)",
          "[unit][forge]") {
  auto clock = std::make_shared<test::FakeClock>();
  AcceptingForge server;
  {
    forge::RouterOptions ro;
    ro.clock = clock;
    forge::ForgeRouter router(ro);
    forge::ForgeSettings gt{"gitea", core::ForgeKind::gitea, "http://127.0.0.1:" + std::to_string(server.port()),
                            "tok-gitea", std::nullopt};
    REQUIRE(router.add(gt).ok());
    auto client = router.get("gitea");
    REQUIRE(client.ok());
    forge::RepoRef repo{"gitops", "fleet-bench"};
    // bench/loop's 20 PRs, each as the preview runner writes: pending per cluster, the comment, the verdicts.
    for (int pr = 1; pr <= 20; ++pr) {
      const std::string sha(40, static_cast<char>('a' + pr % 6));
      for (const char* cluster : {"dev", "staging", "prod"}) {
        REQUIRE((*client)->set_status(repo, sha, {std::string("helmgate/") + cluster, forge::CommitState::pending, "rendering", ""}).ok());
      }
      REQUIRE((*client)->create_comment(repo, pr, "preview of PR " + std::to_string(pr)).ok());
      for (const char* cluster : {"dev", "staging", "prod"}) {
        REQUIRE((*client)->set_status(repo, sha, {std::string("helmgate/") + cluster, forge::CommitState::success, "ok", ""}).ok());
      }
    }
    CHECK(server.writes == 140);
    // Before the fix the 81st write slept until the first one was a minute old (the 42-50 s preview).
    INFO("sleeps: " << clock->sleeps().size() << (clock->sleeps().empty() ? "" : ", first " + std::to_string(clock->sleeps().front().count()) + " ms"));
    CHECK(clock->sleeps().empty());
    CHECK(clock->seconds() == 0.0);
  }
}

TEST_CASE("write limits by forge kind: GitHub keeps its window, Gitea only the concurrency cap", "[unit][forge]") {
  CHECK(forge::write_limits(core::ForgeKind::github).windowed);
  CHECK(forge::write_limits(core::ForgeKind::github).max_writes_per_window == 80);
  CHECK_FALSE(forge::write_limits(core::ForgeKind::gitea).windowed);
  // A window configured off stays off for GitHub too.
  forge::LimiterOptions off;
  off.windowed = false;
  CHECK_FALSE(forge::write_limits(core::ForgeKind::github, off).windowed);

  // Without a window, 500 writes go at once, and the concurrency cap still holds.
  auto clock = std::make_shared<test::FakeClock>();
  forge::WriteLimiter limiter(forge::write_limits(core::ForgeKind::gitea, {80, 60s, 2}), clock);
  for (int i = 0; i < 500; ++i) auto permit = limiter.acquire();
  CHECK(limiter.granted() == 500);
  CHECK(clock->sleeps().empty());
  std::atomic<int> now{0}, peak{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        auto permit = limiter.acquire();
        int n = ++now;
        int p = peak.load();
        while (n > p && !peak.compare_exchange_weak(p, n)) {
        }
        std::this_thread::sleep_for(2ms);
        --now;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(peak.load() == 2);
  CHECK(limiter.in_flight() == 0);
}
