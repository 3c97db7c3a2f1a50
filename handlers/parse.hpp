#pragma once
// Forge payload -> forge-neutral Event, and Event -> the jobs it asks for. Pure functions: no I/O,
// so the fuzzer and the tests drive them directly.
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/error.hpp"
#include "core/event.hpp"
#include "core/job.hpp"

namespace helmgate::handlers {

struct WebhookInput {
  core::ForgeKind forge = core::ForgeKind::github;
  std::string forge_name;
  std::string event;     // the event header's value (WebhookForge::event_headers: X-GitHub-Event, ...)
  std::string delivery;  // the delivery header's value (X-GitHub-Delivery, ...)
  std::string_view body; // JSON text
};

// errc::bad_request with the reason (which field is missing or of the wrong type) on malformed input.
// Events helmgate does not act on (create, status, issues, ...) parse to EventKind::other. The payload is
// read by the forge's parser from the webhook table (handlers/webhooks/forges.hpp).
core::Result<core::Event> parse_webhook(const WebhookInput& in);

struct Decision {
  std::vector<core::JobSpec> jobs;
  std::string reason;  // why no job (when jobs is empty), for the 200 answer and the log
};

// Preview for PR opened/reopened/synchronize/ready_for_review and for a review submitted or dismissed; apply for a push to the repo's
// deploy branch; command for a new "/helmgate ..." comment on a PR. With no repos configured every
// repository is accepted and its default branch is the deploy branch.
Decision decide_jobs(const core::Event& ev, const config::Config& cfg);

}  // namespace helmgate::handlers
