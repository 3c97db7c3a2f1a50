#pragma once
// The `command` job: a `/helmgate ...` comment on a PR. Only users with write permission on the
// repository may run commands; others get a polite refusal. Replies never repeat what the comment
// said (a comment is hostile input): refusals and unknown commands get a fixed text, and a cluster
// or job named in a command is quoted back only after it was checked (a configured cluster, a job id). The command comment gets a reaction
// (eyes when taken, +1 when done, confused when refused or unknown).
//   /helmgate preview [cluster]   render and validate the PR head again (one cluster: its own comment)
//   /helmgate apply [cluster]     apply the PR head before merge, only to clusters with allow_pr_apply,
//                                 and only when the PR is mergeable and a user with write permission
//                                 approved its current head (pr_apply_gate.hpp); the head that was
//                                 checked is pinned into the apply job (JobSpec::pinned_sha)
//   /helmgate replay <job-id>     run a job of this repository again (queue::Queue::replay)
//   /helmgate help                the commands
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "queue/queue.hpp"
#include "runners/preview_runner.hpp"

namespace helmgate::runners {

struct Command {
  enum class Kind { help, preview, apply, replay, unknown };
  Kind kind = Kind::unknown;
  std::string arg;   // cluster or job id; empty when none was given
  std::string text;  // the command as written (for messages)
};
// "/helmgate preview dev" -> {preview, "dev"}; extra words or a missing replay id -> unknown.
Command parse_command(std::string_view line);
std::string command_help();

struct CommandRunnerDeps {
  queue::Runner preview;  // the preview runner `/helmgate preview` reuses
  queue::Runner apply;    // the apply runner `/helmgate apply` hands its job to (tests: one that records it)
  queue::Options queue;   // for `/helmgate replay`
  std::string redis_url;
};

// A cluster name from a comment: a DNS-1123 label (what cluster names in the configuration are).
bool is_dns1123_label(std::string_view s);

queue::Runner make_command_runner(const config::Config& cfg, ForgeAccess forges, CommandRunnerDeps deps);

}  // namespace helmgate::runners
