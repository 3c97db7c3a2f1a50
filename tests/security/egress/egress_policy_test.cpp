// The egress policy on its own: address classes (IPv4, IPv6, mapped and embedded forms), schemes and
// transports per kind of fetch, userinfo, control characters, allow entries (hosts, ports, wildcards, URL
// prefixes) and resolution (every address of a host is checked). A fake resolver stands in for DNS.
#include <catch2/catch.hpp>

#include <map>

#include "config/config.hpp"
#include "core/egress.hpp"

using namespace helmgate;
using core::FetchKind;

namespace {

// Names resolve from this table; anything else does not resolve.
core::Resolver fake_dns(std::map<std::string, std::vector<std::string>> table) {
  return [table = std::move(table)](const std::string& host) -> core::Result<std::vector<std::string>> {
    if (auto it = table.find(host); it != table.end()) return it->second;
    // Literal addresses resolve to themselves, as getaddrinfo does.
    if (core::address_class(host) != "invalid") return std::vector<std::string>{host};
    return core::Error(core::errc::unavailable, "cannot resolve '" + host + "'");
  };
}

const core::Resolver kDns = fake_dns({
    {"github.com", {"140.82.121.4"}},
    {"charts.example.com", {"93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"}},
    {"rebind.example.com", {"93.184.216.34", "10.1.2.3"}},
    {"internal.corp", {"10.20.30.40"}},
    {"ghcr.io", {"140.82.113.33"}},
    {"metadata.google.internal", {"169.254.169.254"}},
});

std::string refusal(const core::EgressPolicy& p, FetchKind k, const std::string& url) {
  auto r = core::check_egress(p, k, url, kDns);
  return r ? std::string() : r.error().message;
}

bool allowed(const core::EgressPolicy& p, FetchKind k, const std::string& url) {
  auto r = core::check_egress(p, k, url, kDns);
  INFO(url << ": " << (r ? "allowed" : r.error().message));
  return r.ok();
}

}  // namespace

TEST_CASE("address classes: IPv4 ranges that are never fetched by default", "[security]") {
  CHECK(core::address_class("127.0.0.1").rfind("loopback", 0) == 0);
  CHECK(core::address_class("127.255.1.2").rfind("loopback", 0) == 0);
  CHECK(core::address_class("10.0.0.1").rfind("private", 0) == 0);
  CHECK(core::address_class("172.16.0.1").rfind("private", 0) == 0);
  CHECK(core::address_class("172.31.255.255").rfind("private", 0) == 0);
  CHECK(core::address_class("172.32.0.1").empty());
  CHECK(core::address_class("192.168.1.1").rfind("private", 0) == 0);
  CHECK(core::address_class("169.254.169.254").rfind("link-local", 0) == 0);
  CHECK(core::address_class("100.64.0.1").rfind("shared CGNAT", 0) == 0);
  CHECK(core::address_class("100.127.255.255").rfind("shared CGNAT", 0) == 0);
  CHECK(core::address_class("100.128.0.1").empty());
  CHECK(core::address_class("0.0.0.0").rfind("unspecified", 0) == 0);
  CHECK(core::address_class("224.0.0.1").rfind("multicast", 0) == 0);
  CHECK(core::address_class("255.255.255.255") == "broadcast");
  CHECK(core::address_class("240.0.0.1").rfind("reserved", 0) == 0);
  CHECK(core::address_class("192.0.2.10").rfind("documentation", 0) == 0);
  CHECK(core::address_class("198.18.0.1").rfind("reserved", 0) == 0);
  CHECK(core::address_class("8.8.8.8").empty());
  CHECK(core::address_class("140.82.121.4").empty());
  CHECK(core::address_class("not-an-ip") == "invalid");
}

