// Counts a repository cannot exceed: YAML documents per file, files per discovery, HelmReleases per
// cluster; each refused with a problem that names the file or cluster and the configuration key. And
// the `limits:` / `server.max_connections` configuration keys.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <string>

#include "config/config.hpp"
#include "core/limits.hpp"
#include "release/release.hpp"
#include "support/support.hpp"
#include "support/temp_repo.hpp"

using namespace helmgate;
using test::TempRepo;

namespace {

std::string release_doc(const std::string& name) {
  return "apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata:\n  name: " + name +
         "\n  namespace: default\nspec:\n  chart:\n    git: https://example.invalid/fleet.git\n    path: charts/app\n";
}

struct Limited {
  core::Limits saved = core::limits();
  explicit Limited(const core::Limits& l) { core::set_limits(l); }
  ~Limited() { core::set_limits(saved); }
};

std::string problems(const release::Discovery& d) {
  std::string s;
  for (const auto& p : d.problems) s += p.where.file + ":" + std::to_string(p.where.line) + ": " + p.message + "\n";
  return s;
}

release::Discovery discover(TempRepo& t, const std::string& commit) {
  auto repo = git::Repository::open(t.dir.string());
  REQUIRE(repo.ok());
  release::DiscoverOptions opt;
  opt.work_root = (t.dir.parent_path() / ("hg-bounds-work-" + std::to_string(::getpid()))).string();
  opt.clusters = release::default_clusters(*repo, commit).value();
  return release::discover(*repo, commit, opt);
}

}  // namespace

TEST_CASE("discovery refuses more HelmReleases per cluster, files, or documents per file than the limits",
          "[security]") {
  TempRepo t("bounds-counts");
  t.write("charts/app/Chart.yaml", "apiVersion: v2\nname: app\nversion: 0.1.0\n");
  for (int i = 0; i < 3; ++i) t.write("clusters/big/r" + std::to_string(i) + ".yaml", release_doc("r" + std::to_string(i)));
  t.write("clusters/small/r.yaml", release_doc("only"));
  const std::string c = t.commit("releases");

  {
    auto d = discover(t, c);
    INFO(problems(d));
    CHECK(d.problems.empty());
    CHECK(d.releases.size() == 4);
  }
  SECTION("releases per cluster") {
    core::Limits l = core::limits();
    l.max_releases = 2;
    Limited scope(l);
    auto d = discover(t, c);
    INFO(problems(d));
    CHECK(problems(d).find("cluster big declares 3 HelmReleases, more than 2 (limits.max_releases)") !=
          std::string::npos);
    // The cluster under the limit is discovered; the one over it is marked failed, never half-read.
    REQUIRE(d.releases.size() == 1);
    CHECK(d.releases[0].name == "only");
    CHECK(d.root_failed("big", "clusters/big"));
  }
  SECTION("files per discovery") {
    core::Limits l = core::limits();
    l.max_files = 2;
    Limited scope(l);
    auto d = discover(t, c);
    CHECK(problems(d).find("more than 2 YAML files to read (limits.max_files)") != std::string::npos);
    CHECK(d.releases.size() < 4);
  }
  SECTION("documents per file") {
    std::string many;
    for (int i = 0; i < 4; ++i) many += "---\n" + release_doc("m" + std::to_string(i));
    t.write("clusters/small/many.yaml", many);
    const std::string c2 = t.commit("many documents");
    core::Limits l = core::limits();
    l.yaml.max_documents = 3;
    Limited scope(l);
    auto d = discover(t, c2);
    CHECK(problems(d).find("clusters/small/many.yaml:") != std::string::npos);
    CHECK(problems(d).find("more than 3 YAML documents in one file (limits.yaml_max_documents)") != std::string::npos);
  }
}

TEST_CASE("limits and server.max_connections are configuration keys, checked like every other", "[security]") {
  auto cfg = config::load_string("server:\n  max_connections: 16\nlimits:\n  yaml_max_nodes: 5000\n  max_releases: 10\n");
  CHECK(cfg.server.max_connections == 16);
  CHECK(cfg.limits.yaml.max_nodes == 5000);
  CHECK(cfg.limits.max_releases == 10);
  CHECK(cfg.limits.rendered.max_nodes == core::Limits{}.rendered.max_nodes);  // untouched keys keep defaults
  CHECK(config::load_string("").server.max_connections == 1024);
  auto error_of = [](const std::string& yaml) {
    try {
      config::load_string(yaml, "helmgate.yaml");
    } catch (const config::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(error_of("limits:\n  yaml_max_nodes: 0\n") == "helmgate.yaml:2:19: limits.yaml_max_nodes: must be between 1000 and 1000000000");
  CHECK(error_of("limits:\n  bogus: 1\n").find("limits.bogus: unknown key") != std::string::npos);
  CHECK(error_of("server:\n  max_connections: 0\n").find("server.max_connections: must be between 1") != std::string::npos);
}
