// The GitHub client against a local server that checks each request against GitHub's OpenAPI
// description and answers with the description's examples (see openapi_github.hpp).
#include <catch2/catch.hpp>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <memory>

#include "core/json.hpp"
#include "fake_clock.hpp"
#include "forge/github/app_auth.hpp"
#include "forge/github/github_client.hpp"
#include "forge/router.hpp"
#include "openapi_github.hpp"

using namespace helmgate;
using namespace std::chrono_literals;

namespace {

constexpr const char* kPat = "ghp_testtoken0123456789abcdefABCDEF0123";

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};

struct KeyPair {
  std::string private_pem;
  std::string public_pem;
};

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

KeyPair make_key(int type = EVP_PKEY_RSA) {
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new_id(type, nullptr));
  REQUIRE(ctx);
  REQUIRE(EVP_PKEY_keygen_init(ctx.get()) == 1);
  if (type == EVP_PKEY_RSA) {
    REQUIRE(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), 2048) == 1);
  }
  EVP_PKEY* raw = nullptr;
  REQUIRE(EVP_PKEY_keygen(ctx.get(), &raw) == 1);
  std::unique_ptr<EVP_PKEY, PkeyFree> key(raw);
  std::unique_ptr<BIO, BioFree> priv(BIO_new(BIO_s_mem())), pub(BIO_new(BIO_s_mem()));
  REQUIRE(PEM_write_bio_PrivateKey(priv.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1);
  REQUIRE(PEM_write_bio_PUBKEY(pub.get(), key.get()) == 1);
  return {bio_text(priv.get()), bio_text(pub.get())};
}

const KeyPair& app_key() {
  static KeyPair k = make_key();
  return k;
}

struct Fixture {
  std::shared_ptr<test::FakeClock> clock = std::make_shared<test::FakeClock>();
  std::unique_ptr<test::OpenApiGitHub> server;
  forge::RepoRef repo{"octocat", "Hello-World"};

  explicit Fixture(bool with_app = false) {
    test::OpenApiGitHub::Options o;
    o.clock = clock;
    o.pat = kPat;
    o.app_id = "4242";
    o.app_public_key_pem = app_key().public_pem;
    server = std::make_unique<test::OpenApiGitHub>(o);
    (void)with_app;
  }

  std::unique_ptr<forge::github::GitHubClient> client(bool app = false, forge::LimiterOptions limits = {}) {
    forge::ForgeSettings s;
    s.name = "github-test";
    s.kind = helmgate::core::ForgeKind::github;
    s.api_url = server->url();
    if (app) {
      s.github_app = forge::GitHubApp{"4242", app_key().private_pem, 77};
    } else {
      s.token = kPat;
    }
    forge::ClientDeps deps;
    deps.clock = clock;
    deps.limiter = std::make_shared<forge::WriteLimiter>(limits, clock);
    auto c = forge::github::GitHubClient::create(s, deps);
    REQUIRE(c.ok());
    return std::move(*c);
  }

  void require_conforming() {
    auto p = server->problems();
    INFO("non-conforming requests: " << p.size() << (p.empty() ? "" : " first: " + p.front()));
    CHECK(p.empty());
  }
};

}  // namespace

