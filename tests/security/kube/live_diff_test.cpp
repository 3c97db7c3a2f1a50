// The live diff reads only what the release owns, with the preview credential, against the test
// environment's real kube-apiservers (cluster dev): a foreign ConfigMap and Secret are "exists, not managed
// by this release" and nothing of them appears (no value, no marker, the same output for a right and a wrong
// guess); a helm-installed release's Secret shows key names and changed/unchanged only; the preview
// credential may dry-run and never write. Needs `eval "$(scripts/testenv env)"`.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/redact.hpp"
#include "security/kube/b64.hpp"
#include "diff/normalize.hpp"
#include "kube/client.hpp"
#include "kube/kubeconfig.hpp"
#include "process/process.hpp"
#include "engine/validate.hpp"
#include "support/support.hpp"

using namespace helmgate;
namespace fs = std::filesystem;

namespace {

std::string rand_hex(size_t n) {
  static std::mt19937_64 rng(std::random_device{}() ^ static_cast<uint64_t>(::getpid()));
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) s += hex[rng() % 16];
  return s;
}

kube::Kubeconfig load(const std::string& var) {
  auto kc = kube::load_kubeconfig_file(test::require_env(var.c_str()));
  INFO(var << ": " << (kc.ok() ? "" : kc.error().message));
  REQUIRE(kc.ok());
  return *kc;
}

kube::Kubeconfig admin() { return load("HELMGATE_TEST_KUBECONFIG_DEV"); }
kube::Kubeconfig preview() { return load("HELMGATE_TEST_KUBECONFIG_DEV_PREVIEW"); }

using test::b64;

// Every form in which a value could leak: itself, base64 (also of the value without its last bytes, as
// base64 aligns), and helmgate's redaction marker.
void no_trace_of(const std::string& text, const std::string& value) {
  INFO("looking for " << value);
  CHECK(text.find(value) == std::string::npos);
  CHECK(text.find(b64(value)) == std::string::npos);
  CHECK(text.find(b64(value).substr(0, 12)) == std::string::npos);
  CHECK(text.find(core::secret_marker(value)) == std::string::npos);
}

std::string output(const engine::ClusterValidation& v) {
  return engine::to_json(v, "dev") + "\n" + engine::to_markdown(v, "dev");
}

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}

void apply_for_real(kube::Client& c, const kube::ObjectRef& ref, const std::string& yaml) {
  kube::ApplyOptions real;
  real.dry_run = false;
  auto r = c.apply(ref, yaml, real);
  INFO((r.ok() ? "" : r.error().message));
  REQUIRE(r.ok());
}

std::string helm(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {test::require_env("HELMGATE_HELM")};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--kubeconfig", test::require_env("HELMGATE_TEST_KUBECONFIG_DEV")});
  process::ProcessOptions po;
  po.env = {"HOME=" + fs::temp_directory_path().string(), "PATH=/usr/bin:/bin"};
  auto r = process::run_process(argv, po);
  REQUIRE(r.ok());
  INFO(r->err);
  REQUIRE(r->exit_code == 0);
  return r->out;
}

}  // namespace

