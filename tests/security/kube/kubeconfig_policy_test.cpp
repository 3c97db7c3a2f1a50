// Kubeconfig hygiene: the credential never goes over http://, insecure-skip-tls-verify only when the
// cluster's configuration says allow_insecure_tls; the preview credential is its own configuration key and
// previews never fall back to the deploy credential.
#include <catch2/catch.hpp>

#include "config/config.hpp"
#include "kube/client.hpp"
#include "kube/kubeconfig.hpp"
#include "engine/cluster.hpp"

using namespace helmgate;

namespace {

const std::string kToken = "canary-token-7f3a9c";

std::string kubeconfig(const std::string& server, const std::string& extra = "") {
  return "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: " + server + "\n" + extra +
         "users:\n- name: u\n  user:\n    token: " + kToken +
         "\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n";
}

std::string error_of(const core::Result<kube::Kubeconfig>& r) { return r.ok() ? std::string() : r.error().message; }

}  // namespace

TEST_CASE("kubeconfig: an http:// server is refused, the token never leaves in clear text", "[security]") {
  auto r = kube::load_kubeconfig_text(kubeconfig("http://127.0.0.1:8080"), "$KC");
  REQUIRE_FALSE(r.ok());
  CHECK(error_of(r).find("http://") != std::string::npos);
  CHECK(error_of(r).find("clear text") != std::string::npos);
  CHECK(error_of(r).find("$KC") != std::string::npos);
  CHECK(error_of(r).find(kToken) == std::string::npos);
  // Not even allow_insecure_tls lets http:// through.
  CHECK_FALSE(kube::load_kubeconfig_text(kubeconfig("http://127.0.0.1:8080"), "$KC", ".", {}, {true}).ok());
  CHECK_FALSE(kube::load_kubeconfig_text(kubeconfig("HTTP://127.0.0.1:8080"), "$KC").ok());
  CHECK_FALSE(kube::load_kubeconfig_text(kubeconfig("127.0.0.1:8080"), "$KC").ok());
  // Credentials in the URL are refused and not echoed.
  auto userinfo = kube::load_kubeconfig_text(kubeconfig("https://admin:hunter2@127.0.0.1:6443"), "$KC");
  REQUIRE_FALSE(userinfo.ok());
  CHECK(error_of(userinfo).find("hunter2") == std::string::npos);
  CHECK(kube::load_kubeconfig_text(kubeconfig("https://127.0.0.1:6443"), "$KC").ok());

  // A Kubeconfig built by hand with an http:// server: the client refuses to connect, nothing is sent.
  kube::Kubeconfig kc;
  kc.source = "test";
  kc.server = "http://127.0.0.1:1";
  kc.token = kToken;
  kube::Client client("dev", kc);
  auto v = client.server_version();
  REQUIRE_FALSE(v.ok());
  CHECK(v.error().message.find("clear text") != std::string::npos);
  CHECK(client.connections_opened() == 0);
}

TEST_CASE("kubeconfig: insecure-skip-tls-verify is refused unless allow_insecure_tls", "[security]") {
  const std::string text = kubeconfig("https://127.0.0.1:6443", "    insecure-skip-tls-verify: true\n");
  auto refused = kube::load_kubeconfig_text(text, "$KC");
  REQUIRE_FALSE(refused.ok());
  CHECK(error_of(refused).find("insecure-skip-tls-verify") != std::string::npos);
  CHECK(error_of(refused).find("allow_insecure_tls") != std::string::npos);
  CHECK(error_of(refused).find(kToken) == std::string::npos);

  kube::KubeconfigPolicy allow;
  allow.allow_insecure_tls = true;
  auto allowed = kube::load_kubeconfig_text(text, "$KC", ".", {}, allow);
  REQUIRE(allowed.ok());
  CHECK(allowed->insecure_skip_tls_verify);

  // false is fine either way; anything but true/false is refused rather than guessed.
  CHECK(kube::load_kubeconfig_text(kubeconfig("https://h:1", "    insecure-skip-tls-verify: false\n"), "$KC").ok());
  CHECK_FALSE(kube::load_kubeconfig_text(kubeconfig("https://h:1", "    insecure-skip-tls-verify: yes\n"), "$KC", ".", {},
                                         allow).ok());
}

