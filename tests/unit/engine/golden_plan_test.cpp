// engine::plan_release, golden: desired (a change rendered at head) against observed (helm's list, the
// digests helmgate recorded) -> the decision per release, for install, upgrade (chart, values, digest),
// no-op, uninstall (prune on and off), a failed previous release, a pending one and an adopted one.
#include "engine/plan.hpp"
#include "engine_support.hpp"

using namespace helmgate;
using test::TempRepo;

namespace {

void write_chart(TempRepo& t, const std::string& name, const std::string& version, const std::string& extra = "") {
  t.write("charts/" + name + "/Chart.yaml", "apiVersion: v2\nname: " + name + "\nversion: " + version + "\n");
  t.write("charts/" + name + "/templates/cm.yaml",
          "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: \"{{ .Release.Name }}\"}\ndata:\n  n: \"{{ .Values.count }}\"\n" + extra);
}

std::string describe(const engine::PlannedRelease& p, const std::string& applied, const std::string& trees) {
  std::string out = p.id + "\n";
  out += "  present: " + std::string(p.present ? "true" : "false") + "\n";
  out += "  action: " + std::string(apply::to_string(p.decision.action)) + "\n";
  if (!p.decision.reason.empty()) out += "  reason: " + p.decision.reason + "\n";
  if (!p.failure.empty()) out += "  failure: " + p.failure + "\n";
  if (!p.present) return out;
  std::string args;
  for (const auto& a : p.spec.chart_args) args += (args.empty() ? "" : " ") + test::replace_all(a, trees, "<trees>");
  out += "  chart_args: " + args + "\n";
  out += "  values: " + p.spec.values_json + "\n";
  if (p.spec.create_namespace) out += "  create_namespace: true\n";
  if (p.spec.skip_schema_validation) out += "  skip_schema_validation: true\n";
  out += "  digest: " + std::string(p.spec.digest.empty() ? "none" : applied.empty() ? "new" : p.spec.digest == applied ? "as applied" : "differs from the applied one") + "\n";
  return out;
}

}  // namespace

