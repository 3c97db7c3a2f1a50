#include "cmd/runners.hpp"

#include <spdlog/spdlog.h>

#include "runners/apply_report.hpp"
#include "runners/apply_runner.hpp"
#include "engine/cluster.hpp"
#include "runners/command_runner.hpp"
#include "runners/preview_runner.hpp"
#include "runners/tools.hpp"

namespace helmgate::cmd {

queue::RunnerTable make_runners(const config::Config& cfg, std::shared_ptr<engine::Workspace> workspace) {
  for (const auto& w : engine::cluster_credential_warnings(cfg)) spdlog::warn("{}", w);
  // A kind without a runner fails clearly ("no runner for kind X") instead of vanishing.
  // One forge router for every runner: writes of one identity share one limiter.
  auto forges = runners::make_forge_access(cfg);
  // One engine workspace for every runner: one renderer (its cache and process pool) and one mirror cache.
  if (workspace == nullptr) workspace = runners::runner_workspace({}, {}, {}, 2);
  queue::RunnerTable table;
  runners::ApplyRunnerOptions apply_options;
  apply_options.report = runners::apply_reporter(cfg, forges);
  apply_options.workspace = workspace;
  auto apply = runners::make_apply_runner(cfg, apply_options);
  table.emplace(std::string(core::kind::apply), apply);
  runners::PreviewRunnerOptions preview_options;
  preview_options.workspace = workspace;
  auto preview = runners::make_preview_runner(cfg, forges, preview_options);
  table.emplace(std::string(core::kind::preview), preview);
  table.emplace(std::string(core::kind::command),
                runners::make_command_runner(cfg, forges, {preview, apply, queue_options(cfg), cfg.redis_url, workspace}));
  return table;
}

queue::Options queue_options(const config::Config& cfg) {
  queue::Options o;
  o.key_prefix = cfg.queue.key_prefix;
  o.visibility_timeout = cfg.queue.visibility_timeout;
  o.max_attempts = cfg.queue.max_attempts;
  o.backoff_base = cfg.queue.backoff_base;
  o.backoff_max = cfg.queue.backoff_max;
  o.retention = cfg.queue.retention;
  o.dedupe_ttl = cfg.queue.dedupe_ttl;
  o.durability = cfg.queue.replicated ? queue::Options::Durability::replicated : queue::Options::Durability::local;
  o.replica_timeout = cfg.queue.replica_timeout;
  return o;
}

}  // namespace helmgate::cmd
