#include "config/ownership.hpp"

#include <cctype>

#include "config/config.hpp"
#include "config/reader.hpp"
#include "core/names.hpp"
#include "core/yaml_bounded.hpp"

namespace helmgate::config {

namespace {

// Glob over '/'-separated segments; seg: '*' and '?' within one segment.
bool segment_match(std::string_view g, std::string_view s) {
  size_t gi = 0, si = 0, star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (gi < g.size() && (g[gi] == '?' || g[gi] == s[si])) {
      ++gi;
      ++si;
    } else if (gi < g.size() && g[gi] == '*') {
      star = gi++;
      mark = si;
    } else if (star != std::string_view::npos) {
      gi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (gi < g.size() && g[gi] == '*') ++gi;
  return gi == g.size();
}

std::vector<std::string_view> split(std::string_view p) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= p.size()) {
    size_t slash = p.find('/', start);
    auto part = p.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (!part.empty()) out.push_back(part);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

bool match_from(const std::vector<std::string_view>& g, size_t gi, const std::vector<std::string_view>& p, size_t pi) {
  if (gi == g.size()) return pi == p.size();
  if (g[gi] == "**") {
    for (size_t k = pi; k <= p.size(); ++k) {
      if (match_from(g, gi + 1, p, k)) return true;
    }
    return false;
  }
  return pi < p.size() && segment_match(g[gi], p[pi]) && match_from(g, gi + 1, p, pi + 1);
}

// A forge login: letters, digits, '-', '_', '.'; at most 100 characters.
std::string login_problem(const std::string& v) {
  if (v.empty() || v.size() > 100) return "must be a forge login (1 to 100 characters)";
  for (char c : v) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return "must be a forge login (letters, digits, '-', '_', '.'): " + core::names::shown(v);
    }
  }
  return {};
}

std::string glob_problem(const std::string& v) {
  if (v.empty()) return "must not be empty";
  if (core::names::has_control_chars(v)) return "has a control character: " + core::names::shown(v);
  if (v.front() == '/') return "must be relative to the repository root (no leading '/')";
  for (auto part : split(v)) {
    if (part == "..") return "must not have a '..' part";
  }
  return {};
}

}  // namespace

std::string OwnershipEntry::team_name() const {
  std::string out;
  for (const auto& u : users) out += (out.empty() ? "" : ", ") + u;
  for (const auto& t : teams) out += (out.empty() ? "" : ", ") + t;
  return out;
}

bool path_glob_match(std::string_view glob, std::string_view path) {
  auto g = split(glob);
  auto p = split(path);
  if (match_from(g, 0, p, 0)) return true;
  // A directory (no wildcard in the glob) owns what is below it.
  if (glob.find_first_of("*?") == std::string_view::npos) {
    g.push_back("**");
    return match_from(g, 0, p, 0);
  }
  return false;
}

const OwnershipEntry* owner_of(const std::vector<OwnershipEntry>& entries, std::string_view path) {
  const OwnershipEntry* out = nullptr;
  for (const auto& e : entries) {
    for (const auto& g : e.paths) {
      if (path_glob_match(g, path)) {
        out = &e;
        break;
      }
    }
  }
  return out;
}

