#include "core/egress.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>

#include "core/redact.hpp"

namespace helmgate::core {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

int default_port(std::string_view scheme) {
  if (scheme == "http") return 80;
  if (scheme == "ssh") return 22;
  return 443;  // https, oci
}

Error refuse(std::string_view reason) { return Error(errc::forbidden, std::string(reason)); }

// Characters that make URL parsers disagree, or hide what a URL says in a report.
std::optional<std::string> bad_characters(std::string_view url) {
  for (unsigned char c : url) {
    if (c < 0x20 || c == 0x7f) return "it contains a control character";
    if (c == ' ') return "it contains a space";
    if (c == '\\') return "it contains a backslash";
  }
  return std::nullopt;
}

bool valid_host_chars(std::string_view host, bool ipv6) {
  if (host.empty()) return false;
  for (unsigned char c : host) {
    bool ok = ipv6 ? (std::isxdigit(c) != 0 || c == ':' || c == '.')
                   : (std::isalnum(c) != 0 || c == '.' || c == '-' || c == '_');
    if (!ok) return false;
  }
  return true;
}

// Splits "host", "host:port", "[v6]" or "[v6]:port"; port 0 when absent.
Result<std::pair<std::string, int>> split_host_port(std::string_view hp) {
  std::string host;
  std::string_view port_text;
  bool ipv6 = false;
  if (!hp.empty() && hp.front() == '[') {
    auto close = hp.find(']');
    if (close == std::string_view::npos) return refuse("its IPv6 host has no closing ']'");
    host = std::string(hp.substr(1, close - 1));
    ipv6 = true;
    std::string_view rest = hp.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return refuse("unexpected characters after the IPv6 host");
      port_text = rest.substr(1);
      if (port_text.empty()) return refuse("it has an empty port");
    }
  } else {
    auto colon = hp.find(':');
    if (colon != std::string_view::npos) {
      if (hp.find(':', colon + 1) != std::string_view::npos) {
        return refuse("its host has several ':' (write an IPv6 address in brackets)");
      }
      port_text = hp.substr(colon + 1);
      if (port_text.empty()) return refuse("it has an empty port");
      host = std::string(hp.substr(0, colon));
    } else {
      host = std::string(hp);
    }
  }
  if (host.find('%') != std::string::npos) return refuse("its host is percent-encoded or carries an IPv6 zone");
  host = lower(host);
  if (!ipv6 && host.size() > 1 && host.back() == '.') host.pop_back();
  if (!valid_host_chars(host, ipv6)) return refuse("its host '" + host + "' is not a host name or address");
  int port = 0;
  if (!port_text.empty()) {
    if (port_text.size() > 5 || !std::all_of(port_text.begin(), port_text.end(),
                                             [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; })) {
      return refuse("its port is not a number");
    }
    port = std::stoi(std::string(port_text));
    if (port < 1 || port > 65535) return refuse("its port is out of range");
  }
  return std::make_pair(host, port);
}

// "." and ".." segments (also percent-encoded) and encoded slashes make a prefix match meaningless.
std::optional<std::string> bad_path(std::string_view path) {
  std::string p = lower(path);
  for (const char* enc : {"%2f", "%5c"}) {
    if (p.find(enc) != std::string::npos) return "its path contains an encoded slash";
  }
  for (size_t pos; (pos = p.find("%2e")) != std::string::npos;) p.replace(pos, 3, ".");
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string::npos) end = p.size();
    std::string_view seg = std::string_view(p).substr(start, end - start);
    if (seg == "." || seg == "..") return "its path contains a '" + std::string(seg) + "' segment";
    start = end + 1;
  }
  return std::nullopt;
}

struct V4 {
  uint8_t b[4];
};

