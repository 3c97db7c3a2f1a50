// The apply gate through the GitHub client, against the local stand-in that checks every request
// against GitHub's OpenAPI description (tests/unit/forge/openapi_github.hpp): pulls/get,
// pulls/list-reviews (commit_id per review) and the collaborator permission of each reviewer.
#include <catch2/catch.hpp>

#include "fake_clock.hpp"
#include "forge/github/github_client.hpp"
#include "openapi_github.hpp"
#include "runners/pr_apply_gate.hpp"

using namespace helmgate;

namespace {

constexpr const char* kPat = "ghp_securitytest0123456789abcdefABCDEF";
const std::string kHead = "3333333333333333333333333333333333333333";
const std::string kOld = "4444444444444444444444444444444444444444";

struct Fixture {
  std::shared_ptr<test::FakeClock> clock = std::make_shared<test::FakeClock>();
  std::unique_ptr<test::OpenApiGitHub> server;
  std::unique_ptr<forge::github::GitHubClient> client;
  forge::RepoRef repo{"octocat", "Hello-World"};

  Fixture() {
    test::OpenApiGitHub::Options o;
    o.clock = clock;
    o.pat = kPat;
    server = std::make_unique<test::OpenApiGitHub>(o);
    forge::ForgeSettings s;
    s.name = "github-security";
    s.kind = core::ForgeKind::github;
    s.api_url = server->url();
    s.token = kPat;
    forge::ClientDeps deps;
    deps.clock = clock;
    deps.limiter = std::make_shared<forge::WriteLimiter>(forge::LimiterOptions{}, clock);
    auto c = forge::github::GitHubClient::create(s, deps);
    REQUIRE(c.ok());
    client = std::move(*c);
    server->set_permission("writer", "write");
    server->set_permission("maintainer", "maintain");
    server->set_permission("reader", "read");
    server->set_permission("stranger", "");
    server->set_pull(7, kHead, true);
  }
  runners::PrApplyDecision decide() {
    auto d = runners::check_pr_apply(*client, repo, 7);
    REQUIRE(d.ok());
    auto p = server->problems();
    CHECK(p.empty());
    if (!p.empty()) FAIL_CHECK(p.front());
    UNSCOPED_INFO("reason: " << d->reason);
    return *d;
  }
};

}  // namespace

TEST_CASE("github: apply gate needs a writer's approval given to the current head", "[security][forge]") {
  SECTION("reader and stranger approvals are refused") {
    Fixture f;
    f.server->add_review(7, "reader", kHead, "APPROVED");
    f.server->add_review(7, "stranger", kHead, "APPROVED");
    auto d = f.decide();
    CHECK_FALSE(d.allowed);
    CHECK(d.reason.find("write permission") != std::string::npos);
    CHECK(f.server->count("repos/get-collaborator-permission-level") == 2);
  }
  SECTION("a writer's approval of an older head is refused") {
    Fixture f;
    f.server->add_review(7, "writer", kOld, "APPROVED");
    auto d = f.decide();
    CHECK_FALSE(d.allowed);
    CHECK(d.reason.find("older commit") != std::string::npos);
  }
  SECTION("a maintainer's approval of the head is accepted, with that head") {
    Fixture f;
    f.server->add_review(7, "reader", kHead, "APPROVED");
    f.server->add_review(7, "maintainer", kHead, "APPROVED");
    auto d = f.decide();
    CHECK(d.allowed);
    CHECK(d.approver == "maintainer");
    CHECK(d.head_sha == kHead);
  }
  SECTION("not mergeable is refused whatever the approvals") {
    Fixture f;
    f.server->set_pull(7, kHead, false);
    f.server->add_review(7, "writer", kHead, "APPROVED");
    CHECK_FALSE(f.decide().allowed);
  }
}
