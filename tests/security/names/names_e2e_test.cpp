// The name gate end to end, with real helm and the test environment's real kube-apiserver:
// - helm v4 takes "--" in template, pull, upgrade --install and uninstall, and does not parse what follows
//   it as options (each proven against a control run without "--" where that is harmless);
// - `helmgate preview` on a repository with hostile release names, namespaces, chart paths and valuesFrom
//   names: every one an error at file:line, the good release still renders, a canary in the environment
//   never shows up and no file appears at an --output-dir target;
// - a chart rendering object names and namespaces with CR/LF (request smuggling into the API server):
//   validation reports invalid-name findings and the sacrificial namespace the smuggled DELETE targets
//   still exists; the kube client refuses such targets before connecting and percent-encodes segments.
// Needs `eval "$(scripts/testenv env)"`.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <filesystem>
#include <random>

#include "apply/helm.hpp"
#include "core/json.hpp"
#include "apply/uninstall_action.hpp"
#include "kube/client.hpp"
#include "kube/kubeconfig.hpp"
#include "process/process.hpp"
#include "runners/preview_pipeline.hpp"
#include "engine/validate.hpp"
#include "support/support.hpp"
#include "support/temp_repo.hpp"

using namespace helmgate;
namespace fs = std::filesystem;

namespace {

std::string unique(const std::string& stem) {
  static std::mt19937 rng{std::random_device{}()};
  return stem + "-" + std::to_string(::getpid()) + "-" + std::to_string(rng() % 100000);
}

// A random value in the environment of a process of ours (a stand-in for the server: same uid), which
// helm would print if a name made it read /proc/<pid>/environ. setenv() would not do: /proc/<pid>/environ
// shows the environment a process was started with.
struct Sleeper {
  pid_t pid = -1;
  std::string canary = unique("HGCANARY") + "x9q";
  Sleeper() {
    std::string var = "HELMGATE_TEST_NAMES_CANARY=" + canary;
    char* argv[] = {const_cast<char*>("/bin/sleep"), const_cast<char*>("600"), nullptr};
    char* envp[] = {var.data(), nullptr};
    REQUIRE(::posix_spawn(&pid, "/bin/sleep", nullptr, nullptr, argv, envp) == 0);
  }
  ~Sleeper() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

Sleeper& sleeper() {
  static Sleeper s;
  return s;
}
const std::string& canary() { return sleeper().canary; }
std::string environ_path() { return "/proc/" + std::to_string(sleeper().pid) + "/environ"; }

// A chart whose ConfigMap shows .Values.leak (a leak would be visible in the output).
void write_chart(const fs::path& dir) {
  fs::create_directories(dir / "templates");
  std::ofstream(dir / "Chart.yaml") << "apiVersion: v2\nname: demo\nversion: 0.1.0\n";
  std::ofstream(dir / "templates/cm.yaml")
      << "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.name | default .Release.Name | replace \"ZZONE\" (printf \"%c\" 1) | replace \"ZZDEL\" (printf \"%c\" 127) | quote }}\n"
         "{{- if .Values.ns }}\n  namespace: {{ .Values.ns | quote }}\n{{- end }}\n"
         "data:\n  v: {{ .Values.v | default \"1\" | quote }}\n  leak: {{ .Values.leak | default \"\" | quote }}\n";
}

process::ProcessResult run(std::vector<std::string> argv, std::vector<std::string> env = {}) {
  process::ProcessOptions po;
  po.env = env.empty() ? std::vector<std::string>{"HOME=" + fs::temp_directory_path().string(), "PATH=/usr/bin:/bin"} : env;
  po.timeout = std::chrono::seconds(120);
  auto r = process::run_process(argv, po);
  REQUIRE(r.ok());
  return *r;
}

kube::Kubeconfig admin() {
  auto kc = kube::load_kubeconfig_file(test::require_env("HELMGATE_TEST_KUBECONFIG_DEV"));
  REQUIRE(kc.ok());
  return *kc;
}

// The namespace's phase on the cluster ("" when it does not exist).
std::string ns_phase(kube::Client& c, const std::string& ns) {
  auto live = c.get({"v1", "Namespace", "", ns});
  REQUIRE(live.ok());
  if (!live->has_value()) return "";
  auto pos = (*live)->find("\"phase\":\"");
  return pos == std::string::npos ? "?" : (*live)->substr(pos + 9, (*live)->find('"', pos + 9) - pos - 9);
}

}  // namespace

TEST_CASE("helm argv: \"--\" is accepted by template, pull, upgrade --install and uninstall, what follows is positional",
          "[security]") {
  const std::string helm = test::require_env("HELMGATE_HELM");
  const fs::path tmp = fs::temp_directory_path() / unique("hg-names-argv");
  fs::create_directories(tmp);
  write_chart(tmp / "demo");
  const std::string chart = (tmp / "demo").string();
  const std::string leak = "--set-file=leak=" + environ_path();
  const std::string outdir = (tmp / "outdir").string();
  std::vector<std::string> env = {"HOME=" + tmp.string(), "PATH=/usr/bin:/bin"};
  (void)canary();

  // Control: without "--" a flag in the positional place is parsed: the canary leaks, a directory appears.
  auto control = run({helm, "template", "rel", chart, leak, "--output-dir=" + outdir}, env);
  CHECK(control.exit_code == 0);
  CHECK(fs::exists(outdir));
  CHECK(test::read_file(outdir + "/demo/templates/cm.yaml").find(canary()) != std::string::npos);
  fs::remove_all(outdir);

  // With "--" (the renderer's argv shape): the same words are positionals, refused by helm's argument count.
  auto guarded = run({helm, "template", "--namespace=ns", "--", "rel", chart, leak, "--output-dir=" + outdir}, env);
  CHECK(guarded.exit_code != 0);
  CHECK(guarded.err.find("unexpected arguments") != std::string::npos);
  CHECK(guarded.out.find(canary()) == std::string::npos);
  CHECK(guarded.err.find(canary()) == std::string::npos);
  CHECK(!fs::exists(outdir));
  // A release name that looks like a flag stays a (refused) release name.
  auto as_name = run({helm, "template", "--namespace=ns", "--", leak, chart}, env);
  CHECK(as_name.exit_code != 0);
  CHECK(as_name.err.find("invalid release name") != std::string::npos);
  CHECK(as_name.out.find(canary()) == std::string::npos);
  CHECK(as_name.err.find(canary()) == std::string::npos);
  // And the accepted shape renders.
  auto ok = run({helm, "template", "--namespace=ns", "--kube-version=1.35.0", "--", "rel", chart}, env);
  INFO(ok.err);
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.find("name: \"rel\"") != std::string::npos);