TEST_CASE("config: preview credential and allow_insecure_tls keys, strictly parsed", "[security]") {
  const std::string head =
      "forges: [{kind: github, webhook_secret_env: S}]\nrepos:\n  - name: a/b\n    forge: github\n    clusters:\n";
  auto cfg = config::load_string(head +
                                 "      - {name: dev, kubeconfig: /k/dev, preview_kubeconfig: /k/dev-preview}\n"
                                 "      - {name: prod, kubeconfig_env: PROD_KC, preview_kubeconfig_env: PROD_PREVIEW_KC, "
                                 "allow_insecure_tls: true}\n"
                                 "      - {name: qa, kubeconfig: /k/qa}\n");
  const auto& cs = cfg.repos[0].clusters;
  REQUIRE(cs.size() == 3);
  CHECK(cs[0].preview_kubeconfig == "/k/dev-preview");
  CHECK_FALSE(cs[0].allow_insecure_tls);
  CHECK(cs[1].preview_kubeconfig_env == "PROD_PREVIEW_KC");
  CHECK(cs[1].allow_insecure_tls);
  CHECK(engine::has_credential(cs[0], engine::Credential::preview));
  CHECK(engine::has_credential(cs[1], engine::Credential::preview));
  CHECK_FALSE(engine::has_credential(cs[2], engine::Credential::preview));
  CHECK(engine::has_credential(cs[2], engine::Credential::deploy));

  // No fallback: a cluster without a preview credential has none to load (previews run offline).
  auto none = engine::load_cluster_kubeconfig(cs[2], engine::Credential::preview);
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message.find("preview_kubeconfig") != std::string::npos);

  // Warnings logged at start: insecure TLS allowed (prod), no preview credential (qa).
  auto warnings = engine::cluster_credential_warnings(cfg);
  std::string all;
  for (const auto& w : warnings) all += w + "\n";
  CHECK(all.find("cluster prod: allow_insecure_tls is true") != std::string::npos);
  CHECK(all.find("cluster qa: no preview_kubeconfig") != std::string::npos);
  CHECK(all.find("cluster dev") == std::string::npos);

  auto error_of_cfg = [&](const std::string& y) {
    try {
      config::load_string(head + y);
    } catch (const config::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  for (const char* bad : {"yes", "on", "1", "[true]"}) {
    INFO(bad);
    CHECK(error_of_cfg(std::string("      - {name: dev, allow_insecure_tls: ") + bad + "}\n")
              .find("allow_insecure_tls: must be true or false") != std::string::npos);
  }
  CHECK(error_of_cfg("      - {name: dev, preview_kubeconfig_env: \"not a name\"}\n")
            .find("preview_kubeconfig_env: must be an environment variable name") != std::string::npos);
  CHECK(error_of_cfg("      - {name: dev, preview_kubeconfig: /a, preview_kubeconfig_env: B}\n").find("not both") !=
        std::string::npos);
  CHECK(error_of_cfg("      - {name: dev, preview_kubeconfg: /a}\n").find("unknown key") != std::string::npos);
}

TEST_CASE("cluster credentials: the TLS policy of the cluster applies to both kubeconfigs", "[security]") {
  config::Cluster c;
  c.name = "dev";
  c.preview_kubeconfig_env = "HELMGATE_SECURITY_TEST_PREVIEW_KC";
  c.kubeconfig_env = "HELMGATE_SECURITY_TEST_DEPLOY_KC";
  const std::string text = kubeconfig("https://127.0.0.1:6443", "    insecure-skip-tls-verify: true\n");
  ::setenv("HELMGATE_SECURITY_TEST_PREVIEW_KC", text.c_str(), 1);
  ::setenv("HELMGATE_SECURITY_TEST_DEPLOY_KC", kubeconfig("http://127.0.0.1:8080").c_str(), 1);
  auto p = engine::load_cluster_kubeconfig(c, engine::Credential::preview);
  REQUIRE_FALSE(p.ok());
  CHECK(p.error().message.find("insecure-skip-tls-verify") != std::string::npos);
  c.allow_insecure_tls = true;
  CHECK(engine::load_cluster_kubeconfig(c, engine::Credential::preview).ok());
  auto d = engine::load_cluster_kubeconfig(c, engine::Credential::deploy);
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().message.find("http://") != std::string::npos);
  ::unsetenv("HELMGATE_SECURITY_TEST_PREVIEW_KC");
  ::unsetenv("HELMGATE_SECURITY_TEST_DEPLOY_KC");
}
