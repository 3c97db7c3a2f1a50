// The apply gate on recorded PR states (the shapes GitHub's and Gitea's reviews answers give): only
// a writer's approval of the current head lets `/helmgate apply` through.
#include <catch2/catch.hpp>

#include <map>

#include "runners/pr_apply_gate.hpp"

using namespace helmgate;
using forge::Permission;
using forge::ReviewState;

namespace {

const std::string kHead = "1111111111111111111111111111111111111111";
const std::string kOld = "2222222222222222222222222222222222222222";

forge::PullRequestState open_pr() {
  forge::PullRequestState st;
  st.pr.number = 5;
  st.pr.state = "open";
  st.pr.head_sha = kHead;
  st.pr.mergeable = true;
  st.pr.author = "author";
  return st;
}

forge::Review review(int64_t id, const std::string& user, const std::string& commit, ReviewState s) {
  forge::Review r;
  r.id = id;
  r.user = user;
  r.commit_id = commit;
  r.state = s;
  return r;
}

struct Perms {
  std::map<std::string, Permission> by_user = {{"writer", Permission::write}, {"admin", Permission::admin},
                                               {"reader", Permission::read}, {"author", Permission::write}};
  int asked = 0;
  runners::PermissionLookup lookup() {
    return [this](const std::string& u) -> core::Result<Permission> {
      ++asked;
      auto it = by_user.find(u);
      return it == by_user.end() ? Permission::none : it->second;
    };
  }
};

}  // namespace

TEST_CASE("apply gate: a writer's approval of the current head, and only that, allows", "[security][forge]") {
  Perms p;
  auto st = open_pr();
  st.reviews = {review(1, "writer", kHead, ReviewState::approved)};
  auto d = runners::decide_pr_apply(st, p.lookup());
  REQUIRE(d.ok());
  CHECK(d->allowed);
  CHECK(d->head_sha == kHead);
  CHECK(d->approver == "writer");

  SECTION("an approval by a reader does not count") {
    st.reviews = {review(1, "reader", kHead, ReviewState::approved), review(2, "stranger", kHead, ReviewState::approved)};
    auto r = runners::decide_pr_apply(st, p.lookup());
    REQUIRE(r.ok());
    CHECK_FALSE(r->allowed);
    CHECK(r->reason.find("write permission") != std::string::npos);
  }
  SECTION("an approval of an older head does not carry over to a new push") {
    st.reviews = {review(1, "writer", kOld, ReviewState::approved)};
    auto r = runners::decide_pr_apply(st, p.lookup());
    REQUIRE(r.ok());
    CHECK_FALSE(r->allowed);
    CHECK(r->reason.find("older commit") != std::string::npos);
    CHECK(r->reason.find(kHead.substr(0, 12)) != std::string::npos);
  }
  SECTION("Gitea's stale and dismissed flags count for nothing") {
    auto stale = review(1, "writer", kHead, ReviewState::approved);
    stale.stale = true;
    st.reviews = {stale};
    CHECK_FALSE(runners::decide_pr_apply(st, p.lookup())->allowed);
    auto dismissed = review(1, "writer", kHead, ReviewState::approved);
    dismissed.dismissed = true;
    st.reviews = {dismissed};
    CHECK_FALSE(runners::decide_pr_apply(st, p.lookup())->allowed);
  }
  SECTION("the reviewer's latest deciding review counts, comments do not undo an approval") {
    st.reviews = {review(1, "writer", kHead, ReviewState::approved), review(2, "writer", kHead, ReviewState::commented)};
    CHECK(runners::decide_pr_apply(st, p.lookup())->allowed);
    st.reviews = {review(1, "writer", kHead, ReviewState::approved), review(2, "writer", kHead, ReviewState::dismissed)};
    CHECK_FALSE(runners::decide_pr_apply(st, p.lookup())->allowed);
    // Out of order in the answer: ids decide.
    st.reviews = {review(3, "writer", kHead, ReviewState::approved), review(2, "writer", kHead, ReviewState::changes_requested)};
    CHECK(runners::decide_pr_apply(st, p.lookup())->allowed);
  }
  SECTION("a writer asking for changes blocks, a reader asking does not") {
    st.reviews = {review(1, "writer", kHead, ReviewState::approved), review(2, "admin", kHead, ReviewState::changes_requested)};
    CHECK_FALSE(runners::decide_pr_apply(st, p.lookup())->allowed);
    st.reviews = {review(1, "writer", kHead, ReviewState::approved), review(2, "reader", kHead, ReviewState::changes_requested)};
    CHECK(runners::decide_pr_apply(st, p.lookup())->allowed);
  }
  SECTION("the author's own approval does not count") {
    st.reviews = {review(1, "author", kHead, ReviewState::approved)};
    CHECK_FALSE(runners::decide_pr_apply(st, p.lookup())->allowed);
  }
  SECTION("closed, unmergeable, or mergeable unknown: refused") {
    auto c = st;
    c.pr.state = "closed";
    CHECK_FALSE(runners::decide_pr_apply(c, p.lookup())->allowed);
    c = st;
    c.pr.mergeable = false;
    CHECK_FALSE(runners::decide_pr_apply(c, p.lookup())->allowed);
    c = st;
    c.pr.mergeable.reset();
    CHECK(runners::decide_pr_apply(c, p.lookup())->reason.find("try again") != std::string::npos);
    c = st;
    c.pr.head_sha = "main";  // not a commit id
    CHECK_FALSE(runners::decide_pr_apply(c, p.lookup())->allowed);
  }
  SECTION("a permission lookup that fails is an error, not a pass") {
    st.reviews = {review(1, "writer", kHead, ReviewState::approved)};
    auto r = runners::decide_pr_apply(
        st, [](const std::string&) -> core::Result<Permission> { return core::Error(core::errc::unavailable, "down"); });
    CHECK_FALSE(r.ok());
  }
}
