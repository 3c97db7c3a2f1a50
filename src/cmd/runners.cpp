#include "cmd/runners.hpp"

namespace helmgate::cmd {

queue::RunnerTable make_runners(const config::Config& /*cfg*/) {
  // The preview, apply and command runners join here as the release engine, cluster and forge
  // components land; until then every job fails clearly instead of vanishing.
  return {};
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
