// sops: age keys by reference only (config/sops.cpp): {env: NAME} or {file: /abs/path}, the top level the
// default of every repository, repos[].sops replacing it; a key written into the file is refused.
#include <catch2/catch.hpp>

#include "config/config.hpp"

using namespace helmgate;

namespace {
std::string sops_error(const std::string& yaml) {
  try {
    config::load_string(yaml, "helmgate.yaml", config::Use::preview);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("sops.age_keys: references, inherited by repositories, replaced per repository", "[unit][config]") {
  auto cfg = config::load_string(
      "sops:\n  age_keys: [{env: HG_AGE}, {file: /etc/helmgate/age.txt}]\n"
      "repos:\n- {url: \"https://example.com/a.git\"}\n"
      "- url: \"https://example.com/b.git\"\n  sops: {age_keys: [{env: TEAM_B_AGE}]}\n",
      "helmgate.yaml", config::Use::preview);
  REQUIRE(cfg.sops.age_keys.size() == 2);
  CHECK(cfg.sops.age_keys[0].env == "HG_AGE");
  CHECK(cfg.sops.age_keys[1].file == "/etc/helmgate/age.txt");
  CHECK(cfg.sops.age_keys[1].where == "sops.age_keys[1]");
  REQUIRE(cfg.repos.size() == 2);
  CHECK(cfg.repos[0].sops.age_keys.size() == 2);
  REQUIRE(cfg.repos[1].sops.age_keys.size() == 1);
  CHECK(cfg.repos[1].sops.age_keys[0].env == "TEAM_B_AGE");
  CHECK(cfg.repos[1].sops.age_keys[0].where == "repos[1].sops.age_keys[0]");
}

TEST_CASE("sops.age_keys: a key in the file, both or neither reference, a relative path are refused", "[unit][config]") {
  const std::string key = "AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQS3290GG";
  auto e = sops_error("sops:\n  age_keys:\n  - " + key + "\n");
  CHECK(e.find("helmgate.yaml:3:") != std::string::npos);
  CHECK(e.find("sops.age_keys[0]") != std::string::npos);
  CHECK(e.find("never goes in the configuration") != std::string::npos);
  CHECK(e.find(key) == std::string::npos);
  CHECK(sops_error("sops: {age_keys: [{env: A, file: /x}]}\n").find("exactly one of env") != std::string::npos);
  CHECK(sops_error("sops: {age_keys: [{}]}\n").find("exactly one of env") != std::string::npos);
  CHECK(sops_error("sops: {age_keys: [{file: keys.txt}]}\n").find("absolute path") != std::string::npos);
  CHECK(sops_error("sops: {age_keys: [{env: " + key + "}]}\n").find(key) == std::string::npos);
  CHECK(sops_error("sops: {age_keys: [{env: \"not a name\"}]}\n").find("environment variable name") != std::string::npos);
  CHECK(sops_error("sops: {keys: []}\n").find("sops") != std::string::npos);
  CHECK(sops_error("repos:\n- url: \"https://example.com/a.git\"\n  sops: {age_keys: {env: A}}\n").find("repos[0].sops.age_keys") !=
        std::string::npos);
}