  // helm pull: the word after "--" is the chart, even when it looks like a flag.
  auto pull = run({helm, "pull", "--destination=" + (tmp / "pulled").string(), "--", "--version=1.0.0"}, env);
  CHECK(pull.exit_code != 0);
  CHECK(pull.err.find("got: --version=1.0.0") != std::string::npos);

  // upgrade --install and uninstall against the dev cluster, through helmgate's own argv.
  kube::Client client("dev", admin());
  const std::string ns = unique("hg-names-helm");
  REQUIRE(client.apply({"v1", "Namespace", "", ns}, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + ns + "\n",
                       kube::ApplyOptions{false, "helmgate-test", true})
              .ok());
  apply::HelmEnv henv;
  henv.helm = helm;
  henv.kubeconfig = test::require_env("HELMGATE_TEST_KUBECONFIG_DEV");
  henv.cluster = "dev";
  henv.work_dir = (tmp / "helm-home").string();
  henv.timeout = std::chrono::seconds(60);
  apply::ReleaseSpec spec;
  spec.id = "dev/" + ns + "/demo";
  spec.release_name = "demo";
  spec.namespace_ = ns;
  spec.chart_args = {chart};
  spec.values_json = "{\"v\":\"2\"}";
  auto rev = apply::upgrade_install(henv, spec, false, "install test");
  INFO((rev.ok() ? "" : rev.error().message));
  REQUIRE(rev.ok());
  CHECK(*rev == 1);
  auto listed = apply::list_releases(henv);
  REQUIRE(listed.ok());
  CHECK(listed->count(ns + "/demo") == 1);
  // A flag after "--" in upgrade is an extra positional: refused, nothing leaks.
  auto extra = apply::run_helm(henv, {"upgrade", "--install", "--namespace=" + ns, "--", "demo", chart, leak}, "upgrade");
  REQUIRE(!extra.ok());
  CHECK(extra.error().message.find(canary()) == std::string::npos);
  CHECK(extra.error().message.find("\"helm upgrade\" requires 2 arguments") != std::string::npos);
  // uninstall takes several names: "--dry-run" after "--" is a release name, so demo is really removed.
  auto un = apply::run_helm(henv, {"uninstall", "--namespace=" + ns, "--", "demo", "--dry-run"}, "uninstall");
  CHECK(!un.ok());  // "--dry-run" is not a release
  listed = apply::list_releases(henv);
  REQUIRE(listed.ok());
  CHECK(listed->count(ns + "/demo") == 0);
  // The uninstall action refuses a hostile name before running helm at all.
  auto refused = apply::UninstallAction("x", "--kube-context=prod", ns).run(henv);
  CHECK(refused.outcome == apply::ActionOutcome::failed);
  CHECK(!refused.touched);
  CHECK(refused.reason.find("refused: release name \"--kube-context=prod\"") != std::string::npos);
  spec.release_name = leak;
  auto refused2 = apply::upgrade_install(henv, spec, false, "install hostile");
  REQUIRE(!refused2.ok());
  CHECK(refused2.error().message.find("install hostile: refused: release name") != std::string::npos);
  fs::remove_all(tmp);
}

