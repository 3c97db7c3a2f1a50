// The render sandbox (issue 10, item 2) against real helm, kubectl and a shell run inside it: a template
// that allocates without bound hits the memory limit and comes back as a clear error; the child cannot read
// the server's environment or files outside its mounts; it has no network; other processes are invisible.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "apply/helm.hpp"
#include "config/config.hpp"
#include "kube/kubeconfig.hpp"
#include "process/process.hpp"
#include "process/sandbox.hpp"
#include "render/renderer.hpp"
#include "runners/preview_pipeline.hpp"
#include "support/preview_request.hpp"
#include "support/support.hpp"
#include "support/temp_repo.hpp"

namespace fs = std::filesystem;
using namespace helmgate;

namespace {

constexpr const char* kCanary = "hg-canary-7f3a9c1e55d0";

std::string work_dir(const char* name) {
  auto p = fs::temp_directory_path() / (std::string("hg-sandbox-") + name + "-" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

render::Options options(const std::string& work) {
  render::Options o;
  o.helm = test::require_env("HELMGATE_HELM");
  o.kubectl = test::require_env("HELMGATE_KUBECTL");
  o.work_dir = work;
  return o;
}

// A chart with one template.
std::string chart(const std::string& work, const std::string& name, const std::string& tpl) {
  fs::path dir = fs::path(work) / name;
  write(dir / "Chart.yaml", "apiVersion: v2\nname: " + name + "\nversion: 0.1.0\n");
  write(dir / "templates" / "cm.yaml", tpl);
  return dir.string();
}

render::RenderRequest request(const std::string& dir) {
  render::RenderRequest req;
  req.chart.dir = dir;
  req.chart.shown = fs::path(dir).filename().string();
  req.release_name = "rel";
  req.namespace_ = "ns";
  req.values_json = "{}\n";
  return req;
}

// A shell inside the sandbox (same mounts rules as helm: the system directories, nothing else).
process::ProcessResult sh(const std::string& script, process::SandboxMounts mounts = {},
                         std::chrono::seconds timeout = std::chrono::seconds(60)) {
  process::ProcessOptions po;
  po.env = {"PATH=/usr/bin:/bin", "HOME=/tmp"};
  po.timeout = timeout;
  po.sandboxed = true;
  po.sandbox = std::move(mounts);
  auto r = process::run_process({"/bin/bash", "-c", script}, po);
  REQUIRE(r.ok());
  return std::move(*r);
}

struct SandboxOn {
  SandboxOn() {
    process::SandboxSettings s;
    s.enabled = true;
    process::configure_sandbox(s);
    auto p = process::probe_sandbox();
    INFO((p.ok() ? *p : p.error().message));
    REQUIRE(p.ok());
  }
};

// A loopback listener that counts the connections it accepts.
struct Listener {
  int fd = -1;
  int port = 0;
  Listener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 16) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~Listener() { ::close(fd); }
  int accepted() {
    int n = 0;
    for (;;) {
      int c = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) break;
      ::close(c);
      ++n;
    }
    return n;
  }
};

}  // namespace

TEST_CASE("a template that allocates without bound hits the memory limit, the caller lives on", "[security]") {
  SandboxOn on;
  process::SandboxSettings s = process::sandbox_settings();
  s.limits.memory_bytes = 2048ull << 20;
  process::configure_sandbox(s);
  std::string work = work_dir("oom");
  // Doubles a string 40 times: 1 TiB if nothing stops it.
  std::string dir = chart(work, "bomb",
                          "{{- $s := \"xxxxxxxxxxxxxxxx\" }}{{- range until 40 }}{{- $s = printf \"%s%s\" $s $s }}{{- end }}"
                          "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {n: \"{{ len $s }}\"}\n");
  render::Renderer r(options(work));
  auto got = r.render(request(dir));
  REQUIRE_FALSE(got.ok());
  INFO(got.error().message);
  CHECK(got.error().message.find("helm template rel (chart bomb) exceeded the memory limit of 2048 MiB") !=
        std::string::npos);
  CHECK(got.error().message.find("render.memory_limit_mib") != std::string::npos);
  // The calling process is alive and renders the next chart.
  std::string ok = chart(work, "fine", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fine}\n");
  auto next = r.render(request(ok));
  INFO((next.ok() ? "" : next.error().message));
  REQUIRE(next.ok());
  CHECK(next->manifest.find("name: fine") != std::string::npos);
  process::configure_sandbox(process::SandboxSettings{});
  fs::remove_all(work);
}

