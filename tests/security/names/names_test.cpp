// The name gate (issue 10, item 1), without servers: the Kubernetes and Helm naming rules, discovery
// refusing hostile identifiers from a repository with a finding at file:line (the other releases stay
// fine), and the second line in the HTTP client (control characters in a request target or header are
// refused before anything is written: a local listener receives no connection) and in the forge
// clients' URL building (every segment percent-encoded).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <atomic>
#include <cstring>
#include <thread>

#include "core/names.hpp"
#include "forge/rest_util.hpp"
#include "http/client.hpp"
#include "kube/client.hpp"
#include "release/release.hpp"
#include "support/temp_repo.hpp"

using namespace helmgate;
namespace names = core::names;

namespace {

// Values a hostile PR uses, each of which must be refused wherever a name goes.
const std::vector<std::string> kHostile = {
    "--set-file=leak=/proc/self/environ",
    "--output-dir=/tmp/x",
    "-f",
    "--post-renderer=/bin/sh",
    "has space",
    "UpperCase",
    std::string(54, 'a'),
    "x\r\nDELETE /api/v1/namespaces/kube-system HTTP/1.1",
    "a\nb",
    std::string("nul\0byte", 8),
    "tab\there",
    "del\x7f",
};

}  // namespace

TEST_CASE("names: DNS-1123 labels and subdomains, Helm release names", "[security]") {
  for (const char* ok : {"a", "podinfo", "team-a", "a1", "0abc", "x-y-z9"}) {
    INFO(ok);
    CHECK(names::dns1123_label(ok).empty());
    CHECK(names::namespace_name(ok).empty());
    CHECK(names::helm_release_name(ok).empty());
    CHECK(names::dns1123_subdomain(ok).empty());
  }
  CHECK(names::dns1123_label(std::string(63, 'a')).empty());
  CHECK(names::dns1123_label(std::string(64, 'a')).find("64 characters long (at most 63)") != std::string::npos);
  CHECK(names::helm_release_name(std::string(53, 'a')).empty());
  CHECK(names::helm_release_name(std::string(54, 'a')).find("54 characters long (at most 53)") != std::string::npos);
  CHECK(names::dns1123_subdomain("podinfo.team-a.example").empty());
  CHECK(names::helm_release_name("a.b").empty());
  CHECK(!names::dns1123_label("a.b").empty());
  CHECK(names::dns1123_subdomain(std::string(253, 'a')).empty());  // Kubernetes limits the whole name, not each part
  CHECK(names::dns1123_subdomain(std::string(254, 'a')).find("254 characters long") != std::string::npos);
  for (const auto& bad : kHostile) {
    INFO(names::shown(bad));
    CHECK(!names::helm_release_name(bad).empty());  // every spelling, also uppercase and 54 characters
    const bool injection = bad != "UpperCase" && bad.size() != 54;  // a flag, a space or a control character
    if (bad.size() != 54) {
      CHECK(!names::dns1123_label(bad).empty());
      CHECK(!names::namespace_name(bad).empty());
      CHECK(!names::dns1123_subdomain(bad).empty());
    }
    if (!injection) continue;
    if (bad != "-f") CHECK(!names::data_key(bad).empty());  // "-f" is a valid key; keys never reach argv
    CHECK(!names::chart_name(bad).empty());
    CHECK(!names::kind(bad).empty());
    CHECK(!names::api_version(bad).empty());
    CHECK(!names::cluster_name(bad).empty());
  }
  // The reason says what is wrong, precisely.
  CHECK(names::helm_release_name("--set-file=x").find("it contains '='") != std::string::npos);
  CHECK(names::helm_release_name("-x").find("starts with '-'") != std::string::npos);
  CHECK(names::helm_release_name("Podinfo").find("uppercase letter 'P'") != std::string::npos);
  CHECK(names::namespace_name("a b").find("a space at position 2") != std::string::npos);
  CHECK(names::namespace_name("a\r\nb").find("carriage return") != std::string::npos);
  CHECK(names::dns1123_subdomain("a..b").find("empty part") != std::string::npos);
  CHECK(names::dns1123_subdomain("a.-b").find("part starts with '-'") != std::string::npos);
}

