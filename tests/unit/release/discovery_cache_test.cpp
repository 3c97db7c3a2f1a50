// The discovery cache (release/discovery_cache): a cluster's result reused when the Git trees its
// discovery read are the same (in this process or from disk, as a later process would), discovered again
// when any of them or a discovery option changes; corrupt, truncated, foreign or oversized entries
// ignored; and no Secret value ever written to a cache file.
#include <catch2/catch.hpp>

#include <filesystem>
#include <future>
#include <fstream>
#include <sstream>

#include "core/private_files.hpp"
#include "release/discovery_cache.hpp"
#include "release/release.hpp"
#include "support/temp_repo.hpp"

using namespace helmgate;
using namespace helmgate::release;
namespace fs = std::filesystem;

namespace {

const char* kRelease = R"(apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {NAME}
  namespace: apps
spec:
  interval: 10m
  install:
    disableSchemaValidation: true
  upgrade:
    disableOpenAPIValidation: true
  dependsOn:
    - name: base
  chart:
    spec:
      chart: ./charts/app
      sourceRef:
        kind: GitRepository
        name: flux-system
        namespace: flux-system
  values:
    replicaCount: 2
    tag: "1.10"
    message: {NAME}
)";

std::string release_yaml(const std::string& name) {
  std::string s = kRelease;
  for (size_t p; (p = s.find("{NAME}")) != std::string::npos;) s.replace(p, 6, name);
  return s;
}

struct Fixture {
  test::TempRepo t{"discovery-cache"};
  fs::path cache_dir = t.dir.parent_path() / ("hg-dcache-" + t.dir.filename().string());
  DiscoverOptions opt;
  std::string c1;

  Fixture() {
    fs::remove_all(cache_dir);
    t.write("charts/app/Chart.yaml", "apiVersion: v2\nname: app\nversion: 1.0.0\n");
    t.write("charts/app/values.yaml", "replicaCount: 1\n");
    t.write("charts/app/templates/cm.yaml", "kind: ConfigMap\n");
    t.write("clusters/a/r1.yaml", release_yaml("r1"));
    t.write("clusters/a/r2.yaml", release_yaml("r2"));
    t.write("clusters/b/r3.yaml", release_yaml("r3"));
    t.write("README.md", "x\n");
    c1 = t.commit("one");
    opt.clusters = {{"a", {"clusters/a"}, "1.30.0"}, {"b", {"clusters/b"}, ""}};
    opt.work_root = cache_dir.string() + "-work";
    opt.cache = make_doc_cache();
  }
  ~Fixture() {
    std::error_code ec;
    fs::remove_all(cache_dir, ec);
    fs::remove_all(opt.work_root, ec);
  }
  git::Repository repo() const { return git::Repository::open(t.dir.string()).value(); }
  // A cache as a new process would have it: nothing in memory, the entries on disk.
  std::shared_ptr<DiscoveryCache> fresh(DiscoveryCache::Bounds b = {}) const {
    return std::make_shared<DiscoveryCache>(cache_dir.string(), b);
  }
  Discovery discover_with(const std::shared_ptr<DiscoveryCache>& cache, const std::string& commit) {
    DiscoverOptions o = opt;
    o.discovery_cache = cache;
    return discover(repo(), commit, o);
  }
  std::vector<fs::path> entries() const {
    std::vector<fs::path> out;
    std::error_code ec;
    if (!fs::exists(cache_dir)) return out;
    for (const auto& e : fs::recursive_directory_iterator(cache_dir, ec)) {
      if (e.is_regular_file()) out.push_back(e.path());
    }
    return out;
  }
};

