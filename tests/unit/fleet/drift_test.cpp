// The drift verdict from Helm's records alone (no cluster): every state, ignore rules, HPA targets,
// the remediation budget and the JSON a status page would serve.
#include <catch2/catch.hpp>

#include "engine/drift.hpp"

using namespace helmgate;

namespace {

engine::DesiredRelease want(const std::string& ns, const std::string& name) {
  engine::DesiredRelease d;
  d.id = "dev/" + ns + "/" + name;
  d.release_name = name;
  d.namespace_ = ns;
  d.chart_name = "podinfo";
  d.chart_version = "6.14.1";
  d.values_digest = "aaaaaaaaaaaaaaaa";
  return d;
}

kube::HelmRecord record(const std::string& ns, const std::string& name, const std::string& status = "deployed") {
  kube::HelmRecord r;
  r.name = name;
  r.namespace_ = ns;
  r.revision = 4;
  r.status = status;
  r.chart_name = "podinfo";
  r.chart_version = "6.14.1";
  r.values_digest = "aaaaaaaaaaaaaaaa";
  return r;
}

}  // namespace

TEST_CASE("record verdicts: in sync, missing, failed, chart and values drift, unreadable", "[unit][fleet]") {
  using S = engine::DriftState;
  CHECK(engine::classify_record(want("a", "p"), record("a", "p")).state == S::in_sync);
  auto missing = engine::classify_record(want("a", "p"), std::nullopt);
  CHECK(missing.state == S::missing);
  CHECK(missing.reasons.at(0) == "Git declares release a/p but Helm has no record of it on the cluster");
  CHECK(engine::classify_record(want("a", "p"), record("a", "p", "uninstalled")).state == S::missing);

  auto failed_rec = record("a", "p", "failed");
  failed_rec.description = "Upgrade \"p\" failed: context deadline exceeded";
  auto failed = engine::classify_record(want("a", "p"), failed_rec);
  CHECK(failed.state == S::failed);
  CHECK(failed.reasons.at(0) == "Helm's latest record (revision 4) is failed: Upgrade \"p\" failed: context deadline exceeded");
  CHECK(engine::classify_record(want("a", "p"), record("a", "p", "pending-upgrade")).state == S::failed);

  auto older = record("a", "p");
  older.chart_version = "6.13.0";
  older.values_digest = "bbbbbbbbbbbbbbbb";
  auto drifted = engine::classify_record(want("a", "p"), older);
  CHECK(drifted.state == S::drifted);
  REQUIRE(drifted.reasons.size() == 2);
  CHECK(drifted.reasons[0] == "chart version: Helm has 6.13.0, Git declares 6.14.1");
  CHECK(drifted.reasons[1] == "values: Helm's record (digest bbbbbbbbbbbb) differs from what Git declares (digest aaaaaaaaaaaa)");

  auto unreadable = record("a", "p");
  unreadable.error = "Secret a/sh.helm.release.v1.p.v4: the release record inflates to more than 32 MiB";
  auto u = engine::classify_record(want("a", "p"), unreadable);
  CHECK(u.state == S::unknown);
  CHECK(u.error == unreadable.error);

  auto no_render = want("a", "p");
  no_render.render_error = "chart not found";
  CHECK(engine::classify_record(no_render, record("a", "p")).state == S::unknown);
}

TEST_CASE("a cluster verdict: declared releases in order, extra ones after, errors everywhere", "[unit][fleet]") {
  kube::HelmRecords recs;
  recs.releases = {record("a", "p"), record("b", "stray", "deployed"), record("a", "q", "failed")};
  engine::DriftOptions o;
  o.live = false;
  auto d = engine::detect_drift(nullptr, {want("a", "p"), want("a", "q"), want("c", "new")}, recs, o);
  REQUIRE(d.releases.size() == 4);
  CHECK(d.releases[0].state == engine::DriftState::in_sync);
  CHECK(d.releases[1].state == engine::DriftState::failed);
  CHECK(d.releases[2].state == engine::DriftState::missing);
  CHECK(d.releases[3].state == engine::DriftState::extra);
  CHECK(d.releases[3].release_name == "stray");
  CHECK(d.releases[3].reasons.at(0) == "Helm has release b/stray (revision 4, deployed) that Git does not declare for this cluster");
  CHECK(d.count(engine::DriftState::extra) == 1);
  CHECK(d.needs_attention());
  std::string j = engine::to_json(d);
  CHECK(j.find(R"("counts":{"in_sync":1,"drifted":0,"missing":1,"failed":1,"extra":1,"unknown":0})") != std::string::npos);
  CHECK(j.find(R"("state":"extra")") != std::string::npos);
  core::json::Document doc;
  CHECK_FALSE(core::json::parse(doc, j).has_value());

  core::Result<kube::HelmRecords> down = core::Error(core::errc::unavailable, "cluster dev: connect: Connection refused");
  auto u = engine::detect_drift(nullptr, {want("a", "p")}, down, o);
  CHECK(u.error == "cluster dev: connect: Connection refused");
  REQUIRE(u.releases.size() == 1);
  CHECK(u.releases[0].state == engine::DriftState::unknown);
}

TEST_CASE("ignore rules match kind, name and namespace globs, and HPA targets are found in the render", "[unit][fleet]") {
  std::vector<config::DriftIgnore> rules = {{"Deployment", "*-canary", "*", {"/spec/replicas"}},
                                            {"*", "*", "team-?", {"/metadata/annotations/x~1y"}}};
  CHECK(engine::ignored_paths(rules, "Deployment", "prod", "web-canary") == std::vector<std::string>{"/spec/replicas"});
  CHECK(engine::ignored_paths(rules, "Deployment", "prod", "web").empty());
  CHECK(engine::ignored_paths(rules, "StatefulSet", "team-a", "db") == std::vector<std::string>{"/metadata/annotations/x~1y"});
  CHECK(engine::ignored_paths(rules, "Deployment", "team-b", "x-canary").size() == 2);

  std::string manifest =
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n---\n"
      "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\n"
      "spec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  maxReplicas: 5\n";
  auto targets = engine::hpa_targets(manifest);
  REQUIRE(targets.size() == 1);
  CHECK(targets[0] == std::pair<std::string, std::string>{"Deployment", "web"});
}

TEST_CASE("remediation applies drifted releases only, within the hourly budget", "[unit][fleet]") {
  engine::ClusterDrift d;
  for (int i = 0; i < 5; ++i) {
    engine::ReleaseDrift r;
    r.id = "dev/a/r" + std::to_string(i);
    r.state = i == 1 ? engine::DriftState::missing : engine::DriftState::drifted;
    d.releases.push_back(r);
  }
  config::DriftSettings s;
  CHECK(engine::remediation_candidates(d, s, 0).empty());  // remediate is off by default
  s.remediate = true;
  s.max_remediations_per_hour = 3;
  CHECK(engine::remediation_candidates(d, s, 0) == std::vector<std::string>{"dev/a/r0", "dev/a/r2", "dev/a/r3"});
  CHECK(engine::remediation_candidates(d, s, 2) == std::vector<std::string>{"dev/a/r0"});
  CHECK(engine::remediation_candidates(d, s, 3).empty());
}