std::string class_v4(const V4& a) {
  const uint8_t x = a.b[0], y = a.b[1], z = a.b[2];
  if (x == 0) return "unspecified (0.0.0.0/8)";
  if (x == 10) return "private (10.0.0.0/8)";
  if (x == 100 && (y & 0xc0) == 64) return "shared CGNAT (100.64.0.0/10)";
  if (x == 127) return "loopback (127.0.0.0/8)";
  if (x == 169 && y == 254) return "link-local (169.254.0.0/16, cloud metadata)";
  if (x == 172 && (y & 0xf0) == 16) return "private (172.16.0.0/12)";
  if (x == 192 && y == 0 && z == 0) return "reserved (192.0.0.0/24)";
  if (x == 192 && y == 0 && z == 2) return "documentation (192.0.2.0/24)";
  if (x == 192 && y == 88 && z == 99) return "reserved (192.88.99.0/24)";
  if (x == 192 && y == 168) return "private (192.168.0.0/16)";
  if (x == 198 && (y & 0xfe) == 18) return "reserved (198.18.0.0/15)";
  if (x == 198 && y == 51 && z == 100) return "documentation (198.51.100.0/24)";
  if (x == 203 && y == 0 && z == 113) return "documentation (203.0.113.0/24)";
  if (x == 255 && y == 255 && z == 255 && a.b[3] == 255) return "broadcast";
  if ((x & 0xf0) == 224) return "multicast (224.0.0.0/4)";
  if ((x & 0xf0) == 240) return "reserved (240.0.0.0/4)";
  return "";
}

std::string class_v6(const std::array<uint8_t, 16>& a) {
  auto zero = [&](size_t from, size_t to) {
    return std::all_of(a.begin() + static_cast<long>(from), a.begin() + static_cast<long>(to),
                       [](uint8_t v) { return v == 0; });
  };
  if (zero(0, 16)) return "unspecified (::)";
  if (zero(0, 15) && a[15] == 1) return "loopback (::1)";
  if (zero(0, 10) && a[10] == 0xff && a[11] == 0xff) {
    std::string c = class_v4({{a[12], a[13], a[14], a[15]}});
    return c.empty() ? "" : "IPv4-mapped " + c;
  }
  if (zero(0, 12)) return "reserved (IPv4-compatible ::/96)";
  if (a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b) {
    if (zero(4, 12)) {
      std::string c = class_v4({{a[12], a[13], a[14], a[15]}});
      return c.empty() ? "" : "NAT64 " + c;
    }
    if (a[4] == 0 && a[5] == 1) return "private (NAT64 local use 64:ff9b:1::/48)";
  }
  if (a[0] == 0x01 && a[1] == 0x00 && zero(2, 8)) return "reserved (discard 100::/64)";
  if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) return "documentation (2001:db8::/32)";
  if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x00 && a[3] == 0x00) return "reserved (Teredo 2001::/32)";
  if (a[0] == 0x20 && a[1] == 0x02) {
    std::string c = class_v4({{a[2], a[3], a[4], a[5]}});
    return c.empty() ? "" : "6to4 " + c;
  }
  if ((a[0] & 0xfe) == 0xfc) return "private (unique local fc00::/7)";
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return "link-local (fe80::/10)";
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) return "private (site-local fec0::/10)";
  if (a[0] == 0xff) return "multicast (ff00::/8)";
  return "";
}

// One parsed `allow` entry.
struct AllowEntry {
  enum Kind { by_host, by_wildcard, by_prefix } kind = by_host;
  std::string scheme;  // prefix only
  std::string host;    // host; wildcard: the suffix with its leading '.'
  int port = 0;        // 0: the scheme's default
  std::string path;    // prefix only
};

std::string normalize_scheme(std::string s) {
  s = lower(s);
  if (s == "git+ssh" || s == "ssh+git") return "ssh";
  return s;
}

