#include "cmd/runners.hpp"

#include "runners/apply_runner.hpp"

namespace helmgate::cmd {

queue::RunnerTable make_runners(const config::Config& cfg) {
  // Kinds without a runner yet (preview, command) fail clearly ("no runner for kind X") instead of vanishing.
  queue::RunnerTable table;
  table.emplace(std::string(core::kind::apply), runners::make_apply_runner(cfg));
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
  return o;
}

}  // namespace helmgate::cmd
