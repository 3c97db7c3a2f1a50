// Volatile output: content that differs between two renders of identical inputs (genCA, randAlphaNum).
// The preview names it instead of diffing it, it alone is no change (status, counts, exit code), and the
// digest apply decides upgrades with does not see it. Real git, real helm, a chart made for the test.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "apply/decision.hpp"
#include "diff/volatile.hpp"
#include "render/renderer.hpp"
#include "runners/preview_pipeline.hpp"
#include "engine/volatile_verdict.hpp"
#include "process/process.hpp"
#include "support/http_test_server.hpp"
#include "support/preview_request.hpp"
#include "support/support.hpp"
#include "support/temp_repo.hpp"
#include "vol_chart.hpp"

namespace fs = std::filesystem;
using namespace helmgate;

namespace {

using test::TempRepo;

std::string work_dir(const char* name) {
  auto p = fs::temp_directory_path() / (std::string("hg-volatile-") + name + "-" + std::to_string(::getpid()));
  fs::remove_all(p);
  return p.string();
}

void write_release(const TempRepo& t, const std::string& values) {
  t.write("releases/vol.yaml", R"(apiVersion: helm.fluxcd.io/v1
kind: HelmRelease
metadata:
  name: vol
  namespace: demo
spec:
  releaseName: vol
  chart:
    git: git@github.com:example/fleet
    path: charts/vol
  values:
)" + values);
}

runners::PreviewRequest request(const TempRepo& t, const std::string& base, const std::string& head,
                                const std::string& work) {
  auto req = test::preview_request(t.dir.string(), base, head, work, {runners::PreviewFormat::markdown, runners::PreviewFormat::text, runners::PreviewFormat::json});
  config::Repo cfg;
  cfg.name = "example/fleet";
  cfg.url = "git@github.com:example/fleet";
  req.repo_config = cfg;
  return req;
}

const diff::VolatileResource* find_volatile(const diff::ReleaseReport& rr, const std::string& key) {
  for (const auto& v : rr.volatiles) {
    if (v.key == key) return &v;
  }
  return nullptr;
}

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

std::string keys_of(const diff::ReleaseReport& rr) {
  std::string s;
  for (const auto& v : rr.volatiles) s += v.key + "\n";
  for (const auto& d : rr.resources) s += "diff " + d.key + "\n" + d.diff;
  return s;
}

}  // namespace

