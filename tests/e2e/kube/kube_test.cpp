// The REST client, discovery, server-side dry-run and validation against the test environment's real
// kube-apiservers (no mocks). Needs `eval "$(scripts/testenv env)"`.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "kube/client.hpp"
#include "kube/kubeconfig.hpp"
#include "engine/validate.hpp"
#include "support/support.hpp"

using namespace helmgate;
namespace fs = std::filesystem;

namespace {

std::string unique(const std::string& stem) { return stem + "-" + std::to_string(::getpid()) + "-" + std::to_string(::time(nullptr) % 100000); }

kube::Kubeconfig admin(const char* cluster = "DEV") {
  auto kc = kube::load_kubeconfig_file(test::require_env((std::string("HELMGATE_TEST_KUBECONFIG_") + cluster).c_str()));
  REQUIRE(kc.ok());
  return *kc;
}

kube::Kubeconfig restricted() {
  auto kc = kube::load_kubeconfig_file(test::require_env("HELMGATE_TEST_KUBECONFIG_DEV_RESTRICTED"));
  REQUIRE(kc.ok());
  return *kc;
}

std::string configmap(const std::string& ns, const std::string& name, const std::string& value) {
  std::string out = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n";
  if (!ns.empty()) out += "  namespace: " + ns + "\n";
  return out + "data:\n  key: \"" + value + "\"\n";
}

bool has_finding(const engine::ClusterValidation& v, engine::Severity s, const std::string& check,
                 const std::string& needle) {
  for (const auto& f : v.findings) {
    if (f.severity == s && f.check == check && f.message.find(needle) != std::string::npos) return true;
  }
  return false;
}

std::string dump(const engine::ClusterValidation& v) { return engine::to_json(v, "dev"); }

}  // namespace

TEST_CASE("kubeconfig: token + CA data, client certificate files, exec plugins refused", "[e2e]") {
  std::string version = "v" + test::require_env("HELMGATE_TEST_KUBE_VERSION");
  kube::Client c("dev", admin());
  auto v = c.server_version();
  REQUIRE(v.ok());
  CHECK(*v == version);

  // Client certificate and CA as files, relative to the kubeconfig's directory.
  fs::path dir = fs::temp_directory_path() / unique("hg-kc");
  fs::create_directories(dir);
  fs::copy_file(test::require_env("HELMGATE_TEST_KUBE_CA"), dir / "ca.crt");
  fs::copy_file(test::require_env("HELMGATE_TEST_KUBE_CLIENT_CERT"), dir / "client.crt");
  fs::copy_file(test::require_env("HELMGATE_TEST_KUBE_CLIENT_KEY"), dir / "client.key");
  std::string server = test::require_env("HELMGATE_TEST_KUBE_SERVER_DEV");
  std::ofstream(dir / "config") << "apiVersion: v1\nkind: Config\ncurrent-context: cert\nclusters:\n- name: dev\n  cluster:\n"
                                   "    server: " << server << "\n    certificate-authority: ca.crt\n"
                                   "users:\n- name: cert\n  user:\n    client-certificate: client.crt\n    client-key: client.key\n"
                                   "contexts:\n- name: cert\n  context: {cluster: dev, user: cert}\n";
  auto cert_kc = kube::load_kubeconfig_file((dir / "config").string());
  REQUIRE(cert_kc.ok());
  CHECK(cert_kc->token.empty());
  kube::Client cert("dev", *cert_kc);
  auto ns = cert.get({"v1", "Namespace", "", "kube-system"});
  INFO((ns.ok() ? "" : ns.error().message));
  REQUIRE(ns.ok());
  CHECK(ns->has_value());

  // Without the CA the server's certificate is not trusted; insecure-skip-tls-verify accepts it.
  auto untrusted = *cert_kc;
  untrusted.ca_pem.clear();
  kube::Client bad("dev", untrusted);
  auto refused = bad.server_version();
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("TLS handshake") != std::string::npos);
  untrusted.insecure_skip_tls_verify = true;
  kube::Client insecure("dev", untrusted);
  CHECK(insecure.server_version().ok());

  std::string exec_kc = "apiVersion: v1\nkind: Config\ncurrent-context: x\nclusters:\n- name: c\n  cluster: {server: " + server +
                        "}\nusers:\n- name: u\n  user:\n    exec: {command: aws, apiVersion: client.authentication.k8s.io/v1}\n"
                        "contexts:\n- name: x\n  context: {cluster: c, user: u}\n";
  auto e = kube::load_kubeconfig_text(exec_kc, "$KC");
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().message.find("exec credential plugin") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("client: keep-alive pool, a wrong token is 401 without leaking it, unreachable server", "[e2e]") {
  kube::Client c("dev", admin());
  for (int i = 0; i < 20; ++i) REQUIRE(c.get({"v1", "Namespace", "", "default"}).ok());
  CHECK(c.connections_opened() == 1);

  auto kc = admin();
  kc.token = "not-a-valid-token-s3cr3t";
  kube::Client wrong("dev", kc);
  auto r = wrong.get({"v1", "Namespace", "", "default"});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == core::make_error_code(core::errc::unauthorized));
  CHECK(r.error().message.find("s3cr3t") == std::string::npos);

  kc = admin();
  kc.server = "https://127.0.0.1:1";
  kube::Client down("dev", kc);
  auto d = down.server_version();
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().code == core::make_error_code(core::errc::unavailable));
  CHECK(d.error().message.find("connect") != std::string::npos);
}

