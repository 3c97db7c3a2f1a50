#include <catch2/catch.hpp>

#include <cstdlib>

#include "config/config.hpp"
#include "config_error.hpp"
#include "support/support.hpp"

using namespace helmgate;

namespace {
using test::error_of;
}  // namespace

TEST_CASE("the example configuration loads", "[unit][config]") {
  auto cfg = config::load_file(test::source_dir() + "/config/examples/helmgate.yaml");
  CHECK(cfg.forges.size() == 2);
  REQUIRE(cfg.repos.size() >= 1);
  CHECK(cfg.find_forge("github") != nullptr);
  CHECK(cfg.find_forge("gitea")->kind == core::ForgeKind::gitea);
  CHECK(cfg.server.max_body_bytes == 25ull * 1024 * 1024);
}

TEST_CASE("defaults apply to an empty file", "[unit][config]") {
  auto cfg = config::load_string("");
  CHECK(cfg.server.listen == "127.0.0.1:8080");
  CHECK(cfg.queue.max_attempts == 5);
  CHECK(cfg.queue.key_prefix == "helmgate");
}

TEST_CASE("errors name file, line, key path and reason", "[unit][config]") {
  CHECK(error_of("server:\n  listen: 1.2.3.4:80\n  bogus: 1\n") ==
        "helmgate.yaml:3:3: server.bogus: unknown key (allowed: listen, threads, max_body_bytes, header_timeout, "
        "body_timeout, idle_timeout, shutdown_grace, max_connections)");
  CHECK(error_of("queue:\n  max_attempts: zero\n") == "helmgate.yaml:2:17: queue.max_attempts: must be an integer");
  CHECK(error_of("queue:\n  visibility_timeout: 10 minutes\n").find("queue.visibility_timeout: must be a positive duration") !=
        std::string::npos);
  CHECK(error_of("forges:\n  - kind: gitlab\n    webhook_secret_env: S\n") ==
        "helmgate.yaml:2:11: forges[0].kind: must be github or gitea (got 'gitlab')");
  CHECK(error_of("forges:\n  - kind: github\n").find("forges[0].webhook_secret_env: is required") != std::string::npos);
  CHECK(error_of("repos:\n  - name: a/b\n    forge: nope\n").find("repos[0].forge: names unknown forge 'nope'") !=
        std::string::npos);
  CHECK(error_of("redis:\n  url: redis://:hunter2@127.0.0.1:6379\n").find("must not contain a password") !=
        std::string::npos);
  CHECK(error_of("redis:\n  url: redis://:hunter2@127.0.0.1:6379\n").find("hunter2") == std::string::npos);
  CHECK(error_of("server: [1, 2\n").find("helmgate.yaml:") == 0);
  CHECK(error_of("server: [1, 2\n").find("invalid YAML") != std::string::npos);
  CHECK(error_of(R"(
forges: [{kind: github, webhook_secret_env: S}]
repos:
  - name: a/b
    forge: github
    clusters:
      - {name: prod, requires: [dev]}
)").find("requires: names unknown cluster 'dev'") != std::string::npos);
}

TEST_CASE("durations", "[unit][config]") {
  using std::chrono::milliseconds;
  CHECK(config::parse_duration("250ms") == milliseconds(250));
  CHECK(config::parse_duration("30s") == milliseconds(30'000));
  CHECK(config::parse_duration("30") == milliseconds(30'000));
  CHECK(config::parse_duration("5m") == milliseconds(300'000));
  CHECK(config::parse_duration("2h") == milliseconds(7'200'000));
  CHECK(config::parse_duration("7d") == milliseconds(604'800'000));
  CHECK_FALSE(config::parse_duration("5 m"));
  CHECK_FALSE(config::parse_duration("m"));
  CHECK_FALSE(config::parse_duration("-1s"));
}

TEST_CASE("secrets come from the environment and are never echoed", "[unit][config]") {
  auto cfg = config::load_string("forges: [{kind: github, webhook_secret_env: HG_TEST_WH_SECRET}]\n"
                                 "api: {token_env: HG_TEST_API_TOKEN}\n", "c.yaml");
  ::unsetenv("HG_TEST_WH_SECRET");
  ::setenv("HG_TEST_API_TOKEN", "tok-123", 1);
  try {
    config::resolve_secrets(cfg, {});
    FAIL("expected an error");
  } catch (const config::ConfigError& e) {
    CHECK(std::string(e.what()) ==
          "c.yaml: forges[0].webhook_secret_env: environment variable HG_TEST_WH_SECRET is not set (it must hold "
          "the secret; the file never does)");
  }
  ::setenv("HG_TEST_WH_SECRET", "wh-secret-value", 1);
  config::resolve_secrets(cfg, {});
  CHECK(cfg.forges[0].webhook_secret == "wh-secret-value");
  CHECK(cfg.api_token == "tok-123");
}

TEST_CASE("a repository may mark values paths sensitive", "[unit][config]") {
  auto cfg = config::load_string(R"(
forges: [{kind: github, webhook_secret_env: S}]
repos:
  - name: a/b
    forge: github
    sensitive_values: [auth.password, "*.apiKey"]
)");
  REQUIRE(cfg.repos.size() == 1);
  CHECK(cfg.repos[0].sensitive_values == std::vector<std::string>{"auth.password", "*.apiKey"});
  CHECK(error_of("forges: [{kind: github, webhook_secret_env: S}]\nrepos:\n  - name: a/b\n    forge: github\n"
                 "    sensitive_values: [auth..password]\n")
            .find("repos[0].sensitive_values: 'auth..password' must be a dotted Helm values path") != std::string::npos);
  CHECK(error_of("forges: [{kind: github, webhook_secret_env: S}]\nrepos:\n  - name: a/b\n    forge: github\n"
                 "    sensitive_values: password\n")
            .find("repos[0].sensitive_values: must be a list of strings") != std::string::npos);
}

TEST_CASE("allow_pr_apply is off by default and strictly true or false", "[unit][config]") {
  const std::string head = "forges: [{kind: github, webhook_secret_env: S}]\nrepos:\n  - name: a/b\n    forge: github\n"
                           "    clusters:\n";
  auto cfg = config::load_string(head + "      - {name: dev, allow_pr_apply: true}\n      - {name: prod}\n");
  REQUIRE(cfg.repos[0].clusters.size() == 2);
  CHECK(cfg.repos[0].clusters[0].allow_pr_apply);
  CHECK_FALSE(cfg.repos[0].clusters[1].allow_pr_apply);
  CHECK_FALSE(config::load_string(head + "      - {name: dev, allow_pr_apply: false}\n").repos[0].clusters[0].allow_pr_apply);
  for (const char* bad : {"yes", "on", "1", "[true]", "\"\""}) {
    INFO(bad);
    CHECK(error_of(head + "      - {name: dev, allow_pr_apply: " + bad + "}\n")
              .find("repos[0].clusters[0].allow_pr_apply: must be true or false") != std::string::npos);
  }
}

TEST_CASE("a GitHub App instead of a token", "[unit][config]") {
  const std::string ok = R"(
forges:
  - kind: github
    webhook_secret_env: WH
    github_app: {app_id: "123456", installation_id: 987, private_key_env: HG_TEST_APP_KEY}
)";
  auto cfg = config::load_string(ok, "c.yaml");
  REQUIRE(cfg.forges[0].github_app);
  CHECK(cfg.forges[0].github_app->app_id == "123456");
  CHECK(cfg.forges[0].github_app->installation_id == 987);
  ::setenv("WH", "w", 1);
  ::setenv("HG_TEST_APP_KEY", "-----BEGIN PRIVATE KEY-----", 1);
  config::resolve_secrets(cfg, {.webhook_secrets = true, .api_token = false, .forge_tokens = true});
  CHECK(cfg.forges[0].github_app->private_key == "-----BEGIN PRIVATE KEY-----");
  ::unsetenv("HG_TEST_APP_KEY");
  auto again = config::load_string(ok, "c.yaml");
  try {
    config::resolve_secrets(again, {.webhook_secrets = true, .api_token = false, .forge_tokens = true});
    FAIL("expected an error");
  } catch (const config::ConfigError& e) {
    CHECK(std::string(e.what()).find("forges[0].github_app.private_key_env: environment variable HG_TEST_APP_KEY") !=
          std::string::npos);
  }

  CHECK(error_of("forges:\n  - kind: github\n    webhook_secret_env: W\n    token_env: T\n"
                 "    github_app: {app_id: '1', installation_id: 2, private_key_env: K}\n")
            .find("forges[0].github_app: use either token_env or github_app, not both") != std::string::npos);
  CHECK(error_of("forges:\n  - kind: gitea\n    api_url: http://g\n    webhook_secret_env: W\n"
                 "    github_app: {app_id: '1', installation_id: 2, private_key_env: K}\n")
            .find("forges[0].github_app: is only for a github forge") != std::string::npos);
  CHECK(error_of("forges:\n  - kind: github\n    webhook_secret_env: W\n"
                 "    github_app: {app_id: '1', private_key_env: K}\n")
            .find("forges[0].github_app.installation_id: is required") != std::string::npos);
}

TEST_CASE("apply_concurrency: 4 by default, 1 to 64", "[unit][config]") {
  const std::string head = "forges: [{kind: github, webhook_secret_env: S}]\nrepos:\n  - name: a/b\n    forge: github\n"
                           "    clusters:\n";
  auto cfg = config::load_string(head + "      - {name: dev, apply_concurrency: 1}\n      - {name: prod}\n");
  REQUIRE(cfg.repos[0].clusters.size() == 2);
  CHECK(cfg.repos[0].clusters[0].apply_concurrency == 1);
  CHECK(cfg.repos[0].clusters[1].apply_concurrency == 4);
  for (const char* bad : {"0", "65", "-1", "many"}) {
    INFO(bad);
    CHECK(error_of(head + "      - {name: dev, apply_concurrency: " + bad + "}\n").find("repos[0].clusters[0].apply_concurrency") !=
          std::string::npos);
  }
}