TEST_CASE("helmgate preview: hostile names are errors at file:line, nothing leaks or is written, the rest renders",
          "[security]") {
  const std::string helm = test::require_env("HELMGATE_HELM");
  const std::string kubectl = test::require_env("HELMGATE_KUBECTL");
  (void)canary();
  test::TempRepo t("names-preview");
  write_chart(t.dir / "charts/demo");
  auto hr = [](const std::string& name, const std::string& extra, const std::string& ns = "apps") {
    return "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: " + name + "\n  namespace: " + ns +
           "\nspec:\n  interval: 5m\n  chart:\n    spec:\n      chart: ./charts/demo\n      sourceRef:\n        kind: "
           "GitRepository\n        name: flux-system\n" +
           extra;
  };
  t.write("clusters/dev/good.yaml", hr("good", "  values:\n    v: \"1\"\n"));
  const std::string base = t.commit("base");
  const fs::path outdir = fs::temp_directory_path() / unique("hg-names-outdir");
  const std::string leak = "--set-file=leak=" + environ_path();
  t.write("clusters/dev/good.yaml", hr("good", "  values:\n    v: \"2\"\n"));
  t.write("clusters/dev/a-leak.yaml", hr("leak", "  releaseName: \"" + leak + "\"\n"));
  t.write("clusters/dev/b-outdir.yaml", hr("outdir", "  releaseName: \"--output-dir=" + outdir.string() + "\"\n"));
  t.write("clusters/dev/c-ns.yaml", hr("nsattack", "", "\"--output-dir=" + outdir.string() + "\""));
  t.write("clusters/dev/d-tns.yaml", hr("tns", "  targetNamespace: \"" + leak + "\"\n"));
  t.write("clusters/dev/e-post.yaml", hr("post", "  releaseName: --post-renderer=/bin/sh\n"));
  t.write("clusters/dev/f-vf.yaml", hr("vf", "  valuesFrom:\n  - kind: Secret\n    name: \"" + leak + "\"\n"));
  {
    std::string y = hr("path", "");
    y.replace(y.find("./charts/demo"), 13, "../--output-dir=" + outdir.string());
    t.write("clusters/dev/g-path.yaml", y);
  }
  const std::string head = t.commit("hostile");

  const fs::path cache = fs::temp_directory_path() / unique("hg-names-cache");
  auto r = run({test::binary_dir() + "/helmgate", "preview", "--repo", t.dir.string(), "--base", base, "--head", head,
                "--format", "json"},
               {"HOME=" + cache.string(), "PATH=/usr/bin:/bin", "HELMGATE_HELM=" + helm, "HELMGATE_KUBECTL=" + kubectl,
                "HELMGATE_CACHE_DIR=" + cache.string()});
  const std::string all = r.out + r.err;
  INFO(all);
  CHECK(r.exit_code == 1);  // errors
  core::json::Document doc;
  REQUIRE(!core::json::parse(doc, r.out));
  REQUIRE(doc.IsObject());
  std::map<std::string, const core::json::Value*> by_name;
  for (const auto& rel : doc["releases"].GetArray()) by_name[core::json::get_string(rel, "name").value_or("")] = &rel;
  // Each attack is an error naming file, line, field and rule, listed first in its release.
  auto refused = [&](const std::string& name, const std::string& file, int line, const std::string& prefix) {
    auto it = by_name.find(name);
    if (it == by_name.end()) return false;
    const auto& rel = *it->second;
    if (core::json::get_string(rel, "status").value_or("") != "error") return false;
    const auto& errs = rel["errors"];
    if (!errs.IsArray() || errs.Empty()) return false;
    const auto& first = errs[0];
    return core::json::get_string(first, "file").value_or("") == "clusters/dev/" + file &&
           core::json::get_int(first, "line").value_or(0) == line &&
           core::json::get_string(first, "message").value_or("").rfind("[head] " + prefix, 0) == 0;
  };
  CHECK(refused("leak", "a-leak.yaml", 14, "spec.releaseName \"--set-file=leak=/proc/"));
  CHECK(refused("outdir", "b-outdir.yaml", 14, "spec.releaseName \"--output-dir="));
  CHECK(refused("nsattack", "c-ns.yaml", 5, "metadata.namespace \"--output-dir="));
  CHECK(refused("tns", "d-tns.yaml", 14, "spec.targetNamespace \"--set-file="));
  CHECK(refused("post", "e-post.yaml", 14, "spec.releaseName \"--post-renderer=/bin/sh\" must be a Helm release name"));
  CHECK(refused("vf", "f-vf.yaml", 16, "spec.valuesFrom[0].name \"--set-file="));
  CHECK(refused("path", "g-path.yaml", 10, "spec.chart.spec.chart \"../--output-dir="));
  // The good release rendered: its value change is in the diff.
  REQUIRE(by_name.count("good") == 1);
  const auto& good = *by_name["good"];
  CHECK(core::json::get_string(good, "status").value_or("") == "changed");
  CHECK(good["errors"].Empty());
  REQUIRE(good["resources"].Size() == 1);
  CHECK(core::json::get_string(good["resources"][0], "diff").value_or("").find("+  v: \"2\"") != std::string::npos);
  // Nothing leaked, nothing written.
  CHECK(all.find(canary()) == std::string::npos);
  CHECK(!fs::exists(outdir));
  fs::remove_all(cache);
}