TEST_CASE("volatile: a real change is a diff, the certificate and random names are volatile", "[fidelity]") {
  TempRepo t("volatile-change");
  test::write_volatile_chart(t);
  write_release(t, "    greeting: hello\n");
  const std::string base = t.commit("release");
  write_release(t, "    greeting: world\n");
  const std::string head = t.commit("greeting");
  const std::string work = work_dir("change");

  auto req = request(t, base, head, work);
  auto res = runners::run_preview(req);
  INFO((res.ok() ? res->text : res.error().message));
  REQUIRE(res.ok());
  // The exit code of the real change alone: changes (2), not errors.
  CHECK(res->exit_status() == 2);
  // base and head, and each once more past the cache to find what changes on every render.
  CHECK(res->render_stats.renders == 4);
  REQUIRE(res->report.releases.size() == 1);
  const auto& rr = res->report.releases[0];
  INFO(keys_of(rr));
  CHECK(rr.status == diff::ReleaseStatus::changed);
  // One real change: the greeting. The token next to it is masked on both sides.
  REQUIRE(rr.resources.size() == 1);
  CHECK(rr.resources[0].key == "core/ConfigMap/demo/vol-config");
  CHECK(rr.resources[0].diff.find("-  greeting: hello") != std::string::npos);
  CHECK(rr.resources[0].diff.find("+  greeting: world") != std::string::npos);
  CHECK(rr.resources[0].diff.find("-  token:") == std::string::npos);
  CHECK(rr.resources[0].diff.find("+  token:") == std::string::npos);
  CHECK(rr.count(diff::Change::changed) == 1);
  CHECK(rr.count(diff::Change::added) == 0);
  CHECK(rr.count(diff::Change::removed) == 0);

  // The certificate, the random name and the random token are named as volatile.
  const auto* tls = find_volatile(rr, "core/Secret/demo/vol-tls");
  REQUIRE(tls != nullptr);
  CHECK(has(tls->fields, "/data/tls.crt"));
  CHECK(has(tls->fields, "/data/tls.key"));
  CHECK_FALSE(tls->also_changed);
  const auto* seed = find_volatile(rr, "core/ConfigMap/demo/vol-seed-********");
  REQUIRE(seed != nullptr);
  CHECK(has(seed->fields, "/metadata/name"));
  const auto* config = find_volatile(rr, "core/ConfigMap/demo/vol-config");
  REQUIRE(config != nullptr);
  CHECK(has(config->fields, "/data/token"));
  CHECK(config->also_changed);

  // In every format.
  REQUIRE(res->markdown_parts.size() == 1);
  const std::string& md = res->markdown_parts[0];
  CHECK(md.find("**volatile: changes on every render** `core/Secret/demo/vol-tls` (`/data/tls.crt`, `/data/tls.key`)") !=
        std::string::npos);
  CHECK(md.find("`core/ConfigMap/demo/vol-seed-********`") != std::string::npos);
  CHECK(md.find("1 release with changes") != std::string::npos);
  CHECK(md.find("| changed | +0 ~1 -0 |") != std::string::npos);
  CHECK(res->text.find("-- volatile: changes on every render core/Secret/demo/vol-tls (/data/tls.crt, /data/tls.key)") !=
        std::string::npos);
  CHECK(res->json.find(R"("volatile":[{"key":"core/ConfigMap/demo/vol-config","fields":["/data/token"],"also_changed":true})") !=
        std::string::npos);
  // No certificate material in the report (the Secret is redacted anyway; the masked fields say why).
  CHECK(md.find("BEGIN") == std::string::npos);

  // The verdict is remembered: the same preview again renders nothing and says the same.
  auto again = runners::run_preview(req);
  REQUIRE(again.ok());
  CHECK(again->render_stats.renders == 0);
  CHECK(again->exit_status() == 2);
  REQUIRE(again->report.releases.size() == 1);
  CHECK(again->report.releases[0].resources.size() == 1);
  CHECK(find_volatile(again->report.releases[0], "core/Secret/demo/vol-tls") != nullptr);
  fs::remove_all(work);
}

TEST_CASE("volatile: a change that only re-renders the release shows no change", "[fidelity]") {
  TempRepo t("volatile-rerender");
  test::write_volatile_chart(t);
  write_release(t, "    greeting: hello\n");
  const std::string base = t.commit("release");
  // A value the chart does not use: a new render key, the same output but for the random parts.
  write_release(t, "    greeting: hello\n    unused: 1\n");
  const std::string head = t.commit("unused value");
  const std::string work = work_dir("rerender");

  auto res = runners::run_preview(request(t, base, head, work));
  INFO((res.ok() ? res->text : res.error().message));
  REQUIRE(res.ok());
  CHECK(res->exit_status() == 0);
  CHECK_FALSE(res->report.has_changes());
  CHECK(res->render_stats.renders == 4);
  REQUIRE(res->report.releases.size() == 1);
  const auto& rr = res->report.releases[0];
  INFO(keys_of(rr));
  CHECK(rr.status == diff::ReleaseStatus::unchanged);
  CHECK(rr.resources.empty());
  // The control: the two renders did differ, and the difference is named, not hidden.
  CHECK(find_volatile(rr, "core/Secret/demo/vol-tls") != nullptr);
  CHECK(find_volatile(rr, "core/ConfigMap/demo/vol-seed-********") != nullptr);
  REQUIRE(res->markdown_parts.size() == 1);
  CHECK(res->markdown_parts[0].find("0 releases with changes") != std::string::npos);
  CHECK(res->markdown_parts[0].find("| unchanged | +0 ~0 -0 |") != std::string::npos);
  CHECK(res->markdown_parts[0].find("```diff") == std::string::npos);
  CHECK(res->json.find(R"("has_changes":false)") != std::string::npos);
  fs::remove_all(work);
}

