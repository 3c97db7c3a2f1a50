#pragma once
// The `command` job: a `/helmgate ...` comment on a PR. Only users with write permission on the
// repository may run commands; others get a polite refusal. Replies never repeat what the comment
// said (a comment is hostile input): refusals and unknown commands get a fixed text, and a cluster
// or job named in a command is quoted back only after it was checked (a configured cluster, a job id). The command comment gets a reaction
// (eyes when taken, +1 when done, confused when refused or unknown).
//
// The commands are a registry (commands() in command_registry.cpp): each entry is a verb, its argument, its
// help line and its handler. Adding a command is one entry there and one handler function; parse_command
// and command_help read the same table. Today:
//   /helmgate preview [cluster]   render and validate the PR head again (one cluster: its own comment)
//   /helmgate apply [cluster]     apply the PR head before merge, only to clusters with allow_pr_apply,
//                                 and only when the PR is mergeable and a user with write permission
//                                 approved its current head (pr_apply_gate.hpp); the head that was
//                                 checked is pinned into the apply job (JobSpec::pinned_sha)
//   /helmgate replay <job-id>     run a job of this repository again (queue::Queue::replay)
//   /helmgate help                the commands (also a bare /helmgate)
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "queue/queue.hpp"
#include "runners/forge_access.hpp"

namespace helmgate::engine {
struct Workspace;  // engine/workspace.hpp
}  // namespace helmgate::engine

namespace helmgate::runners {

struct Command {
  std::string verb;  // the registry's verb ("help" for a bare /helmgate); empty when not a known command
  std::string arg;   // cluster or job id; empty when none was given
  std::string text;  // the command as written (for messages)
  bool known() const { return !verb.empty(); }
};

// What a registered command takes after its verb: at most one word.
enum class CommandArg { none, optional, required };
struct CommandSpec {
  std::string_view verb;
  CommandArg arg = CommandArg::none;
  std::string_view arg_name;  // "cluster", "job-id": shown as [cluster] or <job-id>
  std::string_view help;      // the help table's "What it does" cell (markdown)
};
// The registry's commands in help order (without their handlers).
std::vector<CommandSpec> command_specs();

// "/helmgate preview dev" -> {"preview", "dev"}; an unregistered verb, extra words or a missing required
// argument -> not known().
Command parse_command(std::string_view line);
std::string command_help();

struct CommandRunnerDeps {
  queue::Runner preview;  // the preview runner `/helmgate preview` reuses
  queue::Runner apply;    // the apply runner `/helmgate apply` hands its job to (tests: one that records it)
  queue::Options queue;   // for `/helmgate replay`
  std::string redis_url;
  // The worker's workspace (its mirror cache reads the PR's commits); null: one of the runner's own.
  std::shared_ptr<engine::Workspace> workspace;
};

// A cluster name from a comment: a DNS-1123 label (what cluster names in the configuration are).
bool is_dns1123_label(std::string_view s);

queue::Runner make_command_runner(const config::Config& cfg, ForgeAccess forges, CommandRunnerDeps deps);

}  // namespace helmgate::runners
