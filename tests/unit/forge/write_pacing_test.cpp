// The bench/loop stall (issue 15): one preview in twenty took 42-50 s, and an apply job ran 30-40 s after
// its work was done. Each preview writes 7 times to the forge (3 pending statuses, the comment, 3 final
// statuses); the identity's WriteLimiter kept GitHub's secondary limit of 80 writes a minute for every
// forge kind, so on Gitea the 12th preview in a minute slept until the window freed up. Gitea has no such
// limit: its writes keep only the concurrency cap. GitHub keeps its window (github_test.cpp).
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "fake_clock.hpp"
#include "forge/kinds.hpp"
#include "forge/router.hpp"
#include "support/http_test_server.hpp"

using namespace helmgate;
using namespace std::chrono_literals;

namespace {

// Answers every request 201 with a comment-shaped JSON body, and counts the writes (all but GETs).
struct AcceptingForge {
  std::atomic<int> writes{0};
  test::HttpTestServer server{[this](const test::HttpTestServer::Request& req, test::HttpTestServer::Response& res) {
    if (req.method() != boost::beast::http::verb::get) ++writes;
    res.result(boost::beast::http::status::created);
    res.set(boost::beast::http::field::content_type, "application/json");
    res.body() = R"({"id":1,"body":"x","user":{"login":"helmgate"}})";
    return true;
  }};
  uint16_t port() const { return server.port(); }
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
  const int peak = test::peak_in_flight(limiter, 6, 5);
  CHECK(peak == 2);
  CHECK(limiter.in_flight() == 0);
}
