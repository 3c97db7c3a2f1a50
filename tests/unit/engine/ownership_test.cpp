// Ownership and impersonation in the engine (issue 14): who a release acts as (the owning entry's identity,
// else Flux's serviceAccountName in the HelmRelease's own namespace), where it may go, and the policy
// verdict of a change (owners' approval, blocking placements, unreadable rules).
#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>

#include "config/ownership.hpp"
#include "engine/ownership.hpp"

using namespace helmgate;

namespace {

release::Release hr(const std::string& file, const std::string& ns, const std::string& target, const std::string& sa = "") {
  release::Release r;
  r.cluster = "dev";
  r.api_version = "helm.toolkit.fluxcd.io/v2";
  r.name = "app";
  r.namespace_ = ns;
  r.release_name = "app";
  r.target_namespace = target;
  r.where = {file, 3, 1};
  r.spec = release::Spec(YAML::Load("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: app}\nspec:\n" +
                                    (sa.empty() ? std::string("  interval: 1m\n") : "  serviceAccountName: " + sa + "\n")));
  return r;
}

engine::OwnershipRules rules() {
  auto e = config::parse_owners_file(
      "ownership:\n"
      "  - paths: [\"clusters/*/team-a/**\"]\n    team: {users: [alice], teams: [acme/team-a]}\n"
      "    clusters: [dev]\n    namespaces: [team-a]\n"
      "  - paths: [\"clusters/*/team-b/**\"]\n    team: {users: [bob]}\n"
      "    identity: {user: \"system:serviceaccount:team-b:deployer\", groups: [team-b]}\n",
      ".helmgate/owners.yaml");
  REQUIRE(e.ok());
  return {*e, ".helmgate/owners.yaml@abc", ""};
}

core::Result<bool> teams(const std::string& team, const std::string& login) { return team == "acme/team-a" && login == "carol"; }

}  // namespace

TEST_CASE("impersonation: Flux's serviceAccountName, or the owning entry's identity", "[unit][engine]") {
  // Flux: the HelmRelease's own namespace, not its targetNamespace.
  auto r = hr("clusters/dev/team-a/app.yaml", "team-a", "elsewhere", "deployer");
  CHECK(r.spec.service_account_name() == "deployer");
  auto as = engine::release_identity(rules(), r);
  CHECK(as.user == "system:serviceaccount:team-a:deployer");
  CHECK(as.groups.empty());
  // The owning entry's identity wins over the HelmRelease's.
  auto b = engine::release_identity(rules(), hr("clusters/dev/team-b/app.yaml", "team-b", "team-b", "other"));
  CHECK(b.user == "system:serviceaccount:team-b:deployer");
  CHECK(b.groups == std::vector<std::string>{"team-b"});
  // Neither: the credential acts as itself.
  CHECK(engine::release_identity(rules(), hr("clusters/dev/infra/x.yaml", "infra", "infra")).empty());
  // Another generation has no serviceAccountName.
  auto legacy = release::Spec(YAML::Load("apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nspec: {serviceAccountName: x}\n"));
  CHECK(legacy.service_account_name().empty());
  // The headers, and the gate: CR/LF or a system: identity never becomes a header.
  kube::Impersonation ok{"system:serviceaccount:team-a:deployer", {"tenants"}};
  CHECK(ok.problem().empty());
  REQUIRE(ok.headers().size() == 2);
  CHECK(ok.headers()[0] == std::make_pair(std::string("Impersonate-User"), ok.user));
  CHECK(ok.headers()[1] == std::make_pair(std::string("Impersonate-Group"), std::string("tenants")));
  CHECK(kube::Impersonation{}.headers().empty());
  CHECK_FALSE(kube::Impersonation{"a\r\nb", {}}.problem().empty());
  CHECK_FALSE(kube::Impersonation{"system:serviceaccount:Team:x", {}}.problem().empty());
  CHECK_FALSE(kube::Impersonation{"alice", {"system:masters"}}.problem().empty());
  CHECK_FALSE(kube::Impersonation{"", {"g"}}.problem().empty());
  CHECK(kube::Impersonation{"alice@example.com", {"system:serviceaccounts:team-a"}}.problem().empty());
}

