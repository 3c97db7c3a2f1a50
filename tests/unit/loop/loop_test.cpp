#include <catch2/catch.hpp>

#include "runners/apply_report.hpp"
#include "runners/command_runner.hpp"
#include "runners/preview_runner.hpp"

using namespace helmgate;
using runners::Command;

TEST_CASE("comment commands parse strictly", "[unit][loop]") {
  CHECK(runners::parse_command("/helmgate").verb == "help");
  CHECK(runners::parse_command("/helmgate help").verb == "help");
  auto p = runners::parse_command("/helmgate preview");
  CHECK(p.verb == "preview");
  CHECK(p.arg.empty());
  p = runners::parse_command("/helmgate   preview   dev ");
  CHECK(p.verb == "preview");
  CHECK(p.arg == "dev");
  p = runners::parse_command("/helmgate apply prod");
  CHECK(p.verb == "apply");
  CHECK(p.arg == "prod");
  p = runners::parse_command("/helmgate replay 42");
  CHECK(p.verb == "replay");
  CHECK(p.arg == "42");
  CHECK_FALSE(runners::parse_command("/helmgate replay").known());  // the id is required
  CHECK_FALSE(runners::parse_command("/helmgate apply dev prod").known());
  CHECK_FALSE(runners::parse_command("/helmgate destroy").known());
  CHECK_FALSE(runners::parse_command("/helmgatex preview").known());
  CHECK(runners::command_help().find("/helmgate replay <job-id>") != std::string::npos);
}

TEST_CASE("the command registry: help is built from it, each entry parses by its argument spec", "[unit][loop]") {
  // The help text as it was written by hand before the registry, byte for byte.
  CHECK(runners::command_help() ==
        "**helmgate commands** (for users with write permission on this repository):\n\n"
        "| Command | What it does |\n|---|---|\n"
        "| `/helmgate preview [cluster]` | render and validate this PR again (one cluster: a comment of its own) |\n"
        "| `/helmgate apply [cluster]` | apply this PR's head before merge, to clusters configured with "
        "`allow_pr_apply: true`, once the PR is approved and mergeable |\n"
        "| `/helmgate replay <job-id>` | run a job of this repository again (ids are in helmgate's comments and "
        "`helmgate jobs`) |\n"
        "| `/helmgate help` | this list |\n");
  auto specs = runners::command_specs();
  REQUIRE(specs.size() == 4);
  for (const auto& spec : specs) {
    const std::string verb(spec.verb);
    INFO(verb);
    CHECK(runners::command_help().find("`/helmgate " + verb) != std::string::npos);
    auto bare = runners::parse_command("/helmgate " + verb);
    auto one = runners::parse_command("/helmgate " + verb + " x1");
    auto two = runners::parse_command("/helmgate " + verb + " x1 x2");
    CHECK(bare.known() == (spec.arg != runners::CommandArg::required));
    CHECK(one.known() == (spec.arg != runners::CommandArg::none));
    CHECK_FALSE(two.known());
    if (one.known()) {
      CHECK(one.verb == verb);
      CHECK(one.arg == "x1");
    }
  }
  // Verbs are case-sensitive, like the comment prefix.
  CHECK_FALSE(runners::parse_command("/helmgate Preview").known());
  CHECK_FALSE(runners::parse_command("").known());
}

TEST_CASE("extra sections join the last part or start new ones, never over the limit", "[unit][loop]") {
  auto parts = runners::pack_parts({"part one"}, {"small section"}, 100);
  REQUIRE(parts.size() == 1);
  CHECK(parts[0] == "part one\n\nsmall section");

  parts = runners::pack_parts({std::string(90, 'a')}, {std::string(50, 'b')}, 100);
  REQUIRE(parts.size() == 2);
  CHECK(parts[1] == std::string(50, 'b'));

  // A section longer than a whole part is cut, its fence and <details> closed, with a note.
  std::string big = "<details><summary>x</summary>\n\n```diff\n" + std::string(5000, 'c');
  parts = runners::pack_parts({}, {big}, 2000);
  REQUIRE(parts.size() == 1);
  CHECK(parts[0].size() <= 2000);
  CHECK(parts[0].find("section cut at the comment size limit") != std::string::npos);
  CHECK(parts[0].find("```\n</details>") != std::string::npos);
}