// What a report is made of, release by release.
void require_same(const Discovery& a, const Discovery& b) {
  REQUIRE(a.releases.size() == b.releases.size());
  for (size_t i = 0; i < a.releases.size(); ++i) {
    const Release& x = a.releases[i];
    const Release& y = b.releases[i];
    CHECK(x.id() == y.id());
    CHECK(x.values_json == y.values_json);
    CHECK(x.inputs == y.inputs);
    CHECK(x.chart.describe() == y.chart.describe());
    CHECK(x.chart.content_id == y.chart.content_id);
    CHECK(x.where.file == y.where.file);
    CHECK(x.where.line == y.where.line);
    CHECK(x.kube_version == y.kube_version);
    CHECK(x.create_namespace == y.create_namespace);
    CHECK(y.install_checks.skip_schema_validation);
    CHECK_FALSE(y.upgrade_checks.skip_schema_validation);
    CHECK_FALSE(y.install_checks.skip_openapi_validation);
    CHECK(y.upgrade_checks.skip_openapi_validation);
    CHECK(x.spec.kind() == y.spec.kind());
    CHECK(x.spec.changed_fields(y.spec, 8).empty());
    CHECK(y.spec.changed_fields(x.spec, 8).empty());
    CHECK(x.spec.depends_on("apps") == y.spec.depends_on("apps"));
  }
  CHECK(a.read_roots == b.read_roots);
  CHECK(a.problems.size() == b.problems.size());
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("discovery cache: hit when the trees read are equal, in memory and from disk", "[unit]") {
  Fixture f;
  const Discovery plain = discover(f.repo(), f.c1, f.opt);  // no cache at all
  REQUIRE(plain.releases.size() == 3);

  auto cache = f.fresh();
  const Discovery first = f.discover_with(cache, f.c1);
  CHECK(cache->stats().misses == 2);
  CHECK(cache->stats().stored == 2);
  require_same(plain, first);
  const Discovery again = f.discover_with(cache, f.c1);
  CHECK(cache->stats().hits == 2);
  CHECK(cache->stats().disk_reads == 0);
  require_same(plain, again);

  auto later = f.fresh();  // another process
  const Discovery from_disk = f.discover_with(later, f.c1);
  CHECK(later->stats().hits == 2);
  CHECK(later->stats().disk_reads == 2);
  CHECK(later->stats().misses == 0);
  require_same(plain, from_disk);

  // A change outside both clusters' inputs (README) leaves both trees as they were.
  f.t.write("README.md", "y\n");
  const std::string c2 = f.t.commit("readme");
  auto third = f.fresh();
  require_same(discover(f.repo(), c2, f.opt), f.discover_with(third, c2));
  CHECK(third->stats().hits == 2);
  CHECK(third->stats().misses == 0);
}

TEST_CASE("discovery cache: a change to any tree read misses, only for the cluster that read it", "[unit]") {
  Fixture f;
  f.discover_with(f.fresh(), f.c1);

  SECTION("a release file of one cluster") {
    f.t.replace("clusters/a/r1.yaml", "replicaCount: 2", "replicaCount: 3");
    const std::string c2 = f.t.commit("r1");
    auto cache = f.fresh();
    const Discovery d = f.discover_with(cache, c2);
    CHECK(cache->stats().misses == 1);  // a
    CHECK(cache->stats().hits == 1);    // b
    require_same(discover(f.repo(), c2, f.opt), d);
    REQUIRE(d.releases[0].id() == "a/apps/r1");
    CHECK(d.releases[0].values_json.find("\"replicaCount\":3") != std::string::npos);
  }
  SECTION("a new file in a cluster path") {
    f.t.write("clusters/b/r4.yaml", release_yaml("r4"));
    const std::string c2 = f.t.commit("r4");
    auto cache = f.fresh();
    const Discovery d = f.discover_with(cache, c2);
    CHECK(cache->stats().misses == 1);
    CHECK(d.releases.size() == 4);
  }
  SECTION("the chart directory the releases use") {
    f.t.write("charts/app/values.yaml", "replicaCount: 5\n");
    const std::string c2 = f.t.commit("chart");
    auto cache = f.fresh();
    const Discovery d = f.discover_with(cache, c2);
    CHECK(cache->stats().misses == 2);  // both clusters read charts/app
    require_same(discover(f.repo(), c2, f.opt), d);
  }
}

TEST_CASE("discovery cache: a changed discovery option or cluster setting misses", "[unit]") {
  Fixture f;
  f.discover_with(f.fresh(), f.c1);
  auto cache = f.fresh();
  SECTION("flux_strict_substitution") { f.opt.flux_strict_substitution = !f.opt.flux_strict_substitution; }
  SECTION("helm_operator_charts_path") { f.opt.helm_operator_charts_path = "other"; }
  SECTION("the kube version of the clusters") {
    f.opt.clusters[0].kube_version = "1.31.0";
    f.opt.clusters[1].kube_version = "1.31.0";
  }
  SECTION("the tools") { f.opt.tools_id = "/usr/bin/kubectl:2"; }
  SECTION("self URLs") { f.opt.self_urls = {"https://example.com/org/repo"}; }
  const Discovery d = f.discover_with(cache, f.c1);
  CHECK(cache->stats().hits == 0);
  CHECK(cache->stats().misses == 2);
  require_same(discover(f.repo(), f.c1, f.opt), d);
}

TEST_CASE("discovery cache: corrupt, truncated, foreign and oversized entries are ignored", "[unit]") {
  Fixture f;
  const Discovery plain = discover(f.repo(), f.c1, f.opt);
  f.discover_with(f.fresh(), f.c1);
  auto files = f.entries();
  REQUIRE(files.size() == 2);
  const std::string good = slurp(files[0]);

  auto check_ignored = [&](size_t expect_ignored) {
    auto cache = f.fresh();
    const Discovery d = f.discover_with(cache, f.c1);
    CHECK(cache->stats().ignored == expect_ignored);
    CHECK(cache->stats().misses == expect_ignored);
    require_same(plain, d);  // discovered again, right
  };
  SECTION("garbage") {
    core::write_private_file(files[0].string(), "{not json\n");
    check_ignored(1);
  }
  SECTION("truncated") {
    core::write_private_file(files[0].string(), good.substr(0, good.size() - 40));
    check_ignored(1);
  }
  SECTION("truncated after the header") {
    core::write_private_file(files[0].string(), good.substr(0, good.find('\n') + 1));
    check_ignored(1);
  }
  SECTION("a field of the wrong type") {
    std::string bad = good;
    const auto p = bad.find("\"parsed\":");
    REQUIRE(p != std::string::npos);
    bad.replace(p, 9, "\"parsed\":\"x\",\"p\":");
    core::write_private_file(files[0].string(), bad);
    check_ignored(1);
  }
  SECTION("a Secret valuesFrom never comes from disk") {
    std::string bad = good;
    const auto p = bad.find("],[],[");  // the empty valuesFrom list after the chart
    REQUIRE(p != std::string::npos);
    bad.replace(p, 6, "],[[\"Secret\",\"apps\",\"s\",\"k\",\"\",\"d\",false,true]],[");
    core::write_private_file(files[0].string(), bad);
    check_ignored(1);
  }
  SECTION("another key's entry") {
    // The entry of cluster b placed where cluster a's go.
    const std::string other = slurp(files[1]);
    core::write_private_file(files[0].string(), other);
    check_ignored(1);
  }
  SECTION("world-readable") {
    fs::permissions(files[0], fs::perms::others_read, fs::perm_options::add);
    check_ignored(1);
  }
  SECTION("oversized") {
    DiscoveryCache::Bounds b;
    b.max_entry_bytes = 512;
    auto cache = f.fresh(b);
    const Discovery d = f.discover_with(cache, f.c1);
    CHECK(cache->stats().ignored == 2);
    require_same(plain, d);
    CHECK(f.entries().empty());  // removed, and the new results not written (over the bound)
  }
}

TEST_CASE("discovery cache: no Secret value reaches a cache file, such a cluster is not cached", "[unit]") {
  Fixture f;
  const std::string canary = "canary-6f1d2e9b-secret";
  f.t.write("clusters/b/secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: vals\n  namespace: apps\n"
                                      "stringData:\n  values.yaml: |\n    password: " + canary + "\n");
  f.t.replace("clusters/b/r3.yaml", "  values:\n", "  valuesFrom:\n    - kind: Secret\n      name: vals\n  values:\n");
  f.t.write("clusters/a/config.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n  namespace: apps\n"
                                      "data:\n  values.yaml: |\n    colour: not-secret-7781\n");
  f.t.replace("clusters/a/r1.yaml", "  values:\n", "  valuesFrom:\n    - kind: ConfigMap\n      name: plain\n  values:\n");
  const std::string c2 = f.t.commit("secret");
  auto cache = f.fresh();
  const Discovery d = f.discover_with(cache, c2);
  // The canary is really in what discovery found (so the scan below can fail).
  bool seen = false;
  for (const auto& r : d.releases) {
    for (const auto& s : r.sensitive) seen = seen || s.find(canary) != std::string::npos;
  }
  REQUIRE(seen);
  CHECK(cache->stats().uncacheable == 1);
  CHECK(cache->stats().stored == 1);
  const auto files = f.entries();
  REQUIRE(files.size() == 1);
  bool plain_seen = false;
  for (const auto& p : files) {
    const std::string text = slurp(p);
    CHECK(text.find(canary) == std::string::npos);
    plain_seen = plain_seen || text.find("not-secret-7781") != std::string::npos;
    CHECK((fs::status(p).permissions() & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
  }
  CHECK(plain_seen);  // the ConfigMap's value is cached: the scan reads what the entries hold
  // The next process discovers the Secret's cluster again, and finds the same.
  auto later = f.fresh();
  const Discovery d2 = f.discover_with(later, c2);
  CHECK(later->stats().hits == 1);
  CHECK(later->stats().uncacheable == 1);
  require_same(d, d2);
}

TEST_CASE("discovery cache: a typed spec survives the round trip (quoted and plain scalars differ)", "[unit]") {
  Fixture f;
  f.discover_with(f.fresh(), f.c1);
  f.t.replace("clusters/a/r1.yaml", "tag: \"1.10\"", "tag: 1.10");
  const std::string c2 = f.t.commit("typed");
  const Discovery head = f.discover_with(f.fresh(), c2);
  const Discovery base = f.discover_with(f.fresh(), f.c1);  // from disk
  const auto changed = base.releases[0].spec.changed_fields(head.releases[0].spec, 8);
  CHECK(changed == std::vector<std::string>{"spec.values.tag"});
  const auto none = base.releases[1].spec.changed_fields(head.releases[1].spec, 8);
  CHECK(none.empty());
}

TEST_CASE("discovery: clusters taken last to first give the same Discovery (problems in cluster order)", "[unit]") {
  Fixture f;
  f.t.write("clusters/a/bad.yaml", "kind: [unclosed\n");
  f.t.write("clusters/b/bad.yaml", "kind: {unclosed\n");
  f.t.write("clusters/b/also.yaml", "a: b: c\n");
  const std::string c2 = f.t.commit("bad");
  f.opt.clusters.push_back({"c", {"clusters/missing"}, ""});
  const Discovery first_last = discover(f.repo(), c2, f.opt);
  REQUIRE(first_last.problems.size() >= 4);
  f.opt.last_first = true;
  const Discovery last_first = discover(f.repo(), c2, f.opt);
  require_same(first_last, last_first);
  for (size_t i = 0; i < first_last.problems.size(); ++i) {
    CHECK(first_last.problems[i].cluster == last_first.problems[i].cluster);
    CHECK(first_last.problems[i].message == last_first.problems[i].message);
  }
  CHECK(first_last.failed_roots == last_first.failed_roots);
  CHECK(first_last.missing_roots == last_first.missing_roots);
  CHECK(first_last.partial_roots == last_first.partial_roots);
  // With a cache, base and head at once: every cluster is discovered or taken, and the results are right.
  f.opt.last_first = false;
  auto cache = f.fresh();
  auto base = std::async(std::launch::async, [&] { return f.discover_with(cache, f.c1); });
  DiscoverOptions head_opt = f.opt;
  head_opt.discovery_cache = cache;
  head_opt.last_first = true;
  const Discovery head = discover(f.repo(), c2, head_opt);
  const Discovery at_base = base.get();
  CHECK(cache->stats().hits + cache->stats().misses == 6);
  require_same(discover(f.repo(), f.c1, f.opt), at_base);
  require_same(last_first, head);
}
