#include "runners/pr_apply_gate.hpp"

#include <algorithm>
#include <map>
#include <vector>

#include "core/markdown.hpp"

namespace helmgate::runners {

bool is_full_sha(const std::string& s) {
  if (s.size() != 40 && s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

namespace {

bool can_write(forge::Permission p) { return p == forge::Permission::write || p == forge::Permission::admin; }

std::string short_code(const std::string& sha) { return core::md::code(sha.substr(0, 12)); }

}  // namespace

core::Result<PrApplyDecision> decide_pr_apply(const forge::PullRequestState& st, const PermissionLookup& permission_of) {
  PrApplyDecision d;
  d.head_sha = st.pr.head_sha;
  auto refuse = [&](std::string why) {
    d.allowed = false;
    d.reason = std::move(why);
    return d;
  };
  if (st.pr.state != "open" || st.pr.merged) return refuse("the pull request is not open");
  if (!is_full_sha(st.pr.head_sha)) return refuse("the forge did not name the pull request's head commit");
  if (!st.pr.mergeable.has_value())
    return refuse("the forge has not yet worked out whether the pull request is mergeable; please try again in a minute");
  if (!*st.pr.mergeable) return refuse("the pull request is not mergeable");

  // The latest deciding review per reviewer (comments and pending drafts decide nothing).
  std::vector<const forge::Review*> ordered;
  for (const auto& r : st.reviews) ordered.push_back(&r);
  std::stable_sort(ordered.begin(), ordered.end(), [](const auto* a, const auto* b) { return a->id < b->id; });
  std::map<std::string, const forge::Review*> latest;
  for (const auto* rp : ordered) {
    const auto& r = *rp;
    if (r.user.empty()) continue;
    if (r.state == forge::ReviewState::commented || r.state == forge::ReviewState::pending ||
        r.state == forge::ReviewState::other)
      continue;
    latest[r.user] = &r;
  }

  std::map<std::string, forge::Permission> perms;
  auto perm = [&](const std::string& user) -> core::Result<forge::Permission> {
    if (auto it = perms.find(user); it != perms.end()) return it->second;
    auto p = permission_of(user);
    if (!p) return p.error();
    perms[user] = *p;
    return *p;
  };

  bool approved_by_reader = false, approved_older_head = false;
  std::string older_head;
  for (const auto& [user, r] : latest) {
    if (r->state == forge::ReviewState::changes_requested && !r->dismissed) {
      auto p = perm(user);
      if (!p) return p.error();
      if (can_write(*p)) return refuse("a reviewer with write permission has requested changes");
    }
  }
  for (const auto& [user, r] : latest) {
    if (r->state != forge::ReviewState::approved || r->dismissed) continue;
    if (forge::same_login(user, st.pr.author)) continue;  // nobody approves their own PR
    auto p = perm(user);
    if (!p) return p.error();
    if (!can_write(*p)) {
      approved_by_reader = true;
      continue;
    }
    if (r->stale || r->commit_id != st.pr.head_sha) {
      approved_older_head = true;
      older_head = r->commit_id;
      continue;
    }
    d.allowed = true;
    d.approver = user;
    d.reason.clear();
    return d;
  }
  if (approved_older_head) {
    return refuse("the approval was given to an older commit" +
                  (is_full_sha(older_head) ? " (" + short_code(older_head) + ")" : std::string()) +
                  " and the pull request has changed since; its head is now " + short_code(st.pr.head_sha) +
                  ". Please ask a reviewer with write permission to approve the current head");
  }
  if (approved_by_reader) {
    return refuse("the pull request is not approved by a reviewer with write permission on this repository");
  }
  return refuse("the pull request is not approved");
}

core::Result<PrApplyDecision> check_pr_apply(forge::ForgeClient& forge, const forge::RepoRef& repo, int64_t pr) {
  auto st = forge.pull_request_state(repo, pr);
  if (!st) return st.error();
  return decide_pr_apply(*st, [&](const std::string& user) { return forge.user_permission(repo, user); });
}

}  // namespace helmgate::runners
