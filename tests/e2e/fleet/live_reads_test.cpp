// Live objects read by list for the drift verdict (engine/drift_reads.hpp) against a real API server: a
// release's objects come from one list per namespace and type (its Secret by GET), and a listed copy is
// never trusted past its dry-run: an object changed, deleted or taken over by someone else after the list
// is read again and reported exactly as the per-object GETs report it.
#include <filesystem>
#include <fstream>

#include "engine/drift.hpp"
#include "engine/drift_reads.hpp"
#include "engine/release_records.hpp"
#include "fleet_env.hpp"

using namespace helmgate;
namespace fleet = test::fleet;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> resource_lines(const engine::ClusterDrift& d) {
  std::vector<std::string> out;
  for (const auto& r : d.releases) {
    for (const auto& x : r.resources) out.push_back(x.key + " " + x.change + "\n" + x.diff);
  }
  return out;
}

}  // namespace

TEST_CASE("drift live reads: listed objects, checked against the dry-run, read again when they changed", "[e2e][fleet]") {
  fleet::InstalledShop installed("hg-fleet-reads", R"({"image":"registry.invalid/web:1.0","password":"reads-pass-7"})");
  const std::string& ns = installed.ns;
  kube::Client& admin = installed.admin;
  engine::DesiredRelease& want = installed.want;

  kube::Client preview("staging", fleet::kubeconfig("STAGING", "PREVIEW"));
  engine::LiveReadOptions ro;
  ro.min_releases = 1;
  engine::LiveReads reads(preview, {{ns, 1}}, ro);
  engine::DriftCounters counters;
  engine::DriftOptions o;
  o.reads = &reads;
  o.counters = &counters;
  auto scan = [&](const engine::DriftOptions& opt) {
    return engine::detect_drift(&preview, {want}, engine::read_release_records(preview, {ns}), opt);
  };

  // In sync: the Deployment, the HPA and the ConfigMap from one list each, the Secret by GET.
  auto clean = scan(o);
  INFO(engine::to_json(clean));
  REQUIRE(clean.releases.size() == 1);
  CHECK(clean.releases[0].state == engine::DriftState::in_sync);
  CHECK(counters.list_hits == 3);
  CHECK(counters.gets == 1);
  CHECK(counters.rereads == 0);
  CHECK(counters.dry_runs == 4);
  CHECK(reads.lists() == 3);

  // After the lists: a new image, the ConfigMap deleted, the HPA now another release's.
  const std::string base = "/apis/apps/v1/namespaces/" + ns + "/deployments/shop-web";
  fleet::call(admin, "PATCH", base + "?fieldManager=kubectl-edit",
              R"([{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"registry.invalid/web:6.6.6"}])",
              "application/json-patch+json");
  fleet::call(admin, "DELETE", "/api/v1/namespaces/" + ns + "/configmaps/shop-settings");
  fleet::call(admin, "PATCH", "/apis/autoscaling/v2/namespaces/" + ns + "/horizontalpodautoscalers/shop-web?fieldManager=kubectl-edit",
              R"({"metadata":{"annotations":{"meta.helm.sh/release-name":"someone-else"}}})", "application/merge-patch+json");
  counters.list_hits = counters.gets = counters.rereads = counters.dry_runs = 0;
  auto later = scan(o);
  INFO(engine::to_json(later));
  REQUIRE(later.releases.size() == 1);
  CHECK(later.releases[0].state == engine::DriftState::drifted);
  // The stale copies were read again (all three), no new list was made.
  CHECK(counters.list_hits == 3);
  CHECK(counters.rereads == 3);
  CHECK(reads.lists() == 3);
  auto lines = resource_lines(later);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].rfind("apps/Deployment/" + ns + "/shop-web changed\n", 0) == 0);
  CHECK(lines[0].find("-        image: registry.invalid/web:6.6.6") != std::string::npos);
  CHECK(lines[1].rfind("autoscaling/HorizontalPodAutoscaler/" + ns + "/shop-web not-owned", 0) == 0);
  CHECK(lines[2].rfind("core/ConfigMap/" + ns + "/shop-settings missing", 0) == 0);

  // The same verdict as a GET per object.
  engine::DriftOptions by_get;
  auto direct = scan(by_get);
  CHECK(resource_lines(direct) == lines);
  CHECK(direct.releases[0].reasons == later.releases[0].reasons);
}