TEST_CASE("github: every operation the client makes exists in the OpenAPI description", "[unit][forge]") {
  Fixture f;
  auto c = f.client();

  auto created = c->create_comment(f.repo, 1347, "hello");
  REQUIRE(created.ok());
  CHECK(created->author == "helmgate[bot]");
  REQUIRE(c->edit_comment(f.repo, created->id, "edited").ok());
  auto list = c->list_comments(f.repo, 1347);
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  CHECK(list->front().body == "edited");
  REQUIRE(c->react(f.repo, created->id, forge::Reaction::eyes).ok());
  REQUIRE(c->react(f.repo, created->id, forge::Reaction::plus_one).ok());
  REQUIRE(c->delete_comment(f.repo, created->id).ok());
  CHECK(c->list_comments(f.repo, 1347)->empty());

  const std::string sha = "6dcb09b5b57875f334f61aebed695e2e4193db5e";
  REQUIRE(c->set_status(f.repo, sha, {"helmgate/dev", forge::CommitState::pending, "rendering", "https://helmgate/jobs/1"}).ok());
  REQUIRE(c->set_status(f.repo, sha, {"helmgate/dev", forge::CommitState::success, std::string(300, 'x'), "https://helmgate/jobs/1"}).ok());
  REQUIRE(c->set_status(f.repo, sha, {"helmgate/prod", forge::CommitState::failure, "rejected", ""}).ok());
  auto st = c->statuses(f.repo, sha);
  REQUIRE(st.ok());
  REQUIRE(st->size() == 2);
  auto dev = std::find_if(st->begin(), st->end(), [](auto& s) { return s.context == "helmgate/dev"; });
  REQUIRE(dev != st->end());
  CHECK(dev->state == forge::CommitState::success);
  CHECK(dev->description.size() <= forge::github::kStatusDescriptionLimit);

  // The recorded example: PR 1347 whose merge commit is e5bd39...
  auto pr = c->pull_request_for_commit(f.repo, "e5bd3914e2e596debea16f433f57875b5b90bcd6");
  REQUIRE(pr.ok());
  REQUIRE(pr->has_value());
  CHECK((*pr)->number == 1347);
  CHECK((*pr)->merged);
  CHECK((*pr)->base_ref == "master");

  auto admin = c->user_permission(f.repo, "octocat");
  REQUIRE(admin.ok());
  CHECK(*admin == forge::Permission::admin);
  f.server->set_permission("reader", "read");
  f.server->set_permission("ghost", "");
  CHECK(*c->user_permission(f.repo, "reader") == forge::Permission::read);
  CHECK(*c->user_permission(f.repo, "ghost") == forge::Permission::none);

  // The PR state /helmgate apply decides on: head, mergeable, reviews with the commit they were given to.
  const std::string head = "1111111111111111111111111111111111111111", old = "2222222222222222222222222222222222222222";
  f.server->set_pull(1347, head, true);
  f.server->add_review(1347, "writer", old, "APPROVED");
  f.server->add_review(1347, "writer", head, "APPROVED");
  f.server->add_review(1347, "reader", head, "CHANGES_REQUESTED");
  f.server->add_review(1347, "reader", head, "COMMENTED");
  auto state = c->pull_request_state(f.repo, 1347);
  REQUIRE(state.ok());
  CHECK(state->pr.head_sha == head);
  CHECK(state->pr.mergeable == std::optional<bool>(true));
  CHECK(state->pr.state == "open");
  REQUIRE(state->reviews.size() == 4);
  CHECK(state->reviews[0].user == "writer");
  CHECK(state->reviews[0].commit_id == old);
  CHECK(state->reviews[0].state == forge::ReviewState::approved);
  CHECK(state->reviews[2].state == forge::ReviewState::changes_requested);
  CHECK(state->reviews[3].state == forge::ReviewState::commented);
  auto missing = c->pull_request(f.repo, 99999);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == core::make_error_code(core::errc::not_found));
  auto me = c->self_login();
  REQUIRE(me.ok());
  CHECK(*me == "helmgate[bot]");
  REQUIRE(c->self_login().ok());
  CHECK(f.server->count("users/get-authenticated") == 1);  // asked once, then cached

  // Ownership's team.teams: the membership of a login in org/team (the description's example: active).
  auto member = c->team_member("acme", "team-a", "octocat");
  REQUIRE(member.ok());
  CHECK(*member);

  auto rl = c->rate_limit();
  CHECK(rl.known);
  CHECK(rl.limit == 5000);
  CHECK(rl.remaining < 5000);
  CHECK(rl.remaining > 4900);
  CHECK(rl.resource == "core");

  for (const char* op : {"issues/create-comment", "issues/update-comment", "issues/list-comments",
                         "issues/delete-comment", "reactions/create-for-issue-comment", "repos/create-commit-status",
                         "repos/list-commit-statuses-for-ref", "repos/list-pull-requests-associated-with-commit",
                         "repos/get-collaborator-permission-level", "pulls/get", "pulls/list-reviews",
                         "users/get-authenticated", "teams/get-membership-for-user-in-org"}) {
    INFO(op);
    CHECK(f.server->count(op) >= 1);
  }
  f.require_conforming();
}