Result<AllowEntry> parse_allow(std::string_view entry) {
  if (auto bad = bad_characters(entry)) return refuse(*bad);
  AllowEntry e;
  if (auto p = entry.find("://"); p != std::string_view::npos) {
    e.kind = AllowEntry::by_prefix;
    e.scheme = normalize_scheme(std::string(entry.substr(0, p)));
    if (e.scheme != "https" && e.scheme != "http" && e.scheme != "ssh" && e.scheme != "oci") {
      return refuse("a URL prefix must start with https://, http://, ssh:// or oci:// (local repositories and "
                    "other transports cannot be allowed)");
    }
    std::string_view rest = entry.substr(p + 3);
    auto slash = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, slash);
    if (authority.find('@') != std::string_view::npos) return refuse("a URL prefix must not carry a user or password");
    auto hp = split_host_port(authority);
    if (!hp) return hp.error();
    e.host = hp->first;
    e.port = hp->second;
    e.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    if (e.path.find_first_of("?#") != std::string::npos) return refuse("a URL prefix must not have a query or fragment");
    if (auto bad = bad_path(e.path)) return refuse(*bad);
    return e;
  }
  if (entry.size() > 2 && entry.substr(0, 2) == "*.") {
    e.kind = AllowEntry::by_wildcard;
    std::string suffix = lower(entry.substr(1));
    if (!valid_host_chars(suffix.substr(1), false) || suffix.find(':') != std::string::npos) {
      return refuse("a wildcard must look like *.example.com (no port)");
    }
    e.host = suffix;
    return e;
  }
  if (entry.find('/') != std::string_view::npos || entry.find('@') != std::string_view::npos) {
    return refuse("write a host, host:port, *.domain or a URL prefix with its scheme (https://host/path/)");
  }
  auto hp = split_host_port(entry);
  if (!hp) return hp.error();
  e.host = hp->first;
  e.port = hp->second;
  return e;
}

struct Match {
  bool matched = false;
  bool explicit_host = false;  // the entry names this host: private addresses are the operator's choice
  bool explicit_http = false;  // the entry is an http:// prefix
};

Match match_allow(const std::vector<std::string>& allow, const EgressTarget& t) {
  Match best;
  for (const auto& raw : allow) {
    auto e = parse_allow(raw);
    if (!e) continue;  // the configuration loader refuses these; never match one
    switch (e->kind) {
      case AllowEntry::by_wildcard: {
        bool host_ok = t.host.size() > e->host.size() &&
                       t.host.compare(t.host.size() - e->host.size(), e->host.size(), e->host) == 0;
        if (host_ok && t.port == default_port(t.scheme)) best.matched = true;
        break;
      }
      case AllowEntry::by_host: {
        int port = e->port != 0 ? e->port : default_port(t.scheme);
        if (t.host == e->host && t.port == port) {
          best.matched = true;
          best.explicit_host = true;
        }
        break;
      }
      case AllowEntry::by_prefix: {
        int port = e->port != 0 ? e->port : default_port(e->scheme);
        if (t.scheme != e->scheme || t.host != e->host || t.port != port) break;
        const std::string& ep = e->path;
        bool path_ok = ep == "/" || t.path == ep ||
                       (ep.back() == '/' ? t.path.rfind(ep, 0) == 0
                                         : t.path.rfind(ep + "/", 0) == 0 || t.path == ep + ".git");
        if (!path_ok) break;
        best.matched = true;
        best.explicit_host = true;
        if (e->scheme == "http") best.explicit_http = true;
      }
    }
    if (best.matched && best.explicit_host && (t.scheme != "http" || best.explicit_http)) break;
  }
  return best;
}

std::string trim_repo_url(std::string_view url) {
  std::string s(url);
  while (!s.empty() && s.back() == '/') s.pop_back();
  if (s.size() > 4 && s.compare(s.size() - 4, 4, ".git") == 0) s.resize(s.size() - 4);
  return s;
}

const char* kind_name(FetchKind kind) {
  switch (kind) {
    case FetchKind::git: return "Git remote";
    case FetchKind::chart_repository: return "chart repository";
    case FetchKind::oci: return "OCI registry";
  }
  return "URL";
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

}  // namespace