TEST_CASE("ownership: placement of a release", "[unit][engine]") {
  auto R = rules();
  CHECK(engine::placement_problem(R, hr("clusters/dev/team-a/app.yaml", "team-a", "team-a")).empty());
  auto target = engine::placement_problem(R, hr("clusters/dev/team-a/app.yaml", "team-a", "kube-system"));
  CHECK(target.find("target namespace kube-system") != std::string::npos);
  CHECK(target.find(".helmgate/owners.yaml:2") != std::string::npos);
  // The HelmRelease's own namespace counts too: its service account is impersonated there.
  CHECK(engine::placement_problem(R, hr("clusters/dev/team-a/app.yaml", "flux-system", "team-a")).find("HelmRelease's namespace") !=
        std::string::npos);
  auto prod = hr("clusters/prod/team-a/app.yaml", "team-a", "team-a");
  prod.cluster = "prod";
  CHECK(engine::placement_problem(R, prod).find("cluster prod") != std::string::npos);
  CHECK(engine::placement_problem(R, hr("clusters/dev/team-b/app.yaml", "anywhere", "anywhere")).empty());
}

TEST_CASE("ownership: the policy verdict of a change", "[unit][engine]") {
  engine::PolicyFacts f;
  f.rules = rules();
  f.changed_paths = {"clusters/dev/team-a/app.yaml", "clusters/dev/team-a/values.yaml", "README.md"};

  auto v = engine::evaluate_policy(f, "mallory", {}, teams);
  REQUIRE(v.ok());
  CHECK(v->applies);
  CHECK(v->state == engine::PolicyVerdict::State::pending);
  REQUIRE(v->owners.size() == 1);
  CHECK(v->owners[0].path_count == 2);
  CHECK(v->description().find("waiting for approval by the owners: alice, acme/team-a") != std::string::npos);
  CHECK(v->markdown().find("**waiting for approval**") != std::string::npos);

  // An approval by someone outside the team counts for nothing; by a user of the team or a member of its
  // forge team it does; the author's own never.
  CHECK(engine::evaluate_policy(f, "mallory", {"bob"}, teams)->state == engine::PolicyVerdict::State::pending);
  CHECK(engine::evaluate_policy(f, "mallory", {"Alice"}, teams)->state == engine::PolicyVerdict::State::success);
  CHECK(engine::evaluate_policy(f, "mallory", {"carol"}, teams)->state == engine::PolicyVerdict::State::success);
  CHECK(engine::evaluate_policy(f, "alice", {"alice"}, teams)->state == engine::PolicyVerdict::State::success);  // owns it
  CHECK(engine::evaluate_policy(f, "carol", {}, teams)->state == engine::PolicyVerdict::State::success);

  // A release aimed where its team may not deploy blocks, approvals or not.
  auto bad = hr("clusters/dev/team-a/app.yaml", "team-a", "kube-system");
  f.releases.push_back({bad.id(), "dev", bad.where.file, bad.namespace_, bad.target_namespace, 3, engine::placement_problem(f.rules, bad)});
  auto blocked = engine::evaluate_policy(f, "mallory", {"alice"}, teams);
  CHECK(blocked->state == engine::PolicyVerdict::State::failure);
  CHECK(blocked->markdown().find("**blocking**") != std::string::npos);
  CHECK(blocked->description().find("blocked") != std::string::npos);

  // Rules that cannot be read block (fail closed); no rules: the policy does not apply.
  engine::PolicyFacts broken;
  broken.rules.error = ".helmgate/owners.yaml:3:5: ownership[0].team: is required";
  CHECK(engine::evaluate_policy(broken, "x", {}, teams)->state == engine::PolicyVerdict::State::failure);
  CHECK_FALSE(engine::evaluate_policy(engine::PolicyFacts{}, "x", {}, teams)->applies);
  // A forge that cannot tell team membership is an error, never an approval.
  auto err = engine::evaluate_policy(f, "mallory", {"dave"}, [](const std::string&, const std::string&) -> core::Result<bool> {
    return core::Error(core::errc::unavailable, "forge down");
  });
  CHECK_FALSE(err.ok());
}
