#include "core/egress.hpp"

#include <algorithm>
#include <cctype>
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
