// Dry-runs and applies act as the tenant (issue 14, part 2), against the test environment's real
// kube-apiservers: a service account with a RoleBinding in its own namespace; the preview credential
// (helmgate-preview, read and dry-run only) impersonates it for dry-runs, the deploy credential for helm.
// Every test makes its own namespaces, RBAC objects, quota and admission policy (unique names).
// Needs `eval "$(scripts/testenv env)"`.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "config/config.hpp"
#include "engine/cluster_validation.hpp"
#include "git/repository.hpp"
#include "kube/client.hpp"
#include "runners/apply_runner.hpp"
#include "support/apply_job.hpp"
#include "support/support.hpp"
#include "support/temp_repo.hpp"

using namespace helmgate;
namespace fs = std::filesystem;

namespace {

const std::string kRun = std::to_string(::getpid()) + "x" + std::to_string(::time(nullptr) % 100000);
const std::string kTenant = "tn-" + kRun;         // the tenant's namespace
const std::string kOther = "tn-other-" + kRun;    // someone else's
const std::string kPolicy = "hg-tenancy-" + kRun;  // a ValidatingAdmissionPolicy of this run
const std::string kSa = "system:serviceaccount:" + kTenant + ":deployer";

kube::Kubeconfig kubeconfig(const char* var) {
  auto kc = kube::load_kubeconfig_file(test::require_env(var));
  REQUIRE(kc.ok());
  return *kc;
}

kube::Client& admin() {
  static kube::Client c("dev", kubeconfig("HELMGATE_TEST_KUBECONFIG_DEV"));
  return c;
}

// Server-side apply of every object of yaml as the admin (real, not dry-run).
void apply_admin(const std::string& yaml) {
  auto objs = kube::split_manifest(yaml, "test setup");
  REQUIRE(objs.ok());
  for (const auto& o : *objs) {
    kube::ApplyOptions ao;
    ao.dry_run = false;
    ao.field_manager = "helmgate-tenancy-test";
    auto r = admin().apply(o.ref, o.yaml, ao);
    INFO(o.ref.describe() << ": " << (r.ok() ? "" : r.error().message));
    REQUIRE(r.ok());
  }
}

std::string configmap(const std::string& ns, const std::string& name, const std::string& labels = "") {
  return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n  namespace: " + ns + "\n" + labels +
         "data:\n  key: value\n";
}

// The tenant: namespace, service account, a Role for everything in its namespace bound to it; the preview
// identity may impersonate the service accounts of this namespace (a RoleBinding, as scripts/testenv seeds
// for team-a). A quota of no Services, a LimitRange of at most 1 CPU per container, and an admission policy
// that refuses ConfigMaps labelled forbidden in this run's namespaces.
void setup_tenant() {
  static bool done = false;
  if (done) return;
  apply_admin("apiVersion: v1\nkind: Namespace\nmetadata: {name: " + kTenant + ", labels: {tenancy-test: \"" + kRun +
              "\"}}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: " + kOther + ", labels: {tenancy-test: \"" +
              kRun + "\"}}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: deployer, namespace: " + kTenant +
              "}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: tenant, namespace: " + kTenant +
              "}\nrules:\n- {apiGroups: [\"*\"], resources: [\"*\"], verbs: [\"*\"]}\n---\n"
              "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: tenant, namespace: " + kTenant +
              "}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: tenant}\nsubjects:\n"
              "- {kind: ServiceAccount, name: deployer, namespace: " + kTenant + "}\n---\n"
              "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: helmgate-impersonate-serviceaccounts}\n"
              "rules:\n- {apiGroups: [\"\"], resources: [serviceaccounts], verbs: [impersonate]}\n---\n"
              "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: helmgate-preview-impersonate, "
              "namespace: " + kTenant + "}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "
              "helmgate-impersonate-serviceaccounts}\nsubjects:\n- {apiGroup: rbac.authorization.k8s.io, kind: User, name: "
              "helmgate-preview}\n---\n"
              "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: no-services, namespace: " + kTenant +
              "}\nspec: {hard: {services: \"0\"}}\n---\n"
              "apiVersion: v1\nkind: LimitRange\nmetadata: {name: small, namespace: " + kTenant +
              "}\nspec:\n  limits:\n  - {type: Container, max: {cpu: \"1\"}}\n---\n"
              "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: " + kPolicy +
              "}\nspec:\n  failurePolicy: Fail\n  matchConstraints:\n    resourceRules:\n    - {apiGroups: [\"\"], apiVersions: [v1], "
              "operations: [CREATE, UPDATE], resources: [configmaps]}\n  validations:\n  - expression: \"!has(object.metadata.labels) "
              "|| !('forbidden' in object.metadata.labels)\"\n    message: \"tenancy policy " + kPolicy +
              ": ConfigMaps labelled forbidden are not allowed here\"\n---\n"
              "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {name: " + kPolicy +
              "}\nspec:\n  policyName: " + kPolicy + "\n  validationActions: [Deny]\n  matchResources:\n    namespaceSelector:\n"
              "      matchLabels: {tenancy-test: \"" + kRun + "\"}\n");
  // No controller computes quota usage here: the status is set through the subresource (as tests/e2e/testenv does).
  auto path = admin().object_path({"v1", "ResourceQuota", kTenant, "no-services"});
  REQUIRE(path.ok());
  auto st = admin().request("PATCH", *path + "/status", R"({"status":{"hard":{"services":"0"},"used":{"services":"0"}}})",
                            "application/merge-patch+json");
  REQUIRE(st.ok());
  REQUIRE(st->status == 200);
  // The policy is in force once the server loaded it: wait until a labelled ConfigMap is denied.
  kube::ApplyOptions dry;
  bool denied = false;
  for (int i = 0; i < 120 && !denied; ++i) {
    auto r = admin().apply({"v1", "ConfigMap", kTenant, "probe"}, configmap(kTenant, "probe", "  labels: {forbidden: \"yes\"}\n"), dry);
    denied = !r.ok() && r.error().message.find(kPolicy) != std::string::npos;
    if (!denied) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  REQUIRE(denied);
  done = true;
}

config::Cluster preview_cluster() {
  config::Cluster c;
  c.name = "dev";
  c.preview_kubeconfig = test::require_env("HELMGATE_TEST_KUBECONFIG_DEV_PREVIEW");
  c.kube_version = test::require_env("HELMGATE_TEST_KUBE_VERSION");
  return c;
}

bool has(const engine::ClusterValidation& v, const std::string& release, engine::Severity s, const std::string& check,
         const std::vector<std::string>& needles) {
  for (const auto& f : v.findings) {
    if (f.release != release || f.severity != s || f.check != check) continue;
    bool all = true;
    for (const auto& n : needles) all = all && f.message.find(n) != std::string::npos;
    if (all) return true;
  }
  return false;
}

size_t errors_of(const engine::ClusterValidation& v, const std::string& release) {
  return std::count_if(v.findings.begin(), v.findings.end(),
                       [&](const auto& f) { return f.release == release && f.severity == engine::Severity::error; });
}

}  // namespace

TEST_CASE("preview dry-runs as the tenant: RBAC 403, quota, LimitRange and admission policy in the findings", "[e2e]") {
  setup_tenant();
  const kube::Impersonation as = kube::service_account(kTenant, "deployer");
  REQUIRE(as.user == kSa);
  auto rel = [&](const std::string& name, const std::string& ns, const std::string& manifest, kube::Impersonation who) {
    return engine::RenderedRelease{"dev/" + kTenant + "/" + name, name, ns, manifest, false, false, who};
  };
  const std::string pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: big, namespace: " + kTenant +
                          "}\nspec:\n  containers:\n  - name: c\n    image: example.invalid/app:1\n    resources:\n"
                          "      limits: {cpu: \"2\"}\n";
  const std::string svc = "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: " + kTenant +
                          "}\nspec:\n  ports:\n  - {port: 80}\n";
  kube::Impersonation evil{"evil\r\nImpersonate-Group: system:masters", {}};
  std::vector<engine::RenderedRelease> releases = {
      rel("inside", kTenant, configmap(kTenant, "inside"), as),
      rel("outside", kOther, configmap(kOther, "outside"), as),
      rel("untenanted", kOther, configmap(kOther, "untenanted"), {}),
      rel("quota", kTenant, svc, as),
      rel("limits", kTenant, pod, as),
      rel("policy", kTenant, configmap(kTenant, "labelled", "  labels: {forbidden: \"yes\"}\n"), as),
      rel("badid", kTenant, configmap(kTenant, "badid"), evil),
  };
  diff::Redactor redactor;
  auto v = engine::validate_on_cluster(preview_cluster(), releases, redactor, std::chrono::seconds(20));
  REQUIRE(v.ok());
  INFO(engine::to_json(*v, "dev"));
  const std::string id = "dev/" + kTenant + "/";

  // Inside its namespace the tenant's dry-run passes, and the preview says whom it acted as.
  CHECK(errors_of(*v, id + "inside") == 0);
  CHECK(has(*v, id + "inside", engine::Severity::info, "impersonation", {"dry-run as user " + kSa}));
  // Outside it: the API server's own 403, naming the impersonated service account.
  CHECK(has(*v, id + "outside", engine::Severity::error, "dry-run", {"403 Forbidden", "is forbidden", "User \"" + kSa + "\"", kOther}));
  // The preview credential itself may dry-run there: the 403 above is the tenant's, not the preview's.
  CHECK(errors_of(*v, id + "untenanted") == 0);
  // ResourceQuota, LimitRange and the admission policy answer the tenant's dry-run with their own messages.
  CHECK(has(*v, id + "quota", engine::Severity::error, "dry-run", {"exceeded quota: no-services"}));
  CHECK(has(*v, id + "limits", engine::Severity::error, "dry-run", {"maximum cpu usage per Container is 1"}));
  CHECK(has(*v, id + "policy", engine::Severity::error, "dry-run", {"tenancy policy " + kPolicy, "ConfigMaps labelled forbidden"}));
  // An identity with CR/LF never becomes a header: a finding, and nothing of that release was dry-run.
  CHECK(has(*v, id + "badid", engine::Severity::error, "impersonation", {"not dry-run", "carriage return"}));
  CHECK_FALSE(has(*v, id + "badid", engine::Severity::error, "dry-run", {}));

  // The preview comment's section: the server's message, escaped like every other API text.
  std::string md = engine::to_markdown(*v, "dev");
  CHECK(md.find("403 Forbidden") != std::string::npos);
  CHECK(md.find("exceeded quota") != std::string::npos);
  CHECK(md.find("\r\nImpersonate-Group") == std::string::npos);
}

TEST_CASE("the client refuses an impersonation header that breaks the name rules", "[e2e]") {
  kube::ApplyOptions ao;
  ao.impersonate = {"system:serviceaccount:" + kTenant + ":deployer", {"system:masters"}};
  auto r = admin().apply({"v1", "ConfigMap", kTenant, "never"}, configmap(kTenant, "never"), ao);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("refusing to impersonate") != std::string::npos);
  CHECK(r.error().message.find("system: identities") != std::string::npos);
}

