// clusters[].drift in the configuration: defaults, every key, and errors with file:line and key path.
#include <catch2/catch.hpp>

#include "config/config.hpp"
#include "support/support.hpp"

using namespace helmgate;

namespace {

std::string cluster_yaml(const std::string& drift) {
  return "repos:\n  - url: https://git.example.com/acme/fleet.git\n    clusters:\n      - name: dev\n" + drift;
}

std::string error_of(const std::string& drift) {
  try {
    config::load_string(cluster_yaml(drift), "helmgate.yaml", config::Use::preview);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("drift settings: defaults and every key", "[unit][fleet][config]") {
  auto plain = config::load_string(cluster_yaml(""), "helmgate.yaml", config::Use::preview);
  const auto& d0 = plain.repos.at(0).clusters.at(0).drift;
  CHECK(d0.enabled);
  CHECK(d0.interval == std::chrono::minutes(10));
  CHECK(d0.jitter == std::chrono::minutes(1));
  CHECK_FALSE(d0.remediate);
  CHECK(d0.max_remediations_per_hour == 3);
  CHECK(d0.ignore.empty());

  auto cfg = config::load_string(cluster_yaml("        drift:\n          interval: 5m\n          jitter: \"0\"\n"
                                              "          remediate: true\n          max_remediations_per_hour: 10\n"
                                              "          ignore:\n            - kind: Deployment\n              name: \"web-*\"\n"
                                              "              paths: [/spec/replicas, /metadata/annotations/a~1b]\n"),
                                 "helmgate.yaml", config::Use::preview);
  const auto& d = cfg.repos.at(0).clusters.at(0).drift;
  CHECK(d.interval == std::chrono::minutes(5));
  CHECK(d.jitter == std::chrono::milliseconds(0));
  CHECK(d.remediate);
  CHECK(d.max_remediations_per_hour == 10);
  REQUIRE(d.ignore.size() == 1);
  CHECK(d.ignore[0].kind == "Deployment");
  CHECK(d.ignore[0].name == "web-*");
  CHECK(d.ignore[0].namespace_ == "*");
  CHECK(d.ignore[0].paths == std::vector<std::string>{"/spec/replicas", "/metadata/annotations/a~1b"});
}

TEST_CASE("the example configuration documents drift", "[unit][fleet][config]") {
  auto cfg = config::load_file(test::source_dir() + "/config/examples/helmgate.yaml");
  bool found = false;
  for (const auto& r : cfg.repos) {
    for (const auto& c : r.clusters) {
      if (!c.drift.ignore.empty()) {
        found = true;
        CHECK(c.drift.ignore[0].paths.at(0) == "/spec/replicas");
      }
    }
  }
  CHECK(found);
}

TEST_CASE("drift settings: errors name file, line, key path and reason", "[unit][fleet][config]") {
  CHECK(error_of("        drift: {bogus: 1}\n") ==
        "helmgate.yaml:5:17: repos[0].clusters[0].drift.bogus: unknown key (allowed: enabled, interval, jitter, ignore, "
        "remediate, max_remediations_per_hour, webhook_url, webhook_url_env, tracking_issue, namespaces)");
  CHECK(error_of("        drift: {interval: 10s}\n") == "helmgate.yaml:5:27: repos[0].clusters[0].drift.interval: must be at least 30s");
  CHECK(error_of("        drift: {interval: 1m, jitter: 2m}\n") ==
        "helmgate.yaml:5:39: repos[0].clusters[0].drift.jitter: must be shorter than the interval");
  CHECK(error_of("        drift: {remediate: yes}\n") == "helmgate.yaml:5:28: repos[0].clusters[0].drift.remediate: must be true or false");
  CHECK(error_of("        drift: {remediate: true, max_remediations_per_hour: 0}\n").find("max_remediations_per_hour") !=
        std::string::npos);
  CHECK(error_of("        drift: {ignore: [{kind: Deployment, paths: [spec/replicas]}]}\n") ==
        "helmgate.yaml:5:53: repos[0].clusters[0].drift.ignore[0].paths[0]: 'spec/replicas' must be a JSON pointer "
        "starting with '/' (e.g. /spec/replicas)");
  CHECK(error_of("        drift: {ignore: [{kind: Deployment, paths: [\"/a~2\"]}]}\n").find("'~' must be written ~0") !=
        std::string::npos);
  CHECK(error_of("        drift: {ignore: [{kind: Deployment}]}\n").find("ignore[0].paths: must list at least one") !=
        std::string::npos);
  CHECK(error_of("        drift: {ignore: [{kind: Deployment, paths: [/x], color: red}]}\n").find("unknown key") != std::string::npos);
  CHECK(error_of("        drift: {webhook_url: \"https://h.example/x\", webhook_url_env: HOOK}\n")
            .find("drift.webhook_url_env: give webhook_url or webhook_url_env, not both") != std::string::npos);
  CHECK(error_of("        drift: {webhook_url: \"ftp://h.example/x\"}\n").find("drift.webhook_url: must be an https:// URL") !=
        std::string::npos);
  CHECK(error_of("        drift: {tracking_issue: -1}\n").find("drift.tracking_issue") != std::string::npos);
  CHECK(error_of("        drift: {namespaces: [Team_A]}\n").find("drift.namespaces[0]: namespace") != std::string::npos);
}

TEST_CASE("drift settings: signals and namespaces", "[unit][fleet][config]") {
  auto cfg = config::load_string(cluster_yaml("        drift: {webhook_url: \"https://hooks.example.com/x\", tracking_issue: 42, "
                                              "namespaces: [team-a, team-b]}\n"),
                                 "helmgate.yaml", config::Use::preview);
  const auto& d = cfg.repos.at(0).clusters.at(0).drift;
  CHECK(d.webhook_url == "https://hooks.example.com/x");
  CHECK(d.webhook_url_env.empty());
  CHECK(d.tracking_issue == 42);
  CHECK(d.namespaces == std::vector<std::string>{"team-a", "team-b"});
  auto env = config::load_string(cluster_yaml("        drift: {webhook_url_env: HELMGATE_DRIFT_WEBHOOK}\n"), "helmgate.yaml",
                                 config::Use::preview);
  CHECK(env.repos.at(0).clusters.at(0).drift.webhook_url_env == "HELMGATE_DRIFT_WEBHOOK");
}
