// The bounded parsers: YAML (size, documents, depth, nodes with aliases expanded, recursive aliases)
// and JSON (iterative, depth-limited). Each hostile input is refused quickly with the limit's name;
// ordinary files load exactly as yaml-cpp / RapidJSON load them.
#include <catch2/catch.hpp>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "core/json.hpp"
#include "core/limits.hpp"
#include "core/yaml_bounded.hpp"
#include "support/support.hpp"

using namespace helmgate;
namespace yb = core::yaml;

namespace {

// The classic "billion laughs": nine levels of nine aliases, 9^9 (387 million) scalars once expanded.
std::string laughs(const std::string& indent = "") {
  std::string out = indent + "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  const std::string names = "abcdefghi";
  for (size_t i = 1; i < names.size(); ++i) {
    std::string prev(1, names[i - 1]);
    out += indent + names[i] + ": &" + names[i] + " [";
    for (int k = 0; k < 9; ++k) out += (k == 0 ? "*" : ",*") + prev;
    out += "]\n";
  }
  return out;
}

long peak_rss_kb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

// Runs f, requires that it throws LimitExceeded, returns the message.
template <typename F>
std::string limit_message(F&& f) {
  try {
    f();
  } catch (const yb::LimitExceeded& e) {
    return e.msg;
  }
  FAIL("no LimitExceeded");
  return {};
}

core::YamlLimits small(uint64_t nodes = 1000, uint64_t depth = 16, uint64_t docs = 10, uint64_t bytes = 1 << 20) {
  return {bytes, docs, depth, nodes, "limits.yaml"};
}

}  // namespace

TEST_CASE("a YAML alias bomb under 1 KB is refused quickly, with the limit, without expanding", "[security]") {
  const std::string bomb = laughs();
  REQUIRE(bomb.size() < 1024);
  const long rss_before = peak_rss_kb();
  auto t0 = std::chrono::steady_clock::now();
  std::string msg = limit_message([&] { yb::load_all(bomb); });
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  CHECK(msg == "YAML alias expansion exceeds 1,000,000 nodes (limits.yaml_max_nodes)");
  CHECK(ms < 1000);
  // Peak memory grows by less than 50 MB (expanding it would take gigabytes).
  CHECK(peak_rss_kb() - rss_before < 50 * 1024);

  // The same bomb in a values file nested under spec.values, and through load() (first document only).
  std::string release = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nspec:\n  values:\n" + laughs("    ");
  CHECK(limit_message([&] { yb::load(release); }).find("alias expansion exceeds") != std::string::npos);
  // A bomb in a second document is refused too.
  CHECK(limit_message([&] { yb::load("a: 1\n---\n" + bomb); }).find("alias expansion") != std::string::npos);
}

TEST_CASE("the alias budget counts every alias as the size of what it names", "[security]") {
  // 1 map + 3 keys + (1 seq + 3 items) for a + 2 aliases of 4 nodes each = 1 + 3 + 4 + 4 + 4 = 16
  const std::string text = "a: &x [1, 2, 3]\nb: *x\nc: *x\n";
  CHECK_NOTHROW(yb::load_all(text, small(16)));
  CHECK(limit_message([&] { yb::load_all(text, small(15)); }) ==
        "YAML alias expansion exceeds 15 nodes (limits.yaml_max_nodes)");
  // Without aliases the message says nodes, not alias expansion.
  CHECK(limit_message([&] { yb::load_all("[1, 2, 3, 4, 5]", small(4)); }) ==
        "YAML has more than 4 nodes (limits.yaml_max_nodes)");
  // The error carries the place (line of the alias that crossed the budget).
  try {
    yb::load_all(text, small(15));
  } catch (const yb::LimitExceeded& e) {
    CHECK(e.mark.line + 1 == 3);
  }
}

TEST_CASE("aliases of a long scalar count its text once per alias", "[security]") {
  // Few nodes, but 4 copies of 2,000 bytes once merged or printed.
  const std::string text = "a: &a " + std::string(2000, 'x') + "\nb: [*a, *a, *a]\n";
  CHECK(limit_message([&] { yb::load_all(text, small(1000, 16, 10, 4096)); }) ==
        "YAML alias expansion exceeds 4,096 bytes of text (limits.yaml_max_bytes)");
  CHECK_NOTHROW(yb::load_all(text, small(1000, 16, 10, 8192)));
}