TEST_CASE("live diff: a foreign ConfigMap and Secret are not shown, no canary, no marker, no oracle", "[security]") {
  kube::Client adm("dev", admin());
  const std::string ns = "other-team-" + rand_hex(8);
  const std::string cm_canary = "cm-canary-" + rand_hex(16);
  const std::string secret_canary = "secret-canary-" + rand_hex(16);
  apply_for_real(adm, {"v1", "Namespace", "", ns}, "apiVersion: v1\nkind: Namespace\nmetadata: {name: " + ns + "}\n");
  apply_for_real(adm, {"v1", "ConfigMap", ns, "settings"},
                 "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: " + ns +
                     "}\ndata:\n  endpoint: " + cm_canary + "\n  other: " + cm_canary + "-2\n");
  apply_for_real(adm, {"v1", "Secret", ns, "creds"},
                 "apiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: " + ns +
                     "}\nstringData:\n  password: " + secret_canary + "\n  api: " + secret_canary + "-api\n");
  // Helm-managed, but by another release: just as foreign.
  apply_for_real(adm, {"v1", "ConfigMap", ns, "theirs"},
                 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: theirs\n  namespace: " + ns +
                     "\n  labels: {app.kubernetes.io/managed-by: Helm}\n  annotations: {meta.helm.sh/release-name: "
                     "victim, meta.helm.sh/release-namespace: " + ns + "}\ndata: {token: " + cm_canary + "-3}\n");

  kube::Client prev("dev", preview());
  // declared_at_base: the hostile change edits a release the deploy branch has (its name is "grab").
  auto attack = [&](const std::string& guess, const std::string& release = "grab", bool declared_at_base = true) {
    // What a hostile pull request renders: the same names and namespace, its guess of the Secret value.
    std::string manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: " + ns +
                           "}\ndata: {endpoint: x}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: " +
                           ns + "}\nstringData: {password: " + guess + "}\n---\napiVersion: v1\nkind: ConfigMap\n"
                           "metadata: {name: theirs}\ndata: {token: y}\n";
    diff::Redactor redactor;  // as the preview pipeline: the PR's own Secret values are sensitive
    redactor.add_sensitive(guess);
    engine::ValidateOptions o;
    o.cluster = "dev";
    o.kube_version = test::require_env("HELMGATE_TEST_KUBE_VERSION");
    o.redactor = &redactor;
    std::vector<engine::RenderedRelease> rels = {{"dev/attacker/grab", release, ns, manifest, false, declared_at_base}};
    return engine::validate_cluster(&prev, rels, o);
  };
  auto right = attack(secret_canary);
  auto wrong = attack("wrong-guess-" + rand_hex(16));
  const std::string out_right = output(right), out_wrong = output(wrong);
  INFO(out_right);
  CHECK(count(out_right, "exists, not managed by this release") == 6);  // JSON and markdown, 3 objects each
  for (const auto& name : {"settings", "creds", "theirs"}) CHECK(out_right.find(name) != std::string::npos);
  CHECK(right.live_diffs.count("dev/attacker/grab") == 1);
  CHECK(right.live_diffs["dev/attacker/grab"].empty());
  CHECK_FALSE(right.has_errors());
  for (const auto& out : {out_right, out_wrong}) {
    for (const auto& v : {cm_canary, secret_canary, secret_canary + "-api"}) no_trace_of(out, v);
    CHECK(out.find("victim") == std::string::npos);
  }
  // No oracle: guessing the Secret's value right changes nothing in what the preview says.
  CHECK(out_right == out_wrong);

  // A release new in the change that takes the name of the release owning "theirs": still not shown.
  auto impostor = attack("wrong-guess-" + rand_hex(16), "victim", false);
  const std::string out_impostor = output(impostor);
  INFO(out_impostor);
  CHECK(count(out_impostor, "exists, not managed by this release") == 6);
  CHECK(impostor.live_diffs["dev/attacker/grab"].empty());
  for (const auto& v : {cm_canary, cm_canary + "-3", secret_canary}) no_trace_of(out_impostor, v);

  // Nothing was written: the live objects are as the other team left them.
  auto live = adm.get({"v1", "ConfigMap", ns, "settings"});
  REQUIRE(live.ok());
  REQUIRE(live->has_value());
  CHECK((*live)->find(cm_canary) != std::string::npos);
}

TEST_CASE("live diff: a helm-installed release's Secret shows key names and changed/unchanged only", "[security]") {
  kube::Client adm("dev", admin());
  const std::string ns = "hg-sec-" + rand_hex(8);
  const std::string old_pw = "old-password-" + rand_hex(16), new_pw = "new-password-" + rand_hex(16);
  const std::string user = "svc-user-" + rand_hex(12), extra = "extra-value-" + rand_hex(12);
  apply_for_real(adm, {"v1", "Namespace", "", ns}, "apiVersion: v1\nkind: Namespace\nmetadata: {name: " + ns + "}\n");

  fs::path chart = fs::temp_directory_path() / ("hg-sec-chart-" + rand_hex(8));
  fs::create_directories(chart / "templates");
  std::ofstream(chart / "Chart.yaml") << "apiVersion: v2\nname: app\nversion: 0.1.0\n";
  std::ofstream(chart / "values.yaml") << "password: p\nuser: u\ncolor: blue\n";
  std::ofstream(chart / "templates" / "all.yaml")
      << "apiVersion: v1\nkind: Secret\nmetadata: {name: app-creds}\nstringData:\n  password: {{ .Values.password }}\n"
         "  user: {{ .Values.user }}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-settings}\n"
         "data:\n  color: {{ .Values.color }}\n";
  helm({"install", "app", chart.string(), "-n", ns, "--set", "password=" + old_pw + ",user=" + user + ",color=blue"});

  // The head rendering: password changed, user unchanged, a key added, the ConfigMap's color changed.
  std::string manifest = "apiVersion: v1\nkind: Secret\nmetadata: {name: app-creds}\nstringData:\n  password: " + new_pw +
                         "\n  user: " + user + "\n  extra: " + extra +
                         "\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-settings}\ndata:\n  color: green\n";
  diff::Redactor redactor;
  for (const auto& v : {new_pw, user, extra}) redactor.add_sensitive(v);
  engine::ValidateOptions o;
  o.cluster = "dev";
  o.kube_version = test::require_env("HELMGATE_TEST_KUBE_VERSION");
  o.redactor = &redactor;
  kube::Client prev("dev", preview());
  const std::string id = "dev/" + ns + "/app";
  auto v = engine::validate_cluster(&prev, {{id, "app", ns, manifest, false, true}}, o);
  const std::string out = output(v);
  INFO(out);
  CHECK(v.findings.empty());
  REQUIRE(v.live_diffs.count(id) == 1);
  const diff::ResourceDiff* sec = nullptr;
  const diff::ResourceDiff* cm = nullptr;
  for (const auto& d : v.live_diffs[id]) {
    if (d.kind == "Secret" && d.name == "app-creds") sec = &d;
    if (d.kind == "ConfigMap" && d.name == "app-settings") cm = &d;
  }
  REQUIRE(sec != nullptr);
  CHECK(sec->diff.find("data.password: changed") != std::string::npos);
  CHECK(sec->diff.find("data.user: unchanged") != std::string::npos);
  CHECK(sec->diff.find("data.extra: added") != std::string::npos);
  for (const auto& s : {old_pw, new_pw, user, extra}) no_trace_of(out, s);
  // The release's own ConfigMap is shown in full.
  REQUIRE(cm != nullptr);
  CHECK(cm->diff.find("-  color: blue") != std::string::npos);
  CHECK(cm->diff.find("+  color: green") != std::string::npos);
  // The dry-run wrote nothing: the live Secret still holds the old password.
  auto live = adm.get({"v1", "Secret", ns, "app-creds"});
  REQUIRE(live.ok());
  REQUIRE(live->has_value());
  CHECK((*live)->find(b64(old_pw)) != std::string::npos);

  helm({"uninstall", "app", "-n", ns});
  fs::remove_all(chart);
}

