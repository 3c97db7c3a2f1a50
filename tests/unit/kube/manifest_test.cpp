// split_manifest re-emits each object for server-side apply: the API server must see the same types
// helm wrote (a quoted number stays a string).
#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>

#include "kube/client.hpp"

using namespace helmgate;

TEST_CASE("split_manifest keeps quoted scalars strings and plain ones typed", "[unit][kube]") {
  const std::string manifest = R"(---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: team-a
spec:
  replicas: 2
  template:
    metadata:
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: "9898"
        note: 'single'
    spec:
      containers:
      - name: web
        args: ["--port", "9898", 7]
        env:
        - {name: EMPTY, value: ""}
        - {name: NONE, value: null}
---
# disabled template
)";
  auto objs = kube::split_manifest(manifest, "test");
  REQUIRE(objs.ok());
  REQUIRE(objs->size() == 1);
  const auto& o = objs->front();
  CHECK(o.ref.name == "web");
  CHECK(o.ref.namespace_ == "team-a");
  YAML::Node back = YAML::Load(o.yaml);
  auto ann = back["spec"]["template"]["metadata"]["annotations"];
  CHECK(ann["prometheus.io/port"].Tag() == "!");  // quoted again
  CHECK(ann["prometheus.io/port"].Scalar() == "9898");
  CHECK(ann["prometheus.io/scrape"].Tag() == "!");
  CHECK(ann["note"].Scalar() == "single");
  CHECK(back["spec"]["replicas"].Tag() == "?");  // still a plain number
  auto args = back["spec"]["template"]["spec"]["containers"][0]["args"];
  CHECK(args[1].Tag() == "!");
  CHECK(args[2].Tag() == "?");
  auto env = back["spec"]["template"]["spec"]["containers"][0]["env"];
  CHECK(env[0]["value"].Tag() == "!");
  CHECK(env[0]["value"].Scalar().empty());
  CHECK(env[1]["value"].IsNull());
}