TEST_CASE("volatile: a field that a change makes random is a change, not noise", "[fidelity]") {
  TempRepo t("volatile-turned");
  test::write_volatile_chart(t);
  t.replace("charts/vol/templates/config.yaml", "{{ randAlphaNum 16 | quote }}", "\"pinned-token-value\"");
  write_release(t, "    greeting: hello\n");
  const std::string base = t.commit("pinned token");
  test::write_volatile_chart(t);  // the token is random from now on
  const std::string head = t.commit("random token");
  const std::string work = work_dir("turned");

  auto res = runners::run_preview(request(t, base, head, work));
  INFO((res.ok() ? res->text : res.error().message));
  REQUIRE(res.ok());
  CHECK(res->exit_status() == 2);
  REQUIRE(res->report.releases.size() == 1);
  const auto& rr = res->report.releases[0];
  INFO(keys_of(rr));
  REQUIRE(rr.resources.size() == 1);
  CHECK(rr.resources[0].key == "core/ConfigMap/demo/vol-config");
  CHECK(rr.resources[0].diff.find("-  token: pinned-token-value") != std::string::npos);
  // The certificate stays noise: random on both sides.
  CHECK(find_volatile(rr, "core/Secret/demo/vol-tls") != nullptr);
  CHECK(find_volatile(rr, "core/ConfigMap/demo/vol-config") == nullptr);
  fs::remove_all(work);
}

TEST_CASE("volatile: a chart that calls no random or clock function is rendered once per side", "[fidelity]") {
  TempRepo t("volatile-plain");
  t.write("charts/vol/Chart.yaml", "apiVersion: v2\nname: vol\nversion: 0.1.0\n");
  t.write("charts/vol/templates/config.yaml", R"(apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
  namespace: {{ .Release.Namespace }}
data:
  greeting: {{ .Values.greeting | quote }}
)");
  // A test hook may be random: `helm template --skip-tests` leaves it out.
  t.write("charts/vol/templates/tests/check.yaml", R"(apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-check-{{ randAlphaNum 5 | lower }}
  annotations:
    "helm.sh/hook": test
spec:
  containers: [{name: c, image: busybox}]
)");
  write_release(t, "    greeting: hello\n");
  const std::string base = t.commit("release");
  write_release(t, "    greeting: world\n");
  const std::string head = t.commit("greeting");
  const std::string work = work_dir("plain");
  auto res = runners::run_preview(request(t, base, head, work));
  INFO((res.ok() ? res->text : res.error().message));
  REQUIRE(res.ok());
  CHECK(res->exit_status() == 2);
  CHECK(res->render_stats.renders == 2);
  REQUIRE(res->report.releases.size() == 1);
  CHECK(res->report.releases[0].resources.size() == 1);
  CHECK(res->report.releases[0].volatiles.empty());

  // Values that name a random function (a chart may render them with tpl) make it a candidate again.
  write_release(t, "    greeting: \"{{ randAlphaNum 4 }}\"\n");
  const std::string head2 = t.commit("templated value");
  auto res2 = runners::run_preview(request(t, head, head2, work));
  REQUIRE(res2.ok());
  // The new head, and it once more; the base is a cache hit and is not rendered again (its values name no
  // random function and its chart calls none).
  CHECK(res2->render_stats.renders == 2);
  CHECK(res2->render_stats.cache_hits == 1);

  // A change that makes this deterministic chart random: the new random field is a change, not noise.
  t.write("charts/vol/templates/config.yaml", t.read("charts/vol/templates/config.yaml") +
                                                   "  token: {{ randAlphaNum 8 | quote }}\n");
  write_release(t, "    greeting: world\n");
  const std::string head3 = t.commit("random token");
  auto res3 = runners::run_preview(request(t, head, head3, work));
  INFO((res3.ok() ? res3->text : res3.error().message));
  REQUIRE(res3.ok());
  CHECK(res3->exit_status() == 2);
  REQUIRE(res3->report.releases.size() == 1);
  REQUIRE(res3->report.releases[0].resources.size() == 1);
  CHECK(res3->report.releases[0].resources[0].diff.find("+  token: ") != std::string::npos);
  CHECK(res3->report.releases[0].volatiles.empty());
  fs::remove_all(work);
}

namespace {

// Two renders of one release, differing only where a chart's random functions write.
std::string manifest(const std::string& cert, const std::string& seed, const std::string& checksum, int replicas) {
  return "apiVersion: v1\nkind: Secret\nmetadata:\n  name: rel-tls\n  namespace: ns\ndata:\n  tls.crt: " + cert +
         "\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rel-seed-" + seed +
         "\n  namespace: ns\ndata:\n  a: b\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: rel\n"
         "  namespace: ns\nspec:\n  replicas: " +
         std::to_string(replicas) + "\n  template:\n    metadata:\n      annotations:\n        checksum/tls: " + checksum +
         "\n    spec:\n      containers:\n      - name: app\n        image: nginx:1.10\n";
}

}  // namespace

