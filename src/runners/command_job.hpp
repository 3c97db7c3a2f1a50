#pragma once
// Inside the command runner: the job of one `/helmgate ...` comment (CommandJob, whose members are the
// registry's handlers) and the registry's entries. Only command_*.cpp include this.
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "forge/forge.hpp"
#include "runners/command_runner.hpp"
#include "runners/forge_job.hpp"

namespace helmgate::runners::command {

// The command job seen as another kind of job (a preview, an apply): same id, log and superseded flag,
// another spec.
class SpecContext : public queue::JobContext {
 public:
  SpecContext(queue::JobContext& inner, core::JobSpec spec) : inner_(inner), rec_(inner.job()) {
    rec_.spec = std::move(spec);
  }
  const queue::JobRecord& job() const override { return rec_; }
  void log(std::string_view line) override { inner_.log(line); }
  bool superseded() const override { return inner_.superseded(); }

 private:
  queue::JobContext& inner_;
  queue::JobRecord rec_;
};

struct Shared {
  config::Config cfg;
  ForgeAccess forges;
  CommandRunnerDeps deps;  // deps.workspace is set
};

class CommandJob;
// A command's handler: a member of CommandJob, which holds the job, the forge client and the replies.
using Handler = queue::RunOutcome (CommandJob::*)(const Command&);
struct CommandEntry {
  CommandSpec spec;
  Handler handler;
};
// The registry (command_registry.cpp), in help order.
std::span<const CommandEntry> commands();
// nullptr for a verb the registry does not hold.
const CommandEntry* find_command(std::string_view verb);

class CommandJob : ForgeJob {
 public:
  CommandJob(Shared& s, queue::JobContext& job_ctx) : ForgeJob(job_ctx), s_(s) {}
  queue::RunOutcome run();

  // The handlers of the registry (command_job.cpp: help, preview; command_handlers.cpp: replay, apply).
  queue::RunOutcome help(const Command&);
  queue::RunOutcome preview(const Command& cmd);
  queue::RunOutcome replay(const Command& cmd);
  queue::RunOutcome apply(const Command& cmd);

 private:
  // The commenter as a mention when the login is one a forge gives ([A-Za-z0-9._-]); anything else
  // (a forged job spec) only as code.
  std::string mention() const;
  // A cluster named in a command, usable only when it is a DNS-1123 label configured for this
  // repository; nullptr otherwise (and the reply does not repeat the name).
  const config::Cluster* checked_cluster(const std::string& name) const;
  const config::Cluster* find_cluster(const std::string& name) const;
  std::string configured_clusters() const;
  queue::RunOutcome done(const std::string& outcome, const std::string& detail);
  void react(forge::Reaction r);
  void reply(const std::string& body);
  // The PR's head and where it left the deploy branch, read from Git (forges publish refs/pull/N/head).
  // pinned: that commit instead of the PR ref (an apply uses the head whose approval was checked; the
  // mirror must hold it).
  core::Result<std::pair<std::string, std::string>> pr_commits(const std::string& pinned = {});

  Shared& s_;
};

}  // namespace helmgate::runners::command
