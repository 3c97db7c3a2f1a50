// determine_release_action, table-style: every combination of what Git wants and what the cluster has.
#include <catch2/catch.hpp>

#include "apply/decision.hpp"
#include "apply/helm.hpp"

using namespace helmgate::apply;

TEST_CASE("determine_release_action: the decision table", "[unit]") {
  struct Row {
    const char* name;
    Desired desired;
    Observed observed;
    bool prune;
    Action want;
    const char* reason_has;
  };
  const Row rows[] = {
      {"new release", {true, "d1"}, {false, "", ""}, true, Action::install, "not installed"},
      {"new release, prune off", {true, "d1"}, {false, "", ""}, false, Action::install, "not installed"},
      {"unchanged render", {true, "d1"}, {true, "deployed", "d1"}, true, Action::none, "unchanged"},
      {"changed render", {true, "d2"}, {true, "deployed", "d1"}, true, Action::upgrade, "render changed"},
      {"installed by someone else", {true, "d1"}, {true, "deployed", ""}, true, Action::upgrade, "never applied"},
      {"last helm run failed", {true, "d1"}, {true, "failed", "d1"}, true, Action::upgrade, "failed"},
      {"interrupted upgrade", {true, "d1"}, {true, "pending-upgrade", "d1"}, true, Action::upgrade, "pending-upgrade"},
      {"recorded but deleted behind our back", {true, "d1"}, {false, "", "d1"}, true, Action::install, "not installed"},
      {"removed from Git", {false, ""}, {true, "deployed", "d1"}, true, Action::uninstall, "removed from Git"},
      {"removed from Git, failed release", {false, ""}, {true, "failed", ""}, true, Action::uninstall, "removed"},
      {"removed from Git, prune off", {false, ""}, {true, "deployed", "d1"}, false, Action::none, "prune is off"},
      {"removed and already gone", {false, ""}, {false, "", ""}, true, Action::none, "not installed"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    Decision d = determine_release_action(row.desired, row.observed, row.prune);
    CHECK(to_string(d.action) == to_string(row.want));
    CHECK(d.reason.find(row.reason_has) != std::string::npos);
  }
}

TEST_CASE("helm's description carries the applied digest, and only a lowercase hex one", "[unit][apply]") {
  const std::string digest(64, 'a');
  CHECK(digest_description(digest) == "helmgate digest " + digest);
  CHECK(digest_from_description(digest_description(digest)) == digest);
  CHECK(digest_description("").empty());
  CHECK(digest_description("ABC").empty());
  CHECK(digest_description("ab --set x=1").empty());  // never an option-like argv value
  CHECK(digest_from_description("Upgrade complete").empty());
  CHECK(digest_from_description("Rollback to 1").empty());
  CHECK(digest_from_description("helmgate digest ").empty());
  CHECK(digest_from_description("helmgate digest abc def").empty());
}

TEST_CASE("helm's own OpenAPI check is left out only where helm 4 applies server-side", "[unit][apply]") {
  Observed none;  // not installed
  Observed ssa;
  ssa.installed = true;
  ssa.status = "deployed";
  ssa.apply_method = "ssa";
  Observed csa = ssa;
  csa.apply_method = "csa";
  Observed helm3 = ssa;  // helm 3's records say nothing
  helm3.apply_method = "";

  // helm 4: a first install and an upgrade of a release it last applied server-side.
  CHECK(server_checks_manifests(Action::install, none, "v4.1.4+g05fa379"));
  CHECK(server_checks_manifests(Action::upgrade, ssa, "v4.1.4+g05fa379"));
  CHECK(server_checks_manifests(Action::upgrade, ssa, "v10.0.0"));
  // Client-side applies keep it: the record says csa, or nothing (helm 3 wrote it).
  CHECK_FALSE(server_checks_manifests(Action::upgrade, csa, "v4.1.4+g05fa379"));
  CHECK_FALSE(server_checks_manifests(Action::upgrade, helm3, "v4.1.4+g05fa379"));
  // helm 3, or a version that cannot be read, keeps it whatever the record says.
  CHECK_FALSE(server_checks_manifests(Action::install, none, "v3.19.0+g3d8990f"));
  CHECK_FALSE(server_checks_manifests(Action::upgrade, ssa, "v3.19.0"));
  CHECK_FALSE(server_checks_manifests(Action::upgrade, ssa, "unknown"));
  CHECK_FALSE(server_checks_manifests(Action::upgrade, ssa, ""));
  CHECK_FALSE(server_checks_manifests(Action::upgrade, ssa, "v"));
  CHECK_FALSE(server_checks_manifests(Action::upgrade, ssa, "4.1.4"));
  // Nothing to check for the other actions.
  CHECK_FALSE(server_checks_manifests(Action::uninstall, ssa, "v4.1.4"));
  CHECK_FALSE(server_checks_manifests(Action::none, ssa, "v4.1.4"));
}