TEST_CASE("discovery and dry-run: 422 invalid, 403 forbidden, missing CRD - dry-run persists nothing", "[e2e]") {
  kube::Client c("dev", admin());
  auto dep = c.resource_type("apps/v1", "Deployment");
  REQUIRE(dep.ok());
  CHECK(dep->plural == "deployments");
  CHECK(dep->namespaced);
  auto ns_type = c.resource_type("v1", "Namespace");
  REQUIRE(ns_type.ok());
  CHECK_FALSE(ns_type->namespaced);
  auto widget = c.resource_type("example.helmgate.io/v1", "Widget");
  REQUIRE_FALSE(widget.ok());
  CHECK(widget.error().code == core::make_error_code(core::errc::not_found));
  CHECK(widget.error().message.find("CustomResourceDefinition") != std::string::npos);

  std::string name = unique("dry");
  auto ok = c.apply({"v1", "ConfigMap", "default", name}, configmap("default", name, "v"), {});
  INFO((ok.ok() ? "" : ok.error().message));
  REQUIRE(ok.ok());
  CHECK(ok->find("\"managedFields\"") != std::string::npos);
  auto after = c.get({"v1", "ConfigMap", "default", name});
  REQUIRE(after.ok());
  CHECK_FALSE(after->has_value());

  std::string svc = "apiVersion: v1\nkind: Service\nmetadata: {name: " + name + ", namespace: default}\n"
                    "spec:\n  ports:\n  - port: 99999\n";
  auto invalid = c.apply({"v1", "Service", "default", name}, svc, {});
  REQUIRE_FALSE(invalid.ok());
  CHECK(invalid.error().message.find("422 Invalid") != std::string::npos);
  CHECK(invalid.error().message.find("99999") != std::string::npos);

  kube::Client r("dev", restricted());
  auto denied = r.apply({"v1", "ConfigMap", "default", name}, configmap("default", name, "v"), {});
  REQUIRE_FALSE(denied.ok());
  CHECK(denied.error().code == core::make_error_code(core::errc::forbidden));
  CHECK(denied.error().message.find("403 Forbidden") != std::string::npos);
  auto allowed = r.apply({"v1", "ConfigMap", "team-a", name}, configmap("team-a", name, "v"), {});
  INFO((allowed.ok() ? "" : allowed.error().message));
  CHECK(allowed.ok());
}