TEST_CASE("github: the checking server itself refuses what the description does not allow", "[unit][forge]") {
  // Guards the guard: a wrong path, a missing required field and a bad enum value are caught.
  Fixture f;
  http::Headers h = {{"Authorization", std::string("Bearer ") + kPat}, {"Accept", "application/vnd.github+json"},
                     {"Content-Type", "application/json"}};
  auto base = f.server->url() + "/repos/octocat/Hello-World";
  CHECK(http::request("POST", base + "/issues/1/comment", h, R"({"body":"x"})")->status == 404);
  CHECK(http::request("POST", base + "/issues/1/comments", h, R"({"text":"x"})")->status == 400);
  CHECK(http::request("POST", base + "/statuses/abc", h, R"({"state":"done"})")->status == 400);
  CHECK(http::request("GET", base + "/issues/1/comments?per_pages=5", h)->status == 400);
  CHECK(f.server->problems().size() == 4);
}

TEST_CASE("github: comment upsert edits in place, pages through long PRs, deletes surplus", "[unit][forge]") {
  Fixture f;
  auto c = f.client();
  // 150 other comments first: the marker comments are only found by reading the second page.
  for (int i = 0; i < 150; ++i) REQUIRE(c->create_comment(f.repo, 7, "chatter " + std::to_string(i)).ok());
  std::vector<std::string> three = {std::string(c->part_limit(), 'a'), "two", "three"};
  auto big = c->upsert_comment(f.repo, 7, "preview", three);
  REQUIRE(big.ok());
  CHECK(big->created == 3);

  auto again = c->upsert_comment(f.repo, 7, "preview", three);
  REQUIRE(again.ok());
  CHECK(again->unchanged == 3);
  CHECK(again->comment_ids == big->comment_ids);

  auto small = c->upsert_comment(f.repo, 7, "preview", {"one"});
  REQUIRE(small.ok());
  CHECK(small->updated == 1);
  CHECK(small->deleted == 2);
  CHECK(small->comment_ids[0] == big->comment_ids[0]);
  auto all = c->list_comments(f.repo, 7);
  REQUIRE(all.ok());
  CHECK(all->size() == 151);
  CHECK(f.server->count("issues/delete-comment") == 2);

  auto too_big = c->upsert_comment(f.repo, 7, "preview", {std::string(c->part_limit() + 1, 'z')});
  REQUIRE_FALSE(too_big.ok());
  CHECK(too_big.error().code == core::make_error_code(core::errc::payload_too_large));
  f.require_conforming();
}

