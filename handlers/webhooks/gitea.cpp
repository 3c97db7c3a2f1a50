// Gitea webhooks: GitHub's payload shape with Gitea's own headers and a few spellings of its own.
// https://docs.gitea.com/usage/webhooks
#include "handlers/webhooks/payload.hpp"

namespace helmgate::handlers::webhooks {
namespace {

void parse(std::string_view event, Fields& f, core::Event& ev) {
  if (event == "ping") {
    read_ping(f, ev);
  } else if (event == "push") {
    read_push(f, ev);
  } else if (event == "pull_request" || event == "pull_request_sync") {
    // X-Gitea-Event-Type's name for a new head, sent as the event by some versions.
    read_pull_request(f, ev);
    if (ev.action == "synchronized") ev.action = "synchronize";
  } else if (event == "pull_request_approved" || event == "pull_request_rejected") {
    // A review (X-Gitea-Event of pull_request_review_approved/_rejected): the preview runs again so
    // helmgate/policy follows the owners' approval.
    read_pull_request(f, ev);
    ev.action = "review_submitted";
  } else if (event == "issue_comment") {
    read_comment(f, ev);
    // Newer Gitea also says is_pull.
    ev.comment_on_pull = ev.comment_on_pull || f.optional_bool("is_pull");
  } else {
    read_other(f, ev);
  }
}

}  // namespace

WebhookForge gitea_webhook() {
  // Gitea also sends GitHub's event and delivery headers; its own come first. It signs twice:
  // X-Hub-Signature-256 ("sha256=<hex>", preferred) and X-Gitea-Signature (bare hex).
  return {core::ForgeKind::gitea,
          {"X-Gitea-Event", "X-GitHub-Event"},
          {"X-Gitea-Delivery", "X-GitHub-Delivery"},
          {{"X-Hub-Signature-256", true}, {"X-Gitea-Signature", false}},
          verify_hmac_headers,
          parse};
}

}  // namespace helmgate::handlers::webhooks
