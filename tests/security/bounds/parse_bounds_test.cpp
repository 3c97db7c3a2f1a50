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

namespace {

// Random YAML of mixed styles (block mappings and sequences, a sequence as a mapping's value at the same
// indentation, compact "- - x" and "- k: v" entries, flow collections), for the differential test below.
struct YamlGen {
  std::mt19937 rng;
  explicit YamlGen(unsigned seed) : rng(seed) {}
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); }
  std::string scalar() {
    static const char* words[] = {"a", "x-y", "'q: s'", "\"d - q\"", "12", "true", "~", "b c"};
    return words[pick(8)];
  }
  std::string flow(int depth) {
    if (depth <= 0 || pick(3) == 0) return scalar();
    std::string out = pick(2) == 0 ? "[" : "{";
    const bool map = out == "{";
    const int n = 1 + pick(3);
    for (int i = 0; i < n; ++i) {
      if (i > 0) out += ", ";
      if (map) out += "k" + std::to_string(i) + ": ";
      out += flow(depth - 1);
    }
    return out + (map ? "}" : "]");
  }
  // A block collection whose entries start at column `indent`; depth: levels left below it.
  std::string block(int depth, int indent, bool seq) {
    const std::string pad(static_cast<size_t>(indent), ' ');
    std::string out;
    const int n = 1 + pick(3);
    for (int i = 0; i < n; ++i) {
      out += pad + (seq ? "-" : "k" + std::to_string(i) + ":");
      const int kind = depth <= 0 ? 0 : pick(5);
      if (kind == 0) {
        out += " " + scalar() + "\n";
      } else if (kind == 1) {
        out += " " + flow(depth - 1) + "\n";
      } else if (kind == 2 && seq) {
        // compact: "- - - x" (nested sequences on one line)
        const int m = 1 + pick(std::min(depth, 4));
        for (int j = 0; j < m; ++j) out += " -";
        out += " " + scalar() + "\n";
      } else if (kind == 2) {
        // a sequence as the mapping's value, at the mapping's own indentation
        out += "\n" + block(depth - 1, indent, true);
      } else if (kind == 3 && seq) {
        // compact mapping: "- k: v" and its other keys below
        out += " " + block(depth - 1, indent + 2, false).substr(static_cast<size_t>(indent) + 2);
      } else {
        out += "\n" + block(depth - 1, indent + 2, pick(2) == 0);
      }
    }
    return out;
  }
  std::string text() {
    std::string out;
    const int docs = 1 + pick(3);
    for (int d = 0; d < docs; ++d) {
      if (d > 0 || pick(2) == 0) out += "---\n";
      out += block(pick(9), 0, pick(2) == 0);
    }
    return out;
  }
};

}  // namespace

// load_all skips the event parser's pass when the text alone shows the limits hold (no alias; a bound on
// depth from each line's indentation and indicators plus every flow bracket; a bound on documents from
// the lines that start one). That bound must never let through what the full check refuses: over random
// texts and limits, load_all refuses exactly when check does.
TEST_CASE("YAML limits proven from the text alone refuse exactly what the full check refuses", "[security]") {
  YamlGen gen(20261203);
  int compared = 0, refused = 0, invalid = 0;
  for (int i = 0; i < 3000; ++i) {
    const std::string text = gen.text();
    const core::YamlLimits lim = small(1000, 1 + static_cast<uint64_t>(gen.pick(14)), 1 + static_cast<uint64_t>(gen.pick(4)));
    bool full_refuses = false;
    try {
      yb::check(text, lim);
    } catch (const yb::LimitExceeded&) {
      full_refuses = true;
    } catch (const YAML::Exception&) {
      ++invalid;
      continue;
    }
    bool load_refuses = false;
    try {
      auto ours = yb::load_all(text, lim);
      if (!full_refuses) {
        auto theirs = YAML::LoadAll(text);
        REQUIRE(ours.size() == theirs.size());
        for (size_t d = 0; d < ours.size(); ++d) CHECK(YAML::Dump(ours[d]) == YAML::Dump(theirs[d]));
      }
    } catch (const yb::LimitExceeded&) {
      load_refuses = true;
    }
    INFO(text << "\nmax_depth " << lim.max_depth << ", max_documents " << lim.max_documents);
    REQUIRE(load_refuses == full_refuses);
    ++compared;
    refused += full_refuses ? 1 : 0;
  }
  // The generator makes valid YAML, and both outcomes occur often.
  CHECK(invalid < 30);
  CHECK(refused > 300);
  CHECK(compared - refused > 300);
}