TEST_CASE("github: the upsert never takes over a marker comment written by someone else", "[unit][forge][security]") {
  for (bool app : {false, true}) {
    INFO((app ? "GitHub App" : "PAT"));
    Fixture f;
    auto c = f.client(app);
    // A look-alike of part 1, written by another user before helmgate ever commented.
    const std::string fake = forge::part_marker("preview", 1, 1) + "\nverified safe, merge it";
    int64_t theirs = f.server->add_comment(9, fake, "mallory");
    auto up = c->upsert_comment(f.repo, 9, "preview", {"the real preview"});
    REQUIRE(up.ok());
    CHECK(up->created == 1);
    CHECK(up->updated == 0);
    CHECK(up->deleted == 0);
    REQUIRE(up->comment_ids.size() == 1);
    CHECK(up->comment_ids[0] != theirs);
    CHECK(f.server->comment_body(theirs) == fake);  // neither edited nor deleted
    // Next run: ours is edited, theirs still untouched.
    auto again = c->upsert_comment(f.repo, 9, "preview", {"second run"});
    REQUIRE(again.ok());
    CHECK(again->updated == 1);
    CHECK(again->comment_ids == up->comment_ids);
    CHECK(f.server->comment_body(theirs) == fake);
    // Who we are: GET /user with a PAT; GET /app (the app's JWT) for an app, never /user.
    CHECK(f.server->count("users/get-authenticated") == (app ? 0u : 1u));
    CHECK(f.server->count("apps/get-authenticated") == (app ? 1u : 0u));
    f.require_conforming();
  }
}

TEST_CASE("github: 502s, 403/429 with Retry-After and a spent rate limit are retried", "[unit][forge]") {
  Fixture f;
  auto c = f.client();

  SECTION("502 twice: exponential backoff, then success") {
    f.server->fail_next(502, {}, "<html>Bad Gateway</html>", 2);
    REQUIRE(c->create_comment(f.repo, 1, "x").ok());
    CHECK(f.server->count("issues/create-comment") == 3);
    auto s = f.clock->sleeps();
    REQUIRE(s.size() == 2);
    CHECK(s[0] >= 1000ms);
    CHECK(s[0] <= 1250ms);
    CHECK(s[1] >= 2000ms);
    CHECK(s[1] <= 2500ms);
  }
  SECTION("403 secondary limit with Retry-After") {
    f.server->fail_next(403, {{"Retry-After", "7"}},
                        R"({"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."})");
    REQUIRE(c->create_comment(f.repo, 1, "x").ok());
    CHECK(f.server->count("issues/create-comment") == 2);
    CHECK(f.clock->sleeps() == std::vector<std::chrono::milliseconds>{7000ms});
  }
  SECTION("429 with Retry-After") {
    f.server->fail_next(429, {{"Retry-After", "3"}}, R"({"message":"Too Many Requests"})");
    REQUIRE(c->set_status(f.repo, "abc", {"helmgate/dev", forge::CommitState::pending, "x", ""}).ok());
    CHECK(f.clock->sleeps() == std::vector<std::chrono::milliseconds>{3000ms});
  }
  SECTION("403 secondary limit without Retry-After waits a minute") {
    f.server->fail_next(403, {}, R"({"message":"You have exceeded a secondary rate limit"})");
    REQUIRE(c->create_comment(f.repo, 1, "x").ok());
    CHECK(f.clock->sleeps() == std::vector<std::chrono::milliseconds>{60000ms});
  }
  SECTION("403 with x-ratelimit-remaining 0 waits for x-ratelimit-reset") {
    auto reset = std::chrono::duration_cast<std::chrono::seconds>(f.clock->wall_now().time_since_epoch()).count() + 30;
    f.server->fail_next(403, {{"x-ratelimit-remaining", "0"}, {"x-ratelimit-reset", std::to_string(reset)}},
                        R"({"message":"API rate limit exceeded"})");
    REQUIRE(c->list_comments(f.repo, 1).ok());
    auto s = f.clock->sleeps();
    REQUIRE(s.size() == 1);
    CHECK(s[0] >= 29000ms);
    CHECK(s[0] <= 32000ms);
  }
  SECTION("5xx that never heals gives up after the attempts, unavailable") {
    f.server->fail_next(503, {}, "{}", 100);
    auto r = c->create_comment(f.repo, 1, "x");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == core::make_error_code(core::errc::unavailable));
    CHECK(f.server->count("issues/create-comment") == 6);
    CHECK(r.error().message.find("gave up after 6 attempts") != std::string::npos);
  }
  SECTION("Retry-After longer than the policy allows fails now") {
    f.server->fail_next(429, {{"Retry-After", "3600"}}, R"({"message":"slow down"})");
    auto r = c->create_comment(f.repo, 1, "x");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == core::make_error_code(core::errc::unavailable));
    CHECK(f.server->count("issues/create-comment") == 1);
  }
  SECTION("a 422 does not heal: one request, the forge's message, no token") {
    f.server->fail_next(422, {}, R"J({"message":"Validation Failed","errors":[{"resource":"IssueComment","code":"custom","field":"body","message":"body is too long (maximum is 65536 characters)"}]})J");
    auto r = c->create_comment(f.repo, 1, "x");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == core::make_error_code(core::errc::bad_request));
    CHECK(f.server->count("issues/create-comment") == 1);
    CHECK(r.error().message.find("github-test: POST /repos/octocat/Hello-World/issues/1/comments answered 422") != std::string::npos);
    CHECK(r.error().message.find("body is too long") != std::string::npos);
    CHECK(r.error().message.find(kPat) == std::string::npos);
    CHECK(f.clock->sleeps().empty());
  }
  SECTION("a 401 echoing the token has it scrubbed") {
    f.server->fail_next(401, {}, std::string(R"({"message":"Bad credentials for )") + kPat + R"("})");
    auto r = c->list_comments(f.repo, 1);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == core::make_error_code(core::errc::unauthorized));
    CHECK(r.error().message.find(kPat) == std::string::npos);
    CHECK(r.error().message.find("***") != std::string::npos);
  }
  f.require_conforming();
}