TEST_CASE("volatile: the apply digest ignores volatile content, so the decision does not upgrade", "[fidelity]") {
  const std::string values = R"({"replicas":1})";
  const std::string a = manifest("Y2VydC1vbmU=", "x8k2q1ab", "1111", 1);
  const std::string b = manifest("Y2VydC10d28=", "p0z9m3cd", "2222", 1);
  auto v = diff::find_volatile(a, b, diff::ParseOptions{});
  REQUIRE(v.ok());
  INFO(v->serialize());
  CHECK(v->fields.count("core/Secret/ns/rel-tls") == 1);
  CHECK(v->fields.at("apps/Deployment/ns/rel").count("/spec/template/metadata/annotations/checksum~1tls") == 1);
  REQUIRE(v->names.size() == 1);
  CHECK(v->names[0].key() == "core/ConfigMap/ns/rel-seed-********");
  // The verdict survives its store.
  auto back = diff::Volatility::parse(v->serialize());
  REQUIRE(back.has_value());
  CHECK(back->serialize() == v->serialize());

  // Without a verdict the digest is what it always was (no upgrade of every release when helmgate updates).
  CHECK(engine::release_digest("rel", "ns", a, values, {}) ==
        core::sha256_hex("rel\nns\n" + a + "\nvalues:" + core::sha256_hex(values)));
  CHECK(engine::release_digest("rel", "ns", a, values, {}) != engine::release_digest("rel", "ns", b, values, {}));

  const std::string applied = engine::release_digest("rel", "ns", a, values, *v);
  const std::string again = engine::release_digest("rel", "ns", b, values, *v);
  CHECK(applied == again);
  auto none = apply::determine_release_action({true, again}, {true, "deployed", applied}, false);
  CHECK(none.action == apply::Action::none);

  // A verdict keyed without namespaces (a chart that sets none) masks the resources keyed with one.
  auto bare = [](std::string m) {
    for (size_t p; (p = m.find("  namespace: ns\n")) != std::string::npos;) m.erase(p, 16);
    return m;
  };
  auto v0 = diff::find_volatile(bare(a), bare(b), diff::ParseOptions{});
  REQUIRE(v0.ok());
  CHECK(v0->fields.count("core/Secret//rel-tls") == 1);
  CHECK(engine::release_digest("rel", "ns", a, values, *v0) == engine::release_digest("rel", "ns", b, values, *v0));

  // A real change next to the volatile one still upgrades; so does a change of values alone (as in Flux).
  const std::string real = engine::release_digest("rel", "ns", manifest("Y2VydC10aHJlZQ==", "q1w2e3r4", "3333", 2), values, *v);
  CHECK(apply::determine_release_action({true, real}, {true, "deployed", applied}, false).action == apply::Action::upgrade);
  const std::string other_values = engine::release_digest("rel", "ns", b, R"({"replicas":"1"})", *v);
  CHECK(apply::determine_release_action({true, other_values}, {true, "deployed", applied}, false).action ==
        apply::Action::upgrade);
}