TEST_CASE("names: kinds, apiVersions, data keys, charts, paths, versions, object and cluster names", "[security]") {
  CHECK(names::kind("Deployment").empty());
  CHECK(names::kind("HelmRelease").empty());
  CHECK(!names::kind("9Lives").empty());
  CHECK(!names::kind("Config-Map").empty());
  for (const char* ok : {"v1", "apps/v1", "helm.toolkit.fluxcd.io/v2beta1", "networking.k8s.io/v1"}) {
    INFO(ok);
    CHECK(names::api_version(ok).empty());
  }
  for (const char* bad : {"", "/v1", "apps/", "a/b/c", "Apps/v1", "apps/v1 ", "apps/v1?x"}) {
    INFO(bad);
    CHECK(!names::api_version(bad).empty());
  }
  for (const char* ok : {"values.yaml", "VALUES_1-x.yml", "a"}) CHECK(names::data_key(ok).empty());
  for (const char* bad : {".", "..", "a/b", "a b", ""}) CHECK(!names::data_key(bad).empty());
  CHECK(names::chart_name("podinfo").empty());
  CHECK(names::chart_name("kube-prometheus-stack").empty());
  CHECK(names::chart_name("My_Chart.v2").empty());
  CHECK(!names::chart_name("-podinfo").empty());
  CHECK(!names::chart_name("../podinfo").empty());
  for (const char* ok : {"charts/podinfo", "./charts/podinfo", "charts/podinfo/", "", "a/b-c/d"}) {
    INFO(ok);
    CHECK(names::repo_path(ok).empty());
  }
  for (const char* bad : {"../charts", "charts/../../x", "/etc", "--output-dir=/tmp/x", "charts/-f", "a\\b", "a\nb"}) {
    INFO(bad);
    CHECK(!names::repo_path(bad).empty());
  }
  for (const char* ok : {"6.14.1", ">=4.0.0 <5.0.0", "~1.2", "main", "refs/tags/v1", ""}) CHECK(names::chart_version(ok).empty());
  for (const char* bad : {"--version=1", "-1", "1.0\r\n", "\x01"}) CHECK(!names::chart_version(bad).empty());
  // Rendered objects: RBAC-style names pass, anything that could split a request line does not.
  CHECK(names::object_name("ClusterRole", "system:aggregate-to-edit").empty());
  CHECK(names::object_name("ConfigMap", "podinfo").empty());
  CHECK(!names::object_name("Namespace", "Team_A").empty());
  for (const char* bad : {"a b", "a/b", "a%2Fb", ".", "..", "x\r\nDELETE /", "a\tb", ""}) {
    INFO(bad);
    CHECK(!names::object_name("ConfigMap", bad).empty());
  }
  CHECK(names::cluster_name("dev").empty());
  CHECK(names::cluster_name("prod-eu_1.a").empty());
  CHECK(!names::cluster_name("-dev").empty());
}

TEST_CASE("names: shown() never prints a control character, path segments are percent-encoded", "[security]") {
  std::string s = names::shown("a\r\nb\x01\"\\" + std::string(100, 'z'));
  CHECK(s.rfind("\"a\\r\\nb\\x01\\\"\\\\", 0) == 0);
  CHECK(s.find('\r') == std::string::npos);
  CHECK(s.find('\n') == std::string::npos);
  CHECK(s.find("...\"") != std::string::npos);
  CHECK(names::path_segment("abc-._~XYZ09") == "abc-._~XYZ09");
  CHECK(names::path_segment("a/b c?d#e%f\r\n") == "a%2Fb%20c%3Fd%23e%25f%0D%0A");
  CHECK(names::path_segment("system:x") == "system%3Ax");
  CHECK(names::request_target_problem("/api/v1/namespaces/a%0D%0A").empty());
  CHECK(!names::request_target_problem("/api/v1/namespaces/a\r\nDELETE /").empty());
  CHECK(!names::request_target_problem("/a b").empty());
  CHECK(!names::request_target_problem(std::string("/a\0b", 4)).empty());
  CHECK(names::header_value_problem("Bearer abc\tdef").empty());
  CHECK(!names::header_value_problem("abc\r\nX-Injected: 1").empty());
}

TEST_CASE("forge URLs: owner, name, user and ref are percent-encoded path segments", "[security]") {
  forge::RepoRef repo;
  repo.owner = "../../admin";
  repo.name = "fleet\r\nX-Injected: 1";
  CHECK(forge::rest::repo_path(repo) == "/repos/..%2F..%2Fadmin/fleet%0D%0AX-Injected%3A%201");
  CHECK(forge::rest::segment("refs/heads/main?x=1#y") == "refs%2Fheads%2Fmain%3Fx%3D1%23y");
  CHECK(forge::rest::segment("octo cat") == "octo%20cat");
}

