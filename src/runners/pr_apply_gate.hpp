#pragma once
// Who may make `/helmgate apply` deploy a PR before merge, decided on the forge's own state:
//   - the PR is open and the forge says it is mergeable;
//   - some reviewer with write (or maintain/admin) permission approved, and that approval was given
//     to the current head commit (an approval of an older head does not carry over to a new push;
//     Gitea's stale and dismissed approvals count for nothing);
//   - no reviewer with write permission asks for changes in their latest review.
// The head that passed is returned so the caller pins exactly that commit into the apply job.
#include <functional>
#include <string>

#include "core/error.hpp"
#include "forge/forge.hpp"

namespace helmgate::runners {

struct PrApplyDecision {
  bool allowed = false;
  std::string head_sha;  // the head the decision was made on (full sha)
  std::string approver;  // the writer whose approval of head_sha counts (when allowed)
  std::string reason;    // why not, a sentence for the PR comment (names only commits and logins)
};

// A whole commit id as a forge names one: 40 (SHA-1) or 64 (SHA-256) lowercase hex digits.
bool is_full_sha(const std::string& s);

// permission_of: the reviewer's permission on the repository (the forge's collaborator permission).
using PermissionLookup = std::function<core::Result<forge::Permission>(const std::string& user)>;

// Pure decision on a PR state already read (unit-testable).
core::Result<PrApplyDecision> decide_pr_apply(const forge::PullRequestState& st, const PermissionLookup& permission_of);

// Reads the PR and its reviews through the forge client and decides.
core::Result<PrApplyDecision> check_pr_apply(forge::ForgeClient& forge, const forge::RepoRef& repo, int64_t pr);

}  // namespace helmgate::runners
