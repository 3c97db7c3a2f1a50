// The desired side of the drift verdict from a discovered release, its render request and its render.
#include <catch2/catch.hpp>
#include <functional>
#include <vector>

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

TEST_CASE("render share key: the same inputs on two clusters are one render, any other input is another", "[unit][fleet]") {
  render::RenderRequest a;
  a.chart.origin = render::ChartOrigin::local_dir;
  a.chart.dir = "/cache/work/trees/0123abcd";
  a.chart.content_id = "0123abcd";
  a.chart.shown = "charts/web (this repository)";
  a.release_name = "web";
  a.namespace_ = "team-a";
  a.values_json = R"({"image":"web:1.0"})";
  a.kube_version = "1.35.8";
  render::RenderRequest b = a;
  b.chart.shown = "charts/web at another path";  // only how errors name it
  CHECK(engine::render_share_key(a) == engine::render_share_key(b));
  std::vector<std::function<void(render::RenderRequest&)>> changes = {
      [](auto& r) { r.chart.content_id = "4567ef01"; },
      [](auto& r) { r.release_name = "web2"; },
      [](auto& r) { r.namespace_ = "team-b"; },
      [](auto& r) { r.values_json = R"({"image":"web:1.1"})"; },
      [](auto& r) { r.kube_version = "1.34.0"; },
      [](auto& r) { r.post_render_kustomization = "images: [{name: web, newTag: '2'}]"; },
      [](auto& r) { r.skip_schema_validation = true; },
      [](auto& r) { r.chart.origin = render::ChartOrigin::oci; },
      [](auto& r) { r.chart.version = "1.0.0"; },
      [](auto& r) { r.chart.digest = "sha256:00"; },
      [](auto& r) { r.chart.url = "oci://registry.example/web"; },
      [](auto& r) { r.chart.chart = "web"; },
      // Two fields whose texts concatenate alike are still two keys.
      [](auto& r) { r.release_name = "we"; r.namespace_ = "bteam-a"; },
  };
  for (size_t i = 0; i < changes.size(); ++i) {
    render::RenderRequest c = a;
    changes[i](c);
    INFO("change " << i);
    CHECK(engine::render_share_key(c) != engine::render_share_key(a));
  }
  // A directory without a content id is keyed by its path.
  render::RenderRequest d1 = a, d2 = a;
  d1.chart.content_id.clear();
  d2.chart.content_id.clear();
  d2.chart.dir = "/elsewhere/web";
  CHECK(engine::render_share_key(d1) != engine::render_share_key(d2));
}
