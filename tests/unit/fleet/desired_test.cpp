// The desired side of the drift verdict from a discovered release, its render request and its render.
#include <catch2/catch.hpp>

#include "core/redact.hpp"
#include "engine/drift_desired.hpp"
#include "support/support.hpp"

using namespace helmgate;

TEST_CASE("chart identity: Chart.yaml of a directory, exact versions only", "[unit][fleet]") {
  render::ChartSource dir;
  dir.origin = render::ChartOrigin::local_dir;
  dir.dir = test::source_dir() + "/tests/e2e/fleet/charts/drift-demo";
  auto id = engine::chart_identity(dir);
  CHECK(id.name == "drift-demo");
  CHECK(id.version == "0.1.0");

  render::ChartSource repo;
  repo.origin = render::ChartOrigin::helm_repository;
  repo.chart = "podinfo";
  for (const auto& [given, exact] : std::vector<std::pair<std::string, std::string>>{
           {"6.14.1", "6.14.1"}, {"v1.2.3-rc.1+b7", "v1.2.3-rc.1+b7"}, {"^6.0.0", ""}, {">=1.0 <2.0", ""}, {"6.x", ""},
           {"*", ""}, {"", ""}}) {
    repo.version = given;
    CHECK(engine::chart_identity(repo).version == exact);
  }
  CHECK(engine::chart_identity(repo).name == "podinfo");

  render::ChartSource oci;
  oci.origin = render::ChartOrigin::oci;
  oci.url = "oci://ghcr.io/stefanprodan/charts/podinfo";
  oci.version = "6.14.1";
  CHECK(engine::chart_identity(oci).name == "podinfo");
  CHECK(engine::chart_identity(oci).version == "6.14.1");
  oci.digest = "sha256:abc";  // pulled by digest: the tag says nothing for sure
  CHECK(engine::chart_identity(oci).version.empty());
}

TEST_CASE("a desired release: names, chart, values digest, or the error that makes it unknown", "[unit][fleet]") {
  release::Release r;
  r.cluster = "staging";
  r.namespace_ = "flux-system";
  r.name = "shop";
  r.release_name = "team-a-shop";
  r.target_namespace = "team-a";
  r.values_json = R"({"replicas":2})";
  render::RenderRequest req;
  req.chart.origin = render::ChartOrigin::local_dir;
  req.chart.dir = test::source_dir() + "/tests/e2e/fleet/charts/drift-demo";
  render::RenderResult res;
  res.manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n";
  auto d = engine::desired_release(r, req, res);
  CHECK(d.id == "staging/flux-system/shop");
  CHECK(d.release_name == "team-a-shop");
  CHECK(d.namespace_ == "team-a");  // where apply installs it, so where Helm's record is
  CHECK(d.chart_name == "drift-demo");
  CHECK(d.chart_version == "0.1.0");
  CHECK(d.values_digest == core::sha256_hex(R"({"replicas":2})"));
  CHECK(d.manifest == res.manifest);
  CHECK(d.render_error.empty());

  core::Result<render::RenderResult> failed = core::Error(core::errc::bad_request, "helm template: chart not found");
  auto u = engine::desired_release(r, req, failed);
  CHECK(u.render_error == "helm template: chart not found");
  CHECK(engine::classify_record(u, std::nullopt).state == engine::DriftState::unknown);
}