TEST_CASE("preview credential: dry-run allowed, every real write denied", "[security]") {
  kube::Client adm("dev", admin());
  kube::Client prev("dev", preview());
  const std::string ns = "hg-sec-w-" + rand_hex(8);
  apply_for_real(adm, {"v1", "Namespace", "", ns}, "apiVersion: v1\nkind: Namespace\nmetadata: {name: " + ns + "}\n");
  const std::string cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: probe, namespace: " + ns + "}\ndata: {a: b}\n";

  auto dry = prev.apply({"v1", "ConfigMap", ns, "probe"}, cm, {});
  INFO((dry.ok() ? "" : dry.error().message));
  CHECK(dry.ok());

  kube::ApplyOptions real;
  real.dry_run = false;
  auto write = prev.apply({"v1", "ConfigMap", ns, "probe"}, cm, real);
  REQUIRE_FALSE(write.ok());
  INFO(write.error().message);
  CHECK(write.error().message.find("helmgate-preview-dry-run-only") != std::string::npos);
  auto stored = adm.get({"v1", "ConfigMap", ns, "probe"});
  REQUIRE(stored.ok());
  CHECK_FALSE(stored->has_value());

  // Writes of other shapes: a POST, a DELETE of an existing object, the policy itself, a token request.
  apply_for_real(adm, {"v1", "ConfigMap", ns, "keep"},
                 "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keep, namespace: " + ns + "}\ndata: {a: b}\n");
  auto post = prev.request("POST", "/api/v1/namespaces/" + ns + "/configmaps",
                           R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"posted"}})", "application/json");
  REQUIRE(post.ok());
  CHECK(post->status == 403);
  auto del = prev.request("DELETE", "/api/v1/namespaces/" + ns + "/configmaps/keep");
  REQUIRE(del.ok());
  CHECK(del->status == 403);
  auto patch = prev.request("PATCH", "/api/v1/namespaces/" + ns + "/configmaps/keep", R"({"data":{"a":"changed"}})",
                            "application/merge-patch+json");
  REQUIRE(patch.ok());
  CHECK(patch->status == 403);
  auto policy = prev.request(
      "PATCH", "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings/helmgate-preview-dry-run-only",
      R"({"spec":{"validationActions":["Audit"]}})", "application/merge-patch+json");
  REQUIRE(policy.ok());
  CHECK(policy->status == 403);
  auto policy_del =
      prev.request("DELETE", "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies/helmgate-preview-dry-run-only");
  REQUIRE(policy_del.ok());
  CHECK(policy_del->status == 403);
  auto live = adm.get({"v1", "ConfigMap", ns, "keep"});
  REQUIRE(live.ok());
  REQUIRE(live->has_value());
  CHECK((*live)->find("changed") == std::string::npos);
  // It may read (the live diff needs that), also across namespaces.
  auto read = prev.get({"v1", "ConfigMap", ns, "keep"});
  CHECK(read.ok());
}
