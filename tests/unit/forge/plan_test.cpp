#include <catch2/catch.hpp>

#include "forge/forge.hpp"

using namespace helmgate::forge;

TEST_CASE("part markers: round trip, other keys and lookalikes ignored", "[unit][forge]") {
  auto m = part_marker("preview", 2, 3);
  CHECK(m == "<!-- helmgate:preview:preview part 2/3 -->");
  CHECK(parse_part_marker(m + "\nbody", "preview") == 2u);
  CHECK(parse_part_marker("\n " + m, "preview") == 2u);
  CHECK_FALSE(parse_part_marker(m, "preview/dev").has_value());
  CHECK_FALSE(parse_part_marker(part_marker("preview/dev", 1, 1), "preview").has_value());
  CHECK_FALSE(parse_part_marker("quoted: " + m, "preview").has_value());  // not at the start
  CHECK_FALSE(parse_part_marker("<!-- helmgate:preview:preview part 0/1 -->", "preview").has_value());
  // A key cannot close the HTML comment early.
  auto odd = part_marker("a-->b c", 1, 1);
  CHECK(odd.find("-->") == odd.size() - 3);
  CHECK(parse_part_marker(odd, "a-->b c") == 1u);
}

TEST_CASE("upsert plan: edit in place, create missing, delete surplus and duplicates", "[unit][forge]") {
  auto body = [](size_t n, size_t m, const std::string& text) { return part_marker("preview", n, m) + "\n" + text; };
  std::vector<Comment> existing = {
      {10, "a human comment", "alice"},
      {11, body(1, 3, "old one"), "bot"},
      {12, body(2, 3, "same two"), "bot"},
      {13, body(3, 3, "old three"), "bot"},
      {14, body(1, 3, "duplicate of one from an interrupted run"), "bot"},
      {15, part_marker("preview/dev", 1, 1) + "\nother key", "bot"},
  };
  std::vector<std::string> two = {body(1, 2, "new one"), body(2, 2, "same two")};
  // Part 2's marker changes from 2/3 to 2/2, so it is an edit too.
  auto plan = plan_upsert(existing, "preview", two, "bot");
  CHECK(plan.create.empty());
  REQUIRE(plan.edit.size() == 2);
  CHECK(plan.edit[0].part == 1);
  CHECK(plan.edit[0].comment_id == 11);  // the oldest copy keeps its place
  CHECK(plan.edit[1].comment_id == 12);
  CHECK(plan.keep.empty());
  std::vector<int64_t> removed = plan.remove;
  std::sort(removed.begin(), removed.end());
  CHECK(removed == std::vector<int64_t>{13, 14});

  std::vector<std::string> four = {body(1, 4, "x"), body(2, 4, "y"), body(3, 4, "z"), body(4, 4, "w")};
  auto grow = plan_upsert(existing, "preview", four, "bot");
  CHECK(grow.create == std::vector<size_t>{4});
  CHECK(grow.edit.size() == 3);
  CHECK(grow.remove == std::vector<int64_t>{14});

  std::vector<Comment> same = {{20, body(1, 1, "t"), "bot"}};
  auto unchanged = plan_upsert(same, "preview", {body(1, 1, "t")}, "bot");
  CHECK(unchanged.keep.size() == 1);
  CHECK(unchanged.edit.empty());
  CHECK(unchanged.create.empty());
  CHECK(unchanged.remove.empty());

  auto none = plan_upsert(existing, "preview", {}, "bot");
  CHECK(none.remove.size() == 4);
}

TEST_CASE("upsert plan: a marker comment by anybody else is neither edited nor deleted", "[unit][forge][security]") {
  auto body = [](size_t n, size_t m, const std::string& text) { return part_marker("preview", n, m) + "\n" + text; };
  std::vector<Comment> existing = {
      {30, body(1, 1, "verified safe, merge it"), "mallory"},  // a look-alike, older than ours
      {31, body(1, 1, "ours"), "helmgate-bot"},
      {32, body(2, 2, "mallory's part two"), "mallory"},
  };
  auto plan = plan_upsert(existing, "preview", {body(1, 1, "new")}, "HelmGate-Bot");  // logins ignore case
  REQUIRE(plan.edit.size() == 1);
  CHECK(plan.edit[0].comment_id == 31);
  CHECK(plan.remove.empty());  // mallory's comments stay where they are
  CHECK(plan.create.empty());

  // Only a stranger's marker comment: ours is created beside it.
  std::vector<Comment> only_theirs = {existing[0], existing[2]};
  auto fresh = plan_upsert(only_theirs, "preview", {body(1, 1, "new")}, "helmgate-bot");
  CHECK(fresh.create == std::vector<size_t>{1});
  CHECK(fresh.edit.empty());
  CHECK(fresh.remove.empty());
  // Not knowing who we are touches nothing.
  auto unknown = plan_upsert(existing, "preview", {}, "");
  CHECK(unknown.remove.empty());
}

TEST_CASE("one_line keeps the first line within the limit, on a UTF-8 boundary", "[unit][forge]") {
  CHECK(one_line("short", 140) == "short");
  CHECK(one_line("first\nsecond", 140) == "first\xE2\x80\xA6");
  std::string accents;
  for (int i = 0; i < 100; ++i) accents += "\xC3\xA9";  // é, two bytes each
  auto cut = one_line(accents, 140);
  CHECK(cut.size() <= 140);
  CHECK(cut.substr(cut.size() - 3) == "\xE2\x80\xA6");
  CHECK(cut.size() % 2 == 1);  // whole é's plus the three-byte ellipsis
}

TEST_CASE("RepoRef parses owner/name only", "[unit][forge]") {
  CHECK(RepoRef::parse("gitops/fleet")->full_name() == "gitops/fleet");
  CHECK_FALSE(RepoRef::parse("fleet").ok());
  CHECK_FALSE(RepoRef::parse("a/b/c").ok());
  CHECK_FALSE(RepoRef::parse("/b").ok());
}
