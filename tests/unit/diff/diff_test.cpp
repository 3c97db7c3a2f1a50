#include <catch2/catch.hpp>

#include <regex>

#include "diff/normalize.hpp"
#include "diff/report.hpp"
#include "diff/unified.hpp"

using namespace helmgate;

namespace {

const std::string kCanary = "hg-canary-7f3a9c1e-do-not-print";
const std::string kCanaryB64 = "aGctY2FuYXJ5LTdmM2E5YzFlLWRvLW5vdC1wcmludA==";

std::string secret_manifest(const std::string& value_b64, const std::string& string_data) {
  return "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n  namespace: app\n"
         "data:\n  password: " + value_b64 + "\nstringData:\n  token: " + string_data + "\n---\n"
         "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: app\n"
         "data:\n  leaked: \"" + string_data + "\"\n";
}

// Counts fence lines (``` or longer) and checks they pair up, and <details> balance.
void require_balanced(const std::string& part) {
  size_t open_details = 0, close_details = 0, pos = 0;
  while ((pos = part.find("<details", pos)) != std::string::npos) { ++open_details; ++pos; }
  pos = 0;
  while ((pos = part.find("</details>", pos)) != std::string::npos) { ++close_details; ++pos; }
  REQUIRE(open_details == close_details);
  std::istringstream in(part);
  std::string open_fence;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("```", 0) != 0) continue;
    size_t ticks = line.find_first_not_of('`');
    std::string fence = line.substr(0, ticks == std::string::npos ? line.size() : ticks);
    if (open_fence.empty()) {
      open_fence = fence;
    } else if (fence == open_fence && line.size() == fence.size()) {
      open_fence.clear();
    }
  }
  REQUIRE(open_fence.empty());
}

}  // namespace

TEST_CASE("unified diff marks changed lines with context", "[unit]") {
  std::string a = "a\nb\nc\nd\ne\nf\ng\nh\n";
  std::string b = "a\nb\nc\nD\ne\nf\ng\nh\n";
  std::string d = diff::unified_diff(a, b, "base", "head", 1);
  CHECK(d == "--- base\n+++ head\n@@ -3,3 +3,3 @@\n c\n-d\n+D\n e\n");
  CHECK(diff::unified_diff(a, a, "x", "y").empty());
}

TEST_CASE("normalize drops status and server fields and sorts keys", "[unit]") {
  std::string m1 = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n  namespace: n\n"
                   "  creationTimestamp: null\n  managedFields: []\nspec:\n  replicas: 1\n  b: 2\nstatus:\n  ready: 1\n";
  std::string m2 = "kind: Deployment\napiVersion: apps/v1\nmetadata:\n  namespace: n\n  name: x\nspec:\n  b: 2\n  replicas: 1\n";
  auto r1 = diff::parse_manifest(m1, {});
  auto r2 = diff::parse_manifest(m2, {});
  REQUIRE(r1.ok());
  REQUIRE(r2.ok());
  REQUIRE(r1->size() == 1);
  CHECK(r1->front().key() == "apps/Deployment/n/x");
  CHECK(r1->front().text == r2->front().text);
  CHECK(r1->front().text.find("status") == std::string::npos);

  diff::ParseOptions ignore;
  ignore.ignore.push_back({"apps", "Deploy*", "/spec/replicas"});
  auto r3 = diff::parse_manifest(m1, ignore);
  CHECK(r3->front().text.find("replicas") == std::string::npos);
}

TEST_CASE("invalid YAML names line and column", "[unit]") {
  diff::ParseOptions o;
  o.source = "helm template x";
  auto r = diff::parse_manifest("a: b\nc: [unclosed\n", o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("helm template x:") == 0);
  CHECK(std::regex_search(r.error().message, std::regex(":[23]:[0-9]+: invalid YAML")));
}

TEST_CASE("Secret values never appear - a changed secret shows as changed", "[unit]") {
  diff::Redactor red;
  red.add_sensitive(kCanary);
  diff::ParseOptions o;
  o.redactor = &red;
  auto base = diff::parse_manifest(secret_manifest(kCanaryB64, kCanary), o);
  auto same = diff::parse_manifest(secret_manifest(kCanaryB64, kCanary), o);
  auto head = diff::parse_manifest(secret_manifest("b3RoZXI=", kCanary), o);
  REQUIRE(base.ok());
  REQUIRE(head.ok());
  CHECK(diff::diff_resources(*base, *same).empty());
  auto diffs = diff::diff_resources(*base, *head);
  REQUIRE(diffs.size() == 1);
  CHECK(diffs[0].key == "core/Secret/app/creds");
  CHECK(diffs[0].diff.find("-  password: <redacted") != std::string::npos);
  CHECK(diffs[0].diff.find("+  password: <redacted") != std::string::npos);

  diff::Report report;
  report.base = "0123456789abcdef";
  report.head = "fedcba9876543210";
  diff::ReleaseReport rr;
  rr.cluster = "staging";
  rr.namespace_ = "app";
  rr.name = "app";
  rr.resources = diff::diff_resources(*base, *head);
  // the ConfigMap is new here, so its (scrubbed) text is printed too
  auto empty = std::vector<diff::Resource>{};
  for (auto& d : diff::diff_resources(empty, *head)) rr.resources.push_back(d);
  report.releases.push_back(rr);
  for (const std::string& out : {diff::to_markdown(report), diff::to_text(report, true), diff::to_json(report)}) {
    CHECK(out.find(kCanary) == std::string::npos);
    CHECK(out.find(kCanaryB64.substr(0, 40)) == std::string::npos);
    CHECK(out.find("b3RoZXI=") == std::string::npos);
    CHECK(out.find("<redacted") != std::string::npos);
  }
}

TEST_CASE("markdown splits at the limit without breaking fences or details", "[unit]") {
  diff::Report report;
  report.base = "aaaaaaaaaaaaaaaa";
  report.head = "bbbbbbbbbbbbbbbb";
  for (int r = 0; r < 6; ++r) {
    diff::ReleaseReport rr;
    rr.cluster = "prod";
    rr.namespace_ = "ns";
    rr.name = "rel" + std::to_string(r);
    rr.reasons = {"HelmRelease changed: spec.values"};
    for (int k = 0; k < 5; ++k) {
      diff::ResourceDiff d;
      d.key = "core/ConfigMap/ns/cm" + std::to_string(k);
      std::string a, b;
      for (int i = 0; i < 200; ++i) {
        a += "line " + std::to_string(i) + " ```not a fence``` \n";
        b += "line " + std::to_string(i) + (i % 7 == 0 ? " changed" : " ```not a fence``` ") + "\n";
      }
      d.diff = diff::unified_diff(a, b, "base", "head");
      rr.resources.push_back(d);
    }
    report.releases.push_back(rr);
  }
  const size_t limit = 16000;
  auto parts = diff::to_markdown_parts(report, limit);
  REQUIRE(parts.size() > 3);
  for (const auto& p : parts) {
    CHECK(p.size() <= limit);
    require_balanced(p);
  }
  CHECK(parts[1].find("part 2 of " + std::to_string(parts.size())) != std::string::npos);
  // Unsplit, the same content is one part.
  CHECK(diff::to_markdown_parts(report, 100u << 20).size() == 1);
}
