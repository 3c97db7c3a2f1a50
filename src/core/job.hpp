#pragma once
// What a job is asked to do (JobSpec, immutable, stored as JSON) and the states a job moves through.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace helmgate::core {

// Job kinds the handlers create. Kinds are strings on the wire so an old worker that meets a newer
// kind fails the job clearly ("no runner for kind X") instead of misreading it.
namespace kind {
inline constexpr std::string_view preview = "preview";  // PR opened/reopened/synchronize
inline constexpr std::string_view apply = "apply";      // push to a deploy branch
inline constexpr std::string_view command = "command";  // comment command on a PR
}  // namespace kind

struct JobSpec {
  std::string kind;
  std::string forge;      // configured forge name
  std::string repo;       // "owner/name"
  std::string clone_url;  // only for a repository not in the configuration; never with userinfo
  std::string delivery_id;
  std::string replay_of;  // id of the job this one replays

  // preview / command
  int64_t pr = 0;
  std::string head_sha, head_ref, base_sha, base_ref;

  // apply
  std::string ref, before, after;
  // A PR apply (`/helmgate apply`): the exact head commit whose approval was checked. The apply runner
  // deploys this commit and nothing else (`after` must resolve to it).
  std::string pinned_sha;
  // The clusters a person chose (`/helmgate apply <cluster>`, or every cluster that allows a PR apply):
  // only these are applied, regardless of auto_apply, and `requires` naming a cluster outside them is
  // not waited for. Empty: every configured cluster, as configured.
  std::vector<std::string> clusters;
  // A drift remediation (scheduled drift scan, clusters[].drift.remediate): the release ids
  // (cluster/namespace/name) to apply again even though Git did not change, overriding fields someone
  // changed by hand (helm --force-conflicts). Only these releases are applied.
  std::vector<std::string> remediate;

  // command
  std::string command;  // the comment text (first line)
  std::string author;
  int64_t comment_id = 0;

  // Jobs with the same non-empty key supersede each other (newest wins): "preview:forge/repo#pr".
  std::string coalesce_key() const;

  std::string to_json() const;
  static Result<JobSpec> from_json(std::string_view text);
};

// Job lifecycle. queued -> active -> succeeded | retrying -> queued ... | dead; any non-terminal -> superseded.
namespace state {
inline constexpr std::string_view queued = "queued";
inline constexpr std::string_view active = "active";
inline constexpr std::string_view retrying = "retrying";  // waiting for its backoff to expire
inline constexpr std::string_view succeeded = "succeeded";
inline constexpr std::string_view dead = "dead";          // dead-lettered after max attempts or a permanent error
inline constexpr std::string_view superseded = "superseded";
}  // namespace state

bool is_terminal_state(std::string_view s);

}  // namespace helmgate::core
