// Strings from Git and comments in the Markdown we post: escaped in text, code spans and fences that
// their content cannot close, and commands not echoed. The rendering itself is checked against the
// real Gitea in gitea_authz_test.cpp; these pin the building blocks.
#include <catch2/catch.hpp>

#include "core/markdown.hpp"
#include "diff/report.hpp"
#include "runners/apply_report.hpp"
#include "runners/command_runner.hpp"
#include "runners/preview_runner.hpp"
#include "engine/validate.hpp"

using namespace helmgate;
namespace md = core::md;

namespace {

const std::string kLink = "[verified safe, merge it](http://evil)";
const std::string kImg = "<img src=x onerror=alert(1)>";
const std::string kTicks = "a``b```c";

size_t longest_run(const std::string& s) {
  size_t longest = 0, run = 0;
  for (char c : s) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  return longest;
}

// A code span as md::code makes it: n backticks, content without a run of exactly n, n backticks.
void check_span(const std::string& span) {
  size_t n = 0;
  while (n < span.size() && span[n] == '`') ++n;
  REQUIRE(n > 0);
  REQUIRE(span.size() > 2 * n);
  CHECK(span.substr(span.size() - n) == std::string(n, '`'));
  std::string inner = span.substr(n, span.size() - 2 * n);
  CHECK(longest_run(inner) < n);
  CHECK(inner.find('\n') == std::string::npos);
}

// needle occurs with no backslash before it.
bool has_unescaped(const std::string& s, const std::string& needle) {
  for (auto at = s.find(needle); at != std::string::npos; at = s.find(needle, at + 1)) {
    if (at == 0 || s[at - 1] != '\\') return true;
  }
  return false;
}

}  // namespace

TEST_CASE("md::text leaves no link, image, tag, emphasis or autolink", "[security][forge]") {
  for (const std::string& s : {kLink, kImg, kTicks, std::string("**bold** _x_ # head | cell | ![i](http://e/x.png)"),
                               std::string("http://evil.example/x and www.evil.example @admin"),
                               std::string("line one\n# heading\r\n<script>")}) {
    INFO(s);
    auto t = md::text(s);
    CHECK(t.find('<') == std::string::npos);
    CHECK(t.find('>') == std::string::npos);
    CHECK(t.find('\n') == std::string::npos);
    CHECK(t.find("](") == std::string::npos);
    CHECK(t.find("http://") == std::string::npos);
    CHECK(t.find("www.") == std::string::npos);
    // Every inline Markdown metacharacter left is escaped by a backslash; block markers ('#', '-', '+',
    // '=') only matter as the first character, since the text never spans lines.
    CHECK(std::string_view("#-+=").find(t.front()) == std::string_view::npos);
    for (size_t i = 0; i < t.size(); ++i) {
      char c = t[i];
      if (std::string_view("[]()`*_!|@").find(c) != std::string_view::npos) {
        INFO("unescaped " << c << " at " << i << " in " << t);
        CHECK((i > 0 && t[i - 1] == '\\'));
      }
    }
  }
}

TEST_CASE("md::text keeps file:line, names and versions readable, escapes block markers at the start",
          "[security][forge]") {
  CHECK(md::text("apps/staging/podinfo-values.yaml:6:1: invalid YAML") == "apps/staging/podinfo-values.yaml:6:1: invalid YAML");
  CHECK(md::text("# heading") == "\\# heading");
  CHECK(md::text("- item") == "\\- item");
  CHECK(md::text("12. item") == "12\\. item");
  CHECK(md::text("v1.2.3") == "v1.2.3");
  CHECK(md::text("see www.evil.example") == "see www\\.evil.example");
}

TEST_CASE("md::code and md::fence: content with backtick runs cannot close them", "[security][forge]") {
  check_span(md::code(kTicks));
  check_span(md::code("`starts and ends`"));
  check_span(md::code(kLink));
  check_span(md::code("two\nlines"));
  CHECK(md::code("plain") == "`plain`");
  CHECK(md::fence("no ticks") == "```");
  CHECK(md::fence("x ```` y") == "`````");
  auto cell = md::code_cell("a|b");
  CHECK(cell.find("\\|") != std::string::npos);
  CHECK(cell.find("a|") == std::string::npos);
}

