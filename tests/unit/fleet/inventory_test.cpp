// The inventory's arithmetic: Kubernetes quantities and the effective requests of a pod.
#include <catch2/catch.hpp>

#include "engine/inventory.hpp"

using namespace helmgate;

TEST_CASE("quantities as the API server spells them", "[unit][fleet]") {
  CHECK(engine::parse_quantity_milli("100m") == 100);
  CHECK(engine::parse_quantity_milli("2") == 2000);
  CHECK(engine::parse_quantity_milli("1.5") == 1500);
  CHECK(engine::parse_quantity_milli("250u") == 1);  // rounds up
  CHECK(engine::parse_quantity("128Mi") == 128ll * 1024 * 1024);
  CHECK(engine::parse_quantity("1Gi") == 1ll << 30);
  CHECK(engine::parse_quantity("1G") == 1'000'000'000);
  CHECK(engine::parse_quantity("2e3") == 2000);
  CHECK(engine::parse_quantity("1E") == 1'000'000'000'000'000'000ll);
  CHECK(engine::parse_quantity("16318808Ki") == 16318808ll * 1024);
  CHECK_FALSE(engine::parse_quantity("").has_value());
  CHECK_FALSE(engine::parse_quantity("12Qi").has_value());
  CHECK_FALSE(engine::parse_quantity("Mi").has_value());
  CHECK_FALSE(engine::parse_quantity("99999Ei").has_value());  // past int64
}

TEST_CASE("a pod's effective requests: containers summed, the largest init container, overhead", "[unit][fleet]") {
  core::json::Document pod;
  pod.Parse(R"({"spec":{"containers":[{"resources":{"requests":{"cpu":"100m","memory":"64Mi"}}},
      {"resources":{"limits":{"cpu":"200m","memory":"32Mi"}}}, {"name":"none"}],
    "initContainers":[{"resources":{"requests":{"cpu":"1","memory":"16Mi"}}}],
    "overhead":{"cpu":"10m","memory":"1Mi"}}})");
  REQUIRE_FALSE(pod.HasParseError());
  auto r = engine::pod_requests(pod);
  CHECK(r.cpu_milli == 1000 + 10);                     // the init container's 1 CPU beats 300m
  CHECK(r.memory_bytes == (96ll << 20) + (1ll << 20));  // 64Mi + 32Mi beats 16Mi
}

TEST_CASE("an inventory serializes to JSON with counts", "[unit][fleet]") {
  engine::Inventory inv;
  inv.cluster = "dev";
  inv.reachable = true;
  inv.server_version = "v1.35.8";
  engine::NodeInventory n1, n2;
  n1.name = "n1";
  n1.ready = true;
  n1.ready_status = "True";
  n1.ready_reason = "KubeletReady";
  n2.name = "n2";
  n2.ready_status = "False";
  n2.ready_reason = "KubeletNotReady";
  n2.ready_message = "PLEG is not healthy";
  inv.nodes = {n1, n2};
  inv.releases.push_back({"podinfo", "team-a", {{"Deployment", "team-a", "podinfo", 2, 1, 2, 1}}});
  std::string j = engine::to_json(inv);
  CHECK(j.find(R"("nodes":{"count":2,"ready":1,)") != std::string::npos);
  CHECK(j.find(R"("reason":"KubeletNotReady","message":"PLEG is not healthy")") != std::string::npos);
  CHECK(j.find(R"("release":"podinfo","namespace":"team-a","ready":false)") != std::string::npos);
  core::json::Document d;
  CHECK_FALSE(core::json::parse(d, j).has_value());
}
