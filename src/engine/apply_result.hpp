#pragma once
// What an apply did, typed: per cluster a status, per release the action and its outcome. The apply
// runner hands it to the report (PR comment, commit statuses) and records its JSON as the job's result.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "apply/decision.hpp"
#include "core/error.hpp"

namespace helmgate::engine {

enum class ReleaseOutcome { installed, upgraded, unchanged, uninstalled, failed, kept };
std::string_view to_string(ReleaseOutcome o);

enum class ClusterStatus { applied, failed, superseded, blocked, busy, skipped, unreachable };
std::string_view to_string(ClusterStatus s);
// Statuses that need someone's attention: the cluster did not reach the commit.
bool needs_attention(ClusterStatus s);

struct ReleaseResult {
  std::string id, release_name, namespace_;
  apply::Action action = apply::Action::none;
  ReleaseOutcome outcome = ReleaseOutcome::unchanged;
  std::string reason;  // scrubbed
  int revision = 0;
  int64_t ms = 0;
  int64_t started_ms = 0;  // when helm started (ms since the epoch); 0 when no helm ran for it
  // Whether the cluster may have changed: helm ran and did not fail before touching it. A failure that
  // changed nothing (a render error, a refused name) is not worth retrying until Git changes.
  bool touched = false;
};

struct ClusterResult {
  std::string name;
  ClusterStatus status = ClusterStatus::applied;
  std::string reason;
  std::string base;    // the commit the affected set was computed from
  bool retry = false;  // worth running the job again
  std::vector<ReleaseResult> releases;
  bool any_release_failed() const;
};

struct ApplyResult {
  std::string repo, commit, before;
  std::vector<ClusterResult> clusters;
  std::string to_json() const;
  static core::Result<ApplyResult> from_json(std::string_view text);
};

}  // namespace helmgate::engine
