#include "engine/ownership.hpp"

#include <algorithm>


namespace helmgate::engine {

namespace {

bool listed(const std::vector<std::string>& list, const std::string& v) {
  return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

std::string deploy_branch_commit(const git::Repository& repo, const config::Repo& cfg, const std::string& fallback) {
  for (const auto& c : {"refs/heads/" + cfg.deploy_branch, "refs/remotes/origin/" + cfg.deploy_branch}) {
    if (auto r = repo.resolve(c); r.ok()) return *r;
  }
  return fallback;
}

OwnershipRules load_ownership(const git::Repository& repo, const std::string& deploy_commit, const config::Repo& cfg) {
  OwnershipRules out;
  if (!cfg.owners_file.empty() && deploy_commit.empty()) {
    out.error = "the deploy branch " + cfg.deploy_branch + " cannot be resolved, so " + cfg.owners_file +
                " cannot be read from it (it is never read from a pull request's head)";
  } else if (!cfg.owners_file.empty()) {
    out.source = cfg.owners_file + "@" + deploy_commit.substr(0, 12);
    auto text = repo.read_file(deploy_commit, cfg.owners_file);
    if (!text) {
      out.error = cfg.owners_file + ": cannot be read at " + deploy_commit.substr(0, 12) + ": " + text.error().message;
    } else if (text->has_value()) {
      auto parsed = config::parse_owners_file(**text, cfg.owners_file);
      if (!parsed) {
        out.error = parsed.error().message + " (read from the deploy branch at " + deploy_commit.substr(0, 12) + ")";
      } else {
        out.entries = std::move(*parsed);
      }
    }
  }
  out.entries.insert(out.entries.end(), cfg.ownership.begin(), cfg.ownership.end());
  return out;
}

kube::Impersonation release_identity(const OwnershipRules& rules, const release::Release& r) {
  if (const auto* e = config::owner_of(rules.entries, r.where.file); e != nullptr && !e->identity_user.empty()) {
    return {e->identity_user, e->identity_groups};
  }
  return kube::service_account(r.namespace_, r.spec.service_account_name());
}

std::string placement_problem(const OwnershipRules& rules, const release::Release& r) {
  const auto* e = config::owner_of(rules.entries, r.where.file);
  if (e == nullptr) return {};
  const std::string who = "the team of " + r.where.file + " (" + e->team_name() + ", " + e->where + ")";
  if (!listed(e->clusters, r.cluster)) {
    return "cluster " + r.cluster + " is not one " + who + " may deploy to (" + joined(e->clusters) + ")";
  }
  if (!listed(e->namespaces, r.namespace_)) {
    return "the HelmRelease's namespace " + r.namespace_ + " is not one " + who + " may use (" + joined(e->namespaces) + ")";
  }
  if (!listed(e->namespaces, r.target_namespace)) {
    return "target namespace " + r.target_namespace + " is not one " + who + " may use (" + joined(e->namespaces) + ")";
  }
  return {};
}

PolicyFacts policy_facts(OwnershipRules rules, const std::vector<std::string>& changed_paths,
                         const std::vector<release::Affected>& affected) {
  PolicyFacts f;
  f.changed_paths = changed_paths;
  for (const auto& a : affected) {
    if (a.head == nullptr) continue;
    const auto& r = *a.head;
    f.releases.push_back({r.id(), r.cluster, r.where.file, r.namespace_, r.target_namespace, r.where.line,
                          placement_problem(rules, r)});
  }
  f.rules = std::move(rules);
  return f;
}

}  // namespace helmgate::engine
