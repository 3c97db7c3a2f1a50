// engine/change.hpp: the revisions and clusters of a change, what it touches, discovery once per commit,
// tenant repositories once per job; engine::add_affected_secrets and engine::repository_url.
#include "engine/redaction.hpp"
#include "engine_support.hpp"

using namespace helmgate;
using test::TempRepo;

namespace {

struct Fleet {
  TempRepo t{"engine-change"};
  std::string base, head;
  Fleet() {
    t.write("clusters/dev/a.yaml", test::flux_release("a", "{count: 1}"));
    t.write("clusters/dev/b.yaml", test::flux_release("b", "{count: 1}"));
    t.write("clusters/prod/a.yaml", test::flux_release("a", "{count: 1}"));
    base = t.commit("base");
    t.git({"checkout", "-q", "-b", "feature"});
    t.write("clusters/dev/a.yaml", test::flux_release("a", "{count: 2, password: hunter2-secret}"));
    t.write("clusters/prod/a.yaml", test::flux_release("a", "{count: 3}"));
    head = t.commit("head");
  }
};

}  // namespace

TEST_CASE("default_base is where head left the deploy branch, select_clusters keeps the ones asked for", "[unit]") {
  Fleet f;
  auto repo = git::Repository::open(f.t.dir.string());
  REQUIRE(repo.ok());
  auto b = engine::default_base(*repo, f.head, nullptr);
  REQUIRE(b.ok());
  CHECK(*b == f.base);
  config::Repo cfg;
  cfg.deploy_branch = "no-such-branch";
  CHECK(engine::default_base(*repo, f.head, &cfg).ok());  // falls back to main

  auto all = engine::select_clusters(*repo, f.head, nullptr, {});
  REQUIRE(all.ok());
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].name == "dev");
  auto one = engine::select_clusters(*repo, f.head, nullptr, {"prod"});
  REQUIRE(one.ok());
  REQUIRE(one->size() == 1);
  CHECK(one->front().name == "prod");
  auto none = engine::select_clusters(*repo, f.head, nullptr, {"staging"});
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message == "no cluster named staging (known: dev, prod)");
  config::Repo configured;
  configured.clusters.push_back({});
  configured.clusters.back().name = "only-this";
  configured.clusters.back().paths = {"clusters/dev"};
  auto conf = engine::select_clusters(*repo, f.head, &configured, {});
  REQUIRE(conf.ok());
  REQUIRE(conf->size() == 1);
  CHECK(conf->front().name == "only-this");
}

TEST_CASE("discover_change and affected_releases: what a change touches, per cluster, from a first push", "[unit]") {
  Fleet f;
  test::WorkspaceDir w("change");
  auto repo = git::Repository::open(f.t.dir.string());
  REQUIRE(repo.ok());
  const auto opt = test::discover_options(*w.ws, *repo, f.head);
  auto change = engine::discover_change(*repo, f.base, f.head, opt);
  REQUIRE(change.ok());
  CHECK(change->changed == std::vector<std::string>{"clusters/dev/a.yaml", "clusters/prod/a.yaml"});
  REQUIRE(change->affected.size() == 2);
  CHECK(change->at_head.releases.size() == 3);
  engine::Change moved = std::move(*change);  // affected still points into the moved discoveries
  for (const auto& a : moved.affected) {
    REQUIRE(a.head != nullptr);
    CHECK(a.head->id() == a.id);
  }

  engine::Discoveries found(*repo, opt);
  const auto& at_head = found.at(f.head);
  CHECK(&found.at(f.head) == &at_head);  // discovered once
  CHECK(found.at("0000000000000000000000000000000000000000").releases.empty());
  auto dev = engine::affected_releases(*repo, f.base, f.head, found.at(f.base), at_head, "dev");
  REQUIRE(dev.ok());
  REQUIRE(dev->size() == 1);
  CHECK(dev->front().id == "dev/apps/a");
  // A first push (no base): every release of head is touched.
  auto first = engine::affected_releases(*repo, std::string(40, '0'), f.head, found.at(std::string(40, '0')), at_head);
  REQUIRE(first.ok());
  CHECK(first->size() == 3);
  CHECK(engine::zero_commit(""));
  CHECK_FALSE(engine::zero_commit(f.head));

  // The redactor of the change: values at sensitive paths of both sides.
  diff::Redactor r;
  engine::add_affected_secrets(r, *dev, {"password"});
  CHECK(r.scrub("pw=hunter2-secret").find("hunter2-secret") == std::string::npos);
}

TEST_CASE("tenant repositories pass the egress policy and are opened once per job", "[unit]") {
  test::WorkspaceDir w("tenants");
  engine::TenantRepos tenants(*w.ws->mirrors, core::EgressPolicy{});
  auto local = tenants.open("file:///etc");
  REQUIRE_FALSE(local.ok());
  CHECK(local.error().code == core::errc::forbidden);
  auto again = tenants.open("file:///etc");
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().message == local.error().message);
}

TEST_CASE("repository_url: the configured URL with its credentials wins over the event's", "[unit]") {
  CHECK(engine::repository_url(nullptr, "https://git.example.com/a.git") == "https://git.example.com/a.git");
  config::Repo cfg;
  CHECK(engine::repository_url(&cfg, "https://git.example.com/a.git") == "https://git.example.com/a.git");
  cfg.url = "https://git.example.com/configured.git";
  CHECK(engine::repository_url(&cfg, "https://git.example.com/a.git") == config::fetch_url(cfg));
}
