// The Gitea client against the real Gitea of scripts/testenv: every PR here is a new one made through
// Gitea's API, so the tests do not depend on each other or on what earlier runs left behind.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>

#include "core/json.hpp"
#include "forge/gitea/gitea_client.hpp"
#include "http/client.hpp"
#include "support/support.hpp"

using namespace helmgate;
using forge::CommitState;

namespace {

struct Gitea {
  std::string url = test::require_env("HELMGATE_TEST_GITEA_URL");
  std::string token = test::require_env("HELMGATE_TEST_GITEA_TOKEN");
  std::string user = test::require_env("HELMGATE_TEST_GITEA_USER");
  forge::RepoRef repo = *forge::RepoRef::parse(test::require_env("HELMGATE_TEST_GITEA_REPO"));

  // Gitea's API used directly (to arrange what the client under test then reads), 2xx required.
  core::json::Document api(const std::string& method, const std::string& path, const std::string& body = {}) {
    auto r = http::request(method, url + "/api/v1" + path,
                           {{"Authorization", "token " + token}, {"Content-Type", "application/json"}}, body);
    INFO(method << " " << path << " -> " << (r.ok() ? std::to_string(r->status) + " " + r->body.substr(0, 300) : r.error().message));
    REQUIRE(r.ok());
    REQUIRE(r->status / 100 == 2);
    core::json::Document doc;
    if (!r->body.empty()) REQUIRE_FALSE(core::json::parse(doc, r->body).has_value());
    return doc;
  }

  std::unique_ptr<forge::gitea::GiteaClient> client() {
    forge::ForgeSettings s;
    s.name = "gitea-e2e";
    s.kind = core::ForgeKind::gitea;
    s.api_url = url;
    s.token = token;
    auto c = forge::gitea::GiteaClient::create(s);
    REQUIRE(c.ok());
    return std::move(*c);
  }

  std::string default_branch() {
    auto doc = api("GET", "/repos/" + repo.full_name());
    return *core::json::get_string(doc, "default_branch");
  }

  struct Pr {
    int64_t number;
    std::string head_sha;
  };

  // A branch with one new file and a PR from it.
  Pr open_pr(const std::string& tag) {
    static std::atomic<int> seq{0};
    const std::string branch = "forge-e2e-" + tag + "-" +
                               std::to_string(std::chrono::system_clock::now().time_since_epoch().count()) + "-" +
                               std::to_string(seq++);
    const std::string base = default_branch();
    api("POST", "/repos/" + repo.full_name() + "/branches",
        R"({"new_branch_name":")" + branch + R"(","old_branch_name":")" + base + R"("})");
    // "aGVsbWdhdGUK" is base64 of "helmgate\n".
    api("POST", "/repos/" + repo.full_name() + "/contents/e2e/" + branch + ".txt",
        R"({"content":"aGVsbWdhdGUK","message":"e2e: )" + tag + R"(","branch":")" + branch + R"("})");
    auto pr = api("POST", "/repos/" + repo.full_name() + "/pulls",
                  R"({"head":")" + branch + R"(","base":")" + base + R"(","title":"forge e2e )" + tag + R"("})");
    return Pr{*core::json::get_int(pr, "number"), *core::json::get_string(pr, "head.sha")};
  }

  // Comments on the PR carrying a helmgate marker for key.
  std::vector<forge::Comment> marked(forge::ForgeClient& c, int64_t pr, const std::string& key) {
    auto all = c.list_comments(repo, pr);
    REQUIRE(all.ok());
    std::vector<forge::Comment> out;
    for (auto& cm : *all) {
      if (forge::parse_part_marker(cm.body, key)) out.push_back(cm);
    }
    return out;
  }
};

}  // namespace