TEST_CASE("validate_cluster: findings per release, namespaces and CRDs first, live diff", "[e2e]") {
  kube::Client c("dev", admin());
  std::string ns = unique("val");
  std::string cm = unique("cm");
  // The live state the diff compares with: a namespace and a ConfigMap applied for real.
  kube::ApplyOptions real;
  real.dry_run = false;
  REQUIRE(c.apply({"v1", "Namespace", "", ns}, "apiVersion: v1\nkind: Namespace\nmetadata: {name: " + ns + "}\n", real).ok());
  // Installed by helm as release "app": the live diff reads only objects the release owns.
  kube::ApplyOptions as_helm = real;
  as_helm.field_manager = "helm";
  std::string owned = configmap(ns, cm, "old");
  owned.replace(owned.find("\ndata:") + 1, 0,
                "  labels: {app.kubernetes.io/managed-by: Helm}\n  annotations: {meta.helm.sh/release-name: app, "
                "meta.helm.sh/release-namespace: " + ns + "}\n");
  auto installed = c.apply({"v1", "ConfigMap", ns, cm}, owned, as_helm);
  INFO(owned << (installed.ok() ? "" : installed.error().message));
  REQUIRE(installed.ok());

  std::string crd = R"(apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.helmgate.io}
spec:
  group: example.helmgate.io
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget, listKind: GadgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
)";
  std::vector<engine::RenderedRelease> rels = {
      {"dev/flux-system/app", "app", ns,
       configmap("", cm, "new") + "---\napiVersion: v1\nkind: Service\nmetadata: {name: bad-port}\nspec:\n  ports:\n  - port: 99999\n"
       "---\napiVersion: example.helmgate.io/v1\nkind: Widget\nmetadata: {name: w}\n"
       "---\napiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: old}\n",
       false, true},
      {"dev/flux-system/dup", "dup", ns, configmap(ns, cm, "other") + "---\nkind: ConfigMap\nmetadata: {name: noversion}\n", false},
      {"dev/flux-system/crds", "crds", "fresh-" + ns,
       crd + "---\napiVersion: example.helmgate.io/v1\nkind: Gadget\nmetadata: {name: g}\n"
       "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: fresh-" + ns + "}\n"
       "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: in-fresh}\ndata: {a: b}\n",
       false},
      {"dev/flux-system/broken", "broken", ns, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [unclosed\n", false},
  };
  engine::ValidateOptions o;
  o.cluster = "dev";
  o.kube_version = test::require_env("HELMGATE_TEST_KUBE_VERSION");
  auto v = engine::validate_cluster(&c, rels, o);
  INFO(dump(v));
  CHECK(v.has_errors());
  CHECK(has_finding(v, engine::Severity::error, "dry-run", "99999"));
  CHECK(has_finding(v, engine::Severity::error, "missing-crd", "Widget"));
  CHECK(has_finding(v, engine::Severity::info, "missing-crd", "part of this change"));
  CHECK(has_finding(v, engine::Severity::info, "namespace", "created by this change"));
  CHECK(has_finding(v, engine::Severity::error, "removed-api", "removed in Kubernetes 1.22"));
  CHECK(has_finding(v, engine::Severity::error, "duplicate", "dev/flux-system/app"));
  CHECK(has_finding(v, engine::Severity::error, "required-fields", "apiVersion"));
  CHECK(has_finding(v, engine::Severity::error, "parse", "line"));
  // The ConfigMap that exists: live "old" vs "new" after the change.
  REQUIRE(v.live_diffs.count("dev/flux-system/app") == 1);
  bool saw = false;
  for (const auto& d : v.live_diffs["dev/flux-system/app"]) {
    if (d.kind == "ConfigMap" && d.name == cm) {
      saw = true;
      CHECK(d.diff.find("-  key: old") != std::string::npos);
      CHECK(d.diff.find("+  key: new") != std::string::npos);
      // The sides are the cluster now and the change's head (issue 11: not "base").
      CHECK(d.diff.rfind("--- live/core/ConfigMap/", 0) == 0);
      CHECK(d.diff.find("\n+++ head/core/ConfigMap/") != std::string::npos);
    }
  }
  CHECK(saw);
  CHECK(engine::to_markdown(v, "dev").find("Live diff") != std::string::npos);

  // The restricted identity: its release outside team-a is refused by RBAC, inside it passes.
  kube::Client r("dev", restricted());
  std::vector<engine::RenderedRelease> team = {
      {"dev/team/outside", "outside", "default", configmap("", unique("x"), "v"), false},
      {"dev/team/inside", "inside", "team-a", configmap("", unique("y"), "v"), false},
  };
  auto rv = engine::validate_cluster(&r, team, o);
  INFO(dump(rv));
  size_t errors_inside = 0, forbidden_outside = 0;
  for (const auto& f : rv.findings) {
    if (f.release == "dev/team/inside" && f.severity == engine::Severity::error) ++errors_inside;
    if (f.release == "dev/team/outside" && f.message.find("403 Forbidden") != std::string::npos) ++forbidden_outside;
  }
  CHECK(errors_inside == 0);
  CHECK(forbidden_outside == 1);
}

TEST_CASE("api lifecycle: kube_minor and the removed/deprecated table", "[e2e]") {
  CHECK(engine::kube_minor("1.35.8") == 35);
  CHECK(engine::kube_minor("v1.25.0-rc.1") == 25);
  CHECK(engine::kube_minor("2.0") == -1);
  engine::ValidateOptions o;
  o.cluster = "old";
  o.kube_version = "1.24.0";
  auto f = engine::validate_offline(
      {{"old/x/y", "y", "ns", "apiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {name: c}\n", false}}, o);
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == engine::Severity::warning);
  CHECK(f[0].check == "deprecated-api");
}
