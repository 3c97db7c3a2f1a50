#include "engine/policy.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include "core/markdown.hpp"

namespace helmgate::engine {

namespace {

bool same_login(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

core::Result<PolicyVerdict> evaluate_policy(const PolicyFacts& facts, const std::string& author,
                                            const std::vector<std::string>& approvers, const TeamLookup& in_team) {
  PolicyVerdict v;
  if (facts.rules.empty()) return v;
  v.applies = true;
  std::map<std::pair<std::string, std::string>, bool> seen;  // (team, login) -> member
  auto member = [&](const config::OwnershipEntry& e, const std::string& login) -> core::Result<bool> {
    for (const auto& u : e.users) {
      if (same_login(u, login)) return true;
    }
    for (const auto& t : e.teams) {
      auto key = std::make_pair(t, login);
      auto it = seen.find(key);
      if (it == seen.end()) {
        auto m = in_team ? in_team(t, login) : core::Result<bool>(false);
        if (!m) return m.error();
        it = seen.emplace(key, *m).first;
      }
      if (it->second) return true;
    }
    return false;
  };
  if (!facts.rules.error.empty()) v.blocking.push_back("the ownership rules cannot be read: " + facts.rules.error);
  std::map<const config::OwnershipEntry*, size_t> index;
  for (const auto& path : facts.changed_paths) {
    const auto* e = config::owner_of(facts.rules.entries, path);
    if (e == nullptr) continue;
    auto in = member(*e, author);
    if (!in) return in.error();
    if (*in) continue;
    auto [it, fresh] = index.emplace(e, v.owners.size());
    if (fresh) v.owners.push_back({e->team_name(), e->where, {}, 0, {}});
    auto& o = v.owners[it->second];
    if (o.paths.size() < 20) o.paths.push_back(path);
    ++o.path_count;
  }
  for (const auto& [e, i] : index) {
    for (const auto& login : approvers) {
      if (same_login(login, author)) continue;  // nobody approves their own change
      auto in = member(*e, login);
      if (!in) return in.error();
      if (*in) {
        v.owners[i].approved_by = login;
        break;
      }
    }
  }
  for (const auto& r : facts.releases) {
    if (!r.problem.empty()) {
      v.blocking.push_back("release " + r.id + " (" + r.file + (r.line > 0 ? ":" + std::to_string(r.line) : "") + "): " + r.problem);
    }
  }
  const bool waiting = std::any_of(v.owners.begin(), v.owners.end(), [](const auto& o) { return o.approved_by.empty(); });
  v.state = !v.blocking.empty() ? PolicyVerdict::State::failure
                                : waiting ? PolicyVerdict::State::pending : PolicyVerdict::State::success;
  return v;
}

std::string PolicyVerdict::description() const {
  if (!blocking.empty()) {
    return "blocked: " + std::to_string(blocking.size()) + " ownership finding(s); see the preview comment";
  }
  std::vector<std::string> waiting;
  for (const auto& o : owners) {
    if (o.approved_by.empty()) waiting.push_back(o.team);
  }
  if (!waiting.empty()) return "waiting for approval by the owners: " + joined(waiting);
  if (owners.empty()) return "the author owns every changed path, or nobody does";
  return "approved by the owners of every changed path";
}

std::string PolicyVerdict::markdown() const {
  namespace md = core::md;  // team names, paths and messages come from Git or configuration: escaped
  if (!applies) return {};
  const char* st = state == State::success ? "success" : state == State::pending ? "pending" : "failure";
  std::string out = "### Ownership (`helmgate/policy`: " + std::string(st) + ")\n\n";
  for (const auto& b : blocking) out += "- **blocking** " + md::text(b) + "\n";
  for (const auto& o : owners) {
    out += "- " + std::string(o.approved_by.empty() ? "**waiting for approval** by " : "approved by " + md::code(o.approved_by) + " for ") +
           md::text(o.team) + " (" + md::code(o.where) + "): ";
    for (size_t i = 0; i < o.paths.size(); ++i) out += (i == 0 ? "" : ", ") + md::code(o.paths[i]);
    if (o.path_count > o.paths.size()) out += " and " + std::to_string(o.path_count - o.paths.size()) + " more";
    out += "\n";
  }
  if (blocking.empty() && owners.empty()) out += "The author owns every changed path (or nobody does).\n";
  return out + "\n";
}

}  // namespace helmgate::engine