namespace {

const std::string kRepoUrl = "https://git.example.invalid/platform/fleet.git";

struct Repo {
  fs::path dir = fs::temp_directory_path() / ("hg-tenancy-" + kRun);
  Repo() {
    fs::remove_all(dir);
    fs::create_directories(dir / "charts/cm/templates");
    test::run_git(dir, {"init", "-q", "-b", "main"});
    std::ofstream(dir / "charts/cm/Chart.yaml") << "apiVersion: v2\nname: cm\nversion: 0.1.0\n";
    std::ofstream(dir / "charts/cm/templates/cm.yaml")
        << "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\ndata:\n  who: {{ .Values.who | quote }}\n";
  }
  ~Repo() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  // A Flux v2 HelmRelease in namespace ns (target tns when set), acting as sa when set.
  void release(const std::string& name, const std::string& ns, const std::string& tns, const std::string& sa) const {
    fs::create_directories(dir / "clusters/dev");
    std::ofstream(dir / ("clusters/dev/" + name + ".yaml"), std::ios::trunc)
        << "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: " << name << "\n  namespace: " << ns
        << "\nspec:\n" << (tns.empty() ? "" : "  targetNamespace: " + tns + "\n")
        << (sa.empty() ? "" : "  serviceAccountName: " + sa + "\n")
        << "  chart:\n    spec:\n      chart: charts/cm\n      sourceRef: {kind: GitRepository, name: flux-system}\n"
        << "  values: {who: " << name << "}\n";
  }
  std::string commit(const std::string& msg) const {
    test::run_git(dir, {"add", "-A"});
    test::run_git(dir, {"commit", "-q", "-m", msg});
    return git::Repository::open(dir.string())->resolve("HEAD").value();
  }
};

}  // namespace