namespace {

// A TCP listener on 127.0.0.1 that records whether anyone connected and what was sent.
struct Listener {
  int fd = -1;
  int port = 0;
  std::atomic<bool> connected{false};
  std::string received;
  std::thread th;
  Listener() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    REQUIRE(::listen(fd, 4) == 0);
    th = std::thread([this] {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 1500) <= 0) return;
      int c = ::accept(fd, nullptr, nullptr);
      if (c < 0) return;
      connected = true;
      char buf[4096];
      pollfd q{c, POLLIN, 0};
      while (::poll(&q, 1, 500) > 0) {
        ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        received.append(buf, static_cast<size_t>(n));
        const char* answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
        (void)!::write(c, answer, std::strlen(answer));
      }
      ::close(c);
    });
  }
  void join() {
    if (th.joinable()) th.join();
  }
  ~Listener() {
    join();
    ::close(fd);
  }
};

}  // namespace

TEST_CASE("http client: CR/LF or other control characters in a target or header are refused before connecting",
          "[security]") {
  struct Case {
    std::string path;
    http::Headers headers;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {"/repos/a/b HTTP/1.1\r\nHost: x\r\n\r\nDELETE /repos/a/b", {}, "a space at position"},
      {"/repos/a/b\r\nHost: x\r\n\r\nDELETE /repos/a/b", {}, "carriage return"},
      {"/repos/a\nb", {}, "line feed"},
      {"/repos/a b", {}, "space"},
      {std::string("/repos/a\0b", 10), {}, "control character \\x00"},
      {"/ok", {{"Authorization", "token abc\r\nX-Smuggled: 1"}}, "the value of header Authorization"},
      {"/ok", {{"X-Bad\r\nName", "1"}}, "is not an HTTP token"},
  };
  for (const auto& c : cases) {
    Listener l;
    http::Client client;
    http::ClientRequest req;
    req.method = "GET";
    req.url = "http://127.0.0.1:" + std::to_string(l.port) + c.path;
    req.headers = c.headers;
    auto r = client.request(req);
    l.join();
    INFO(names::shown(c.path));
    REQUIRE(!r.ok());
    CHECK(r.error().code == core::make_error_code(core::errc::bad_request));
    CHECK(r.error().message.find(c.expect) != std::string::npos);
    CHECK(r.error().message.find("abc") == std::string::npos);  // a header value (a credential) is never shown
    CHECK(!l.connected);
    CHECK(l.received.empty());
  }
  // The same client and listener answer a clean request: the refusal above is the check, not a dead port.
  Listener l;
  http::Client client;
  auto ok = client.request({"GET", "http://127.0.0.1:" + std::to_string(l.port) + "/repos/a%0D%0Ab", {}, "", {}});
  l.join();
  REQUIRE(ok.ok());
  CHECK(ok->status == 200);
  CHECK(l.received.rfind("GET /repos/a%0D%0Ab HTTP/1.1\r\n", 0) == 0);
}

namespace {

const char* kChart = "apiVersion: v2\nname: demo\nversion: 0.1.0\n";

std::string helmrelease(const std::string& name, const std::string& extra_spec, const std::string& ns = "apps") {
  return "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: " + name + "\n  namespace: " + ns +
         "\nspec:\n  interval: 5m\n  chart:\n    spec:\n      chart: ./charts/demo\n      sourceRef:\n        kind: "
         "GitRepository\n        name: flux-system\n" +
         extra_spec;
}

std::string errors_of(const release::Release& r) {
  std::string s;
  for (const auto& e : r.errors) s += e.where.file + ":" + std::to_string(e.where.line) + ": " + e.message + "\n";
  return s;
}

}  // namespace

