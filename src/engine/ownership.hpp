#pragma once
// Ownership in a change (issue 14): the rules (config/ownership.hpp) read from the deploy branch, never
// from the pull request's head; who each release acts as; the policy verdict of a change: which owning
// teams must approve (the author is not in them), and which releases go where their team may not deploy
// (blocking). The forge side (reviews, team membership) comes in as plain data and a lookup, so this room
// needs no forge.
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/error.hpp"
#include "git/repository.hpp"
#include "engine/policy.hpp"
#include "kube/impersonation.hpp"
#include "release/release.hpp"

namespace helmgate::engine {

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

// The facts the policy of a change is decided on: the rules, the changed paths, the affected releases at
// head with their placement problems.
PolicyFacts policy_facts(OwnershipRules rules, const std::vector<std::string>& changed_paths,
                         const std::vector<release::Affected>& affected);

}  // namespace helmgate::engine
