#pragma once
// The egress policy: which addresses a URL from a repository (a chart repository, an OCI registry, a Git
// remote) may make helmgate connect to. Content from Git is hostile: without this check a pull request could
// make the worker fetch from loopback services, the cloud metadata endpoint or other repositories on the host.
//
// Rules (check_egress):
//   * Only https, ssh (Git) and oci:// (OCI registries, spoken to over https). Plain http only with
//     allow_http or an http:// prefix in `allow`. Never file://, a local or relative path, git://, ext:: or
//     any other transport.
//   * No userinfo credentials in the URL (ssh may name a user, never a password), no control characters,
//     no backslash, no percent-encoding in the host, no "." or ".." path segments.
//   * `allow` empty: any host. `allow` set: only the hosts and URL prefixes listed there.
//   * Every address the host resolves to must be public: loopback, private (RFC 1918, fc00::/7), link-local
//     (169.254/16 with the metadata endpoint, fe80::/10), CGNAT (100.64/10), unspecified, multicast,
//     broadcast, documentation and other reserved ranges are refused, unless allow_private is set or the
//     URL matched an `allow` entry that names its host explicitly (not a *. wildcard).
//   * `trusted` URLs (the configured repository) are always allowed.
#include <string>
#include <string_view>
#include <vector>

#include "core/address.hpp"  // address_class, resolve_host, Resolver
#include "core/error.hpp"

namespace helmgate::core {

enum class FetchKind {
  git,               // a Git remote: https, ssh (ssh:// or user@host:path)
  chart_repository,  // a Helm HTTP chart repository: https
  oci,               // an OCI registry: oci://host/path
};

struct EgressPolicy {
  // Entries: "host", "host:port", "*.example.com" (any subdomain, default ports), or a URL prefix
  // "https://host[:port]/path/" (that scheme, that host and port, paths at or below it). Empty: any host.
  std::vector<std::string> allow;
  bool allow_private = false;  // hosts may resolve to private/loopback/link-local addresses
  bool allow_http = false;     // plain http:// chart repositories and Git remotes
  // URLs that are always allowed (compared after normalization): the operator's own repository.
  std::vector<std::string> trusted;
};

// Where a URL points, as the policy sees it.
struct EgressTarget {
  std::string scheme;  // https, http, ssh, oci
  std::string user;    // ssh user (never a password)
  std::string host;    // lower case, IPv6 without brackets
  int port = 0;        // explicit or the scheme's default
  std::string path;    // starts with '/'
};

// Parses a URL as the given kind of fetch would; an error says why it is not acceptable at all.
Result<EgressTarget> parse_egress_url(FetchKind kind, std::string_view url);

// Allowed: ok. Refused: errc::forbidden with "<redacted url> refused by the egress policy: <reasons>
// (<what to do>)". resolver null: resolve_host.
Result<void> check_egress(const EgressPolicy& policy, FetchKind kind, std::string_view url,
                          const Resolver& resolver = nullptr);

// A URL as it may be shown: userinfo replaced by "***" in scheme URLs (redact_url) and in scp-like Git
// addresses with a password ("user:pw@host:path" -> "***@host:path"; "git@host:path" stays).
std::string redact_userinfo(std::string_view url);

// Validates one `allow` entry (for the configuration loader); an error says why it is not usable.
Result<void> validate_allow_entry(std::string_view entry);

}  // namespace helmgate::core