TEST_CASE("in a preview, the release whose chart hits the memory limit fails alone with a clear error", "[security]") {
  SandboxOn on;
  process::SandboxSettings s = process::sandbox_settings();
  s.limits.memory_bytes = 2048ull << 20;
  process::configure_sandbox(s);
  test::TempRepo t("sandbox-oom");
  auto release = [&](const std::string& name) {
    t.write("releases/" + name + ".yaml", "apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata:\n  name: " + name +
                                              "\n  namespace: demo\nspec:\n  chart:\n    git: git@github.com:example/fleet\n"
                                              "    path: charts/" + name + "\n  values:\n    n: 1\n");
    t.write("charts/" + name + "/Chart.yaml", "apiVersion: v2\nname: " + name + "\nversion: 0.1.0\n");
  };
  release("bomb");
  release("fine");
  t.write("charts/fine/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fine}\ndata: {n: \"{{ .Values.n }}\"}\n");
  t.write("charts/bomb/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata: {n: \"{{ .Values.n }}\"}\n");
  const std::string base = t.commit("releases");
  t.replace("releases/fine.yaml", "n: 1", "n: 2");
  t.replace("releases/bomb.yaml", "n: 1", "n: 2");
  t.write("charts/bomb/templates/grow.yaml",
          "{{- $s := \"xxxxxxxxxxxxxxxx\" }}{{- range until 40 }}{{- $s = printf \"%s%s\" $s $s }}{{- end }}# {{ len $s }}\n");
  const std::string head = t.commit("a template that allocates without bound");
  const std::string work = work_dir("preview-oom");
  auto req = test::preview_request(t.dir.string(), base, head, work, {runners::PreviewFormat::markdown});
  auto res = runners::run_preview(req);
  process::configure_sandbox(process::SandboxSettings{});
  INFO((res.ok() ? res->markdown_parts.front() : res.error().message));
  REQUIRE(res.ok());
  REQUIRE(res->report.releases.size() == 2);
  for (const auto& r : res->report.releases) {
    std::string errors;
    for (const auto& e : r.errors) errors += e.message + "\n";
    INFO(r.name << ": " << errors);
    if (r.name == "bomb") {
      CHECK(errors.find("exceeded the memory limit of 2048 MiB") != std::string::npos);
    } else {
      CHECK(errors.empty());
    }
  }
  CHECK(res->markdown_parts.front().find("exceeded the memory limit of 2048 MiB") != std::string::npos);
  fs::remove_all(work);
}

TEST_CASE("a CPU-bound child is stopped by the CPU limit and reported as such", "[security]") {
  SandboxOn on;
  process::SandboxSettings s = process::sandbox_settings();
  s.limits.cpu_seconds = 1;
  process::configure_sandbox(s);
  // 1 s of CPU can take long on a loaded machine: the wall-clock timeout must not come first.
  auto r = sh("while :; do :; done", {}, std::chrono::seconds(300));
  process::configure_sandbox(process::SandboxSettings{});
  INFO("signal " << r.signal << " exit " << r.exit_code);
  CHECK(r.limit == "cpu");
  CHECK(r.limit_text.find("CPU time limit of 1 s") != std::string::npos);
  CHECK_FALSE(r.timed_out);
}