TEST_CASE("discovery: hostile names from the repository make their release an error at file:line", "[security]") {
  test::TempRepo t("names-gate");
  t.write("charts/demo/Chart.yaml", kChart);
  t.write("charts/demo/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n");
  t.write("clusters/dev/good.yaml", helmrelease("good", "  releaseName: good-release\n"));
  // One file per attack; the offending field is on a known line.
  struct Attack {
    std::string file, yaml, field;
    int line;
    std::string rule;
  };
  std::vector<Attack> attacks = {
      {"rn-setfile.yaml", helmrelease("rn1", "  releaseName: --set-file=leak=/proc/self/environ\n"), "spec.releaseName", 14,
       "Helm release name"},
      {"rn-outdir.yaml", helmrelease("rn2", "  releaseName: \"--output-dir=/tmp/x\"\n"), "spec.releaseName", 14, "Helm release name"},
      {"rn-f.yaml", helmrelease("rn3", "  releaseName: -f\n"), "spec.releaseName", 14, "starts with '-'"},
      {"rn-postrender.yaml", helmrelease("rn4", "  releaseName: --post-renderer=/bin/sh\n"), "spec.releaseName", 14,
       "Helm release name"},
      {"rn-space.yaml", helmrelease("rn5", "  releaseName: has space\n"), "spec.releaseName", 14, "a space"},
      {"rn-upper.yaml", helmrelease("rn6", "  releaseName: Podinfo\n"), "spec.releaseName", 14, "uppercase letter 'P'"},
      {"rn-long.yaml", helmrelease("rn7", "  releaseName: " + std::string(54, 'a') + "\n"), "spec.releaseName", 14,
       "54 characters long (at most 53)"},
      {"ns.yaml", helmrelease("ns1", "", "--output-dir=/tmp/x"), "metadata.namespace", 5, "DNS-1123 label"},
      {"tns.yaml", helmrelease("tns1", "  targetNamespace: --set-file=x=/proc/self/environ\n"), "spec.targetNamespace", 14,
       "DNS-1123 label"},
      {"tns-crlf.yaml", helmrelease("tns2", "  targetNamespace: \"a\\r\\nb\"\n"), "spec.targetNamespace", 14,
       "carriage return"},
      {"sns.yaml", helmrelease("sns1", "  storageNamespace: -f\n"), "spec.storageNamespace", 14, "DNS-1123 label"},
      {"vf-name.yaml",
       helmrelease("vf1", "  valuesFrom:\n  - kind: ConfigMap\n    name: --set-file=x=/proc/self/environ\n"),
       "spec.valuesFrom[0].name", 16, "DNS-1123 subdomain"},
      {"vf-key.yaml",
       helmrelease("vf2", "  valuesFrom:\n  - kind: Secret\n    name: s\n    valuesKey: ../../x y\n    optional: true\n"),
       "spec.valuesFrom[0].valuesKey", 17, "ConfigMap/Secret key"},
      {"name.yaml", helmrelease("Bad_Name", "  releaseName: fine\n"), "metadata.name", 4, "DNS-1123 subdomain"},
  };
  // The chart path: from the chart field itself.
  {
    std::string y = helmrelease("cp1", "");
    auto pos = y.find("./charts/demo");
    y.replace(pos, std::string("./charts/demo").size(), "../../--output-dir=/tmp/x");
    attacks.push_back({"chart-path.yaml", y, "spec.chart.spec.chart", 10, "relative path inside the repository"});
    std::string v = helmrelease("cv1", "");
    v.replace(v.find("      sourceRef:"), 0, "      version: --set-file=x=/etc/passwd\n");
    attacks.push_back({"chart-version.yaml", v, "spec.chart.spec.version", 11, "starts with '-'"});
  }
  for (const auto& a : attacks) t.write("clusters/dev/" + a.file, a.yaml);
  // helm-operator v1: chart.path and a configMapKeyRef key.
  t.write("clusters/dev/v1.yaml",
          "apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata:\n  name: old\n  namespace: apps\nspec:\n"
          "  chart:\n    git: https://example.invalid/fleet\n    path: charts/-f\n  valuesFrom:\n  - configMapKeyRef:\n"
          "      name: cm\n      key: \"a\\nb\"\n");
  const std::string head = t.commit("hostile names");
  auto repo = git::Repository::open(t.dir.string());
  REQUIRE(repo.ok());
  release::DiscoverOptions opt;
  opt.clusters = {{"dev", {"clusters/dev"}, {}}};
  opt.work_root = (t.dir / ".work").string();
  auto d = release::discover(*repo, head, opt);

  auto find = [&](const std::string& name) -> const release::Release* {
    for (const auto& r : d.releases) {
      if (r.name == name) return &r;
    }
    return nullptr;
  };
  const auto* good = find("good");
  REQUIRE(good != nullptr);
  INFO(errors_of(*good));
  CHECK(good->errors.empty());
  CHECK(good->release_name == "good-release");

  for (const auto& a : attacks) {
    const release::Release* r = nullptr;
    for (const auto& x : d.releases) {
      if (x.where.file == "clusters/dev/" + a.file) r = &x;
    }
    INFO(a.file);
    REQUIRE(r != nullptr);
    std::string errs = errors_of(*r);
    INFO(errs);
    bool hit = false;
    for (const auto& e : r->errors) {
      hit |= e.where.file == "clusters/dev/" + a.file && e.where.line == a.line && e.message.rfind(a.field + " \"", 0) == 0 &&
             e.message.find(a.rule) != std::string::npos;
      CHECK(e.message.find('\r') == std::string::npos);
      CHECK(e.message.find('\n') == std::string::npos);
    }
    CHECK(hit);
  }
  const auto* v1 = find("old");
  REQUIRE(v1 != nullptr);
  std::string errs = errors_of(*v1);
  INFO(errs);
  CHECK(errs.find("clusters/dev/v1.yaml:9: spec.chart.path \"charts/-f\" must be a relative path") != std::string::npos);
  CHECK(errs.find("clusters/dev/v1.yaml:13: spec.valuesFrom[0].configMapKeyRef.key \"a\\nb\"") != std::string::npos);

  // A derived release name that is too long: named as derived, with the fix.
  test::TempRepo t2("names-gate-derived");
  t2.write("charts/demo/Chart.yaml", kChart);
  t2.write("clusters/dev/long.yaml", helmrelease(std::string(30, 'n'), "  targetNamespace: " + std::string(30, 't') + "\n"));
  const std::string head2 = t2.commit("long");
  auto repo2 = git::Repository::open(t2.dir.string());
  auto d2 = release::discover(*repo2, head2, opt);
  REQUIRE(d2.releases.size() == 1);
  std::string e2 = errors_of(d2.releases[0]);
  INFO(e2);
  CHECK(e2.find("clusters/dev/long.yaml:1: the release name derived from spec.targetNamespace and metadata.name (set "
                "spec.releaseName) \"" + std::string(30, 't') + "-" + std::string(30, 'n') + "\"") != std::string::npos);
  CHECK(e2.find("61 characters long (at most 53)") != std::string::npos);
}

