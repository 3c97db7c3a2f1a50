// The registry of comment commands and what reads it: parsing a comment, the help table.
#include "runners/command_runner.hpp"

#include <array>
#include <sstream>
#include <vector>

#include "runners/command_job.hpp"

namespace helmgate::runners {

bool is_dns1123_label(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return s.front() != '-' && s.back() != '-';
}

namespace command {

// The comment commands, in help order. A new command: one entry here and its handler in CommandJob.
std::span<const CommandEntry> commands() {
  static const std::array<CommandEntry, 4> kCommands = {{
      {{"preview", CommandArg::optional, "cluster",
        "render and validate this PR again (one cluster: a comment of its own)"},
       &CommandJob::preview},
      {{"apply", CommandArg::optional, "cluster",
        "apply this PR's head before merge, to clusters configured with `allow_pr_apply: true`, once the PR is "
        "approved and mergeable"},
       &CommandJob::apply},
      {{"replay", CommandArg::required, "job-id",
        "run a job of this repository again (ids are in helmgate's comments and `helmgate jobs`)"},
       &CommandJob::replay},
      {{"help", CommandArg::none, "", "this list"}, &CommandJob::help},
  }};
  return kCommands;
}

const CommandEntry* find_command(std::string_view verb) {
  for (const auto& c : commands()) {
    if (c.spec.verb == verb) return &c;
  }
  return nullptr;
}

}  // namespace command

namespace {

// A bare "/helmgate" asks for this verb.
constexpr std::string_view kBareVerb = "help";

}  // namespace

using command::commands;
using command::CommandEntry;
using command::find_command;

std::vector<CommandSpec> command_specs() {
  std::vector<CommandSpec> out;
  for (const auto& c : commands()) out.push_back(c.spec);
  return out;
}

Command parse_command(std::string_view line) {
  Command c;
  c.text = std::string(line);
  std::istringstream in{std::string(line)};
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  if (words.empty() || words[0] != "/helmgate") return c;
  const CommandEntry* entry = find_command(words.size() == 1 ? kBareVerb : std::string_view(words[1]));
  if (entry == nullptr) return c;
  const size_t args = words.size() <= 2 ? 0 : words.size() - 2;
  const size_t max_args = entry->spec.arg == CommandArg::none ? 0 : 1;
  const size_t min_args = entry->spec.arg == CommandArg::required ? 1 : 0;
  if (args > max_args || args < min_args) return c;
  c.verb = std::string(entry->spec.verb);
  if (args == 1) c.arg = words[2];
  return c;
}

std::string command_help() {
  std::string out =
      "**helmgate commands** (for users with write permission on this repository):\n\n"
      "| Command | What it does |\n|---|---|\n";
  for (const auto& c : commands()) {
    std::string usage = "/helmgate " + std::string(c.spec.verb);
    if (c.spec.arg == CommandArg::optional) usage += " [" + std::string(c.spec.arg_name) + "]";
    if (c.spec.arg == CommandArg::required) usage += " <" + std::string(c.spec.arg_name) + ">";
    out += "| `" + usage + "` | " + std::string(c.spec.help) + " |\n";
  }
  return out;
}

}  // namespace helmgate::runners