TEST_CASE("plans of a change against what the cluster has", "[unit][golden]") {
  TempRepo t("golden-plan");
  write_chart(t, "demo", "0.1.0");
  t.write("clusters/dev/flux-system.yaml", test::kSelfRepository);
  for (const char* n : {"keep", "chart-change", "values-change", "digest-drift", "failed-prev", "pending", "adopted"}) {
    t.write(std::string("clusters/dev/") + n + ".yaml", test::flux_release(n, "{count: 1}", "demo"));
  }
  t.write("clusters/dev/gone.yaml", test::flux_release("gone", "{count: 1}", "demo"));
  const std::string base = t.commit("base");
  // The change: every release's values change (so each is affected); the chart does not read `touched`.
  for (const char* n : {"keep", "digest-drift", "failed-prev", "pending", "adopted"}) {
    t.write(std::string("clusters/dev/") + n + ".yaml", test::flux_release(n, "{count: 1, touched: true}", "demo"));
  }
  write_chart(t, "demo2", "0.2.0", "  extra: \"yes\"\n");
  t.write("clusters/dev/chart-change.yaml", test::flux_release("chart-change", "{count: 1}", "demo2"));
  t.write("clusters/dev/values-change.yaml", test::flux_release("values-change", "{count: 2}", "demo"));
  t.write("clusters/dev/new.yaml", test::flux_release("new", "{count: 1}", "demo"));
  std::filesystem::remove(t.dir / "clusters/dev/gone.yaml");
  const std::string head = t.commit("head");

  test::WorkspaceDir w("golden-plan");
  auto repo = git::Repository::open(t.dir.string());
  REQUIRE(repo.ok());
  engine::Discoveries found(*repo, test::discover_options(*w.ws, *repo, head));
  auto aff = engine::affected_releases(*repo, base, head, found.at(base), found.at(head), "dev");
  REQUIRE(aff.ok());
  REQUIRE(aff->size() == 9);
  engine::ChartSources at_base{&*repo, base, w.ws->mirrors.get(), w.ws->trees_dir(), test::open_egress()};
  engine::ChartSources at_head = at_base;
  at_head.commit = head;

  // What helmgate recorded: the digest of base's render, or (keep, failed-prev, pending) of head's, as if
  // a job had applied head already.
  engine::Observed observed;
  for (const auto& a : *aff) {
    if (a.base == nullptr) continue;
    const std::string n = a.base->release_name;
    const bool as_head = n == "keep" || n == "failed-prev" || n == "pending";
    release::Affected as_applied;
    as_applied.id = a.id;
    as_applied.head = as_head ? a.head : a.base;
    auto p = engine::plan_release(as_applied, {}, as_head ? at_head : at_base, *w.ws->renderer, as_head ? head : base);
    REQUIRE(p.failure.empty());
    observed.digests[a.id] = p.spec.digest;
    observed.helm["apps/" + n] = {n, "apps", "deployed", 1, {}};
  }
  observed.digests["dev/apps/digest-drift"] = "sha256:recorded-by-an-apply-of-another-commit";
  observed.helm["apps/failed-prev"].status = "failed";
  observed.helm["apps/pending"].status = "pending-upgrade";
  observed.digests.erase("dev/apps/adopted");  // installed by hand, never applied by helmgate

  std::string out;
  for (bool prune : {true, false}) {
    observed.prune = prune;
    out += std::string("== prune: ") + (prune ? "on" : "off") + "\n";
    std::vector<const release::Affected*> sorted;
    for (const auto& a : *aff) sorted.push_back(&a);
    std::sort(sorted.begin(), sorted.end(), [](auto* x, auto* y) { return x->id < y->id; });
    for (const auto* a : sorted) {
      if (!prune && a->head != nullptr) continue;  // prune changes only what is removed
      auto p = engine::plan_release(*a, observed, at_head, *w.ws->renderer, head);
      auto it = observed.digests.find(a->id);
      out += describe(p, it == observed.digests.end() ? std::string() : it->second, w.ws->trees_dir());
    }
  }
  test::check_golden("plan-decisions.txt", out);

  // The records' apply method reaches the plan: helm's own OpenAPI check is left out of a first install
  // and of an upgrade of a release helm 4 last applied server-side, kept where the record says nothing.
  const bool helm4 = w.ws->renderer->helm_version().rfind("v4.", 0) == 0;
  REQUIRE(helm4);  // the test environment's helm
  size_t installs = 0, upgrades = 0;
  for (const char* method : {"", "csa", "ssa"}) {
    for (auto& [key, rel] : observed.helm) rel.apply_method = method;
    for (const auto& a : *aff) {
      auto p = engine::plan_release(a, observed, at_head, *w.ws->renderer, head);
      INFO(a.id << " with apply method '" << method << "'");
      if (p.decision.action == apply::Action::install) {
        ++installs;
        CHECK(p.spec.disable_openapi_validation);
      } else if (p.decision.action == apply::Action::upgrade) {
        ++upgrades;
        CHECK(p.spec.disable_openapi_validation == (std::string(method) == "ssa"));
      } else {
        CHECK_FALSE(p.spec.disable_openapi_validation);
      }
    }
  }
  CHECK(installs > 0);
  CHECK(upgrades > 0);

  // Flux's spec.install/upgrade.disableOpenAPIValidation: left out of the action it names, client-side too.
  for (auto& [key, rel] : observed.helm) rel.apply_method = "csa";
  size_t asked = 0;
  for (const auto& a : *aff) {
    if (a.head == nullptr) continue;
    for (bool on_install : {false, true}) {
      release::Release flagged = *a.head;
      (on_install ? flagged.install_checks : flagged.upgrade_checks).skip_openapi_validation = true;
      release::Affected with_flag = a;
      with_flag.head = &flagged;
      auto p = engine::plan_release(with_flag, observed, at_head, *w.ws->renderer, head);
      INFO(a.id << (on_install ? " asking on install" : " asking on upgrade"));
      if (p.decision.action == apply::Action::upgrade) {
        ++asked;
        CHECK(p.spec.disable_openapi_validation == !on_install);
      } else if (p.decision.action == apply::Action::install) {
        ++asked;
        CHECK(p.spec.disable_openapi_validation);  // helm 4's first install: server-side anyway
      }
    }
  }
  CHECK(asked > 0);
}
