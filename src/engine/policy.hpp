#pragma once
// The policy of a change under ownership (engine/ownership.hpp reads the rules and the releases): plain data
// a preview keeps (no discovery types), and the verdict: which owning teams must approve (the author is not
// in them), which releases go where their team may not deploy (blocking). The forge side (reviews, team
// membership) comes in as data and a lookup, so this room needs no forge.
#include <functional>
#include <string>
#include <vector>

#include "config/ownership.hpp"
#include "core/error.hpp"

namespace helmgate::engine {

struct OwnershipRules {
  std::vector<config::OwnershipEntry> entries;  // the owners file's, then the configuration's (last match wins)
  std::string source;  // "<owners_file>@<commit12>" when the file was read
  std::string error;   // the owners file could not be read or breaks the schema (file:line:col: ...): blocks
  bool empty() const { return entries.empty() && error.empty(); }
};

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