TEST_CASE("an alias inside the node it names (a cycle in yaml-cpp) is refused", "[security]") {
  std::string msg = limit_message([] { yb::load_all("a: &loop\n  b: *loop\n"); });
  CHECK(msg == "YAML alias *loop refers to a node that contains it (a recursive alias)");
  CHECK_THROWS_AS(yb::load_all("- &s [1, *s]\n"), yb::LimitExceeded);
}

TEST_CASE("YAML nesting deeper than the limit is refused before a recursive walk can overflow", "[security]") {
  std::string deep(100000, '[');
  auto msg = limit_message([&] { yb::load_all(deep); });
  CHECK(msg == "YAML nests deeper than 128 levels (limits.yaml_max_depth)");
  // Block style nests the same way.
  std::string block;
  for (int i = 0; i < 20; ++i) block += std::string(static_cast<size_t>(i) * 2, ' ') + "k:\n";
  CHECK_NOTHROW(yb::load_all(block, small(1000, 20)));
  CHECK(limit_message([&] { yb::load_all(block, small(1000, 19)); }).find("deeper than 19 levels") !=
        std::string::npos);
}

TEST_CASE("documents per file and bytes per file are bounded", "[security]") {
  std::string many;
  for (int i = 0; i < 11; ++i) many += "---\nn: " + std::to_string(i) + "\n";
  CHECK(limit_message([&] { yb::load_all(many, small()); }) ==
        "more than 10 YAML documents in one file (limits.yaml_max_documents)");
  CHECK(yb::load_all(many, small(1000, 16, 11)).size() == 11);
  std::string big(2000, '#');
  CHECK(limit_message([&] { yb::load_all(big, small(1000, 16, 10, 1024)); }) ==
        "YAML text is 2,000 bytes, over the limit of 1,024 (limits.yaml_max_bytes)");
  // load_file refuses by the file's size before reading it.
  auto path = std::filesystem::temp_directory_path() / ("hg-bounds-" + std::to_string(::getpid()) + ".yaml");
  {
    std::ofstream(path) << std::string((16u << 20) + 1, '#');
  }
  CHECK(limit_message([&] { yb::load_file(path.string()); }).find("over the limit of 16,777,216 (limits.yaml_max_bytes)") !=
        std::string::npos);
  std::filesystem::remove(path);
}

TEST_CASE("the process-wide limits come from core::set_limits, rendered output has its own", "[security]") {
  const core::Limits saved = core::limits();
  core::Limits l = saved;
  l.yaml.max_nodes = 1000;
  core::set_limits(l);
  std::string seq = "[";
  for (int i = 0; i < 2000; ++i) seq += (i == 0 ? "" : ",") + std::to_string(i);
  seq += "]";
  CHECK_THROWS_AS(yb::load(seq), yb::LimitExceeded);
  CHECK(yb::load(seq, yb::Source::rendered).size() == 2000);
  l.rendered.max_nodes = 1000;
  core::set_limits(l);
  CHECK(limit_message([&] { yb::load(seq, yb::Source::rendered); }).find("(limits.rendered_max_nodes)") !=
        std::string::npos);
  core::set_limits(saved);
}

