// helm template through the engine equals a direct run; cache; untrusted chart files; unreachable repos.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "process/process.hpp"
#include "render/renderer.hpp"
#include "support/support.hpp"

namespace fs = std::filesystem;
using namespace helmgate;

namespace {

render::Options options(const std::string& work) {
  render::Options o;
  o.helm = test::require_env("HELMGATE_HELM");
  o.kubectl = test::require_env("HELMGATE_KUBECTL");
  o.work_dir = work;
  o.cache_dir = work + "/cache";
  return o;
}

std::string work_dir(const char* name) {
  auto p = fs::temp_directory_path() / (std::string("hg-render-") + name + "-" + std::to_string(::getpid()));
  fs::remove_all(p);
  return p.string();
}

}  // namespace

TEST_CASE("every corpus chart renders like a direct helm template run", "[unit]") {
  std::string work = work_dir("corpus");
  render::Renderer r(options(work));
  for (const char* chart : {"charts/podinfo-6.14.1", "charts/ingress-nginx-4.15.1"}) {
    std::string dir = test::corpus(chart);
    render::RenderRequest req;
    req.chart.dir = dir;
    req.chart.shown = chart;
    req.release_name = "rel";
    req.namespace_ = "ns";
    req.values_json = "{}\n";
    auto got = r.render(req);
    INFO(chart << ": " << (got.ok() ? "" : got.error().message));
    REQUIRE(got.ok());
    CHECK_FALSE(got->cache_hit);

    fs::path values = fs::path(work) / "direct-values.yaml";
    std::ofstream(values) << "{}\n";
    process::ProcessOptions po;
    po.env = {"HOME=" + work + "/home", "PATH=/usr/bin:/bin"};
    auto direct = process::run_process({options(work).helm, "template", "rel", dir, "--namespace", "ns", "--kube-version",
                                       "1.33.0", "--include-crds", "--skip-tests", "--values", values.string()},
                                      po);
    REQUIRE(direct.ok());
    REQUIRE(direct->exit_code == 0);
    CHECK(got->manifest == direct->out);

    auto again = r.render(req);
    REQUIRE(again.ok());
    CHECK(again->cache_hit);
    CHECK(again->manifest == got->manifest);
  }
  // A second renderer on the same cache directory hits the disk cache.
  render::Renderer r2(options(work));
  render::RenderRequest req;
  req.chart.dir = test::corpus("charts/podinfo-6.14.1");
  req.release_name = "rel";
  req.namespace_ = "ns";
  req.values_json = "{}\n";
  auto hit = r2.render(req);
  REQUIRE(hit.ok());
  CHECK(hit->cache_hit);
  CHECK(r2.stats().renders == 0);
  fs::remove_all(work);
}

TEST_CASE("a chart with a symlink or an escaping dependency is refused", "[unit]") {
  std::string work = work_dir("untrusted");
  fs::path chart = fs::path(work) / "chart";
  fs::create_directories(work);
  fs::copy(test::corpus("charts/podinfo-6.14.1"), chart, fs::copy_options::recursive);
  fs::create_symlink("/etc/passwd", chart / "templates" / "passwd.yaml");
  render::Renderer r(options(work));
  render::RenderRequest req;
  req.chart.dir = chart.string();
  req.chart.shown = "charts/evil";
  req.release_name = "rel";
  req.namespace_ = "ns";
  auto res = r.render(req);
  REQUIRE_FALSE(res.ok());
  CHECK(res.error().message.find("refusing symlink templates/passwd.yaml") != std::string::npos);

  fs::remove(chart / "templates" / "passwd.yaml");
  std::ofstream(chart / "Chart.yaml", std::ios::app)
      << "dependencies:\n- name: other\n  version: 1.0.0\n  repository: file://../../outside\n";
  auto res2 = r.render(req);
  REQUIRE_FALSE(res2.ok());
  CHECK(res2.error().message.find("leaves the chart directory") != std::string::npos);
  fs::remove_all(work);
}

TEST_CASE("an unreachable chart repository is a clear error", "[unit]") {
  std::string work = work_dir("unreachable");
  render::Renderer r(options(work));
  render::RenderRequest req;
  req.chart.origin = render::ChartOrigin::helm_repository;
  req.chart.url = "http://127.0.0.1:9/charts";
  req.egress.allow = {"http://127.0.0.1:9/charts"};  // loopback over http only when the policy names it
  req.chart.chart = "podinfo";
  req.chart.version = "6.14.1";
  req.release_name = "rel";
  req.namespace_ = "ns";
  auto res = r.render(req);
  REQUIRE_FALSE(res.ok());
  CHECK(res.error().message.find("fetching chart 'podinfo' from http://127.0.0.1:9/charts version 6.14.1 failed") !=
        std::string::npos);
  CHECK(res.error().message.find("must be reachable") != std::string::npos);
  fs::remove_all(work);
}

TEST_CASE("a child process that runs too long is killed", "[unit]") {
  process::ProcessOptions po;
  po.timeout = std::chrono::milliseconds(200);
  auto r = process::run_process({"/bin/sleep", "5"}, po);
  REQUIRE(r.ok());
  CHECK(r->timed_out);
  CHECK(r->elapsed < std::chrono::seconds(2));
}