TEST_CASE("gitea: upsert creates one comment, then edits it in place", "[e2e][forge]") {
  Gitea g;
  auto c = g.client();
  auto pr = g.open_pr("upsert");

  auto first = c->upsert_comment(g.repo, pr.number, "preview", {"## Preview\n\nfirst push"});
  REQUIRE(first.ok());
  CHECK(first->created == 1);
  REQUIRE(first->comment_ids.size() == 1);
  auto after_first = g.marked(*c, pr.number, "preview");
  REQUIRE(after_first.size() == 1);
  CHECK(after_first[0].body.find("first push") != std::string::npos);
  CHECK(after_first[0].author == g.user);

  auto second = c->upsert_comment(g.repo, pr.number, "preview", {"## Preview\n\nsecond push"});
  REQUIRE(second.ok());
  CHECK(second->created == 0);
  CHECK(second->updated == 1);
  CHECK(second->comment_ids == first->comment_ids);
  auto after_second = g.marked(*c, pr.number, "preview");
  REQUIRE(after_second.size() == 1);
  CHECK(after_second[0].id == after_first[0].id);
  CHECK(after_second[0].body.find("second push") != std::string::npos);
  CHECK(after_second[0].body.find("first push") == std::string::npos);

  // Same content again: nothing is written.
  auto third = c->upsert_comment(g.repo, pr.number, "preview", {"## Preview\n\nsecond push"});
  REQUIRE(third.ok());
  CHECK(third->unchanged == 1);
  CHECK(third->updated + third->created + third->deleted == 0);

  // A per-cluster key is a separate comment and leaves the other alone.
  auto dev = c->upsert_comment(g.repo, pr.number, "preview/dev", {"dev only"});
  REQUIRE(dev.ok());
  CHECK(dev->created == 1);
  CHECK(g.marked(*c, pr.number, "preview").size() == 1);
  CHECK(g.marked(*c, pr.number, "preview/dev").size() == 1);

  // React to a comment (as to a command comment); the reaction reads back.
  REQUIRE(c->react(g.repo, dev->comment_ids[0], forge::Reaction::eyes).ok());
  auto reactions = g.api("GET", "/repos/" + g.repo.full_name() + "/issues/comments/" +
                                    std::to_string(dev->comment_ids[0]) + "/reactions");
  REQUIRE(reactions.IsArray());
  REQUIRE(reactions.Size() == 1);
  CHECK(*core::json::get_string(reactions[0], "content") == "eyes");
}

TEST_CASE("gitea: a report in three parts makes three comments - a smaller one deletes the surplus", "[e2e][forge]") {
  Gitea g;
  auto c = g.client();
  auto pr = g.open_pr("parts");
  // Parts close to the limit, so Gitea really stores bodies of that size.
  std::vector<std::string> three;
  for (char ch : {'a', 'b', 'c'}) three.push_back(std::string(c->part_limit() - 10, ch));

  auto big = c->upsert_comment(g.repo, pr.number, "preview", three);
  REQUIRE(big.ok());
  CHECK(big->created == 3);
  auto parts = g.marked(*c, pr.number, "preview");
  REQUIRE(parts.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(parts[i].id == big->comment_ids[i]);  // in order in the conversation
    CHECK(parts[i].body.rfind(forge::part_marker("preview", i + 1, 3) + "\n", 0) == 0);
    CHECK(parts[i].body.size() <= c->comment_limit());
    CHECK(parts[i].body.find(std::string(100, three[i][0])) != std::string::npos);
  }

  auto small = c->upsert_comment(g.repo, pr.number, "preview", {"now small"});
  REQUIRE(small.ok());
  CHECK(small->updated == 1);
  CHECK(small->deleted == 2);
  CHECK(small->comment_ids[0] == big->comment_ids[0]);
  parts = g.marked(*c, pr.number, "preview");
  REQUIRE(parts.size() == 1);
  CHECK(parts[0].body == forge::part_marker("preview", 1, 1) + "\nnow small");
}

TEST_CASE("gitea: statuses per context, pending then final, read back", "[e2e][forge]") {
  Gitea g;
  auto c = g.client();
  auto pr = g.open_pr("status");
  const std::string job = g.url + "/jobs/42";
  REQUIRE(c->set_status(g.repo, pr.head_sha, {"helmgate/dev", CommitState::pending, "rendering", job}).ok());
  REQUIRE(c->set_status(g.repo, pr.head_sha, {"helmgate/prod", CommitState::pending, "rendering", job}).ok());
  REQUIRE(c->set_status(g.repo, pr.head_sha, {"helmgate/dev", CommitState::success, "3 releases changed\nsecond line", job}).ok());
  REQUIRE(c->set_status(g.repo, pr.head_sha, {"helmgate/prod", CommitState::failure, "dry-run rejected podinfo", job}).ok());

  auto st = c->statuses(g.repo, pr.head_sha);
  REQUIRE(st.ok());
  REQUIRE(st->size() == 2);
  auto find = [&](const std::string& ctx) {
    auto it = std::find_if(st->begin(), st->end(), [&](const forge::CommitStatus& s) { return s.context == ctx; });
    REQUIRE(it != st->end());
    return *it;
  };
  auto dev = find("helmgate/dev");
  CHECK(dev.state == CommitState::success);
  CHECK(dev.description == "3 releases changed\xE2\x80\xA6");  // one line
  CHECK(dev.target_url == job);
  auto prod = find("helmgate/prod");
  CHECK(prod.state == CommitState::failure);
  CHECK(prod.description == "dry-run rejected podinfo");
}