TEST_CASE("github: a burst of 500 comment writes keeps to 80 per minute at the server", "[unit][forge]") {
  Fixture f;
  auto c = f.client();
  for (int i = 0; i < 500; ++i) REQUIRE(c->create_comment(f.repo, 9, "burst " + std::to_string(i)).ok());
  std::vector<double> at;
  for (const auto& s : f.server->seen()) {
    if (s.operation_id == "issues/create-comment") at.push_back(s.at);
  }
  REQUIRE(at.size() == 500);
  std::sort(at.begin(), at.end());
  size_t worst = 0;
  // Seconds since the fake clock's epoch as doubles: a write exactly 60 s after another may read as
  // 59.999999..., so windows are compared with a microsecond's tolerance.
  constexpr double kEps = 1e-6;
  for (size_t i = 0, j = 0; i < at.size(); ++i) {
    while (j < at.size() && at[j] < at[i] + 60.0 - kEps) ++j;
    worst = std::max(worst, j - i);
  }
  CHECK(worst == 80);
  CHECK(at.back() - at.front() >= 360.0 - kEps);  // six full windows for the last 20
  CHECK(at.back() - at.front() < 361.0);
  // Reads are not paced.
  f.clock->clear_sleeps();
  for (int i = 0; i < 100; ++i) REQUIRE(c->statuses(f.repo, "abc").ok());
  CHECK(f.clock->sleeps().empty());
  f.require_conforming();
}