TEST_CASE("kube: CR/LF in rendered names and namespaces never reaches the API server (sacrificial namespace survives)",
          "[security]") {
  const std::string helm = test::require_env("HELMGATE_HELM");
  const std::string kubectl = test::require_env("HELMGATE_KUBECTL");
  kube::Client client("dev", admin());
  const std::string victim = unique("hg-names-victim");
  REQUIRE(client.apply({"v1", "Namespace", "", victim},
                       "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + victim + "\n",
                       kube::ApplyOptions{false, "helmgate-test", true})
              .ok());
  REQUIRE(ns_phase(client, victim) == "Active");
  // The smuggled request: the first one ends after the name, the second is a real DELETE of the victim,
  // with the client's own headers (Authorization) after it.
  const std::string smuggle = "x HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nContent-Length: 0\\r\\n\\r\\nDELETE /api/v1/namespaces/" +
                              victim + " HTTP/1.1\\r\\nX-Ignore: y";
  test::TempRepo t("names-crlf");
  write_chart(t.dir / "charts/demo");
  auto hr = [&](const std::string& name, const std::string& values) {
    return "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: " + name + "\n  namespace: " + victim +
           "\nspec:\n  chart:\n    spec:\n      chart: ./charts/demo\n      sourceRef:\n        kind: GitRepository\n"
           "        name: flux-system\n  values:\n" + values;
  };
  const std::string base = t.commit("base");
  t.write("clusters/dev/name.yaml", hr("crlf-name", "    name: \"" + smuggle + "\"\n"));
  // Through the namespace: validation first asks whether the namespace exists (a GET without a body), so
  // the smuggled DELETE would go out complete with the bearer token (checked by hand without the gate:
  // the victim turns Terminating).
  const std::string smuggle_ns = "x HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\nDELETE /api/v1/namespaces/" + victim +
                                 " HTTP/1.1\\r\\nX-Ignore: y";
  t.write("clusters/dev/ns.yaml", hr("crlf-ns", "    ns: \"" + smuggle_ns + "\"\n"));
  t.write("clusters/dev/ns2.yaml", hr("crlf-ns2", "    ns: \"" + victim + "\\r\\nX: y\"\n"));
  // Control characters cannot travel in values (helm refuses them there); the template makes them.
  t.write("clusters/dev/ctl.yaml", hr("ctl-name", "    name: aZZONEbZZDEL\n"));
  t.write("clusters/dev/good.yaml", hr("fine", "    name: fine-cm\n"));
  const std::string head = t.commit("smuggle");

  runners::PreviewRequest req;
  req.repo = t.dir.string();
  req.base = base;
  req.head = head;
  req.helm = helm;
  req.kubectl = kubectl;
  req.cache_dir = (fs::temp_directory_path() / unique("hg-names-crlf-cache")).string();
  req.keep_head_manifests = true;
  req.formats = {runners::PreviewFormat::text};
  auto res = runners::run_preview(req);
  REQUIRE(res.ok());
  INFO(res->text);
  REQUIRE(res->head_manifests.size() == 5);
  std::vector<engine::RenderedRelease> releases;
  bool crlf_rendered = false;
  for (const auto& h : res->head_manifests) {
    releases.push_back({h.id, h.release_name, h.target_namespace, h.manifest, h.create_namespace});
    crlf_rendered |= h.manifest.find("\\r\\nDELETE /api/v1/namespaces/" + victim) != std::string::npos;
  }
  CHECK(crlf_rendered);  // helm really rendered the smuggling name: the gate below is what stops it

  engine::ValidateOptions vo;
  vo.cluster = "dev";
  vo.live_diff = false;
  auto v = engine::validate_cluster(&client, releases, vo);
  const std::string json = engine::to_json(v, "dev");
  INFO(json);
  auto finding = [&](const std::string& rel, const std::string& needle) {
    for (const auto& f : v.findings) {
      if (f.release == rel && f.check == "invalid-name" && f.severity == engine::Severity::error &&
          f.message.find(needle) != std::string::npos && f.message.find('\r') == std::string::npos &&
          f.message.find('\n') == std::string::npos) {
        return true;
      }
    }
    return false;
  };
  CHECK(finding("dev/" + victim + "/crlf-name", "metadata.name \"x HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n"));
  CHECK(finding("dev/" + victim + "/crlf-name", "\\r\\n\\r\\nDELETE /api/v1/namespaces/"));
  CHECK(finding("dev/" + victim + "/crlf-ns", "metadata.namespace \"x HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\nDELETE /api/v1/namespaces/"));
  CHECK(finding("dev/" + victim + "/crlf-ns2", "metadata.namespace \"" + victim + "\\r\\nX: y\""));
  CHECK(finding("dev/" + victim + "/ctl-name", "control character \\x01"));
  // The clean object of the same run went to the server (dry-run), so the cluster was really asked.
  for (const auto& f : v.findings) CHECK(f.release != "dev/" + victim + "/fine");
  CHECK(client.connections_opened() > 0);
  // The victim lives.
  CHECK(ns_phase(client, victim) == "Active");

  // The kube client itself: refused before connecting, with no request made.
  kube::Client fresh("dev", admin());
  auto raw = fresh.request("DELETE", "/api/v1/namespaces/x HTTP/1.1\r\nHost: a\r\n\r\nDELETE /api/v1/namespaces/" + victim);
  REQUIRE(!raw.ok());
  CHECK(raw.error().message.find("refusing to send DELETE") != std::string::npos);
  auto by_ref = fresh.get({"v1", "ConfigMap", victim, "x\r\nDELETE /api/v1/namespaces/" + victim});
  REQUIRE(!by_ref.ok());
  CHECK(by_ref.error().code == core::make_error_code(core::errc::bad_request));
  auto by_ns = fresh.apply({"v1", "ConfigMap", victim + "\n", "x"}, "{}", kube::ApplyOptions{});
  REQUIRE(!by_ns.ok());
  CHECK(fresh.connections_opened() == 0);
  CHECK(ns_phase(client, victim) == "Active");

  // Segments are percent-encoded: "a?b" is a name, not the object "a" with a query.
  REQUIRE(client.apply({"v1", "ConfigMap", victim, "a"}, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
                       kube::ApplyOptions{false, "helmgate-test", true})
              .ok());
  auto plain = client.get({"v1", "ConfigMap", victim, "a"});
  REQUIRE(plain.ok());
  CHECK(plain->has_value());
  for (const char* name : {"a?b", "a#b", "a;b"}) {
    auto q = client.get({"v1", "ConfigMap", victim, name});
    INFO(name << ": " << (q.ok() ? "" : q.error().message));
    REQUIRE(q.ok());
    CHECK(!q->has_value());
  }
  fs::remove_all(req.cache_dir);
}
