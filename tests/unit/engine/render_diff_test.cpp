// engine::render_diff (both sides of a change rendered, diffed, redacted; head renders kept),
// engine::skips_schema_validation, and the preview's validation of one cluster (engine/cluster_validation).
#include "engine/cluster_validation.hpp"
#include "engine/render_diff.hpp"
#include "engine_support.hpp"

using namespace helmgate;
using test::TempRepo;

namespace {

struct Rendered {
  TempRepo t{"engine-render-diff"};
  test::WorkspaceDir w{"render-diff"};
  std::optional<git::Repository> repo;
  std::optional<engine::Change> change;
  Rendered() {
    t.write("charts/demo/Chart.yaml", "apiVersion: v2\nname: demo\nversion: 0.1.0\n");
    t.write("charts/demo/templates/all.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: \"{{ .Release.Name }}\"}\ndata: {n: \"{{ .Values.count }}\"}\n---\n"
            "apiVersion: v1\nkind: Secret\nmetadata: {name: \"{{ .Release.Name }}-s\"}\nstringData: {token: \"{{ .Values.token }}\"}\n");
    t.write("clusters/dev/flux-system.yaml", test::kSelfRepository);
    t.write("clusters/dev/changed.yaml", test::flux_release("changed", "{count: 1, token: base-token-value-1}", "demo"));
    t.write("clusters/dev/removed.yaml", test::flux_release("removed", "{count: 1, token: x}", "demo"));
    const std::string base = t.commit("base");
    t.write("clusters/dev/changed.yaml", test::flux_release("changed", "{count: 2, token: head-token-value-2}", "demo"));
    t.write("clusters/dev/added.yaml", test::flux_release("added", "{count: 1, token: y}", "demo"));
    std::filesystem::remove(t.dir / "clusters/dev/removed.yaml");
    const std::string head = t.commit("head");
    auto r = git::Repository::open(t.dir.string());
    REQUIRE(r.ok());
    repo.emplace(std::move(*r));
    auto c = engine::discover_change(*repo, base, head, test::discover_options(*w.ws, *repo, head));
    REQUIRE(c.ok());
    change.emplace(std::move(*c));
  }
  engine::RenderDiffInput input(bool helm = true) {
    engine::ChartSources b{&*repo, change->base, w.ws->mirrors.get(), w.ws->trees_dir(), test::open_egress()};
    engine::ChartSources h = b;
    h.commit = change->head;
    return {*change, b, h, helm};
  }
};

const diff::ReleaseReport* report_of(const engine::RenderedChange& rc, const std::string& name) {
  for (const auto& r : rc.releases) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("render_diff renders both sides, diffs them, scrubs rendered Secrets and keeps the head renders", "[unit]") {
  Rendered f;
  diff::Redactor redactor;
  auto rc = engine::render_diff(f.input(), *f.w.ws->renderer, redactor);
  REQUIRE(rc.ok());
  REQUIRE(rc->releases.size() == 3);
  const auto* changed = report_of(*rc, "changed");
  const auto* added = report_of(*rc, "added");
  const auto* removed = report_of(*rc, "removed");
  REQUIRE(changed != nullptr);
  REQUIRE(added != nullptr);
  REQUIRE(removed != nullptr);
  CHECK(changed->status == diff::ReleaseStatus::changed);
  CHECK(added->status == diff::ReleaseStatus::added);
  CHECK(removed->status == diff::ReleaseStatus::removed);
  CHECK(changed->errors.empty());
  CHECK_FALSE(changed->resources.empty());
  // The rendered Secret values (8 characters and more) joined the redactor.
  CHECK(redactor.scrub("head-token-value-2").find("head-token-value-2") == std::string::npos);
  CHECK(redactor.scrub("base-token-value-1").find("base-token-value-1") == std::string::npos);
  // Head renders of what rendered at head, unredacted, marked declared at base or not.
  REQUIRE(rc->head.size() == 2);
  for (const auto& h : rc->head) {
    CHECK(h.cluster == "dev");
    CHECK(h.manifest.find("kind: ConfigMap") != std::string::npos);
    CHECK(h.declared_at_base == (h.release_name == "changed"));
  }
  // releases_of_cluster hands them to validation.
  CHECK(engine::releases_of_cluster(rc->head, "dev").size() == 2);
  CHECK(engine::releases_of_cluster(rc->head, "prod").empty());
}

TEST_CASE("discover_commit reads a commit whole: every release rendered at head, declared on the deploy branch", "[unit]") {
  Rendered f;
  auto whole = engine::discover_commit(*f.repo, f.change->head, test::discover_options(*f.w.ws, *f.repo, f.change->head));
  REQUIRE(whole.ok());
  CHECK(whole->base == f.change->head);
  REQUIRE(whole->affected.size() == 2);  // changed and added; removed is not at head
  engine::ChartSources src{&*f.repo, whole->head, f.w.ws->mirrors.get(), f.w.ws->trees_dir(), test::open_egress()};
  diff::Redactor redactor;
  auto rc = engine::render_diff({*whole, src, src, true}, *f.w.ws->renderer, redactor);
  REQUIRE(rc.ok());
  REQUIRE(rc->head.size() == 2);
  for (const auto& h : rc->head) CHECK(h.declared_at_base);
  CHECK(redactor.scrub("head-token-value-2").find("head-token-value-2") == std::string::npos);
}

TEST_CASE("render_diff without helm is an error when something is to be rendered", "[unit]") {
  Rendered f;
  diff::Redactor redactor;
  auto rc = engine::render_diff(f.input(false), *f.w.ws->renderer, redactor);
  REQUIRE_FALSE(rc.ok());
  CHECK(rc.error().message.find("helm not found") != std::string::npos);
}

TEST_CASE("skips_schema_validation follows the action Flux would take", "[unit]") {
  release::Release r;
  r.install_checks.skip_schema_validation = true;
  CHECK(engine::skips_schema_validation(r, true, false));   // head, new: install
  CHECK_FALSE(engine::skips_schema_validation(r, true, true));  // head, existed: upgrade
  CHECK(engine::skips_schema_validation(r, false, true));   // base: either
  r.install_checks.skip_schema_validation = false;
  r.upgrade_checks.skip_schema_validation = true;
  CHECK(engine::skips_schema_validation(r, true, true));
  CHECK(engine::skips_schema_validation(r, false, false));
}

TEST_CASE("validate_on_cluster: offline without a preview credential, never the deploy one", "[unit]") {
  config::Cluster c;
  c.name = "dev";
  CHECK_FALSE(engine::validates(c));
  c.kubeconfig = "/nonexistent/deploy.kubeconfig";  // the deploy credential: never read by a preview
  CHECK(engine::validates(c));
  std::vector<engine::RenderedRelease> releases = {
      {"dev/apps/a", "a", "apps", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n", false, true}};
  diff::Redactor redactor;
  auto v = engine::validate_on_cluster(c, releases, redactor, std::chrono::milliseconds(1000));
  REQUIRE(v.ok());
  CHECK(v->offline_note.find("no preview credential") != std::string::npos);
  CHECK(v->live_diffs.empty());
  // A preview credential whose variable is unset: an error naming it, not a silent offline run.
  c.preview_kubeconfig_env = "HELMGATE_TEST_UNSET_PREVIEW_KUBECONFIG";
  ::unsetenv("HELMGATE_TEST_UNSET_PREVIEW_KUBECONFIG");
  auto e = engine::validate_on_cluster(c, releases, redactor, std::chrono::milliseconds(1000));
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().message.find("HELMGATE_TEST_UNSET_PREVIEW_KUBECONFIG") != std::string::npos);
}