TEST_CASE("address classes: IPv6, including IPv4 embedded in mapped, NAT64 and 6to4 forms", "[security]") {
  CHECK(core::address_class("::1").rfind("loopback", 0) == 0);
  CHECK(core::address_class("[::1]").rfind("loopback", 0) == 0);
  CHECK(core::address_class("::").rfind("unspecified", 0) == 0);
  CHECK(core::address_class("fe80::1").rfind("link-local", 0) == 0);
  CHECK(core::address_class("febf::1").rfind("link-local", 0) == 0);
  CHECK(core::address_class("fc00::1").rfind("private", 0) == 0);
  CHECK(core::address_class("fd12:3456::1").rfind("private", 0) == 0);
  CHECK(core::address_class("ff02::1").rfind("multicast", 0) == 0);
  CHECK(core::address_class("::ffff:127.0.0.1") == "IPv4-mapped loopback (127.0.0.0/8)");
  CHECK(core::address_class("::ffff:169.254.169.254").find("link-local") != std::string::npos);
  CHECK(core::address_class("::ffff:8.8.8.8").empty());
  CHECK(core::address_class("64:ff9b::a9fe:a9fe").find("link-local") != std::string::npos);  // 169.254.169.254
  CHECK(core::address_class("2002:7f00:1::1").find("loopback") != std::string::npos);       // 6to4 of 127.0.0.1
  CHECK(core::address_class("2001:db8::1").rfind("documentation", 0) == 0);
  CHECK(core::address_class("::7f00:1").rfind("reserved", 0) == 0);
  CHECK(core::address_class("2606:2800:220:1:248:1893:25c8:1946").empty());
  CHECK(core::address_class("2a00:1450:4001::200e").empty());
}

TEST_CASE("default policy: public https hosts, nothing local, private or plain", "[security]") {
  core::EgressPolicy p;
  CHECK(allowed(p, FetchKind::chart_repository, "https://charts.example.com/stable"));
  CHECK(allowed(p, FetchKind::git, "https://github.com/org/repo.git"));
  CHECK(allowed(p, FetchKind::git, "git@github.com:org/repo.git"));
  CHECK(allowed(p, FetchKind::git, "ssh://git@github.com/org/repo.git"));
  CHECK(allowed(p, FetchKind::oci, "oci://ghcr.io/stefanprodan/charts/podinfo"));

  CHECK(refusal(p, FetchKind::chart_repository, "http://127.0.0.1:8080/") ==
        "chart repository URL 'http://127.0.0.1:8080/' refused by the egress policy: plain http is not allowed, only "
        "https; 127.0.0.1 is a loopback (127.0.0.0/8) address (an operator who trusts it can list it in egress.allow "
        "of the server configuration as an http:// URL prefix)");
  CHECK(refusal(p, FetchKind::chart_repository, "https://169.254.169.254/latest/meta-data/")
            .find("169.254.169.254 is a link-local (169.254.0.0/16, cloud metadata) address") != std::string::npos);
  CHECK(refusal(p, FetchKind::chart_repository, "https://metadata.google.internal/")
            .find("metadata.google.internal resolves to 169.254.169.254, a link-local") != std::string::npos);
  CHECK(refusal(p, FetchKind::oci, "oci://127.0.0.1:5000/x").find("127.0.0.1 is a loopback") != std::string::npos);
  CHECK(refusal(p, FetchKind::oci, "oci://[::1]:5000/x").find("::1 is a loopback") != std::string::npos);
  CHECK(refusal(p, FetchKind::git, "https://internal.corp/org/repo")
            .find("internal.corp resolves to 10.20.30.40, a private (10.0.0.0/8) address") != std::string::npos);
  // Every address counts: one private answer among public ones is refused (a rebinding-style answer).
  CHECK(refusal(p, FetchKind::chart_repository, "https://rebind.example.com/")
            .find("rebind.example.com resolves to 10.1.2.3, a private") != std::string::npos);
  // Odd spellings of loopback are what the resolver says they are.
  auto real = [](const std::string& url) {
    auto r = core::check_egress(core::EgressPolicy{}, FetchKind::chart_repository, url);
    return r ? std::string() : r.error().message;
  };
  CHECK(real("https://2130706433/").find("resolves to 127.0.0.1, a loopback") != std::string::npos);
  CHECK(real("https://0x7f.1/").find("resolves to 127.0.0.1, a loopback") != std::string::npos);
  CHECK(real("https://localhost/").find("loopback") != std::string::npos);
  CHECK(real("https://[::ffff:127.0.0.1]/").find("IPv4-mapped loopback") != std::string::npos);
  CHECK(refusal(p, FetchKind::git, "https://does-not-resolve.invalid/x").find("cannot resolve") != std::string::npos);
}