TEST_CASE("github app: RS256 JWT verifies with the public key - installation token cached and renewed", "[unit][forge]") {
  SECTION("the JWT itself") {
    auto now = std::chrono::system_clock::now();
    auto jwt = forge::github::make_app_jwt("4242", app_key().private_pem, now);
    REQUIRE(jwt.ok());
    auto d1 = jwt->find('.'), d2 = jwt->rfind('.');
    core::json::Document h, p;
    REQUIRE_FALSE(core::json::parse(h, forge::github::base64url_decode(jwt->substr(0, d1))));
    REQUIRE_FALSE(core::json::parse(p, forge::github::base64url_decode(jwt->substr(d1 + 1, d2 - d1 - 1))));
    CHECK(*core::json::get_string(h, "alg") == "RS256");
    CHECK(*core::json::get_string(p, "iss") == "4242");
    auto t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    CHECK(*core::json::get_int(p, "iat") == t - 60);
    CHECK(*core::json::get_int(p, "exp") == t + 540);

    auto verify = [](const std::string& token, const std::string& public_pem) {
      auto dot = token.rfind('.');
      std::string sig = forge::github::base64url_decode(token.substr(dot + 1));
      std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(public_pem.data(), static_cast<int>(public_pem.size())));
      std::unique_ptr<EVP_PKEY, PkeyFree> key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
      std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
      return key && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) == 1 &&
             EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                              reinterpret_cast<const unsigned char*>(token.data()), dot) == 1;
    };
    CHECK(verify(*jwt, app_key().public_pem));
    std::string tampered = *jwt;
    tampered[d1 + 3] = tampered[d1 + 3] == 'A' ? 'B' : 'A';
    CHECK_FALSE(verify(tampered, app_key().public_pem));
    CHECK_FALSE(verify(*jwt, make_key().public_pem));  // another key

    auto ec = forge::github::make_app_jwt("4242", make_key(EVP_PKEY_ED25519).private_pem, now);
    REQUIRE_FALSE(ec.ok());
    CHECK(ec.error().code == core::make_error_code(core::errc::invalid_config));
    CHECK(ec.error().message.find("BEGIN") == std::string::npos);  // the key never appears
  }
  SECTION("through the client") {
    Fixture f;
    auto c = f.client(true);
    REQUIRE(c->create_comment(f.repo, 3, "as the app").ok());
    REQUIRE(c->list_comments(f.repo, 3).ok());
    CHECK(f.server->jwt_verified() == 1);  // the server checked the signature with the public key
    CHECK(c->token_fetches() == 1);        // cached across calls
    f.clock->advance(50min);
    REQUIRE(c->list_comments(f.repo, 3).ok());
    CHECK(c->token_fetches() == 1);  // 10 min left: still good
    f.clock->advance(6min);
    REQUIRE(c->list_comments(f.repo, 3).ok());
    CHECK(c->token_fetches() == 2);  // under 5 min left: renewed before expiry
    CHECK(f.server->jwt_verified() == 2);
    CHECK(f.server->count("apps/create-installation-access-token") == 2);
    f.require_conforming();
  }
}

TEST_CASE("router: forges by name, one limiter per identity", "[unit][forge]") {
  forge::ForgeRouter router;
  forge::ForgeSettings gh{"github", core::ForgeKind::github, "https://api.github.com", "tok-a", std::nullopt};
  forge::ForgeSettings gh2{"github-other-org", core::ForgeKind::github, "https://api.github.com", "tok-a", std::nullopt};
  forge::ForgeSettings gt{"gitea", core::ForgeKind::gitea, "https://gitea.example", "tok-b", std::nullopt};
  REQUIRE(router.add(gh).ok());
  REQUIRE(router.add(gh2).ok());
  REQUIRE(router.add(gt).ok());
  CHECK(router.limiter_count() == 2);  // the two GitHub forges share a token, hence a limiter
  CHECK(router.add(gh).error().code == core::make_error_code(core::errc::conflict));
  auto g = router.get("gitea");
  REQUIRE(g.ok());
  CHECK((*g)->kind() == core::ForgeKind::gitea);
  auto missing = router.get("gitlab");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("configured: gitea, github, github-other-org") != std::string::npos);
  CHECK(forge::identity_key(gh).find("tok-a") == std::string::npos);
  forge::ForgeSettings no_token{"bare", core::ForgeKind::github, "", "", std::nullopt};
  CHECK(router.add(no_token).error().code == core::make_error_code(core::errc::invalid_config));

  config::Forge cf;
  cf.name = "from-config";
  cf.kind = core::ForgeKind::gitea;
  cf.api_url = "http://127.0.0.1:1";
  cf.token = "tok-c";
  REQUIRE(router.add_all({cf}).ok());
  CHECK(router.clients().size() == 4);
}