Result<EgressTarget> parse_egress_url(FetchKind kind, std::string_view url) {
  if (url.empty()) return refuse("the URL is empty");
  if (auto bad = bad_characters(url)) return refuse(*bad);
  EgressTarget t;
  auto sep = url.find("://");
  if (sep == std::string_view::npos) {
    const char c0 = url.front();
    if (c0 == '/' || c0 == '.' || c0 == '~') {
      return refuse("a local path is never fetched (it would read the server's own disk, other repositories and "
                    "the mirror cache); name a remote repository by its https URL");
    }
    auto colon = url.find(':');
    auto slash = url.find('/');
    if (colon != std::string_view::npos && colon + 1 < url.size() && url[colon + 1] == ':') {
      return refuse("the transport '" + std::string(url.substr(0, colon)) + "::' is not allowed (only https" +
                    (kind == FetchKind::git ? std::string(" and ssh") : std::string()) + ")");
    }
    if (kind != FetchKind::git || colon == std::string_view::npos || (slash != std::string_view::npos && slash < colon)) {
      return refuse(kind == FetchKind::git
                        ? "a local or relative path is never fetched; name a remote repository by its https URL"
                        : "it is not a URL (expected " +
                              std::string(kind == FetchKind::oci ? "oci://host/path" : "https://host/path") + ")");
    }
    // scp-like ssh: [user@]host:path (the user is whatever precedes the last '@' before the first '/')
    std::string_view hostpart = url;
    if (auto at = url.substr(0, slash).rfind('@'); at != std::string_view::npos) {
      t.user = std::string(url.substr(0, at));
      if (t.user.find(':') != std::string::npos) return refuse("it carries a password in its userinfo");
      hostpart = url.substr(at + 1);
    }
    colon = hostpart.find(':');
    if (colon == std::string_view::npos) return refuse("a local or relative path is never fetched; name a remote repository by its https URL");
    std::string_view authority = hostpart.substr(0, colon);
    if (authority.empty() || authority.front() == '[') return refuse("it has no host");
    auto hp = split_host_port(authority);
    if (!hp) return hp.error();
    if (hp->second != 0) return refuse("its scp-like form cannot have a port (write ssh://host:port/path)");
    t.scheme = "ssh";
    t.host = hp->first;
    t.port = 22;
    t.path = "/" + std::string(hostpart.substr(colon + 1));
    if (auto bad = bad_path(t.path)) return refuse(*bad);
    return t;
  }
  std::string scheme = normalize_scheme(std::string(url.substr(0, sep)));
  if (scheme.empty() || !std::all_of(scheme.begin(), scheme.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '-' || c == '.';
      })) {
    return refuse("its scheme is not valid");
  }
  if (scheme == "file") {
    return refuse("file:// URLs are never fetched (they read the server's own disk, other repositories and the "
                  "mirror cache); name a remote repository by its https URL");
  }
  bool ok = false;
  switch (kind) {
    case FetchKind::git: ok = scheme == "https" || scheme == "http" || scheme == "ssh"; break;
    case FetchKind::chart_repository: ok = scheme == "https" || scheme == "http"; break;
    case FetchKind::oci: ok = scheme == "oci"; break;
  }
  if (!ok) {
    std::string allowed = kind == FetchKind::git ? "https or ssh" : kind == FetchKind::oci ? "oci://" : "https";
    return refuse("the scheme '" + scheme + "' is not allowed for a " + kind_name(kind) + " (use " + allowed + ")");
  }
  std::string_view rest = url.substr(sep + 3);
  auto end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    if (scheme != "ssh" || userinfo.find(':') != std::string_view::npos) {
      return refuse("it carries credentials in its userinfo (user:password@); credentials come from the server's "
                    "configuration, never from the repository");
    }
    t.user = std::string(userinfo);
    authority = authority.substr(at + 1);
  }
  if (authority.empty()) return refuse("it has no host");
  auto hp = split_host_port(authority);
  if (!hp) return hp.error();
  t.scheme = scheme;
  t.host = hp->first;
  t.port = hp->second != 0 ? hp->second : default_port(scheme);
  std::string_view tail = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  t.path = std::string(tail.substr(0, tail.find_first_of("?#")));
  if (t.path.empty()) t.path = "/";
  if (auto bad = bad_path(t.path)) return refuse(*bad);
  return t;
}

std::string address_class(std::string_view ip) {
  std::string s(ip);
  if (!s.empty() && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    V4 a{};
    std::memcpy(a.b, &v4.s_addr, 4);
    return class_v4(a);
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    std::array<uint8_t, 16> a{};
    std::memcpy(a.data(), v6.s6_addr, 16);
    return class_v6(a);
  }
  return "invalid";
}