TEST_CASE("kube client: a target, name or namespace with control characters is refused before connecting",
          "[security]") {
  Listener l;
  kube::Kubeconfig kc;
  kc.server = "https://127.0.0.1:" + std::to_string(l.port);
  kc.token = "secret-token";
  kc.namespace_ = "default";
  kc.source = "test";
  kube::Client c("dev", kc);
  const std::string victim = "DELETE /api/v1/namespaces/kube-system HTTP/1.1";
  auto raw = c.request("PATCH", "/api/v1/namespaces/a/configmaps/x HTTP/1.1\r\nHost: h\r\n\r\n" + victim);
  REQUIRE(!raw.ok());
  CHECK(raw.error().code == core::make_error_code(core::errc::bad_request));
  CHECK(raw.error().message.find("refusing to send PATCH") != std::string::npos);
  CHECK(raw.error().message.find('\n') == std::string::npos);
  CHECK(!c.request("GET", "/api/v1/namespaces/a b").ok());
  CHECK(!c.request("GET", std::string("/api/v1/namespaces/a\0b", 23)).ok());
  // Through the typed calls: name, namespace, kind and apiVersion are checked before discovery.
  auto by_name = c.get({"v1", "ConfigMap", "default", "x\r\n\r\n" + victim});
  REQUIRE(!by_name.ok());
  CHECK(by_name.error().message.find("ConfigMap name \"x\\r\\n\\r\\nDELETE") != std::string::npos);
  auto by_ns = c.apply({"v1", "ConfigMap", "default\nX: y", "x"}, "{}", kube::ApplyOptions{});
  REQUIRE(!by_ns.ok());
  CHECK(by_ns.error().message.find("namespace \"default\\nX: y\"") != std::string::npos);
  CHECK(!c.get({"v1\r\n", "ConfigMap", "default", "x"}).ok());
  CHECK(!c.get({"v1", "Config Map", "default", "x"}).ok());
  CHECK(!c.get({"v1", "ConfigMap", "default", "a/b"}).ok());
  CHECK(!c.get({"v1", "Namespace", "", "Kube_System"}).ok());
  l.join();
  CHECK(c.connections_opened() == 0);
  CHECK(!l.connected);
  CHECK(l.received.empty());
}
