#pragma once
// The HTTP surface: webhooks, the jobs API, health and metrics.
#include <string_view>

#include "config/config.hpp"
#include "handlers/queue_runner.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"
#include "queue/fleet_store.hpp"
#include "queue/queue.hpp"

namespace helmgate::handlers {

struct App {
  const config::Config& cfg;
  queue::AsyncEnqueuer& enqueuer;
  QueueRunner& queries;
  http::RequestMetrics& requests;
  queue::FleetStore* fleet;  // the fleet's view (status page, fleet API, fleet metrics); nullptr: none
};

// POST /webhooks/<forge name>, GET/POST /api/v1/jobs..., GET /healthz, /readyz, /metrics; the fleet API
// (handlers/fleet_api.hpp) and the status page at /ui/ (handlers/ui/pages.hpp).
void install_routes(http::Router& router, App& app);

// Whether an Authorization header value is "Bearer <token>" for the configured token, in time that
// depends on neither value nor length. An empty configured token accepts nothing.
bool bearer_token_ok(std::string_view authorization, std::string_view token);

// A job record as the API shows it (also used by `helmgate jobs`).
std::string job_to_json(const queue::JobRecord& job, bool with_log);

}  // namespace helmgate::handlers