TEST_CASE("the sandboxed child cannot read the server's environment", "[security]") {
  SandboxOn on;
  ::setenv("HG_SANDBOX_CANARY", kCanary, 1);
  const std::string me = std::to_string(::getpid());
  const std::string parent = std::to_string(::getppid());
  SECTION("a shell looks at its own environment, /proc/1, its parent and the server's pid") {
    auto r = sh("env; cat /proc/1/environ; cat /proc/$PPID/environ; cat /proc/" + me + "/environ; cat /proc/" +
                parent + "/environ; cat /proc/*/environ; ls /proc; echo done");
    CHECK(r.out.find("done") != std::string::npos);
    CHECK(r.out.find(kCanary) == std::string::npos);
    CHECK(r.err.find(kCanary) == std::string::npos);
    // Only the sandbox's own processes exist: the shell is pid 1, the server's pid is unknown there.
    CHECK(r.err.find("/proc/" + me + "/environ") != std::string::npos);
  }
  SECTION("helm --set-file reads the server's /proc/<pid>/environ") {
    std::string work = work_dir("env");
    std::string dir = chart(work, "leak", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {v: {{ .Values.leak | quote }}}\n");
    process::ProcessOptions po;
    po.env = {"HOME=" + work, "PATH=/usr/bin:/bin"};
    po.sandboxed = true;
    po.sandbox.read_only = {dir};
    po.sandbox.writable = {work + "/home"};
    fs::create_directories(work + "/home");
    for (const std::string& target : {"/proc/" + me + "/environ", std::string("/proc/self/environ"), std::string("/proc/1/environ")}) {
      auto r = process::run_process({test::require_env("HELMGATE_HELM"), "template", "x", dir, "--set-file", "leak=" + target}, po);
      REQUIRE(r.ok());
      INFO(target << ": " << r->out << r->err);
      CHECK(r->out.find(kCanary) == std::string::npos);
      CHECK(r->err.find(kCanary) == std::string::npos);
    }
    fs::remove_all(work);
  }
  ::unsetenv("HG_SANDBOX_CANARY");
}

TEST_CASE("the sandboxed child cannot read files outside its mounts", "[security]") {
  SandboxOn on;
  std::string work = work_dir("files");
  const std::string secret = work + "/outside/secret.txt";
  write(secret, kCanary);
  std::string dir = chart(work, "reader", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n"
                                          "  v: {{ .Values.leak | quote }}\n  f: {{ .Files.Get \"link\" | quote }}\n");
  // A symlink in the chart pointing outside it (the renderer refuses such charts; the sandbox is the
  // second line when helm is run on one anyway).
  fs::create_symlink(secret, fs::path(dir) / "link");
  process::ProcessOptions po;
  po.env = {"HOME=" + work + "/home", "PATH=/usr/bin:/bin"};
  po.sandboxed = true;
  po.sandbox.read_only = {dir};
  fs::create_directories(work + "/home");
  auto r = process::run_process({test::require_env("HELMGATE_HELM"), "template", "x", dir, "--set-file", "leak=" + secret}, po);
  REQUIRE(r.ok());
  INFO(r->out << r->err);
  CHECK(r->exit_code != 0);
  CHECK(r->out.find(kCanary) == std::string::npos);
  CHECK(r->err.find(kCanary) == std::string::npos);

  // Without --set-file, the chart renders, and the symlink's target is not there.
  auto r2 = process::run_process({test::require_env("HELMGATE_HELM"), "template", "x", dir}, po);
  REQUIRE(r2.ok());
  INFO(r2->out << r2->err);
  CHECK(r2->out.find(kCanary) == std::string::npos);

  // A shell: the file, the server's home, its config and the test's directory are all absent.
  auto s = sh("cat " + secret + "; ls " + work + "; ls /root /etc /work /home; cat /etc/passwd; echo done");
  CHECK(s.out.find("done") != std::string::npos);
  CHECK(s.out.find(kCanary) == std::string::npos);
  CHECK(s.err.find(kCanary) == std::string::npos);
  CHECK(s.out.find("root:") == std::string::npos);  // /etc holds only the CA certificates
  // The root and the system directories are read-only; only /tmp (a private tmpfs) is writable.
  auto w = sh("touch /x /usr/x 2>/dev/null && echo wrote-root; touch /tmp/x && echo wrote-tmp");
  CHECK(w.out.find("wrote-root") == std::string::npos);
  CHECK(w.out.find("wrote-tmp") != std::string::npos);
  // A directory mounted read-only stays read-only; a writable one is writable.
  auto m = sh("touch " + dir + "/x 2>/dev/null && echo wrote-ro; touch " + work + "/home/y && echo wrote-rw",
              {false, {dir}, {work + "/home"}});
  CHECK(m.out.find("wrote-ro") == std::string::npos);
  CHECK(m.out.find("wrote-rw") != std::string::npos);
  CHECK(fs::exists(work + "/home/y"));
  fs::remove_all(work);
}

TEST_CASE("rendering has no network: a loopback listener receives nothing", "[security]") {
  SandboxOn on;
  Listener l;
  const std::string url = "http://127.0.0.1:" + std::to_string(l.port);
  std::string work = work_dir("net");
  SECTION("helm pull run under the render sandbox") {
    process::ProcessOptions po;
    po.env = {"HOME=" + work, "PATH=/usr/bin:/bin"};
    po.sandboxed = true;
    po.sandbox.writable = {work};
    auto r = process::run_process({test::require_env("HELMGATE_HELM"), "pull", url + "/chart-1.0.0.tgz", "--destination", work}, po);
    REQUIRE(r.ok());
    INFO(r->err);
    CHECK(r->exit_code != 0);
    CHECK(l.accepted() == 0);
    // Control: the same command with the network kept does reach the listener.
    po.sandbox.network = true;
    po.timeout = std::chrono::seconds(5);
    auto c = process::run_process({test::require_env("HELMGATE_HELM"), "pull", url + "/chart-1.0.0.tgz", "--destination", work}, po);
    REQUIRE(c.ok());
    CHECK(l.accepted() >= 1);
  }
  SECTION("kustomize with a remote resource, through the renderer") {
    render::Renderer r(options(work));
    fs::path k = fs::path(work) / "k";
    write(k / "kustomization.yaml", "resources:\n- " + url + "/cm.yaml\n");
    auto got = r.kustomize_build(k.string());
    CHECK_FALSE(got.ok());
    CHECK(l.accepted() == 0);
  }
  SECTION("a shell: the only interface is a loopback that is down") {
    auto r = sh("cat /proc/net/dev; (exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(l.port) + ") 2>&1; echo done");
    CHECK(r.out.find("done") != std::string::npos);
    CHECK(r.out.find("eth") == std::string::npos);
    CHECK(l.accepted() == 0);
  }
  fs::remove_all(work);
}

TEST_CASE("the sandbox probe reports a refused sandbox and its step", "[security]") {
  ::setenv("HELMGATE_TEST_SANDBOX_FAIL", "1", 1);
  auto p = process::probe_sandbox();
  ::unsetenv("HELMGATE_TEST_SANDBOX_FAIL");
  REQUIRE_FALSE(p.ok());
  CHECK(p.error().message.find("sandbox: creating the user namespace") != std::string::npos);
  auto advice = process::sandbox_failure_advice(p.error().message, "render.sandbox: off");
  CHECK(advice.find("render.sandbox: off") != std::string::npos);
  // Off: no probe, and the children run without namespaces (the server's /proc is visible).
  process::SandboxSettings off;
  off.enabled = false;
  process::configure_sandbox(off);
  auto o = process::probe_sandbox();
  REQUIRE(o.ok());
  CHECK(*o == "off");
  auto r = sh("test -e /proc/" + std::to_string(::getpid()) + " && echo visible");
  CHECK(r.out.find("visible") != std::string::npos);
  process::configure_sandbox(process::SandboxSettings{});
  auto r2 = sh("test -e /proc/" + std::to_string(::getpid()) + " && echo visible; echo done");
  CHECK(r2.out.find("visible") == std::string::npos);
  CHECK(r2.out.find("done") != std::string::npos);
}

TEST_CASE("render.sandbox and the limits are read strictly from the configuration", "[security]") {
  CHECK(config::load_string("{}").render.sandbox);
  auto off = config::load_string("render:\n  sandbox: off\n  memory_limit_mib: 4096\n  cpu_limit_seconds: 60\n");
  CHECK_FALSE(off.render.sandbox);
  CHECK(off.render.memory_limit_mib == 4096);
  CHECK(off.render.cpu_limit_seconds == 60);
  CHECK_FALSE(config::load_string("render: {sandbox: false}").render.sandbox);  // Helm's toYaml spelling
  CHECK(config::load_string("render: {sandbox: on}").render.sandbox);
  CHECK_THROWS_WITH(config::load_string("render: {sandbox: maybe}"), Catch::Contains("render.sandbox: must be on or off"));
  CHECK_THROWS_WITH(config::load_string("render: {memory_limit_mib: 100}"), Catch::Contains("render.memory_limit_mib"));
  CHECK_THROWS_WITH(config::load_string("render: {sandboxx: on}"), Catch::Contains("unknown key"));
  // The documented example parses and keeps the sandbox on.
  CHECK(config::load_file(test::source_dir() + "/config/examples/helmgate.yaml").render.sandbox);
}

TEST_CASE("the apply step's helm sees its kubeconfig and the files it names, and keeps the network", "[security]") {
  SandboxOn on;
  std::string work = work_dir("apply");
  Listener l;
  // A CA file next to the kubeconfig (relative) that is not PEM: helm must read it to say so.
  write(fs::path(work) / "kube" / "ca.crt", "not a certificate\n");
  write(fs::path(work) / "kube" / "config",
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"https://127.0.0.1:" + std::to_string(l.port) +
            "\", certificate-authority: ca.crt}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: x\n"
            "  context: {cluster: c, user: u}\ncurrent-context: x\n");
  apply::HelmEnv env;
  env.helm = test::require_env("HELMGATE_HELM");
  env.kubeconfig = work + "/kube/config";
  // The files it names, as the engine hands them over (engine::OpenCluster::helm_env): the loader's list.
  auto kc = kube::load_kubeconfig_file(env.kubeconfig);
  REQUIRE(kc.ok());
  env.kubeconfig_files = kc->files;
  env.cluster = "dev";
  env.work_dir = work + "/helm";
  env.timeout = std::chrono::seconds(20);
  auto r = apply::run_helm(env, {"list", "-A"}, "helm list");
  REQUIRE_FALSE(r.ok());
  INFO(r.error().message);
  CHECK(r.error().message.find("unable to parse bytes as PEM") != std::string::npos);
  CHECK(r.error().message.find("no such file") == std::string::npos);
  // With a usable CA path the request goes out: the listener (a plain TCP socket) receives the TLS attempt.
  fs::remove(fs::path(work) / "kube" / "ca.crt");
  write(fs::path(work) / "kube" / "config",
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"https://127.0.0.1:" + std::to_string(l.port) +
            "\", insecure-skip-tls-verify: true}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: x\n"
            "  context: {cluster: c, user: u}\ncurrent-context: x\n");
  env.timeout = std::chrono::seconds(1);
  auto r2 = apply::run_helm(env, {"list", "-A"}, "helm list");
  INFO((r2.ok() ? std::string("ok") : r2.error().message));
  CHECK(l.accepted() >= 1);
  fs::remove_all(work);
}

TEST_CASE("a sandboxed child that runs too long is killed with everything it started", "[security]") {
  SandboxOn on;
  auto start = std::chrono::steady_clock::now();
  auto r = sh("sleep 121.7 & sleep 121.7 & sleep 121.7", {}, std::chrono::seconds(2));
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(r.timed_out);
  CHECK(took < std::chrono::seconds(30));
  // Nothing of it is left on the host: no process runs `sleep 121.7` any more.
  auto ps = process::run_process({"/bin/sh", "-c", "ps -eo args | grep -c '^sleep 121.7$' || true"}, {});
  REQUIRE(ps.ok());
  CHECK(ps->out == "0\n");
}

TEST_CASE("relative paths (a relative cache directory) are mounted where they point", "[security]") {
  SandboxOn on;
  std::string work = work_dir("relative");
  std::string dir = chart(work, "rel", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: relative-ok}\n");
  const fs::path before = fs::current_path();
  fs::current_path(work);
  process::ProcessOptions po;
  po.env = {"HOME=/tmp", "PATH=/usr/bin:/bin"};
  po.sandboxed = true;
  po.sandbox.read_only = {"rel"};
  auto r = process::run_process({test::require_env("HELMGATE_HELM"), "template", "x", "rel"}, po);
  fs::current_path(before);
  REQUIRE(r.ok());
  INFO(r->err);
  CHECK(r->exit_code == 0);
  CHECK(r->out.find("relative-ok") != std::string::npos);
  fs::remove_all(work);
}