TEST_CASE("schemes and transports: file://, local paths, git://, ext:: and friends are never fetched", "[security]") {
  core::EgressPolicy p;
  p.allow_private = true;
  p.allow_http = true;  // even the most permissive policy
  for (const char* url : {"file:///work/other/.git", "FILE:///etc", "/work/_testenv/mirrors/abc.git", "../other",
                          "./x", "~/repo", "relative/dir"}) {
    INFO(url);
    auto why = refusal(p, FetchKind::git, url);
    CHECK(why.find("refused by the egress policy") != std::string::npos);
    CHECK((why.find("local") != std::string::npos || why.find("file://") != std::string::npos));
  }
  CHECK(refusal(p, FetchKind::git, "git://github.com/org/repo").find("scheme 'git' is not allowed") != std::string::npos);
  CHECK(refusal(p, FetchKind::git, "ext::sh -c touch% /tmp/pwned").find("refused by the egress policy") != std::string::npos);
  CHECK(refusal(p, FetchKind::git, "ext::ssh").find("transport 'ext::' is not allowed") != std::string::npos);
  CHECK(refusal(p, FetchKind::git, "fd::17").find("transport 'fd::' is not allowed") != std::string::npos);
  CHECK(refusal(p, FetchKind::chart_repository, "ftp://example.com/x").find("scheme 'ftp'") != std::string::npos);
  CHECK(refusal(p, FetchKind::chart_repository, "oci://ghcr.io/x").find("scheme 'oci'") != std::string::npos);
  CHECK(refusal(p, FetchKind::oci, "https://ghcr.io/x").find("use oci://") != std::string::npos);
  CHECK(refusal(p, FetchKind::chart_repository, "charts.example.com/x").find("not a URL") != std::string::npos);
  CHECK(allowed(p, FetchKind::git, "http://127.0.0.1:3000/org/repo.git"));
}

TEST_CASE("userinfo, control characters and path tricks are refused", "[security]") {
  core::EgressPolicy p;
  auto why = refusal(p, FetchKind::chart_repository, "https://user:s3cr3t-token@charts.example.com/");
  CHECK(why.find("credentials in its userinfo") != std::string::npos);
  CHECK(why.find("s3cr3t-token") == std::string::npos);  // never printed
  CHECK(refusal(p, FetchKind::git, "https://ghp_token@github.com/org/repo").find("credentials") != std::string::npos);
  CHECK(refusal(p, FetchKind::git, "ssh://git:pw@github.com/org/repo").find("credentials") != std::string::npos);
  CHECK(refusal(p, FetchKind::git, "git:pw@github.com:org/repo").find("password") != std::string::npos);
  CHECK(refusal(p, FetchKind::git, "git:pw@github.com:org/repo").find("'***@github.com:org/repo'") != std::string::npos);
  CHECK(refusal(p, FetchKind::git, "git:pw@github.com:org/repo").find(":pw") == std::string::npos);
  CHECK(core::redact_userinfo("https://u:tok@h/x") == "https://***@h/x");
  CHECK(core::redact_userinfo("u:tok@h:org/x") == "***@h:org/x");
  CHECK(core::redact_userinfo("h/a@b") == "h/a@b");
  CHECK(core::redact_userinfo("git@h:org/x") == "git@h:org/x");
  CHECK(allowed(p, FetchKind::git, "ssh://git@github.com/org/repo"));
  CHECK(refusal(p, FetchKind::chart_repository, "https://charts.example.com/\r\nHost: x")
            .find("control character") != std::string::npos);
  CHECK(refusal(p, FetchKind::chart_repository, std::string("https://charts.example.com/\0x", 30))
            .find("control character") != std::string::npos);
  CHECK(refusal(p, FetchKind::chart_repository, "https://charts.example.com\\@127.0.0.1/").find("backslash") !=
        std::string::npos);
  CHECK(refusal(p, FetchKind::chart_repository, "https://charts.example.com%2f@127.0.0.1/").find("credentials") !=
        std::string::npos);
  CHECK(refusal(p, FetchKind::chart_repository, "https://127.0.0.1%2echarts.example.com/").find("percent") !=
        std::string::npos);
  CHECK(refusal(p, FetchKind::chart_repository, "https://[fe80::1%25eth0]/").find("zone") != std::string::npos);
  CHECK(refusal(p, FetchKind::git, "https://github.com/org/../other").find("'..' segment") != std::string::npos);
  CHECK(refusal(p, FetchKind::git, "https://github.com/org/%2e%2e/other").find("'..' segment") != std::string::npos);
  CHECK(refusal(p, FetchKind::git, "https://github.com:99999/x").find("port is out of range") != std::string::npos);
  CHECK(refusal(p, FetchKind::git, "https:///x").find("no host") != std::string::npos);
}