TEST_CASE("gitea: a user who is not a collaborator has no write permission", "[e2e][forge]") {
  Gitea g;
  auto c = g.client();
  const std::string outsider = "outsider" + std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 1000000000);
  g.api("POST", "/admin/users",
        R"({"username":")" + outsider + R"(","email":")" + outsider +
            R"(@example.com","password":"Outsider-pass-123","must_change_password":false})");

  auto p = c->user_permission(g.repo, outsider);
  REQUIRE(p.ok());
  CHECK((*p == forge::Permission::none || *p == forge::Permission::read));
  auto owner = c->user_permission(g.repo, g.user);
  REQUIRE(owner.ok());
  CHECK(*owner == forge::Permission::admin);
  auto nobody = c->user_permission(g.repo, "no-such-user-" + outsider);
  REQUIRE(nobody.ok());
  CHECK(*nobody == forge::Permission::none);

  // Made a collaborator with write access, the same user now may write.
  g.api("PUT", "/repos/" + g.repo.full_name() + "/collaborators/" + outsider, R"({"permission":"write"})");
  auto now = c->user_permission(g.repo, outsider);
  REQUIRE(now.ok());
  CHECK(*now == forge::Permission::write);
}

TEST_CASE("gitea: the PR of a merge commit", "[e2e][forge]") {
  Gitea g;
  auto c = g.client();
  auto pr = g.open_pr("merge");
  g.api("POST", "/repos/" + g.repo.full_name() + "/pulls/" + std::to_string(pr.number) + "/merge", R"({"Do":"merge"})");
  // The merge commit is the deploy branch's new head. (Not read from GET /pulls/{n}: Gitea 1.26 with
  // sqlite can stall that call for a minute right after a merge.)
  auto branch = g.api("GET", "/repos/" + g.repo.full_name() + "/branches/" + g.default_branch());
  auto merge_sha = core::json::get_string(branch, "commit.id");
  REQUIRE(merge_sha.has_value());
  REQUIRE(merge_sha->size() == 40);

  auto found = c->pull_request_for_commit(g.repo, *merge_sha);
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->number == pr.number);
  CHECK((*found)->merged);
  CHECK((*found)->merge_commit_sha == *merge_sha);

  auto none = c->pull_request_for_commit(g.repo, std::string(40, '0'));
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
}

TEST_CASE("gitea: a 4xx that will not heal fails at once with Gitea's message and no token", "[e2e][forge]") {
  Gitea g;
  auto c = g.client();
  // (A comment on a missing issue is no use here: Gitea 1.26 answers that with a 500, which is retried.)
  auto r = c->edit_comment(g.repo, 99999999, "nowhere");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == core::make_error_code(core::errc::not_found));
  CHECK(r.error().message.find("gitea-e2e: PATCH /repos/" + g.repo.full_name() + "/issues/comments/99999999 answered 404") != std::string::npos);
  CHECK(r.error().message.find(g.token) == std::string::npos);

  forge::ForgeSettings bad;
  bad.name = "gitea-bad-token";
  bad.kind = core::ForgeKind::gitea;
  bad.api_url = g.url;
  bad.token = "0123456789abcdef0123456789abcdef01234567";
  auto wrong = *forge::gitea::GiteaClient::create(bad);
  auto denied = wrong->list_comments(g.repo, 1);
  REQUIRE_FALSE(denied.ok());
  CHECK(denied.error().code == core::make_error_code(core::errc::unauthorized));
  CHECK(denied.error().message.find(bad.token) == std::string::npos);
  CHECK(denied.error().message.find("token") != std::string::npos);  // says what to check
}
