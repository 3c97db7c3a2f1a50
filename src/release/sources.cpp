#include "release/sources.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "core/names.hpp"
#include "git/repository.hpp"
#include "release/yaml_util.hpp"

namespace fs = std::filesystem;

namespace helmgate::release {

namespace {

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t p = s.find(sep, start);
    out.emplace_back(s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return out;
}

bool all_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

std::string check_mapping_path(std::string& path) {
  if (auto why = core::names::repo_path(path); !why.empty()) return why;
  std::string p = path;
  while (p.rfind("./", 0) == 0) p.erase(0, 2);
  std::string n = fs::path(p).lexically_normal().generic_string();
  while (!n.empty() && n.back() == '/') n.pop_back();
  if (n == ".") n.clear();
  path = n;
  return {};
}

core::Result<SourceMapping> parse_source_mapping(std::string_view text, const std::string& origin) {
  auto bad = [&](const std::string& why) {
    return core::Error(core::errc::bad_request,
                       origin + ": source mapping " + core::names::shown(text) + " " + why +
                           " (write [KIND/][NAMESPACE/]NAME=PATH, e.g. OCIRepository/flux-system/apps=deploy/apps)");
  };
  auto eq = text.find('=');
  if (eq == std::string_view::npos) return bad("has no '='");
  SourceMapping m;
  m.origin = origin;
  m.path = std::string(text.substr(eq + 1));
  auto parts = split(text.substr(0, eq), '/');
  if (parts.size() > 3) return bad("has more than three '/'-separated parts before '='");
  m.name = parts.back();
  if (parts.size() == 3) {
    m.kind = parts[0];
    m.namespace_ = parts[1];
  } else if (parts.size() == 2) {
    // A kind starts upper case; a namespace (a DNS-1123 label) cannot.
    if (!parts[0].empty() && std::isupper(static_cast<unsigned char>(parts[0][0])) != 0) {
      m.kind = parts[0];
    } else {
      m.namespace_ = parts[0];
    }
  }
  if (auto why = core::names::dns1123_subdomain(m.name); !why.empty()) return bad("names the source " + why);
  if (!m.kind.empty()) {
    static const std::vector<std::string> kinds = {"GitRepository", "OCIRepository", "Bucket", "ExternalArtifact",
                                                   "HelmRepository"};
    if (std::find(kinds.begin(), kinds.end(), m.kind) == kinds.end()) {
      return bad("has kind '" + m.kind + "'; one of GitRepository, OCIRepository, Bucket, ExternalArtifact, HelmRepository");
    }
  }
  if (!m.namespace_.empty()) {
    if (auto why = core::names::namespace_name(m.namespace_); !why.empty()) return bad("has a namespace that " + why);
  }
  if (auto why = check_mapping_path(m.path); !why.empty()) return bad("has a path that " + why);
  return m;
}

const SourceMapping* find_mapping(const std::vector<SourceMapping>& mappings, const std::string& kind,
                                  const std::string& namespace_, const std::string& name) {
  const SourceMapping* best = nullptr;
  int best_score = -1;
  for (const auto& m : mappings) {
    if (m.name != name) continue;
    if (!m.kind.empty() && m.kind != kind) continue;
    if (!m.namespace_.empty() && m.namespace_ != namespace_) continue;
    int score = (m.kind.empty() ? 0 : 2) + (m.namespace_.empty() ? 0 : 1);
    if (score > best_score) {
      best = &m;
      best_score = score;
    }
  }
  return best;
}

bool is_self_git_repository(const DiscoverOptions& opt, const std::string& name, const std::string& url) {
  if (name == "flux-system") return true;
  if (url.empty()) return false;
  const std::string c = git::canonical_url(url);
  auto same = [&](const std::string& s) { return !s.empty() && git::canonical_url(s) == c; };
  if (!opt.self_urls.empty()) return std::any_of(opt.self_urls.begin(), opt.self_urls.end(), same);
  return std::any_of(opt.remote_urls.begin(), opt.remote_urls.end(), same);
}

std::string digest_problem(std::string_view v) {
  const std::string what = "must be an OCI digest (sha256: and 64, sha384: and 96 or sha512: and 128 lower-case hex digits)";
  auto colon = v.find(':');
  if (colon == std::string_view::npos) return what + ": it has no ':'";
  std::string_view algo = v.substr(0, colon), hex = v.substr(colon + 1);
  size_t want = algo == "sha256" ? 64 : algo == "sha384" ? 96 : algo == "sha512" ? 128 : 0;
  if (want == 0) return what + ": unknown algorithm " + core::names::shown(algo);
  if (hex.size() != want || !all_hex(hex)) return what + ": the hex part is not " + std::to_string(want) + " lower-case hex digits";
  return {};
}

OciRef oci_ref(const YAML::Node& ref) {
  OciRef out;
  out.digest = detail::scalar(ref, "digest");
  std::string semver = detail::scalar(ref, "semver"), tag = detail::scalar(ref, "tag");
  // With a digest the tag is kept to be shown (oci://…/chart:1.2.3@sha256:…); a range is not.
  out.version = !out.digest.empty() ? tag : !semver.empty() ? semver : tag;
  if (!out.digest.empty()) out.error = digest_problem(out.digest);
  return out;
}

}  // namespace helmgate::release