TEST_CASE("allow lists: hosts, ports, wildcards and URL prefixes", "[security]") {
  core::EgressPolicy p;
  p.allow = {"github.com", "*.example.com", "internal.corp:8443", "https://gitlab.com/team/", "oci://ghcr.io/org",
             "http://127.0.0.1:8879/charts/"};
  CHECK(allowed(p, FetchKind::git, "https://github.com/anyone/repo"));
  CHECK(allowed(p, FetchKind::git, "git@github.com:anyone/repo"));
  CHECK_FALSE(allowed(p, FetchKind::git, "https://github.com:8443/anyone/repo"));  // a bare host: default port
  CHECK(allowed(p, FetchKind::chart_repository, "https://charts.example.com/"));
  CHECK(refusal(p, FetchKind::chart_repository, "https://example.com/").find("host example.com is not in egress.allow") !=
        std::string::npos);
  CHECK(allowed(p, FetchKind::git, "https://gitlab.com/team/app.git"));
  CHECK_FALSE(allowed(p, FetchKind::git, "https://gitlab.com/teamevil/app.git"));
  CHECK_FALSE(allowed(p, FetchKind::git, "https://gitlab.com/other/app.git"));
  CHECK_FALSE(allowed(p, FetchKind::git, "http://gitlab.com/team/app.git"));  // the prefix names https
  CHECK(allowed(p, FetchKind::oci, "oci://ghcr.io/org/chart"));
  CHECK(allowed(p, FetchKind::oci, "oci://ghcr.io/org"));
  CHECK_FALSE(allowed(p, FetchKind::oci, "oci://ghcr.io/organisation/chart"));
  CHECK(refusal(p, FetchKind::chart_repository, "https://bitbucket.org/").find("not in egress.allow") != std::string::npos);

  // A host the operator names may be private (their own chart museum); a wildcard may not.
  CHECK(allowed(p, FetchKind::chart_repository, "https://internal.corp:8443/charts"));
  CHECK_FALSE(allowed(p, FetchKind::chart_repository, "https://internal.corp/charts"));  // other port
  core::EgressPolicy w;
  w.allow = {"*.corp"};
  CHECK(refusal(w, FetchKind::chart_repository, "https://internal.corp/").find("private") != std::string::npos);
  // An http:// prefix is explicit about http and about its host.
  CHECK(allowed(p, FetchKind::chart_repository, "http://127.0.0.1:8879/charts/stable"));
  CHECK_FALSE(allowed(p, FetchKind::chart_repository, "http://127.0.0.1:8879/other/"));
  CHECK_FALSE(allowed(p, FetchKind::chart_repository, "http://127.0.0.1:8880/charts/"));
  CHECK_FALSE(allowed(p, FetchKind::chart_repository, "http://127.0.0.1:8879/charts/../admin"));

  // allow_private lets hosts resolve privately, but the allow list still decides which hosts.
  core::EgressPolicy q;
  q.allow_private = true;
  CHECK(allowed(q, FetchKind::git, "https://internal.corp/org/repo"));
  CHECK_FALSE(allowed(q, FetchKind::chart_repository, "http://internal.corp/"));  // still no plain http
  q.allow_http = true;
  CHECK(allowed(q, FetchKind::chart_repository, "http://internal.corp/"));

  // The configured repository is trusted as written.
  core::EgressPolicy t;
  t.trusted = {"http://127.0.0.1:3000/gitops/fleet.git"};
  CHECK(allowed(t, FetchKind::git, "http://127.0.0.1:3000/gitops/fleet"));
  CHECK_FALSE(allowed(t, FetchKind::git, "http://127.0.0.1:3000/gitops/other"));
}

