// Ownership rules (issue 14): the schema of repos[].ownership and of the owners file, its errors with
// file:line, the identity gate (no CR/LF, no system: identities), and path globs.
#include <catch2/catch.hpp>

#include "config/config.hpp"
#include "config/ownership.hpp"

using namespace helmgate;

TEST_CASE("ownership: path globs", "[unit][config]") {
  using config::path_glob_match;
  CHECK(path_glob_match("clusters/*/team-a/**", "clusters/dev/team-a/app.yaml"));
  CHECK(path_glob_match("clusters/*/team-a/**", "clusters/dev/team-a/x/y/z.yaml"));
  CHECK_FALSE(path_glob_match("clusters/*/team-a/**", "clusters/dev/team-b/app.yaml"));
  CHECK_FALSE(path_glob_match("clusters/*/team-a/**", "clusters/dev/sub/team-a/app.yaml"));
  CHECK(path_glob_match("clusters/dev/team-a", "clusters/dev/team-a/app.yaml"));  // a directory owns what is below
  CHECK(path_glob_match("**/*.yaml", "a/b/c.yaml"));
  CHECK(path_glob_match("apps/app-?.yaml", "apps/app-1.yaml"));
  CHECK_FALSE(path_glob_match("apps/*.yaml", "apps/x/y.yaml"));
}

TEST_CASE("ownership: the owners file, last match wins, errors with file:line", "[unit][config]") {
  auto ok = config::parse_owners_file(
      "ownership:\n"
      "  - paths: [\"clusters/**\"]\n    team: {users: [platform]}\n"
      "  - paths: [\"clusters/*/team-a/**\"]\n    team: {users: [alice], teams: [acme/team-a]}\n"
      "    clusters: [dev]\n    namespaces: [team-a]\n"
      "    identity: {user: \"system:serviceaccount:team-a:deployer\", groups: [tenants]}\n",
      ".helmgate/owners.yaml");
  REQUIRE(ok.ok());
  REQUIRE(ok->size() == 2);
  const auto* e = config::owner_of(*ok, "clusters/dev/team-a/app.yaml");
  REQUIRE(e != nullptr);
  CHECK(e->users == std::vector<std::string>{"alice"});
  CHECK(e->identity_user == "system:serviceaccount:team-a:deployer");
  CHECK(e->where == ".helmgate/owners.yaml:4");
  CHECK(config::owner_of(*ok, "clusters/dev/infra/x.yaml")->users == std::vector<std::string>{"platform"});
  CHECK(config::owner_of(*ok, "README.md") == nullptr);
  CHECK(config::parse_owners_file("", "f")->empty());

  struct Bad {
    std::string text, needle;
  };
  for (const auto& b : std::vector<Bad>{
           {"ownership:\n  - paths: [a/**]\n    team: {users: [x]}\n    identity: {user: \"evil\\r\\nImpersonate-Group: system:masters\"}\n",
            "f.yaml:4:"},
           {"ownership:\n  - paths: [a/**]\n    team: {users: [x]}\n    identity: {user: u, groups: [system:masters]}\n",
            "system: identities"},
           {"ownership:\n  - paths: [a/**]\n    team: {users: [x]}\n    identity: {user: system:admin}\n", "identity.user"},
           {"ownership:\n  - paths: [a/**]\n    team: {}\n", "must name at least one user or team"},
           {"ownership:\n  - paths: [a/**]\n    team: {teams: [justateam]}\n", "org/team"},
           {"ownership:\n  - paths: [\"../x\"]\n    team: {users: [x]}\n", "'..'"},
           {"ownership:\n  - paths: [a]\n    team: {users: [x]}\n    namespaces: [Team_A]\n", "namespaces[0]"},
           {"ownership:\n  - paths: [a]\n    team: {users: [x]}\n    color: red\n", "unknown key"},
           {"owners: []\n", "unknown key"},
           {"ownership: [\n", "f.yaml:"},
       }) {
    auto r = config::parse_owners_file(b.text, "f.yaml");
    INFO(b.text);
    REQUIRE_FALSE(r.ok());
    INFO(r.error().message);
    CHECK(r.error().message.find(b.needle) != std::string::npos);
    CHECK(r.error().message.find('\r') == std::string::npos);
  }
}

TEST_CASE("ownership: repos[].ownership and owners_file in the server configuration", "[unit][config]") {
  auto cfg = config::load_string(
      "repos:\n- name: acme/fleet\n  url: https://git.example.com/acme/fleet.git\n  owners_file: ops/owners.yaml\n"
      "  ownership:\n  - paths: [apps/**]\n    team: {users: [bob]}\n",
      "helmgate.yaml", config::Use::preview);
  REQUIRE(cfg.repos.size() == 1);
  CHECK(cfg.repos[0].owners_file == "ops/owners.yaml");
  REQUIRE(cfg.repos[0].ownership.size() == 1);
  CHECK(cfg.repos[0].ownership[0].where == "helmgate.yaml:6");
  CHECK(config::load_string("repos:\n- {name: a/b, url: \"https://x/a/b.git\"}\n", "c", config::Use::preview).repos[0].owners_file == ".helmgate/owners.yaml");
  try {
    config::load_string("repos:\n- name: a/b\n  url: https://x/a/b.git\n  ownership:\n  - {paths: [x], team: {users: [\"a b\"]}}\n",
                        "helmgate.yaml", config::Use::preview);
    FAIL("accepted a login with a space");
  } catch (const config::ConfigError& e) {
    CHECK(std::string(e.what()).find("helmgate.yaml:5:") != std::string::npos);
  }
}
