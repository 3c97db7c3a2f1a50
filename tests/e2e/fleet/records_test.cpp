// Helm's release records read straight from a real API server, after real helm installs, upgrades and
// fails; and a crafted record that inflates past the bound. Needs `eval "$(scripts/testenv env)"` and
// HELMGATE_SHARED_DIR for the podinfo chart.
#include <filesystem>
#include <fstream>

#include "core/redact.hpp"
#include "engine/release_records.hpp"
#include "fleet_env.hpp"
#include "support/helm_record.hpp"

using namespace helmgate;
namespace fleet = test::fleet;
namespace fs = std::filesystem;

namespace {

const kube::HelmRecord* find(const kube::HelmRecords& recs, const std::string& ns, const std::string& name) {
  for (const auto& r : recs.releases) {
    if (r.namespace_ == ns && r.name == name) return &r;
  }
  return nullptr;
}

std::string values_file(const fs::path& dir, const std::string& name, const std::string& json) {
  fs::create_directories(dir);
  std::ofstream(dir / name) << json;
  return (dir / name).string();
}

}  // namespace

TEST_CASE("helm's records: install, upgrade, failed install, a gzip bomb", "[e2e][fleet]") {
  const std::string ns = fleet::unique("hg-fleet-rec");
  const fs::path dir = fs::temp_directory_path() / ns;
  kube::Client admin("staging", fleet::kubeconfig("STAGING"));
  // The values as helmgate hands them to helm: canonical typed JSON (release::Release::values_json).
  const std::string v1 = R"({"replicaCount":2,"ui":{"color":"#34577c","message":"hello \u003cfleet\u003e"}})";
  const std::string v2 = R"({"replicaCount":3,"ui":{"color":"#34577c","message":"hello again"}})";
  fleet::Cleanup cleanup{[&] {
    for (const char* r : {"web", "broken"}) (void)fleet::helm_run({"uninstall", r, "--namespace", ns});
    (void)admin.request("DELETE", "/api/v1/namespaces/" + ns + "/secrets/sh.helm.release.v1.bomb.v1");
    fleet::delete_namespace(admin, ns);
    fs::remove_all(dir);
  }};
  fleet::helm({"install", "web", fleet::podinfo_chart(), "--namespace", ns, "--create-namespace", "--values",
               values_file(dir, "v1.json", v1)});

  auto recs = engine::read_release_records(admin, {ns});
  REQUIRE(recs.ok());
  const auto* web = find(*recs, ns, "web");
  REQUIRE(web != nullptr);
  CHECK(web->revision == 1);
  CHECK(web->status == "deployed");
  CHECK(web->chart_name == "podinfo");
  CHECK(web->chart_version == "6.14.1");
  CHECK(web->app_version == "6.14.1");
  CHECK(web->values_digest == engine::values_digest(v1));
  CHECK(web->secret == "sh.helm.release.v1.web.v1");
  CHECK(web->apply_method == "ssa");  // helm 4 installs server-side
  CHECK_FALSE(web->last_deployed.empty());
  CHECK(web->error.empty());

  fleet::helm({"upgrade", "web", fleet::podinfo_chart(), "--namespace", ns, "--values", values_file(dir, "v2.json", v2)});
  recs = engine::read_release_records(admin, {ns});
  REQUIRE(recs.ok());
  web = find(*recs, ns, "web");
  REQUIRE(web != nullptr);
  CHECK(web->revision == 2);
  CHECK(web->status == "deployed");
  CHECK(web->revisions_kept == 2);
  CHECK(web->apply_method == "ssa");  // "auto": as the revision before
  CHECK(web->values_digest == engine::values_digest(v2));
  CHECK(web->values_digest != engine::values_digest(v1));

  // A failed install: --wait cannot succeed on clusters without controllers, so helm marks it failed.
  auto failed_run = fleet::helm_run({"install", "broken", fleet::podinfo_chart(), "--namespace", ns, "--wait", "--timeout", "3s"});
  CHECK(failed_run.exit_code != 0);

  // A crafted record: 64 MiB of zeros gzipped into a few KiB.
  std::string bomb = test::helm_secret_data(std::string(1 << 20, '\0'), 64);
  fleet::call(admin, "POST", "/api/v1/namespaces/" + ns + "/secrets",
              R"({"apiVersion":"v1","kind":"Secret","type":"helm.sh/release.v1","metadata":{"name":"sh.helm.release.v1.bomb.v1",)"
              R"("labels":{"owner":"helm","name":"bomb","version":"1","status":"deployed"}},"data":{"release":")" + bomb + R"("}})");

  auto t0 = std::chrono::steady_clock::now();
  recs = engine::read_release_records(admin, {ns});
  auto took = std::chrono::steady_clock::now() - t0;
  REQUIRE(recs.ok());
  CHECK(took < std::chrono::seconds(5));
  const auto* broken = find(*recs, ns, "broken");
  REQUIRE(broken != nullptr);
  CHECK(broken->revision == 1);
  CHECK(broken->status == "failed");
  const auto* b = find(*recs, ns, "bomb");
  REQUIRE(b != nullptr);
  CHECK(b->status == "deployed");  // from the Secret's labels: the record itself was not read
  CHECK(b->error.find("Secret " + ns + "/sh.helm.release.v1.bomb.v1") != std::string::npos);
  CHECK(b->error.find("inflates to more than 32 MiB") != std::string::npos);
  REQUIRE(recs->errors.size() == 1);
  CHECK(recs->errors[0].secret == "sh.helm.release.v1.bomb.v1");
  // The others are read all the same, and no value leaves the records.
  web = find(*recs, ns, "web");
  REQUIRE(web != nullptr);
  CHECK(web->revision == 2);
  std::string json = kube::to_json(*recs);
  CHECK(json.find("hello again") == std::string::npos);
  CHECK(json.find("#34577c") == std::string::npos);

  // Every namespace at once (one paginated list) finds the same records.
  kube::RecordOptions all;
  all.page_size = 2;  // several pages on a shared cluster
  all.values_digest = [](const core::json::Value* c) { return engine::values_digest(c); };
  auto everywhere = kube::read_helm_records(admin, all);
  REQUIRE(everywhere.ok());
  const auto* again = find(*everywhere, ns, "web");
  REQUIRE(again != nullptr);
  CHECK(again->values_digest == web->values_digest);

  fleet::helm({"uninstall", "web", "--namespace", ns});
  fleet::helm({"uninstall", "broken", "--namespace", ns});
  (void)admin.request("DELETE", "/api/v1/namespaces/" + ns + "/secrets/sh.helm.release.v1.bomb.v1");
  recs = engine::read_release_records(admin, {ns});
  REQUIRE(recs.ok());
  CHECK(recs->releases.empty());
}