TEST_CASE("allow entries are validated for the configuration loader", "[security]") {
  for (const char* ok : {"github.com", "github.com:443", "*.example.com", "https://gitlab.com/team/", "oci://ghcr.io/org",
                         "http://127.0.0.1:8879/", "[::1]:5000", "10.0.0.5"}) {
    INFO(ok);
    CHECK(core::validate_allow_entry(ok).ok());
  }
  for (const char* bad : {"file:///srv/git/", "git://github.com/", "https://user:pw@github.com/", "github.com/org",
                          "*.exa mple.com", "https://github.com/a/../b", "host:notaport", "ext::sh"}) {
    INFO(bad);
    CHECK_FALSE(core::validate_allow_entry(bad).ok());
  }
}

TEST_CASE("configuration: egress at the top level and per repository, parsed strictly", "[security]") {
  const std::string forges =
      "forges:\n- {name: gh, kind: github, webhook_secret_env: S}\n";
  auto cfg = config::load_string(
      "egress:\n  allow: [github.com, \"oci://ghcr.io/acme/\"]\n  allow_http: false\n" + forges +
          "repos:\n- name: acme/a\n  url: https://github.com/acme/a.git\n  forge: gh\n"
          "- name: acme/b\n  url: https://git.corp/acme/b.git\n  forge: gh\n"
          "  egress: {allow: [\"git.corp\"], allow_private: true}\n",
      "helmgate.yaml");
  CHECK(cfg.egress.allow == std::vector<std::string>{"github.com", "oci://ghcr.io/acme/"});
  CHECK_FALSE(cfg.egress.allow_private);
  REQUIRE(cfg.repos.size() == 2);
  // A repository without its own egress inherits the top level; its own URL is trusted.
  CHECK(cfg.repos[0].egress.allow == cfg.egress.allow);
  CHECK(cfg.repos[0].egress.trusted == std::vector<std::string>{"https://github.com/acme/a.git"});
  // Its own egress replaces the top level.
  CHECK(cfg.repos[1].egress.allow == std::vector<std::string>{"git.corp"});
  CHECK(cfg.repos[1].egress.allow_private);
  CHECK(cfg.repos[1].egress.trusted == std::vector<std::string>{"https://git.corp/acme/b.git"});
  // Without the key: the default policy (any public host, nothing private, no http).
  auto none = config::load_string("", "helmgate.yaml");
  CHECK(none.egress.allow.empty());
  CHECK_FALSE(none.egress.allow_private);
  CHECK_FALSE(none.egress.allow_http);

  auto error_of = [](const std::string& yaml) {
    try {
      config::load_string(yaml, "helmgate.yaml");
    } catch (const config::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(error_of("egress:\n  allow: [github.com, \"file:///srv/git/\"]\n") ==
        "helmgate.yaml:2:23: egress.allow[1]: 'file:///srv/git/': a URL prefix must start with https://, http://, "
        "ssh:// or oci:// (local repositories and other transports cannot be allowed)");
  CHECK(error_of("egress:\n  allow: [\"https://u:p@github.com/\"]\n").find("must not carry a user or password") !=
        std::string::npos);
  CHECK(error_of("egress:\n  allow_private: yes\n") == "helmgate.yaml:2:18: egress.allow_private: must be true or false");
  CHECK(error_of("egress:\n  allow_http: 1\n") == "helmgate.yaml:2:15: egress.allow_http: must be true or false");
  CHECK(error_of("egress:\n  deny: [x]\n") ==
        "helmgate.yaml:2:3: egress.deny: unknown key (allowed: allow, allow_private, allow_http)");
  CHECK(error_of("egress: [github.com]\n") == "helmgate.yaml:1:9: egress: must be a mapping");
  CHECK(error_of(forges + "repos:\n- name: a/b\n  forge: gh\n  egress: {allow: [\"ext::sh\"]}\n")
            .find("repos[0].egress.allow[0]: 'ext::sh'") != std::string::npos);
}
