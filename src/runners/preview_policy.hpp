#pragma once
// The helmgate/policy commit status (issue 14, ownership): the owners of the paths a pull request changes
// approve it, and its releases stay where their teams may deploy. Decided on the forge's own state: the PR's
// author, its reviews (the latest per reviewer, an approval of the current head that is neither dismissed
// nor stale), and team membership through the forge. The preview sets the status and shows the section;
// `/helmgate apply` refuses unless the verdict is success.
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/error.hpp"
#include "engine/ownership.hpp"
#include "forge/forge.hpp"

namespace helmgate::engine {
struct Workspace;
}  // namespace helmgate::engine

namespace helmgate::runners {

inline constexpr const char* kPolicyContext = "helmgate/policy";

// Logins whose latest deciding review approves head_sha (not dismissed, not stale; the author excluded).
std::vector<std::string> head_approvers(const forge::PullRequestState& st, const std::string& head_sha);

// Reads the PR (author, reviews) and decides the policy of facts at head_sha.
core::Result<engine::PolicyVerdict> decide_policy(forge::ForgeClient& forge, const forge::RepoRef& repo, int64_t pr,
                                                  const std::string& head_sha, const engine::PolicyFacts& facts);

// What `/helmgate apply` checks before it deploys a PR's head: the policy facts of base..head from Git alone
// (discovery, no rendering; rules from the deploy branch), decided on the forge's state now.
core::Result<engine::PolicyVerdict> check_change_policy(engine::Workspace& ws, const config::Repo& cfg,
                                                        const std::string& url, const std::string& base,
                                                        const std::string& head, forge::ForgeClient& forge,
                                                        const forge::RepoRef& repo, int64_t pr);

// The verdict as a commit status (context helmgate/policy).
forge::CommitStatus policy_status(const engine::PolicyVerdict& v);

}  // namespace helmgate::runners
