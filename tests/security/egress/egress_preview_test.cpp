// SSRF through a pull request, tried as an attacker would: the real `helmgate preview` binary on a temporary
// Git repository whose head points kustomize, a Flux HelmRepository (HTTP and OCI), a helm-operator chart.git,
// a Flux GitRepository (chart source and tenant) at a loopback listener started by the test, at the cloud
// metadata address, at file:// and at local paths. The listener must receive nothing (no connection, no
// byte); the preview must name the refused URL, the reason and the file:line, and the release that does not
// reach out must still render. A control run whose configuration allows the listener proves the listener
// would have seen the attack.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "process/process.hpp"
#include "support/support.hpp"
#include "support/temp_repo.hpp"

namespace fs = std::filesystem;
using namespace helmgate;
using test::TempRepo;

namespace {

// A TCP listener on 127.0.0.1 that counts connections and bytes (and answers 404 to whatever it receives).
class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd_, 64) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { loop(); });
  }
  ~Listener() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  int port() const { return port_; }
  std::string addr() const { return "127.0.0.1:" + std::to_string(port_); }
  size_t connections() const { return connections_; }
  size_t bytes() const { return bytes_; }

 private:
  void loop() {
    std::vector<pollfd> fds{{fd_, POLLIN, 0}};
    while (!stop_) {
      if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
      if ((fds[0].revents & POLLIN) != 0) {
        int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) {
          ++connections_;
          fds.push_back({c, POLLIN, 0});
        }
      }
      for (size_t i = 1; i < fds.size(); ++i) {
        if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        char buf[4096];
        ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
        if (n > 0) {
          bytes_ += static_cast<size_t>(n);
          // Answer like a server that has nothing, so a client that got this far fails fast.
          static constexpr char kAnswer[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
          (void)!::write(fds[i].fd, kAnswer, sizeof kAnswer - 1);
          ::shutdown(fds[i].fd, SHUT_WR);
        } else {
          ::close(fds[i].fd);
          fds.erase(fds.begin() + static_cast<long>(i));
          --i;
        }
      }
    }
    for (size_t i = 1; i < fds.size(); ++i) ::close(fds[i].fd);
  }

  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> connections_{0};
  std::atomic<size_t> bytes_{0};
};

struct Preview {
  int rc = -1;
  std::string out;
  std::string err;
};

// `helmgate preview --format text` on repo between base and head; config optional.
Preview preview(const TempRepo& repo, const std::string& base, const std::string& head, const std::string& cache,
                const std::string& config = {}) {
  std::vector<std::string> argv = {test::binary_dir() + "/helmgate", "preview", "--repo", repo.dir.string(),
                                   "--base", base, "--head", head, "--format", "text"};
  if (!config.empty()) argv.insert(argv.end(), {"--config", config});
  process::ProcessOptions po;
  po.env = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + cache, "HELMGATE_CACHE_DIR=" + cache,
            "HELMGATE_HELM=" + test::require_env("HELMGATE_HELM"),
            "HELMGATE_KUBECTL=" + test::require_env("HELMGATE_KUBECTL"), "HELMGATE_REDACTION_KEY=egress-test"};
  po.timeout = std::chrono::seconds(240);
  auto r = process::run_process(argv, po);
  REQUIRE(r.ok());
  return {r->exit_code, r->out, r->err};
}