TEST_CASE("volatile: apply on a worker without the render cache renders twice once and does not upgrade", "[fidelity]") {
  TempRepo t("volatile-apply");
  test::write_volatile_chart(t);
  const std::string work = work_dir("apply");
  auto make = [&](const std::string& sub) {
    render::Options o;
    o.helm = test::require_env("HELMGATE_HELM");
    o.kubectl = test::require_env("HELMGATE_KUBECTL");
    o.work_dir = work + "/" + sub + "/work";
    o.cache_dir = work + "/" + sub + "/renders";
    return o;
  };
  render::RenderRequest req;
  req.chart.origin = render::ChartOrigin::local_dir;
  req.chart.dir = (t.dir / "charts/vol").string();
  req.chart.shown = "charts/vol";
  req.release_name = "vol";
  req.namespace_ = "demo";
  req.values_json = R"({"greeting":"hello"})";

  // The worker that installed: its digest, with the verdict it found then.
  render::Renderer first(make("first"));
  auto r1 = first.render(req);
  REQUIRE(r1.ok());
  const auto installed = engine::apply_digest(first, req, *r1, "vol", "demo", req.values_json, "");
  CHECK(installed.rendered_again);  // an install: the verdict is settled so that the recorded digest is the masked one
  CHECK(installed.masked);
  CHECK(first.stats().renders == 2);

  // Another worker (an empty cache) renders the same inputs: other random content, the same digest.
  render::Renderer second(make("second"));
  auto r2 = second.render(req);
  REQUIRE(r2.ok());
  CHECK(r2->key == r1->key);
  CHECK(r2->manifest != r1->manifest);  // the control: the chart's output does change on every render
  const auto now = engine::apply_digest(second, req, *r2, "vol", "demo", req.values_json, installed.digest);
  CHECK(now.rendered_again);
  CHECK(now.digest == installed.digest);
  apply::Desired desired{true, now.digest, now.masked};
  auto decision = apply::determine_release_action(desired, {true, "deployed", installed.digest}, false);
  CHECK(decision.action == apply::Action::none);
  CHECK(decision.reason.find("changes on every render") != std::string::npos);
  // Once per render key: the next apply on that worker renders no more.
  const auto renders = second.stats().renders;
  const auto next = engine::apply_digest(second, req, *r2, "vol", "demo", req.values_json, installed.digest);
  CHECK(next.digest == installed.digest);
  CHECK_FALSE(next.rendered_again);
  CHECK(second.stats().renders == renders);
  fs::remove_all(work);
}

TEST_CASE("volatile: verdict details (name patterns, lists, masking, the store format)", "[fidelity]") {
  auto parse = [](const std::string& m) {
    auto r = diff::parse_manifest(m, diff::ParseOptions{});
    REQUIRE(r.ok());
    return *r;
  };
  // Random names that happen to share their first random character: the pattern still starts at the
  // separator, so the next render's name (any first character) matches it.
  auto a = parse("kind: Pod\napiVersion: v1\nmetadata: {name: rel-test-ab3x, namespace: ns}\nspec: {args: [a, b]}\n");
  auto b = parse("kind: Pod\napiVersion: v1\nmetadata: {name: rel-test-aq7z, namespace: ns}\nspec: {args: [a, b, c]}\n");
  auto c = parse("kind: Pod\napiVersion: v1\nmetadata: {name: rel-test-zz00, namespace: ns}\nspec: {args: [a]}\n");
  auto v = diff::find_volatile(a, b);
  REQUIRE(v.names.size() == 1);
  CHECK(v.names[0].shown() == "rel-test-****");
  CHECK(v.names[0].matches(c[0]));
  // A list whose length differs is volatile as a whole.
  CHECK(v.fields.at("core/Pod/ns/rel-test-****").count("/spec/args") == 1);
  auto masked = diff::mask_volatile(c, v);
  REQUIRE(masked.size() == 1);
  CHECK(masked[0].key() == "core/Pod/ns/rel-test-****");
  CHECK(masked[0].text.find("args: \"(volatile: changes on every render)\"") != std::string::npos);
  CHECK(masked[0].text.find("name: rel-test-****") != std::string::npos);
  // Resources the verdict does not name keep their text byte for byte.
  auto other = parse("kind: ConfigMap\napiVersion: v1\nmetadata: {name: x, namespace: ns}\ndata: {k: v}\n");
  CHECK(diff::mask_volatile(other, v)[0].text == other[0].text);
  // Different names of different lengths are not one pattern: no verdict rather than a wrong one.
  auto d = parse("kind: Pod\napiVersion: v1\nmetadata: {name: other-name, namespace: ns}\n");
  CHECK(diff::find_volatile(a, d).empty());
  // Two renders alike: nothing is volatile.
  CHECK(diff::find_volatile(a, a).empty());
  // The intersection keeps what both verdicts name.
  diff::Volatility x, y;
  x.fields["k"] = {"/a", "/b"};
  y.fields["k"] = {"/b", "/c"};
  auto both = x.intersect(y);
  REQUIRE(both.fields.count("k") == 1);
  CHECK(both.fields.at("k") == std::set<std::string>{"/b"});
  CHECK(x.intersect(diff::Volatility{}).empty());
  // The store format: tabs and newlines in a field survive; anything else is not a verdict.
  diff::Volatility odd;
  odd.fields["core/ConfigMap/ns/x"] = {"/data/a\tb%c\nd"};
  auto back = diff::Volatility::parse(odd.serialize());
  REQUIRE(back.has_value());
  CHECK(back->fields == odd.fields);
  CHECK_FALSE(diff::Volatility::parse("").has_value());
  CHECK_FALSE(diff::Volatility::parse("helmgate-volatile-v0\n").has_value());
  CHECK_FALSE(diff::Volatility::parse("helmgate-volatile-v1\nname\ta\n").has_value());
}