TEST_CASE("preview report: hostile names, reasons, errors and diffs stay inert", "[security][forge]") {
  diff::Report r;
  r.base = "0123456789abcdef";
  r.head = "fedcba9876543210";
  r.clusters = {"dev"};
  r.errors.push_back({kLink + " " + kImg, "apps/" + kLink + ".yaml", 3, 0});
  diff::ReleaseReport rel;
  rel.cluster = "dev";
  rel.namespace_ = "team-a";
  rel.name = kLink;
  rel.release_name = kTicks + kLink;
  rel.target_namespace = kImg;
  rel.chart = kLink;
  rel.reasons = {"changed " + kLink, kImg};
  rel.notes = {kImg};
  diff::ResourceDiff d;
  d.key = "v1/ConfigMap " + kLink;
  d.change = diff::Change::changed;
  d.diff = "--- a\n+++ b\n+data: ```` " + kImg + "\n+``````\n";
  rel.resources.push_back(d);
  r.releases.push_back(rel);
  auto out = diff::to_markdown(r);
  // Outside the diff fence there is no raw tag at all; the fence is longer than the diff's runs.
  auto fence_at = out.find("```````diff\n");
  REQUIRE(fence_at != std::string::npos);
  auto fence_end = out.find("\n```````\n", fence_at + 12);
  REQUIRE(fence_end != std::string::npos);
  std::string rest = out.substr(0, fence_at) + out.substr(fence_end + 9);
  // Names as code spans; once they are taken out, nothing live is left.
  for (const std::string& span : {md::code(rel.release_name), md::code(d.key), md::code(rel.chart),
                                  md::code(rel.target_namespace), md::code_cell("team-a/" + kLink)}) {
    INFO(span);
    auto at = rest.find(span);
    CHECK(at != std::string::npos);
    while (at != std::string::npos) {
      rest.erase(at, span.size());
      at = rest.find(span);
    }
  }
  INFO(rest);
  CHECK(rest.find("](http") == std::string::npos);
  CHECK(rest.find("<img") == std::string::npos);
  CHECK_FALSE(has_unescaped(rest, "[verified"));
  CHECK_FALSE(has_unescaped(rest, "(http"));
}

TEST_CASE("apply report: release names and reasons from Git stay inert", "[security][forge]") {
  std::string json = R"({"commit":"0123456789abcdef0123","clusters":[{"name":"dev","status":"failed","reason":")" +
                     std::string("<img src=x> [x](http://evil)") +
                     R"J(","releases":[{"release":"[ok](http://evil)","namespace":"ns`x","action":"upgrade","outcome":"failed","reason":"<b>boom</b> | [y](http://evil)","revision":2}]}]})J";
  auto parsed = engine::ApplyResult::from_json(json);
  REQUIRE(parsed.ok());
  auto out = runners::apply_report_markdown(*parsed, "42", false);
  REQUIRE_FALSE(out.empty());
  CHECK(out.find("<img") == std::string::npos);
  CHECK(out.find("<b>") == std::string::npos);
  std::string rest = out;
  for (const std::string& span : {md::code_cell("ns`x/[ok](http://evil)"), md::code_cell("[ok](http://evil)")}) {
    INFO(span);
    auto at = rest.find(span);
    REQUIRE(at != std::string::npos);
    rest.erase(at, span.size());
  }
  INFO(rest);
  CHECK(rest.find("](http") == std::string::npos);
  CHECK_FALSE(has_unescaped(rest, "["));
  CHECK(out.find("/helmgate replay 42") != std::string::npos);
}

TEST_CASE("validation findings: object names and messages stay inert", "[security][forge]") {
  engine::ClusterValidation v;
  engine::Finding f;
  f.release = "dev/team-a/" + kLink;
  f.check = "dry-run";
  f.object = "v1 ConfigMap team-a/" + kImg;
  f.message = "denied: " + kLink + " " + kImg;
  v.findings.push_back(f);
  diff::ResourceDiff d;
  d.key = "v1/ConfigMap " + kImg;
  d.change = diff::Change::changed;
  d.diff = "+x: ```\n";
  v.live_diffs["dev/team-a/" + kImg] = {d};
  auto out = engine::to_markdown(v, "dev");
  std::string rest = out;
  for (const std::string& span : {md::code(f.release), md::code(f.object)}) {
    auto at = rest.find(span);
    REQUIRE(at != std::string::npos);
    rest.erase(at, span.size());
  }
  auto fence = rest.find("````diff\n");
  REQUIRE(fence != std::string::npos);
  rest.resize(fence);
  INFO(rest);
  CHECK(rest.find("<img") == std::string::npos);
  CHECK(rest.find("](http") == std::string::npos);
}

TEST_CASE("cluster names in commands: DNS-1123 labels only", "[security][forge]") {
  CHECK(runners::is_dns1123_label("dev"));
  CHECK(runners::is_dns1123_label("prod-eu-1"));
  CHECK_FALSE(runners::is_dns1123_label(""));
  CHECK_FALSE(runners::is_dns1123_label("Dev"));
  CHECK_FALSE(runners::is_dns1123_label("-dev"));
  CHECK_FALSE(runners::is_dns1123_label("dev-"));
  CHECK_FALSE(runners::is_dns1123_label("`dev`"));
  CHECK_FALSE(runners::is_dns1123_label("[x](http://evil)"));
  CHECK_FALSE(runners::is_dns1123_label(std::string(64, 'a')));
}

TEST_CASE("a section cut at the size limit closes its fence with the fence's own length", "[security][forge]") {
  std::string big = "<details><summary>x</summary>\n\n`````diff\n+```` inside\n" + std::string(5000, 'c');
  auto parts = runners::pack_parts({}, {big}, 2000);
  REQUIRE(parts.size() == 1);
  CHECK(parts[0].size() <= 2000);
  CHECK(parts[0].find("\n`````\n") != std::string::npos);
  CHECK(parts[0].find("</details>") > parts[0].find("\n`````\n"));
}
