// The drift verdict against a real API server and real helm releases: a chart installed with helm is in
// sync; fields a controller owns (replicas under the release's HPA) and fields an ignore rule names may
// change; a Deployment's image and a Secret's value changed by hand are drift (the Secret by key name
// only); an undeclared release is extra; an uninstalled one is missing. The scan uses the preview
// identity (read and dry-run only).
#include <filesystem>
#include <fstream>

#include "core/base64.hpp"
#include "engine/drift.hpp"
#include "engine/release_records.hpp"
#include "fleet_env.hpp"
#include "support/helm_record.hpp"

using namespace helmgate;
namespace fleet = test::fleet;
namespace fs = std::filesystem;

namespace {

const engine::ReleaseDrift* find(const engine::ClusterDrift& d, const std::string& name) {
  for (const auto& r : d.releases) {
    if (r.release_name == name) return &r;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("drift: in sync, ignored fields, a hand-edited image and Secret, extra, missing", "[e2e][fleet]") {
  const std::string password = "s3cr3t-pass-1";
  const std::string values_json =
      R"({"image":"registry.invalid/web:1.0","password":")" + password + R"(","replicas":2,"tuning":"fast"})";
  fleet::InstalledShop installed("hg-fleet-drift", values_json, {"stray"});
  const std::string& ns = installed.ns;
  const std::string& values = installed.values;
  const std::string& kChart = fleet::InstalledShop::chart;
  kube::Client& admin = installed.admin;
  // What the deploy branch declares: the render (as engine::render_request + the renderer produce it).
  engine::DesiredRelease& want = installed.want;

  kube::Client preview("staging", fleet::kubeconfig("STAGING", "PREVIEW"));
  diff::Redactor redactor;
  redactor.add_sensitive(password);
  engine::DriftOptions o;
  o.redactor = &redactor;
  o.ignore = {{"ConfigMap", "*-settings", "*", {"/data/tuning"}}};
  auto scan = [&] { return engine::detect_drift(&preview, {want}, engine::read_release_records(preview, {ns}), o); };

  auto fresh = scan();
  INFO(engine::to_json(fresh));
  REQUIRE(fresh.error.empty());
  REQUIRE(fresh.releases.size() == 1);
  CHECK(fresh.releases[0].state == engine::DriftState::in_sync);
  CHECK(fresh.releases[0].resources.empty());
  REQUIRE(fresh.releases[0].record.has_value());
  CHECK(fresh.releases[0].record->revision == 1);

  // The HPA's field and an ignored one change: still in sync.
  const std::string deploy = "/apis/apps/v1/namespaces/" + ns + "/deployments/shop-web";
  fleet::call(admin, "PATCH", deploy + "?fieldManager=kube-controller-manager", R"({"spec":{"replicas":4}})",
              "application/merge-patch+json");
  fleet::call(admin, "PATCH", "/api/v1/namespaces/" + ns + "/configmaps/shop-settings?fieldManager=kubectl-edit",
              R"({"data":{"tuning":"slow"}})", "application/merge-patch+json");
  auto ignored = scan();
  INFO(engine::to_json(ignored));
  REQUIRE(ignored.releases.size() == 1);
  CHECK(ignored.releases[0].state == engine::DriftState::in_sync);

  // Without the rule, the ConfigMap is drift.
  auto strict_opts = o;
  strict_opts.ignore.clear();
  auto strict = engine::detect_drift(&preview, {want}, engine::read_release_records(preview, {ns}), strict_opts);
  REQUIRE(strict.releases.size() == 1);
  CHECK(strict.releases[0].state == engine::DriftState::drifted);
  REQUIRE(strict.releases[0].resources.size() == 1);
  CHECK(strict.releases[0].resources[0].key == "core/ConfigMap/" + ns + "/shop-settings");

  // By hand: a new image, a new Secret value.
  fleet::call(admin, "PATCH", deploy + "?fieldManager=kubectl-edit",
              R"([{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"registry.invalid/web:6.6.6-hotfix"}])",
              "application/json-patch+json");
  const std::string by_hand = "hand-typed-secret-99";
  fleet::call(admin, "PATCH", "/api/v1/namespaces/" + ns + "/secrets/shop-creds?fieldManager=kubectl-edit",
              R"({"data":{"password":")" + test::base64(by_hand) + R"("}})", "application/merge-patch+json");
  auto drifted = scan();
  std::string json = engine::to_json(drifted);
  INFO(json);
  REQUIRE(drifted.releases.size() == 1);
  const auto& d = drifted.releases[0];
  CHECK(d.state == engine::DriftState::drifted);
  REQUIRE(d.resources.size() == 2);
  CHECK(d.resources[0].key == "apps/Deployment/" + ns + "/shop-web");
  CHECK(d.resources[0].change == "changed");
  CHECK(d.resources[0].diff.find("-        image: registry.invalid/web:6.6.6-hotfix") != std::string::npos);
  CHECK(d.resources[0].diff.find("+        image: registry.invalid/web:1.0") != std::string::npos);
  CHECK(d.resources[0].diff.find("replicas") == std::string::npos);  // the HPA's
  CHECK(d.resources[1].key == "core/Secret/" + ns + "/shop-creds");
  CHECK(d.resources[1].diff.find("data.password: changed") != std::string::npos);
  CHECK(d.reasons.back() == "2 live object(s) differ from what Git declares");
  // Neither value of the Secret appears, in clear or encoded.
  for (const auto& secret : {password, by_hand}) {
    CHECK(json.find(secret) == std::string::npos);
    CHECK(json.find(test::base64(secret)) == std::string::npos);
  }

  // A release Git does not declare is extra.
  fleet::helm({"install", "stray", kChart, "--namespace", ns, "--values", values});
  auto extra = scan();
  const auto* stray = find(extra, "stray");
  REQUIRE(stray != nullptr);
  CHECK(stray->state == engine::DriftState::extra);
  CHECK(stray->record->chart_version == "0.1.0");

  // Values changed with helm by hand (not through Git): Helm's record says so.
  fleet::helm({"upgrade", "shop", kChart, "--namespace", ns, "--reuse-values", "--set", "tuning=slow",
               "--force-conflicts"});  // helm 4 applies server-side: the hand edits above conflict
  auto by_helm = scan();
  const auto* upgraded = find(by_helm, "shop");
  REQUIRE(upgraded != nullptr);
  INFO(engine::to_json(by_helm));
  CHECK(upgraded->state == engine::DriftState::drifted);
  REQUIRE(upgraded->record.has_value());
  CHECK(upgraded->record->revision == 2);
  REQUIRE_FALSE(upgraded->reasons.empty());
  CHECK(upgraded->reasons[0].rfind("values: Helm's record (digest ", 0) == 0);

  // Uninstalled by hand: missing.
  fleet::helm({"uninstall", "shop", "--namespace", ns});
  auto gone = scan();
  const auto* shop = find(gone, "shop");
  REQUIRE(shop != nullptr);
  CHECK(shop->state == engine::DriftState::missing);
  CHECK(shop->resources.empty());

}
