// The fleet API, the status page and the fleet metrics of `helmgate serve`, against a real Redis seeded
// through queue::FleetStore with JSON written by the engine's own writers (engine::to_json of a
// ClusterDrift and an Inventory), as the drift scan stores it.
#include <catch2/catch.hpp>

#include <openssl/evp.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/json.hpp"
#include "fleet_seed.hpp"
#include "harness.hpp"
#include "support/support.hpp"

using namespace helmgate;
using test::Harness;

namespace {

std::string b64(const std::string& s) {
  std::string out(4 * ((s.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(s.data()),
                          static_cast<int>(s.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

constexpr const char* kReadToken = "read-token-for-tests";
using test::fleet_seed::kHostileDiff;

void seed(Harness& h) {
  queue::FleetStore store(h.url, h.opts.key_prefix);
  for (const auto& [c, docs] : test::fleet_seed::clusters()) {
    REQUIRE(store.put(queue::FleetKind::drift, c, docs.first, test::fleet_seed::kDriftAtMs).ok());
    REQUIRE(store.put(queue::FleetKind::inventory, c, docs.second, test::fleet_seed::kInventoryAtMs).ok());
  }
}

core::json::Document parse(const std::string& body) {
  core::json::Document doc;
  auto err = core::json::parse(doc, body);
  if (err) FAIL("not JSON: " << *err << ": " << body);
  return doc;
}

http::ClientResponse get(Harness& h, const std::string& path, std::vector<std::pair<std::string, std::string>> headers) {
  auto r = http::request("GET", h.base() + path, headers);
  if (!r) throw std::runtime_error(r.error().message);
  return *r;
}

std::vector<std::string> strings(const core::json::Value& v) {
  std::vector<std::string> out;
  for (const auto& s : v.GetArray()) out.emplace_back(s.GetString());
  return out;
}

const core::json::Value& addon(const core::json::Document& doc, const std::string& name) {
  for (const auto& a : doc["addons"].GetArray()) {
    if (a["release"].GetString() == name) return a;
  }
  FAIL("no add-on " << name);
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("the fleet API answers from the stored scans, with the add-ons view", "[redis][http][fleet]") {
  Harness h;
  h.cfg.ui.read_token = kReadToken;
  seed(h);
  auto r = h.api("GET", "/api/v1/fleet", kReadToken);
  REQUIRE(r.status == 200);
  auto doc = parse(r.body);
  REQUIRE(doc["clusters"].Size() == 3);
  const auto& dev = doc["clusters"][0];
  CHECK(std::string(dev["name"].GetString()) == "dev");
  CHECK(dev["reachable"].GetBool());
  CHECK(std::string(dev["server_version"].GetString()) == "v1.31.2");
  CHECK(dev["nodes"]["ready"].GetInt() == 2);
  CHECK(dev["drift"]["in_sync"].GetInt() == 2);
  CHECK(std::string(dev["scanned_at"].GetString()) == "2026-12-02T10:00:01Z");
  const auto& prod = doc["clusters"][1];
  CHECK(std::string(prod["name"].GetString()) == "prod");
  CHECK(prod["nodes"]["not_ready"].GetInt() == 1);
  CHECK(prod["drift"]["drifted"].GetInt() == 1);
  CHECK(prod["drift"]["extra"].GetInt() == 1);
  const auto& staging = doc["clusters"][2];
  CHECK_FALSE(staging["reachable"].GetBool());
  CHECK(std::string(staging["error"].GetString()).find("connection refused") != std::string::npos);

  const auto& podinfo = addon(doc, "podinfo");
  CHECK(strings(podinfo["differs_from_git"]) == std::vector<std::string>{"prod"});
  CHECK(podinfo["versions_differ"].GetBool());
  CHECK(podinfo["attention"].GetBool());
  REQUIRE(podinfo["clusters"].Size() == 3);
  CHECK(std::string(podinfo["clusters"][1]["chart_version"].GetString()) == "6.4.0");
  CHECK(podinfo["clusters"][1]["differs"].GetBool());
  CHECK(podinfo["clusters"][1]["revision"].GetInt() == 4);
  CHECK_FALSE(podinfo["clusters"][0]["differs"].GetBool());

  const auto& ingress = addon(doc, "ingress-nginx");
  CHECK(ingress["declared_everywhere"].GetBool());
  CHECK(strings(ingress["missing_on"]) == std::vector<std::string>{"staging"});
  CHECK(ingress["attention"].GetBool());

  const auto& extra = addon(doc, "<script>alert(1)</script>");
  CHECK_FALSE(extra["declared_everywhere"].GetBool());
  CHECK_FALSE(extra["attention"].GetBool());

  SECTION("/api/v1/drift lists every release that is not in sync, with its redacted diff as stored") {
    auto d = h.api("GET", "/api/v1/drift", kReadToken);
    REQUIRE(d.status == 200);
    auto dd = parse(d.body);
    REQUIRE(dd["releases"].Size() == 3);
    std::vector<std::string> ids;
    for (const auto& x : dd["releases"].GetArray()) ids.emplace_back(x["id"].GetString());
    CHECK(ids == std::vector<std::string>{"prod/apps/podinfo", "prod/default/<script>alert(1)</script>",
                                          "staging/ingress/ingress-nginx"});
    CHECK(std::string(dd["releases"][0]["resources"][0]["diff"].GetString()) == kHostileDiff);
    CHECK(std::string(dd["releases"][0]["helm"]["chart_version"].GetString()) == "6.4.0");
    CHECK(dd["releases"][2]["helm"].IsNull());
  }
  SECTION("/api/v1/clusters/{name} has the inventory and the drift scan of one cluster") {
    auto c = h.api("GET", "/api/v1/clusters/prod", kReadToken);
    REQUIRE(c.status == 200);
    auto cd = parse(c.body);
    CHECK(std::string(cd["cluster"].GetString()) == "prod");
    CHECK(cd["inventory"]["nodes"]["count"].GetInt() == 3);
    CHECK(std::string(cd["inventory"]["hpas"][0]["target"].GetString()) == "Deployment/podinfo");
    CHECK(cd["drift"]["releases"].Size() == 3);
    CHECK(std::string(cd["drift_stored_at"].GetString()) == "2026-12-02T10:00:01.000Z");
  }
  SECTION("an unknown cluster is 404 with a JSON error, a hostile name 400 before any lookup") {
    auto c = h.api("GET", "/api/v1/clusters/qa", kReadToken);
    CHECK(c.status == 404);
    CHECK(std::string(parse(c.body)["error"].GetString()).find("qa") != std::string::npos);
    for (const char* bad : {"%3Cscript%3E", "-rf", "a%20b", "..", "a%0Ab"}) {
      auto b = h.api("GET", std::string("/api/v1/clusters/") + bad, kReadToken);
      CHECK(b.status == 400);
      CHECK(parse(b.body)["error"].IsString());
    }
    auto long_name = h.api("GET", "/api/v1/clusters/" + std::string(64, 'a'), kReadToken);
    CHECK(long_name.status == 400);
  }
}

TEST_CASE("the fleet API and the status page need the read token, the API token or the proxy", "[redis][http][fleet]") {
  Harness h;
  seed(h);
  SECTION("auth: token") {
    h.cfg.ui.read_token = kReadToken;
    for (const char* path : {"/api/v1/fleet", "/api/v1/drift", "/api/v1/clusters/prod", "/ui/", "/ui/clusters/prod",
                             "/ui/jobs", "/ui/drift"}) {
      INFO(path);
      auto none = get(h, path, {});
      CHECK(none.status == 401);
      CHECK(parse(none.body)["error"].IsString());
      CHECK(h.api("GET", path, "wrong-token").status == 401);
      CHECK(h.api("GET", path, std::string(kReadToken) + "x").status == 401);
      CHECK(h.api("GET", path, kReadToken).status == 200);
      CHECK(h.api("GET", path, test::kApiToken).status == 200);
    }
    CHECK(h.api("GET", "/ui", kReadToken).status == 200);
    // A browser is asked for Basic auth on /ui/ (the token is the password); the API asks for Bearer.
    auto ui = get(h, "/ui/", {});
    CHECK(ui.header("WWW-Authenticate").find("Basic") == 0);
    CHECK(get(h, "/api/v1/fleet", {}).header("WWW-Authenticate").find("Bearer") == 0);
    std::string basic = "Basic " + b64(std::string("anyone:") + kReadToken);
    CHECK(get(h, "/ui/", {{"Authorization", basic}}).status == 200);
    std::string bad = "Basic " + b64("anyone:nope");
    CHECK(get(h, "/ui/", {{"Authorization", bad}}).status == 401);
  }
  SECTION("auth: token without a read token: only the API token reads") {
    h.cfg.ui.read_token.clear();
    CHECK(h.api("GET", "/api/v1/fleet", "").status == 401);
    CHECK(get(h, "/api/v1/fleet", {{"Authorization", "Bearer "}}).status == 401);
    CHECK(h.api("GET", "/api/v1/fleet", test::kApiToken).status == 200);
  }
  SECTION("auth: proxy with a user header: requests the proxy did not forward are refused") {
    h.cfg.ui.auth = config::UiAuth::proxy;
    h.cfg.ui.proxy_user_header = "X-Forwarded-User";
    CHECK(get(h, "/ui/", {}).status == 401);
    CHECK(get(h, "/ui/", {{"X-Forwarded-User", "alice"}}).status == 200);
    CHECK(get(h, "/api/v1/fleet", {{"X-Forwarded-User", "alice"}}).status == 200);
    // The jobs API itself still needs the API token.
    CHECK(get(h, "/api/v1/jobs", {{"X-Forwarded-User", "alice"}}).status == 401);
  }
}

TEST_CASE("the status page escapes every string from Redis, Git and the clusters", "[redis][http][fleet][ui]") {
  Harness h;
  h.cfg.ui.read_token = kReadToken;
  seed(h);
  auto overview = h.api("GET", "/ui/", kReadToken);
  REQUIRE(overview.status == 200);
  CHECK(overview.header("Content-Type").find("text/html") == 0);
  CHECK(overview.header("Content-Security-Policy").find("default-src 'none'") == 0);
  const std::string& o = overview.body;
  CHECK(o.find("<html lang=\"en\">") != std::string::npos);
  CHECK(o.find("name=\"viewport\"") != std::string::npos);
  CHECK(o.find("<script") == std::string::npos);  // no script on the overview at all, hostile or not
  CHECK(o.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  // No link to a release whose name the release route refuses; the markup shows as text.
  CHECK(o.find("%3Cscript%3E") == std::string::npos);
  CHECK(o.find("<th scope=\"row\"><a href=\"/ui/clusters/staging\">staging</a></th>") != std::string::npos);
  CHECK(o.find("<th scope=\"col\">podinfo <span class=\"badge s-drifted\">differs</span></th>") != std::string::npos);
  CHECK(o.find("declared for every cluster but missing on staging") != std::string::npos);
  CHECK(o.find("differs from Git on prod") != std::string::npos);

  auto cluster = h.api("GET", "/ui/clusters/prod", kReadToken);
  REQUIRE(cluster.status == 200);
  const std::string& c = cluster.body;
  CHECK(c.find("<script") == std::string::npos);
  CHECK(c.find("PLEG is not healthy &lt;b&gt;") != std::string::npos);
  CHECK(c.find("v1.31.2&quot;x\\y") != std::string::npos);
  CHECK(c.find("Deployment apps/podinfo") != std::string::npos);
  CHECK(c.find("2026-12-02T09:58:00Z") != std::string::npos);

  auto rel = h.api("GET", "/ui/clusters/prod/releases/apps/podinfo", kReadToken);
  REQUIRE(rel.status == 200);
  CHECK(rel.body.find("<script") == std::string::npos);
  CHECK(rel.body.find("image: &lt;script&gt;alert(&#39;diff&#39;)&lt;/script&gt;") != std::string::npos);
  CHECK(rel.body.find("ok &amp; fine") != std::string::npos);
  CHECK(rel.body.find("6.4.0") != std::string::npos);

  // A name that is markup cannot be asked for: it is refused (escaped) before any lookup.
  auto hostile = h.api("GET", "/ui/clusters/prod/releases/default/%3Cscript%3Ealert%281%29%3C%2Fscript%3E", kReadToken);
  CHECK(hostile.status == 400);
  CHECK(hostile.body.find("<script>alert") == std::string::npos);
  auto unknown = h.api("GET", "/ui/clusters/qa", kReadToken);
  CHECK(unknown.status == 404);
  CHECK(h.api("GET", "/ui/clusters/%3Cb%3E", kReadToken).status == 400);
  CHECK(h.api("GET", "/ui/clusters/prod/releases/apps/nope", kReadToken).status == 404);
}

TEST_CASE("the jobs page lists jobs with a replay button that POSTs with the typed API token", "[redis][http][fleet][ui]") {
  Harness h;
  h.cfg.ui.read_token = kReadToken;
  std::string body = test::read_file(test::corpus("github-webhooks/octokit/pull_request/synchronize.payload.json"));
  REQUIRE(h.post_webhook("github", "pull_request", body, "delivery-ui").status == 202);
  auto jobs = h.api("GET", "/ui/jobs", kReadToken);
  REQUIRE(jobs.status == 200);
  auto list = parse(h.api("GET", "/api/v1/jobs").body);
  REQUIRE(list["jobs"].Size() == 1);
  std::string id = list["jobs"][0]["id"].GetString();
  CHECK(jobs.body.find("data-replay=\"" + id + "\"") != std::string::npos);
  CHECK(jobs.body.find("<label for=\"api-token\">") != std::string::npos);
  CHECK(jobs.body.find("fetch(location.origin+'/api/v1/jobs/'+encodeURIComponent(id)+'/replay'") != std::string::npos);
  CHECK(jobs.body.find("localStorage") == std::string::npos);
  CHECK(jobs.body.find("sessionStorage") == std::string::npos);
  CHECK(h.api("GET", "/ui/jobs?state=bogus", kReadToken).status == 400);
  std::string button = "data-replay=\"" + id + "\"";
  CHECK(h.api("GET", "/ui/jobs?state=queued", kReadToken).body.find(button) != std::string::npos);
  CHECK(h.api("GET", "/ui/jobs?state=dead", kReadToken).body.find(button) == std::string::npos);
}

TEST_CASE("/metrics has the fleet's metrics computed from the stored scans", "[redis][http][fleet][metrics]") {
  Harness h;
  seed(h);
  auto r = get(h, "/metrics", {});
  REQUIRE(r.status == 200);
  const std::string& m = r.body;
  CHECK(m.find("# TYPE helmgate_release_drifted gauge") != std::string::npos);
  CHECK(m.find("helmgate_release_drifted{cluster=\"prod\",namespace=\"apps\",release=\"podinfo\"} 1\n") != std::string::npos);
  CHECK(m.find("helmgate_release_drifted{cluster=\"dev\",namespace=\"apps\",release=\"podinfo\"} 0\n") != std::string::npos);
  CHECK(m.find("helmgate_release_drifted{cluster=\"staging\",namespace=\"ingress\",release=\"ingress-nginx\"} 0\n") !=
        std::string::npos);
  CHECK(m.find("helmgate_cluster_up{cluster=\"dev\"} 1\n") != std::string::npos);
  CHECK(m.find("helmgate_cluster_up{cluster=\"staging\"} 0\n") != std::string::npos);
  CHECK(m.find("helmgate_cluster_nodes{cluster=\"prod\",state=\"ready\"} 2\n") != std::string::npos);
  CHECK(m.find("helmgate_cluster_nodes{cluster=\"prod\",state=\"not_ready\"} 1\n") != std::string::npos);
  CHECK(m.find("helmgate_cluster_info{cluster=\"dev\",version=\"v1.31.2\"} 1\n") != std::string::npos);
  // Label values escaped per the text format: \" and \\.
  CHECK(m.find("helmgate_cluster_info{cluster=\"prod\",version=\"v1.31.2\\\"x\\\\y\"} 1\n") != std::string::npos);
  CHECK(m.find("helmgate_drift_scan_seconds{cluster=\"prod\"} 2.5\n") != std::string::npos);
  CHECK(m.find("helmgate_drift_scan_seconds{cluster=\"dev\"} 1.2\n") != std::string::npos);
  // The hostile release name is a label value, quoted, not markup or a new line.
  CHECK(m.find("release=\"<script>alert(1)</script>\"} 0\n") != std::string::npos);
}

TEST_CASE("the browser test's fixtures are what the engine's writers produce", "[redis][fleet][fixtures]") {
  // HELMGATE_UPDATE_FIXTURES=1 rewrites them (after a change to engine::write_json, on purpose).
  const std::string dir = test::source_dir() + "/tests/redis/http/fixtures/fleet/";
  const bool update = std::getenv("HELMGATE_UPDATE_FIXTURES") != nullptr;
  for (const auto& [c, docs] : test::fleet_seed::clusters()) {
    for (const auto& [kind, text] : {std::pair{"drift", docs.first}, std::pair{"inventory", docs.second}}) {
      std::string path = dir + c + "." + kind + ".json";
      INFO(path);
      if (update) {
        std::filesystem::create_directories(dir);
        std::ofstream(path, std::ios::binary) << text << "\n";
      }
      CHECK(test::read_file(path) == text + "\n");
    }
  }
}

TEST_CASE("the release page lists the recent apply jobs of its cluster", "[redis][http][fleet][ui]") {
  Harness h;
  h.cfg.ui.read_token = kReadToken;
  seed(h);
  queue::Queue q(h.url, h.opts);
  std::vector<core::JobSpec> specs(3);
  specs[0].kind = "apply";
  specs[0].repo = "acme/deploy";
  specs[0].after = std::string(40, 'c');
  specs[0].clusters = {"prod"};
  specs[1].kind = "apply";
  specs[1].repo = "acme/<b>staging-only</b>";
  specs[1].clusters = {"staging"};
  specs[2].kind = "preview";
  specs[2].repo = "acme/preview-only";
  specs[2].pr = 7;
  REQUIRE(q.enqueue(specs, "release-page-jobs").ok());
  auto page = h.api("GET", "/ui/clusters/prod/releases/apps/podinfo", kReadToken);
  REQUIRE(page.status == 200);
  CHECK(page.body.find("<td>acme/deploy</td><td>cccccccccccc</td>") != std::string::npos);
  CHECK(page.body.find("staging-only") == std::string::npos);
  CHECK(page.body.find("preview-only") == std::string::npos);
  auto staging = h.api("GET", "/ui/clusters/staging/releases/ingress/ingress-nginx", kReadToken);
  REQUIRE(staging.status == 200);
  CHECK(staging.body.find("acme/&lt;b&gt;staging-only&lt;/b&gt;") != std::string::npos);
  CHECK(staging.body.find("acme/deploy") == std::string::npos);
}

TEST_CASE("a cluster with an inventory but no drift scan yet", "[redis][http][fleet]") {
  Harness h;
  h.cfg.ui.read_token = kReadToken;
  seed(h);
  queue::FleetStore store(h.url, h.opts.key_prefix);
  REQUIRE(store.put(queue::FleetKind::inventory, "qa", engine::to_json(test::fleet_seed::inventory("qa", true, "v1.30.0", 1, 0)),
                    test::fleet_seed::kInventoryAtMs).ok());
  auto doc = parse(h.api("GET", "/api/v1/fleet", kReadToken).body);
  REQUIRE(doc["clusters"].Size() == 4);
  const auto& qa = doc["clusters"][2];  // dev, prod, qa, staging
  CHECK(std::string(qa["name"].GetString()) == "qa");
  CHECK(qa["drift"].IsNull());
  CHECK(std::string(qa["server_version"].GetString()) == "v1.30.0");
  // qa has no scan: it neither declares nor lacks ingress-nginx, so the add-on is still "declared everywhere".
  CHECK(addon(doc, "ingress-nginx")["declared_everywhere"].GetBool());
  auto page = h.api("GET", "/ui/", kReadToken).body;
  size_t row = page.find("<a href=\"/ui/clusters/qa\">qa</a></th>");
  REQUIRE(row != std::string::npos);
  CHECK(page.find("not scanned", row) < page.find("</tr>", row));
  CHECK(h.api("GET", "/api/v1/clusters/qa", kReadToken).status == 200);
}