TEST_CASE("comment urls per forge kind", "[unit][loop]") {
  config::Forge gitea;
  gitea.kind = core::ForgeKind::gitea;
  gitea.api_url = "http://git.local:3000/";
  CHECK(runners::comment_url(&gitea, "o/r", 7, 99) == "http://git.local:3000/o/r/pulls/7#issuecomment-99");
  config::Forge gh;
  gh.kind = core::ForgeKind::github;
  gh.api_url = "https://api.github.com";
  CHECK(runners::comment_url(&gh, "o/r", 7, 99) == "https://github.com/o/r/pull/7#issuecomment-99");
  gh.api_url = "https://ghe.example.com/api/v3";
  CHECK(runners::comment_url(&gh, "o/r", 7, 99) == "https://ghe.example.com/o/r/pull/7#issuecomment-99");
  CHECK(runners::comment_url(nullptr, "o/r", 7, 99).empty());
  gitea.api_url = "http://git.local:3000/api/v1";  // the form config/examples/helmgate.yaml uses
  CHECK(runners::comment_url(&gitea, "o/r", 7, 99) == "http://git.local:3000/o/r/pulls/7#issuecomment-99");
  CHECK(runners::comment_url(&gitea, "o/r", 7, 0).empty());
}

TEST_CASE("the apply report: per-cluster table, per-release rows, reasons and a replay hint on failure",
          "[unit][loop]") {
  const std::string ok = R"({"repo":"o/r","commit":"0123456789abcdef0123","before":"x","clusters":[
    {"name":"dev","status":"applied","reason":"","base":"x","releases":[
      {"id":"dev/ns/web","release":"web","namespace":"ns","action":"upgrade","outcome":"upgraded","reason":"render changed","revision":3,"ms":10}]},
    {"name":"prod","status":"applied","reason":"","base":"x","releases":[]}]})";
  auto parsed = engine::ApplyResult::from_json(ok);
  REQUIRE(parsed.ok());
  auto md = runners::apply_report_markdown(*parsed, "17", false);
  CHECK(md.find("## helmgate apply of `0123456789ab`") != std::string::npos);
  CHECK(md.find("| `dev` | applied | `web` upgraded |") != std::string::npos);
  CHECK(md.find("| `prod` | applied | no release changed |") != std::string::npos);
  CHECK(md.find("| `ns/web` | upgrade | upgraded | 3 | render changed |") != std::string::npos);
  CHECK(md.find("/helmgate replay") == std::string::npos);

  const std::string failed = R"({"repo":"o/r","commit":"0123456789abcdef0123","clusters":[
    {"name":"dev","status":"failed","reason":"","releases":[
      {"id":"dev/ns/web","release":"web","namespace":"ns","action":"install","outcome":"failed","reason":"Error: quota | exceeded\nsecond line","revision":0}]},
    {"name":"prod","status":"blocked","reason":"requires cluster dev to have applied 0123 cleanly first","releases":[]}]})";
  parsed = engine::ApplyResult::from_json(failed);
  REQUIRE(parsed.ok());
  md = runners::apply_report_markdown(*parsed, "17", true);
  CHECK(md.find("| `dev` | **failed** | `web` failed |") != std::string::npos);
  CHECK(md.find("| **failed** |  | Error: quota \\| exceeded second line |") !=
        std::string::npos);  // one table row
  CHECK(md.find("requires cluster dev to have applied") != std::string::npos);
  CHECK(md.find("retries this apply by itself") != std::string::npos);
  CHECK(md.find("/helmgate replay 17") != std::string::npos);

  CHECK_FALSE(engine::ApplyResult::from_json("not json").ok());
  CHECK_FALSE(engine::ApplyResult::from_json(R"({"clusters":[{"name":"dev","status":"exploded"}]})").ok());
  // The typed result survives its JSON unchanged.
  CHECK(engine::ApplyResult::from_json(parsed->to_json())->to_json() == parsed->to_json());
}
