// GitHub (and GitHub Enterprise Server) webhooks:
// https://docs.github.com/en/webhooks/webhook-events-and-payloads
#include "handlers/webhooks/payload.hpp"

namespace helmgate::handlers::webhooks {
namespace {

void parse(std::string_view event, Fields& f, core::Event& ev) {
  if (event == "ping") {
    read_ping(f, ev);
  } else if (event == "push") {
    read_push(f, ev);
  } else if (event == "pull_request") {
    read_pull_request(f, ev);
  } else if (event == "pull_request_review") {
    // A review (submitted, dismissed): the preview runs again so helmgate/policy follows the owners' approval.
    read_pull_request(f, ev);
    ev.action = "review_" + ev.action;
  } else if (event == "issue_comment") {
    read_comment(f, ev);
  } else {
    read_other(f, ev);
  }
}

}  // namespace

WebhookForge github_webhook() {
  // X-Hub-Signature-256: "sha256=" and the hex HMAC-SHA256 of the body under the webhook secret.
  return {core::ForgeKind::github, {"X-GitHub-Event"}, {"X-GitHub-Delivery"}, {{"X-Hub-Signature-256", true}},
          verify_hmac_headers, parse};
}

}  // namespace helmgate::handlers::webhooks
