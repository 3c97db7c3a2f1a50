#include <catch2/catch.hpp>

#include "runners/apply_report.hpp"
#include "runners/command_runner.hpp"
#include "runners/preview_runner.hpp"

using namespace helmgate;
using runners::Command;

TEST_CASE("comment commands parse strictly", "[unit][loop]") {
  CHECK(runners::parse_command("/helmgate").kind == Command::Kind::help);
  CHECK(runners::parse_command("/helmgate help").kind == Command::Kind::help);
  auto p = runners::parse_command("/helmgate preview");
  CHECK(p.kind == Command::Kind::preview);
  CHECK(p.arg.empty());
  p = runners::parse_command("/helmgate   preview   dev ");
  CHECK(p.kind == Command::Kind::preview);
  CHECK(p.arg == "dev");
  p = runners::parse_command("/helmgate apply prod");
  CHECK(p.kind == Command::Kind::apply);
  CHECK(p.arg == "prod");
  p = runners::parse_command("/helmgate replay 42");
  CHECK(p.kind == Command::Kind::replay);
  CHECK(p.arg == "42");
  CHECK(runners::parse_command("/helmgate replay").kind == Command::Kind::unknown);  // the id is required
  CHECK(runners::parse_command("/helmgate apply dev prod").kind == Command::Kind::unknown);
  CHECK(runners::parse_command("/helmgate destroy").kind == Command::Kind::unknown);
  CHECK(runners::parse_command("/helmgatex preview").kind == Command::Kind::unknown);
  CHECK(runners::command_help().find("/helmgate replay <job-id>") != std::string::npos);
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