Result<std::vector<std::string>> resolve_host(const std::string& host) {
  // A short cache: a preview checks the same few hosts for every release.
  struct Entry {
    std::vector<std::string> addrs;
    std::chrono::steady_clock::time_point at;
  };
  static std::mutex mu;
  static std::map<std::string, Entry> cache;
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lk(mu);
    if (auto it = cache.find(host); it != cache.end() && now - it->second.at < std::chrono::seconds(30)) {
      return it->second.addrs;
    }
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) return Error(errc::unavailable, "cannot resolve '" + host + "': " + gai_strerror(rc));
  std::vector<std::string> out;
  for (addrinfo* p = res; p != nullptr; p = p->ai_next) {
    char buf[INET6_ADDRSTRLEN] = {};
    const void* src = p->ai_family == AF_INET ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(p->ai_addr)->sin_addr)
                      : p->ai_family == AF_INET6
                          ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(p->ai_addr)->sin6_addr)
                          : nullptr;
    if (src == nullptr || inet_ntop(p->ai_family, src, buf, sizeof buf) == nullptr) continue;
    if (std::find(out.begin(), out.end(), buf) == out.end()) out.emplace_back(buf);
  }
  freeaddrinfo(res);
  if (out.empty()) return Error(errc::unavailable, "'" + host + "' has no address");
  std::lock_guard lk(mu);
  if (cache.size() > 1024) cache.clear();
  cache[host] = {out, now};
  return out;
}

std::string redact_userinfo(std::string_view url) {
  if (url.find("://") != std::string_view::npos) return redact_url(url);
  auto at = url.substr(0, url.find('/')).rfind('@');
  // An ssh user alone ("git@host:org/repo") is no secret; a password is.
  if (at == std::string_view::npos || url.substr(0, at).find(':') == std::string_view::npos) return std::string(url);
  return "***" + std::string(url.substr(at));
}

Result<void> validate_allow_entry(std::string_view entry) {
  auto e = parse_allow(entry);
  if (!e) return e.error();
  return {};
}

Result<void> check_egress(const EgressPolicy& policy, FetchKind kind, std::string_view url, const Resolver& resolver) {
  const std::string shown = redact_userinfo(url);
  auto fail = [&](const std::string& reason, const std::string& hint) {
    return Error(errc::forbidden, std::string(kind_name(kind)) + " URL '" + shown + "' refused by the egress policy: " +
                                      reason + (hint.empty() ? std::string() : " (" + hint + ")"));
  };
  if (auto bad = bad_characters(url)) return fail(*bad, "");
  for (const auto& t : policy.trusted) {
    if (!t.empty() && trim_repo_url(t) == trim_repo_url(url)) return {};
  }
  auto target = parse_egress_url(kind, url);
  if (!target) return fail(target.error().message, "");
  const EgressTarget& t = *target;
  Match m = policy.allow.empty() ? Match{true, false, false} : match_allow(policy.allow, t);
  const std::string where = t.host + (t.port != default_port(t.scheme) ? ":" + std::to_string(t.port) : "");
  if (!m.matched) {
    return fail("host " + where + " is not in egress.allow", "an operator can add it to egress.allow in the server configuration");
  }
  std::vector<std::string> reasons;
  bool http_refused = t.scheme == "http" && !policy.allow_http && !m.explicit_http;
  if (http_refused) reasons.emplace_back("plain http is not allowed, only https");
  if (!policy.allow_private && !m.explicit_host) {
    auto addrs = resolver ? resolver(t.host) : resolve_host(t.host);
    if (!addrs) {
      reasons.push_back(addrs.error().message);
    } else {
      for (const auto& a : *addrs) {
        std::string cls = address_class(a);
        if (cls.empty()) continue;
        reasons.push_back(a == t.host ? a + " is a " + cls + " address"
                                      : t.host + " resolves to " + a + ", a " + cls + " address");
      }
    }
  }
  if (reasons.empty()) return {};
  return fail(join(reasons, "; "),
              "an operator who trusts it can list it in egress.allow of the server configuration" +
                  std::string(http_refused ? " as an http:// URL prefix" : ""));
}

}  // namespace helmgate::core
