// The order of one cluster's releases in an apply (engine/apply_order): dependsOn edges among the
// affected releases, and running them with a bounded number at once.
#include <catch2/catch.hpp>
#include <yaml-cpp/yaml.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "engine/apply_order.hpp"

using namespace helmgate;
using namespace std::chrono_literals;

namespace {

release::Release hr(const std::string& ns, const std::string& name, const std::string& depends_on_yaml = "") {
  release::Release r;
  r.cluster = "dev";
  r.namespace_ = ns;
  r.name = name;
  r.release_name = name;
  r.target_namespace = ns;
  std::string doc = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: " + name +
                    ", namespace: " + ns + "}\nspec:\n  interval: 5m\n" +
                    (depends_on_yaml.empty() ? "" : "  dependsOn: " + depends_on_yaml + "\n");
  r.spec = release::Spec(YAML::Load(doc));
  return r;
}

release::Affected changed(const release::Release& r) {
  release::Affected a;
  a.id = r.id();
  a.base = &r;
  a.head = &r;
  return a;
}

release::Affected removed(const release::Release& r) {
  release::Affected a;
  a.id = r.id();
  a.base = &r;
  return a;
}

// Runs the order with tasks that sleep; records each task's start and end (ms from t0) and the peak.
struct Timeline {
  std::map<size_t, std::pair<double, double>> span;
  std::map<size_t, std::optional<size_t>> not_run;
  int peak = 0;
};

Timeline run(const engine::ApplyOrder& order, size_t limit, std::chrono::milliseconds each,
             const std::set<size_t>& failing = {}) {
  Timeline t;
  std::mutex mu;
  std::atomic<int> now{0};
  auto t0 = std::chrono::steady_clock::now();
  auto ms = [&] { return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count(); };
  engine::run_ordered(
      order, limit,
      [&](size_t i) {
        double start = ms();
        int n = ++now;
        {
          std::lock_guard lock(mu);
          t.peak = std::max(t.peak, n);
        }
        std::this_thread::sleep_for(each);
        --now;
        std::lock_guard lock(mu);
        t.span[i] = {start, ms()};
        return failing.count(i) == 0;
      },
      [&](size_t i, engine::NotRun why) {
        std::lock_guard lock(mu);
        t.not_run[i] = why.because_of;
      });
  return t;
}

}  // namespace

TEST_CASE("apply order: independent releases run in parallel, never more than the limit", "[unit][engine]") {
  engine::ApplyOrder order;
  order.before.resize(10);
  auto t0 = std::chrono::steady_clock::now();
  auto t = run(order, 4, 100ms);
  double wall = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  CHECK(t.span.size() == 10);
  CHECK(t.not_run.empty());
  CHECK(t.peak == 4);
  CHECK(wall < 700);  // 3 waves of 100 ms, not 10 x 100 ms one after another
  SECTION("limit 1 is one after another") {
    auto one = run(order, 1, 10ms);
    CHECK(one.peak == 1);
    for (size_t i = 1; i < 10; ++i) CHECK(one.span[i].first >= one.span[i - 1].second);
  }
}

TEST_CASE("apply order: dependsOn among the affected releases orders them, failures stop dependents", "[unit][engine]") {
  auto db = hr("data", "postgres");
  auto api = hr("apps", "api", "[{name: postgres, namespace: data}]");
  auto web = hr("apps", "web", "[{name: api}]");  // namespace: its own
  auto docs = hr("apps", "docs");
  auto cache = hr("data", "redis");
  auto worker = hr("apps", "worker", "[{name: redis, namespace: data}, {name: not-affected}]");
  std::vector<release::Affected> aff = {changed(web), changed(api), changed(docs), changed(db), changed(cache), changed(worker)};
  auto order = engine::apply_order(aff);
  CHECK(order.before[0] == std::vector<size_t>{1});  // web after api
  CHECK(order.before[1] == std::vector<size_t>{3});  // api after postgres
  CHECK(order.before[2].empty());
  CHECK(order.before[3].empty());
  CHECK(order.before[5] == std::vector<size_t>{4});  // a dependency the apply does not touch is in place

  auto t = run(order, 4, 60ms);
  REQUIRE(t.span.size() == 6);
  CHECK(t.span[1].first >= t.span[3].second);  // api started after postgres finished
  CHECK(t.span[0].first >= t.span[1].second);  // web after api
  CHECK(t.span[5].first >= t.span[4].second);
  CHECK(t.span[2].first < t.span[3].second);  // docs did not wait for anything
  CHECK(t.peak >= 3);                          // docs, postgres and redis at once

  SECTION("a failed dependency: its dependents are not applied, the rest is") {
    auto f = run(order, 4, 10ms, {3});  // postgres fails
    CHECK(f.span.count(3) == 1);
    CHECK(f.span.count(1) == 0);
    CHECK(f.span.count(0) == 0);
    CHECK(f.not_run.at(1) == std::optional<size_t>(3));  // api: because of postgres
    CHECK(f.not_run.at(0) == std::optional<size_t>(1));  // web: because of api
    CHECK(f.span.count(2) == 1);
    CHECK(f.span.count(5) == 1);
  }
}

TEST_CASE("apply order: a dependsOn cycle fails its releases, the others run", "[unit][engine]") {
  auto a = hr("x", "a", "[{name: b}]");
  auto b = hr("x", "b", "[{name: a}]");
  auto c = hr("x", "c", "[{name: b}]");
  auto d = hr("x", "d");
  std::vector<release::Affected> aff = {changed(a), changed(b), changed(c), changed(d)};
  auto t = run(engine::apply_order(aff), 2, 10ms);
  CHECK(t.span.size() == 1);
  CHECK(t.span.count(3) == 1);
  REQUIRE(t.not_run.size() == 3);
  for (size_t i : {0, 1, 2}) CHECK_FALSE(t.not_run.at(i).has_value());
}

TEST_CASE("apply order: removed releases are uninstalled dependents first", "[unit][engine]") {
  auto db = hr("data", "postgres");
  auto api = hr("apps", "api", "[{name: postgres, namespace: data}]");
  auto kept = hr("apps", "web", "[{name: api}]");
  std::vector<release::Affected> aff = {removed(db), removed(api), changed(kept)};
  auto order = engine::apply_order(aff);
  CHECK(order.before[0] == std::vector<size_t>{1});  // postgres goes after api
  CHECK(order.before[1].empty());
  CHECK(order.before[2].empty());  // web's dependency is being removed: nothing to wait for
  auto t = run(order, 4, 30ms);
  CHECK(t.span[0].first >= t.span[1].second);
}