std::string cache_dir(const std::string& name) {
  auto p = fs::temp_directory_path() / ("hg-egress-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

// A chart in the repository and a Flux HelmRelease using it: the release that must keep rendering.
void add_local_release(const TempRepo& t, const std::string& cluster, const std::string& value) {
  t.write("charts/app/Chart.yaml", "apiVersion: v2\nname: app\nversion: 1.0.0\n");
  t.write("charts/app/templates/cm.yaml",
          "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  v: {{ .Values.v | quote }}\n");
  t.write("clusters/" + cluster + "/local.yaml",
          "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: local\n  namespace: apps\n"
          "spec:\n  chart:\n    spec:\n      chart: ./charts/app\n      sourceRef:\n        kind: GitRepository\n"
          "        name: flux-system\n  values:\n    v: \"" + value + "\"\n");
}

std::string flux_release(const std::string& name, const std::string& chart, const std::string& source_kind,
                         const std::string& source_name) {
  return "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: " + name +
         "\n  namespace: apps\nspec:\n  chart:\n    spec:\n      chart: " + chart + "\n      version: 1.0.0\n"
         "      sourceRef:\n        kind: " + source_kind + "\n        name: " + source_name + "\n";
}

std::string operator_release(const std::string& name, const std::string& git, const std::string& path) {
  return "apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata:\n  name: " + name +
         "\n  namespace: apps\nspec:\n  releaseName: " + name + "\n  chart:\n    git: " + git + "\n    path: " + path +
         "\n    ref: main\n";
}

bool has(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

// The local release rendered at head: its changed ConfigMap is in the report.
void check_local_rendered(const Preview& p, const std::string& cluster, const std::string& value) {
  INFO(p.out << p.err);
  CHECK(has(p.out, "== " + cluster + " apps/local"));
  CHECK(has(p.out, "+  v: " + value + "\n"));
}

}  // namespace

TEST_CASE("kustomize remote resources are refused before kustomize runs, naming file, line and entry", "[security]") {
  Listener l;
  TempRepo t("egress-kustomize");
  add_local_release(t, "ok", "one");
  t.write("clusters/attack/kustomization.yaml", "resources:\n- local.yaml\n");
  t.write("clusters/attack/local.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n");
  const std::string base = t.commit("base");
  add_local_release(t, "ok", "two");
  const std::string http = "http://" + l.addr() + "/evil.yaml";
  t.write("clusters/attack/kustomization.yaml",
          "resources:\n- local.yaml\n- " + http + "\n- https://" + l.addr() + "/org/repo.git//base?ref=main\n"
          "- " + l.addr() + ".nip.io/org/repo/base\n- github.com/org/repo//deploy?ref=v1\n- git@127.0.0.1:org/repo\n"
          "- /etc/kubernetes\n- ../../../../other-tenant\n"
          "configMapGenerator:\n- name: leak\n  files:\n  - meta=http://" + l.addr() + "/latest/meta-data\n"
          "patches:\n- path: http://" + l.addr() + "/patch.yaml\n"
          "helmCharts:\n- name: x\n  repo: http://" + l.addr() + "/charts\n"
          "transformers:\n- sub\n");
  // A directory named by transformers holds a kustomization of its own: scanned like a base.
  t.write("clusters/attack/sub/kustomization.yaml", "resources:\n- https://" + l.addr() + "/nested.yaml\n");
  const std::string head = t.commit("remote resources");
  const std::string cache = cache_dir("kustomize");
  auto p = preview(t, base, head, cache);
  INFO(p.out << p.err);
  CHECK(p.rc == 1);
  CHECK(l.connections() == 0);
  CHECK(l.bytes() == 0);
  const std::string at = "clusters/attack/kustomization.yaml:";
  CHECK(has(p.out, at + "3:3: [attack @ head] kustomization clusters/attack/kustomization.yaml: resources entry '" + http +
                       "' is refused: remote resources are not fetched (kustomize runs without network)"));
  CHECK(has(p.out, at + "4:3:"));
  CHECK(has(p.out, "resources entry 'https://" + l.addr() + "/org/repo.git//base?ref=main' is refused"));
  CHECK(has(p.out, "resources entry '" + l.addr() + ".nip.io/org/repo/base' is refused: it is not a path in the "
                   "repository, so kustomize would fetch it as a remote Git repository"));
  CHECK(has(p.out, "resources entry 'github.com/org/repo//deploy?ref=v1' is refused"));
  CHECK(has(p.out, "resources entry 'git@127.0.0.1:org/repo' is refused"));
  CHECK(has(p.out, "resources entry '/etc/kubernetes' is refused: an absolute path"));
  CHECK(has(p.out, "resources entry '../../../../other-tenant' is refused: the path leaves the repository"));
  CHECK(has(p.out, "configMapGenerator[0].files entry 'http://" + l.addr() + "/latest/meta-data' is refused"));
  CHECK(has(p.out, "patches[0].path entry 'http://" + l.addr() + "/patch.yaml' is refused"));
  CHECK(has(p.out, "helmCharts[0].repo entry 'http://" + l.addr() + "/charts' is refused"));
  CHECK(has(p.out, "clusters/attack/sub/kustomization.yaml:2:3: [attack @ head] kustomization "
                   "clusters/attack/sub/kustomization.yaml: resources entry 'https://" + l.addr() + "/nested.yaml' is refused"));
  check_local_rendered(p, "ok", "two");

  // Control: kustomize itself, run on such a kustomization outside helmgate, does reach the listener.
  const fs::path dir = fs::path(cache) / "control";
  fs::create_directories(dir);
  std::ofstream(dir / "kustomization.yaml") << "resources:\n- " << http << "\n";
  process::ProcessOptions po;
  po.env = {"PATH=/usr/bin:/bin", "HOME=" + cache};
  po.timeout = std::chrono::seconds(60);
  auto k = process::run_process({test::require_env("HELMGATE_KUBECTL"), "kustomize", dir.string()}, po);
  REQUIRE(k.ok());
  CHECK(k->exit_code != 0);
  CHECK(l.connections() > 0);
  fs::remove_all(cache);
}

TEST_CASE("Flux HelmRelease postRenderers and Flux Kustomization patches cannot make kustomize fetch", "[security]") {
  Listener l;
  TempRepo t("egress-postrender");
  add_local_release(t, "ok", "one");
  const std::string base = t.commit("base");
  t.write("clusters/ok/post.yaml",
          "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: post\n  namespace: apps\n"
          "spec:\n  chart:\n    spec:\n      chart: ./charts/app\n      sourceRef:\n        kind: GitRepository\n"
          "        name: flux-system\n  postRenderers:\n  - kustomize:\n      patches:\n      - path: http://" +
              l.addr() + "/p.yaml\n");
  t.write("apps/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\n");
  t.write("clusters/ok/flux-ks.yaml",
          "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n"
          "  namespace: flux-system\nspec:\n  path: ./apps\n  sourceRef:\n    kind: GitRepository\n"
          "    name: flux-system\n  patches:\n  - path: http://" + l.addr() + "/flux-patch.yaml\n");
  const std::string head = t.commit("post renderer");
  const std::string cache = cache_dir("postrender");
  auto p = preview(t, base, head, cache);
  INFO(p.out << p.err);
  CHECK(l.connections() == 0);
  CHECK(has(p.out, "clusters/ok/post.yaml:1: [head] spec.postRenderers: patches[0].path entry 'http://" + l.addr() +
                       "/p.yaml' is refused: remote resources are not fetched"));
  CHECK(has(p.out, "clusters/ok/flux-ks.yaml: [ok @ head] Flux Kustomization spec.patches: patches[0].path entry 'http://" +
                       l.addr() + "/flux-patch.yaml' is refused: remote resources are not fetched"));
  fs::remove_all(cache);
}

TEST_CASE("HelmRepository (HTTP and OCI) and OCIRepository at a loopback listener: nothing is fetched", "[security]") {
  Listener l;
  TempRepo t("egress-helmrepo");
  add_local_release(t, "dev", "one");
  const std::string base = t.commit("base");
  add_local_release(t, "dev", "two");
  t.write("clusters/dev/sources.yaml",
          "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: evil-http\n"
          "  namespace: apps\nspec:\n  url: http://" + l.addr() + "/\n---\n"
          "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: evil-oci\n"
          "  namespace: apps\nspec:\n  type: oci\n  url: oci://" + l.addr() + "/x\n---\n"
          "apiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: OCIRepository\nmetadata:\n  name: evil-ocirepo\n"
          "  namespace: apps\nspec:\n  url: oci://" + l.addr() + "/charts/app\n  ref:\n    tag: 1.0.0\n");
  t.write("clusters/dev/evil.yaml", flux_release("evil-http", "app", "HelmRepository", "evil-http") + "---\n" +
                                        flux_release("evil-oci", "app", "HelmRepository", "evil-oci") + "---\n" +
                                        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n"
                                        "  name: evil-ocirepo\n  namespace: apps\nspec:\n  chartRef:\n"
                                        "    kind: OCIRepository\n    name: evil-ocirepo\n");
  const std::string head = t.commit("sources at loopback");
  const std::string cache = cache_dir("helmrepo");
  auto p = preview(t, base, head, cache);
  INFO(p.out << p.err);
  CHECK(p.rc == 1);
  CHECK(l.connections() == 0);
  CHECK(l.bytes() == 0);
  CHECK(has(p.out, "clusters/dev/evil.yaml:1: [head] chart repository URL 'http://" + l.addr() +
                       "/' refused by the egress policy: plain http is not allowed, only https; 127.0.0.1 is a "
                       "loopback (127.0.0.0/8) address"));
  CHECK(has(p.out, "(declared at clusters/dev/sources.yaml:1)"));
  CHECK(has(p.out, "clusters/dev/evil.yaml:15: [head] OCI registry URL 'oci://" + l.addr() +
                       "/x/app' refused by the egress policy: 127.0.0.1 is a loopback (127.0.0.0/8) address"));
  CHECK(has(p.out, "OCI registry URL 'oci://" + l.addr() + "/charts/app' refused by the egress policy: 127.0.0.1 is a "
                   "loopback"));
  CHECK(has(p.out, "clusters/dev/evil.yaml:29: [head] OCI registry URL"));
  CHECK(has(p.out, "(declared at clusters/dev/sources.yaml:18)"));
  check_local_rendered(p, "dev", "two");

  // An allow list that names other hosts does not open loopback either.
  const std::string cfg = cache + "/allow-github.yaml";
  std::ofstream(cfg) << "egress:\n  allow: [github.com, \"oci://ghcr.io/acme/\"]\n";
  auto p2 = preview(t, base, head, cache, cfg);
  INFO(p2.out << p2.err);
  CHECK(l.connections() == 0);
  CHECK(has(p2.out, "chart repository URL 'http://" + l.addr() + "/' refused by the egress policy: host " + l.addr() +
                        " is not in egress.allow"));

  // Control: an operator who names the listener in egress.allow gets the fetch, so the zeros above mean
  // something (the listener answers 404 and the pull fails).
  const std::string allow = cache + "/allow-listener.yaml";
  std::ofstream(allow) << "egress:\n  allow: [\"http://" << l.addr() << "/\"]\n";
  auto p3 = preview(t, base, head, cache, allow);
  INFO(p3.out << p3.err);
  CHECK(l.connections() > 0);
  CHECK(has(p3.out, "fetching chart 'app' from http://" + l.addr() + "/ version 1.0.0 failed"));
  CHECK(has(p3.out, "OCI registry URL 'oci://" + l.addr() + "/x/app' refused"));  // the allowance names http only
  fs::remove_all(cache);
}

TEST_CASE("helm-operator chart.git and Flux GitRepository URLs at a loopback listener: nothing is fetched",
          "[security]") {
  Listener l;
  TempRepo t("egress-git");
  add_local_release(t, "dev", "one");
  const std::string base = t.commit("base");
  add_local_release(t, "dev", "two");
  const std::string git_url = "http://" + l.addr() + "/org/charts.git";
  t.write("clusters/dev/operator.yaml", operator_release("evil-git", git_url, "charts/remote"));
  t.write("clusters/dev/gitrepo.yaml",
          "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: evil\n  namespace: apps\n"
          "spec:\n  url: https://" + l.addr() + "/org/other.git\n  ref:\n    branch: main\n---\n" +
              flux_release("evil-gitrepo", "./charts/remote", "GitRepository", "evil") + "---\n"
              "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: tenant\n"
              "  namespace: apps\nspec:\n  path: ./deploy\n  sourceRef:\n    kind: GitRepository\n    name: evil\n");
  const std::string head = t.commit("git sources at loopback");
  const std::string cache = cache_dir("git");
  auto p = preview(t, base, head, cache);
  INFO(p.out << p.err);
  CHECK(p.rc == 1);
  CHECK(l.connections() == 0);
  CHECK(l.bytes() == 0);
  CHECK(has(p.out, "clusters/dev/operator.yaml:1: [head] Git remote URL '" + git_url +
                       "' refused by the egress policy: plain http is not allowed, only https; 127.0.0.1 is a loopback "
                       "(127.0.0.0/8) address"));
  CHECK(has(p.out, "clusters/dev/gitrepo.yaml:11: [head] Git remote URL 'https://" + l.addr() +
                       "/org/other.git' refused by the egress policy: 127.0.0.1 is a loopback (127.0.0.0/8) address "
                       "(an operator who trusts it can list it in egress.allow of the server configuration) (declared at "
                       "clusters/dev/gitrepo.yaml:1)"));
  // The tenant Kustomization is named in a note with the same reason.
  CHECK(has(p.out, "which could not be fetched: Git remote URL 'https://" + l.addr() +
                       "/org/other.git' refused by the egress policy: 127.0.0.1 is a loopback"));
  check_local_rendered(p, "dev", "two");
  // No mirror was created for the refused URLs.
  std::error_code ec;
  size_t mirrors = 0;
  for (auto it = fs::directory_iterator(cache + "/mirrors", ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    if (it->path().extension() == ".git") ++mirrors;
  }
  CHECK(mirrors == 0);
  fs::remove_all(cache);
}

TEST_CASE("file:// and local-path Git URLs never read another repository on the host", "[security]") {
  // Another tenant's repository on the same host, with a chart that would print its canary.
  TempRepo other("egress-other-tenant");
  other.write("charts/secret/Chart.yaml", "apiVersion: v2\nname: secret\nversion: 1.0.0\n");
  other.write("charts/secret/templates/cm.yaml",
              "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: canary\ndata:\n  v: OTHER-TENANT-CANARY-7f3a\n");
  other.commit("other tenant");

  TempRepo t("egress-local");
  add_local_release(t, "dev", "one");
  const std::string base = t.commit("base");
  add_local_release(t, "dev", "two");
  const std::string rel = fs::relative(other.dir, t.dir).string();
  const std::vector<std::string> urls = {"file://" + other.dir.string(), other.dir.string(), rel,
                                         "./" + rel, "file://" + other.dir.string() + "/.git", "tenants/other.git"};
  std::string docs;
  for (size_t i = 0; i < urls.size(); ++i) {
    docs += (i == 0 ? "" : "---\n") + operator_release("local-" + std::to_string(i), urls[i], "charts/secret");
  }
  docs += "---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: local\n  namespace: apps\n"
          "spec:\n  url: file://" + other.dir.string() + "\n---\n" +
          flux_release("local-gitrepo", "./charts/secret", "GitRepository", "local");
  t.write("clusters/dev/local-paths.yaml", docs);
  const std::string head = t.commit("local paths");
  const std::string cache = cache_dir("local");
  // The most permissive configuration still refuses local repositories.
  const std::string cfg = cache + "/open.yaml";
  std::ofstream(cfg) << "egress:\n  allow_private: true\n  allow_http: true\n";
  for (const std::string& config : {std::string(), cfg}) {
    auto p = preview(t, base, head, cache, config);
    INFO(p.out << p.err);
    CHECK(p.rc == 1);
    CHECK_FALSE(has(p.out, "OTHER-TENANT-CANARY"));
    CHECK_FALSE(has(p.err, "OTHER-TENANT-CANARY"));
    CHECK(has(p.out, "Git remote URL 'file://" + other.dir.string() +
                         "' refused by the egress policy: file:// URLs are never fetched"));
    CHECK(has(p.out, "Git remote URL '" + other.dir.string() + "' refused by the egress policy: a local path is never fetched"));
    CHECK(has(p.out, "Git remote URL '" + rel + "' refused by the egress policy: a local path is never fetched"));
    CHECK(has(p.out, "Git remote URL 'tenants/other.git' refused by the egress policy: a local or relative path is never fetched"));
    CHECK(has(p.out, "Git remote URL './" + rel + "' refused by the egress policy: a local path is never fetched"));
    CHECK(has(p.out, "apps/local-gitrepo"));
    check_local_rendered(p, "dev", "two");
  }
  fs::remove_all(cache);
}

TEST_CASE("the cloud metadata address is refused before any connection", "[security]") {
  TempRepo t("egress-metadata");
  add_local_release(t, "dev", "one");
  const std::string base = t.commit("base");
  add_local_release(t, "dev", "two");
  t.write("clusters/dev/metadata.yaml",
          "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: md\n  namespace: apps\n"
          "spec:\n  url: https://169.254.169.254/latest/meta-data/\n---\n"
          "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: md-oci\n  namespace: apps\n"
          "spec:\n  type: oci\n  url: oci://[fd00:ec2::254]/x\n---\n" +
              flux_release("md", "app", "HelmRepository", "md") + "---\n" +
              flux_release("md-oci", "app", "HelmRepository", "md-oci") + "---\n" +
              operator_release("md-git", "https://169.254.169.254/computeMetadata/v1/", "charts/x"));
  const std::string head = t.commit("metadata");
  const std::string cache = cache_dir("metadata");
  auto started = std::chrono::steady_clock::now();
  auto p = preview(t, base, head, cache);
  auto took = std::chrono::steady_clock::now() - started;
  INFO(p.out << p.err);
  CHECK(p.rc == 1);
  CHECK(has(p.out, "chart repository URL 'https://169.254.169.254/latest/meta-data/' refused by the egress policy: "
                   "169.254.169.254 is a link-local (169.254.0.0/16, cloud metadata) address"));
  CHECK(has(p.out, "OCI registry URL 'oci://[fd00:ec2::254]/x/app' refused by the egress policy: fd00:ec2::254 is a "
                   "private (unique local fc00::/7) address"));
  CHECK(has(p.out, "Git remote URL 'https://169.254.169.254/computeMetadata/v1/' refused by the egress policy: "
                   "169.254.169.254 is a link-local"));
  // Refused by the check, not by a failed attempt: no fetch was tried and nothing waited for a timeout.
  CHECK_FALSE(has(p.out, "fetching chart"));
  CHECK_FALSE(has(p.out, "git: fetching"));
  CHECK(took < std::chrono::seconds(60));
  check_local_rendered(p, "dev", "two");
  fs::remove_all(cache);
}
