// helm acts as the tenant through --kube-as-user/--kube-as-group: an identity that breaks the rules is
// refused before any helm run (the binary here does not even exist), so it never reaches argv.
#include <catch2/catch.hpp>

#include "apply/helm.hpp"

using namespace helmgate;

TEST_CASE("helm: an identity with CR/LF, an option or a system: identity never reaches helm's argv", "[unit][apply]") {
  apply::HelmEnv env;
  env.helm = "/nonexistent/helm";
  env.kubeconfig = "/nonexistent/kubeconfig";
  env.cluster = "dev";
  env.work_dir = "/tmp/hg-helm-identity-test";
  for (const auto& [user, group] : std::vector<std::pair<std::string, std::string>>{
           {"evil\nImpersonate-Group: system:masters", ""},
           {"--kubeconfig=/etc/x", ""},
           {"system:admin", ""},
           {"alice", "system:masters"},
           {"alice", "--all"},
       }) {
    env.as_user = user;
    env.as_groups = group.empty() ? std::vector<std::string>{} : std::vector<std::string>{group};
    auto r = apply::run_helm(env, {"list"}, "helm list");
    INFO(user << " / " << group);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("refused") != std::string::npos);
    CHECK(r.error().message.find('\n') == std::string::npos);
  }
}