TEST_CASE("apply acts as the HelmRelease's serviceAccountName: inside its namespace installed, outside 403, the rest applies", "[e2e]") {
  setup_tenant();
  Repo repo;
  repo.release("inside", kTenant, "", "deployer");
  repo.release("outside", kTenant, kOther, "deployer");  // the tenant's service account, aimed at another namespace
  repo.release("plain", kOther, "", "");                 // no serviceAccountName: the deploy credential itself
  const std::string c1 = repo.commit("three releases");
  auto cfg = config::load_string(
      "redis: {url: \"" + test::require_env("HELMGATE_TEST_REDIS_URL") + "\"}\nqueue: {key_prefix: hgtn" + kRun +
      "}\nforges:\n- {name: gitea, kind: gitea, api_url: \"http://127.0.0.1:1\", webhook_secret_env: HG_UNUSED}\n"
      "repos:\n- name: platform/fleet\n  url: " + kRepoUrl + "\n  forge: gitea\n  clusters:\n"
      "  - {name: dev, paths: [clusters/dev], kubeconfig: \"" + test::require_env("HELMGATE_TEST_KUBECONFIG_DEV") +
      "\", kube_version: \"" + test::require_env("HELMGATE_TEST_KUBE_VERSION") + "\"}\n");
  runners::ApplyRunnerOptions opt;
  opt.cache_root = (fs::temp_directory_path() / ("hg-tenancy-cache-" + kRun)).string();
  auto runner = runners::make_apply_runner(cfg, opt);
  auto run = test::run_apply_job(runner, repo.dir.string(), std::string(40, '0'), c1);
  auto rel = run.releases();
  std::string all;
  for (const auto& l : run.log) all += l + "\n";
  INFO(all);
  CHECK(rel["inside"] == "installed");
  CHECK(rel[kOther + "-outside"] == "failed");
  CHECK(rel["plain"] == "installed");
  // The failed release says why, with the API server's 403 for the impersonated service account.
  std::string reason;
  for (const auto& c : run.result.clusters) {
    for (const auto& r : c.releases) {
      if (r.release_name == kOther + "-outside") reason = r.reason;
    }
  }
  CHECK(reason.find("forbidden") != std::string::npos);
  CHECK(reason.find(kSa) != std::string::npos);
  // What landed: the tenant's ConfigMap in its namespace, nothing of the refused release.
  auto live = admin().get({"v1", "ConfigMap", kTenant, "inside-cm"});
  REQUIRE(live.ok());
  CHECK(live->has_value());
  auto refused = admin().get({"v1", "ConfigMap", kOther, kOther + "-outside-cm"});
  REQUIRE(refused.ok());
  CHECK_FALSE(refused->has_value());
  std::error_code ec;
  fs::remove_all(opt.cache_root, ec);
}