namespace detail {

void read_ownership(const Reader& r, const YAML::Node& list, const std::string& p, std::vector<OwnershipEntry>& out) {
  if (!list.IsSequence()) r.fail(list, p, "must be a list of {paths, team, clusters, namespaces, identity}");
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node n = list[i];
    const std::string ep = p + "[" + std::to_string(i) + "]";
    r.expect_map(n, ep, {"paths", "team", "clusters", "namespaces", "identity"});
    OwnershipEntry e;
    e.where = r.source() + ":" + std::to_string(n.Mark().line + 1);
    e.paths = r.strings(n, ep, "paths");
    if (e.paths.empty()) r.fail(n, ep + ".paths", "must list at least one path glob");
    for (size_t j = 0; j < e.paths.size(); ++j) {
      if (auto why = glob_problem(e.paths[j]); !why.empty()) r.fail(n["paths"][j], ep + ".paths[" + std::to_string(j) + "]", why);
    }
    const YAML::Node team = n["team"];
    if (!team) r.fail(n, ep + ".team", "is required: {users: [...], teams: [org/team, ...]}");
    r.expect_map(team, ep + ".team", {"users", "teams"});
    e.users = r.strings(team, ep + ".team", "users");
    e.teams = r.strings(team, ep + ".team", "teams");
    if (e.users.empty() && e.teams.empty()) r.fail(team, ep + ".team", "must name at least one user or team");
    for (size_t j = 0; j < e.users.size(); ++j) {
      if (auto why = login_problem(e.users[j]); !why.empty()) r.fail(team["users"][j], ep + ".team.users[" + std::to_string(j) + "]", why);
    }
    for (size_t j = 0; j < e.teams.size(); ++j) {
      const std::string& t = e.teams[j];
      auto slash = t.find('/');
      if (slash == std::string::npos || !login_problem(t.substr(0, slash)).empty() || !login_problem(t.substr(slash + 1)).empty()) {
        r.fail(team["teams"][j], ep + ".team.teams[" + std::to_string(j) + "]",
               "must be a forge team as org/team (letters, digits, '-', '_', '.'): " + core::names::shown(t));
      }
    }
    e.clusters = r.strings(n, ep, "clusters");
    for (size_t j = 0; j < e.clusters.size(); ++j) {
      if (auto why = core::names::cluster_name(e.clusters[j]); !why.empty()) {
        r.fail(n["clusters"][j], ep + ".clusters[" + std::to_string(j) + "]", "cluster " + core::names::shown(e.clusters[j]) + " " + why);
      }
    }
    e.namespaces = r.strings(n, ep, "namespaces");
    for (size_t j = 0; j < e.namespaces.size(); ++j) {
      if (auto why = core::names::namespace_name(e.namespaces[j]); !why.empty()) {
        r.fail(n["namespaces"][j], ep + ".namespaces[" + std::to_string(j) + "]",
               "namespace " + core::names::shown(e.namespaces[j]) + " " + why);
      }
    }
    if (const YAML::Node id = n["identity"]) {
      r.expect_map(id, ep + ".identity", {"user", "groups"});
      e.identity_user = r.str(id, ep + ".identity", "user", "", true);
      // The identity reaches an Impersonate-User header and helm's --kube-as-user: never a CR/LF, an option
      // or one of Kubernetes' system: identities.
      if (auto why = core::names::impersonation_user(e.identity_user); !why.empty()) {
        r.fail(id["user"], ep + ".identity.user", core::names::shown(e.identity_user) + " " + why);
      }
      e.identity_groups = r.strings(id, ep + ".identity", "groups");
      for (size_t j = 0; j < e.identity_groups.size(); ++j) {
        if (auto why = core::names::impersonation_group(e.identity_groups[j]); !why.empty()) {
          r.fail(id["groups"][j], ep + ".identity.groups[" + std::to_string(j) + "]",
                 core::names::shown(e.identity_groups[j]) + " " + why);
        }
      }
    }
    out.push_back(std::move(e));
  }
}

}  // namespace detail

core::Result<std::vector<OwnershipEntry>> parse_owners_file(std::string_view text, const std::string& source) {
  std::vector<OwnershipEntry> out;
  detail::Reader r(source);
  try {
    YAML::Node doc = core::yaml::load(text);
    if (!doc || doc.IsNull()) return out;  // an empty file declares nothing
    r.expect_map(doc, "", {"ownership"});
    if (const YAML::Node list = doc["ownership"]) detail::read_ownership(r, list, "ownership", out);
  } catch (const ConfigError& e) {
    return core::Error(core::errc::invalid_config, e.what());
  } catch (const YAML::Exception& e) {
    return core::Error(core::errc::invalid_config, source + ":" + std::to_string(e.mark.line + 1) + ":" +
                                                       std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  return out;
}

}  // namespace helmgate::config