TEST_CASE("ordinary YAML loads exactly as yaml-cpp loads it", "[security]") {
  const std::string text = R"(# comment
apiVersion: v1
kind: ConfigMap
metadata: {name: x, namespace: "y"}
data:
  merge: &base {a: 1, b: [1, 2]}
  again: *base
  multi: |
    line 1
    line 2
---
- plain
- !!str 12
---
)";
  auto ours = yb::load_all(text);
  auto theirs = YAML::LoadAll(text);
  REQUIRE(ours.size() == theirs.size());
  for (size_t i = 0; i < ours.size(); ++i) {
    CHECK(YAML::Dump(ours[i]) == YAML::Dump(theirs[i]));
    CHECK(ours[i].Mark().line == theirs[i].Mark().line);
  }
  CHECK(ours[0]["data"]["again"]["b"][1].as<int>() == 2);
  // Syntax errors are the parser's own, with their place.
  try {
    yb::load("a: [1, 2\n");
    FAIL("no exception");
  } catch (const yb::LimitExceeded&) {
    FAIL("a syntax error is not a limit");
  } catch (const YAML::ParserException& e) {
    CHECK(e.mark.line >= 0);
  }
  // The corpus charts' values and the webhook corpora load (no default limit is near real files).
  for (const char* f : {"charts/podinfo-6.14.1/values.yaml", "charts/ingress-nginx-4.15.1/values.yaml"}) {
    INFO(f);
    std::string t = test::read_file(test::corpus(f));
    CHECK(YAML::Dump(yb::load(t)) == YAML::Dump(YAML::Load(t)));
  }
}

TEST_CASE("JSON is refused past the depth limit before it is built, recursing no deeper than the limit",
          "[security]") {
  std::string deep(200000, '[');
  core::json::Document doc;
  auto t0 = std::chrono::steady_clock::now();
  auto err = core::json::parse_bounded(doc, deep, 64, false);
  REQUIRE(err);
  CHECK(err->too_deep);
  CHECK(err->message.rfind("nests deeper than 64 levels (offset ", 0) == 0);
  // The default limit (core::limits().json_max_depth, 512) applies to parse().
  auto e2 = core::json::parse(doc, deep + std::string(200000, ']'));
  REQUIRE(e2);
  CHECK(e2->find("nests deeper than 512 levels") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));

  // At the limit it parses; syntax errors are still syntax errors.
  std::string ok = std::string(64, '[') + std::string(64, ']');
  CHECK_FALSE(core::json::parse_bounded(doc, ok, 64, true));
  CHECK(doc.IsArray());
  std::string objs;
  for (int i = 0; i < 65; ++i) objs += "{\"k\":";
  objs += "1" + std::string(65, '}');
  CHECK(core::json::parse_bounded(doc, objs, 64, true)->too_deep);
  CHECK(core::json::parse_bounded(doc, objs, 65, true) == std::nullopt);
  CHECK(doc["k"]["k"].IsObject());
  auto bad = core::json::parse(doc, "{\"a\":");
  REQUIRE(bad);
  CHECK(bad->rfind("offset ", 0) == 0);
  CHECK(doc.IsNull());  // a failed parse leaves no half-built value
  // UTF-8 validation stays with parse(), not with parse_unvalidated().
  CHECK(core::json::parse(doc, "\"\xff\""));
  CHECK_FALSE(core::json::parse_unvalidated(doc, "\"\xff\""));
  // Trailing garbage is refused as before.
  CHECK(core::json::parse(doc, "{} x"));
}

// A malformed text of 255 bytes, without an alias, on which yaml-cpp 0.7's loader keeps building nodes
// (gigabytes in seconds): only the measuring pass before the load stops it. fuzz_repo found it when that
// pass was skipped for texts whose limits looked evident (no alias, shallow lines, few documents); it must
// stay refused quickly, whatever the text looks like.
TEST_CASE("a malformed text on which yaml-cpp builds nodes without end is refused by the node limit", "[security]") {
  const std::string text =
      ",apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: podinfo\n  namespace: podinfo\n"
      "spec:\n:  chart:\n    spec:\n      version: \">=1.0.0-alpha\"\n  test:\n    enable: false\n  values:\n"
      "    httpRoute:\n      hostnames:\n        - podinfo.staging\n";
  const auto t0 = std::chrono::steady_clock::now();
  const long rss0 = peak_rss_kb();
  bool refused = false;
  try {
    yb::load_all(text, small(10000));
  } catch (const yb::LimitExceeded&) {
    refused = true;
  } catch (const YAML::Exception&) {
    refused = true;  // a syntax error is as good: nothing is built
  }
  CHECK(refused);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
  CHECK(peak_rss_kb() - rss0 < 200 * 1024);
}
