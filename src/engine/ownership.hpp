#pragma once
// Ownership in a change (issue 14): the rules (config/ownership.hpp) read from the deploy branch, never
// from the pull request's head; who each release acts as; the policy verdict of a change: which owning
// teams must approve (the author is not in them), and which releases go where their team may not deploy
// (blocking). The forge side (reviews, team membership) comes in as plain data and a lookup, so this room
// needs no forge.
#include <functional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/error.hpp"
#include "git/repository.hpp"
#include "kube/impersonation.hpp"
#include "release/release.hpp"

namespace helmgate::engine {

struct OwnershipRules {
  std::vector<config::OwnershipEntry> entries;  // the owners file's, then the configuration's (last match wins)
  std::string source;  // "<owners_file>@<commit12>" when the file was read
  std::string error;   // the owners file could not be read or breaks the schema (file:line:col: ...): blocks
  bool empty() const { return entries.empty() && error.empty(); }
};

// The deploy branch's commit (cfg.deploy_branch, locally or at origin); fallback when it cannot be resolved.
std::string deploy_branch_commit(const git::Repository& repo, const config::Repo& cfg, const std::string& fallback);

// cfg.owners_file at deploy_commit (absent: nothing), then cfg.ownership.
OwnershipRules load_ownership(const git::Repository& repo, const std::string& deploy_commit, const config::Repo& cfg);

// Who a release acts as on its cluster: the owning entry's identity when it names one, else Flux's
// spec.serviceAccountName (system:serviceaccount:<HelmRelease namespace>:<name>), else nobody (empty).
kube::Impersonation release_identity(const OwnershipRules& rules, const release::Release& r);

// "" when the release may go where it is aimed; otherwise why not (its owning entry does not list its
// cluster, or its HelmRelease's or target namespace), naming the entry's file:line.
std::string placement_problem(const OwnershipRules& rules, const release::Release& r);

// One release of a change at head, as the policy reads it.
struct PolicyRelease {
  std::string id, cluster, file, namespace_, target_namespace;
  int line = 0;
  std::string problem;  // placement_problem()
};

// What a change touches, for the policy: kept by the preview (no pointers into the discovery).
struct PolicyFacts {
  OwnershipRules rules;
  std::vector<std::string> changed_paths;
  std::vector<PolicyRelease> releases;  // affected, at head
};
PolicyFacts policy_facts(OwnershipRules rules, const std::vector<std::string>& changed_paths,
                         const std::vector<release::Affected>& affected);

// Whether login is in the forge team "org/team" (errors: the forge could not say).
using TeamLookup = std::function<core::Result<bool>(const std::string& team, const std::string& login)>;

struct PolicyVerdict {
  enum class State { success, pending, failure };
  State state = State::success;
  struct Owner {
    std::string team;                 // the entry's users and teams, for messages
    std::string where;                // the entry's file:line
    std::vector<std::string> paths;   // changed paths it owns (at most 20 kept)
    size_t path_count = 0;
    std::string approved_by;          // "" while waiting
  };
  std::vector<Owner> owners;  // owning entries of changed paths the author is not in
  std::vector<std::string> blocking;  // release placements refused, the rules' error
  bool applies = false;  // false: the repository declares no ownership (no status is set)
  std::string description() const;  // one line for the helmgate/policy commit status
  std::string markdown() const;      // the comment's section (texts escaped)
};

// author: the PR's author; approvers: logins whose approval of the current head counts (latest review
// approved, not dismissed or stale, given to the head; the author excluded by the caller).
core::Result<PolicyVerdict> evaluate_policy(const PolicyFacts& facts, const std::string& author,
                                            const std::vector<std::string>& approvers, const TeamLookup& in_team);

}  // namespace helmgate::engine