// A chart pulled from a chart repository is scanned like a chart directory, inside its archive: one that
// calls no random function is rendered once per side, one that does is rendered again to tell noise from
// change. The repository is a real `helm package` + `helm repo index` served over HTTP on loopback.
TEST_CASE("volatile: a pulled chart archive is scanned like a chart directory", "[fidelity]") {
  const std::string helm = test::require_env("HELMGATE_HELM");
  const fs::path charts = work_dir("archive-charts");
  fs::create_directories(charts / "repo");
  auto chart = [&](const std::string& name, const std::string& extra) {
    fs::create_directories(charts / name / "templates");
    std::ofstream(charts / name / "Chart.yaml") << "apiVersion: v2\nname: " << name << "\nversion: 0.1.0\n";
    std::ofstream(charts / name / "README.md") << "Not a template: randAlphaNum here is prose.\n";
    std::ofstream(charts / name / "templates" / "config.yaml")
        << "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-config\ndata:\n"
           "  greeting: {{ .Values.greeting | quote }}\n"
        << extra;
    process::ProcessOptions po;
    auto r = process::run_process({helm, "package", (charts / name).string(), "--destination", (charts / "repo").string()}, po);
    REQUIRE(r.ok());
    REQUIRE(r->exit_code == 0);
  };
  chart("plain", "");
  chart("random", "  token: {{ randAlphaNum 8 | quote }}\n");
  test::HttpTestServer server([&](const test::HttpTestServer::Request& req, test::HttpTestServer::Response& res) {
    const std::string path = std::string(req.target());
    if (path.find("..") != std::string::npos) return false;
    std::ifstream f(charts / "repo" / path.substr(1), std::ios::binary);
    if (!f) {
      res.result(boost::beast::http::status::not_found);
      return true;
    }
    res.body().assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    return true;
  });
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
  {
    process::ProcessOptions po;
    auto r = process::run_process({helm, "repo", "index", (charts / "repo").string(), "--url", url}, po);
    REQUIRE(r.ok());
    REQUIRE(r->exit_code == 0);
  }
  for (const auto& [name, renders] : std::vector<std::pair<std::string, size_t>>{{"plain", 2}, {"random", 4}}) {
    INFO(name);
    TempRepo t("volatile-archive-" + name);
    auto release = [&](const std::string& greeting) {
      t.write("releases/vol.yaml", "apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata:\n  name: vol\n"
                                   "  namespace: demo\nspec:\n  releaseName: vol\n  chart:\n    repository: " + url +
                                       "\n    name: " + name + "\n    version: 0.1.0\n  values:\n    greeting: " + greeting + "\n");
    };
    release("hello");
    const std::string base = t.commit("release");
    release("world");
    const std::string head = t.commit("greeting");
    auto req = request(t, base, head, work_dir(("archive-" + name).c_str()));
    req.repo_config->egress.allow = {url};
    req.repo_config->egress.allow_http = true;
    req.repo_config->egress.allow_private = true;
    auto res = runners::run_preview(req);
    INFO((res.ok() ? res->text : res.error().message));
    REQUIRE(res.ok());
    CHECK(res->exit_status() == 2);
    CHECK(res->render_stats.pulls == 1);
    CHECK(res->render_stats.renders == renders);
    REQUIRE(res->report.releases.size() == 1);
    // The real change is a diff either way; the random token is volatile, not a change.
    CHECK(res->report.releases[0].resources.size() == 1);
    CHECK(res->report.releases[0].volatiles.size() == (name == "random" ? 1u : 0u));
  }
  fs::remove_all(charts);
}
