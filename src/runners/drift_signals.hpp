#pragma once
// Signals of the scheduled drift scan (issue 13): when a release starts or stops drifting (this scan
// against the drift stored by the previous one), a message to a generic webhook with a Slack-compatible
// JSON body ({"text": ...}; clusters[].drift.webhook_url or webhook_url_env, checked against the egress
// policy like every outgoing URL) and/or an upserted comment on the cluster's tracking issue
// (clusters[].drift.tracking_issue) through the repository's ForgeClient.
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/egress.hpp"
#include "core/error.hpp"
#include "engine/drift.hpp"
#include "forge/forge.hpp"

namespace helmgate::runners {

struct DriftChange {
  std::string id;    // release id (cluster/namespace/name)
  bool started = false;  // true: now drifted; false: drifted before, now not (and known)
  std::string state;     // the release's state now
  std::string detail;    // what drifted (first reason), "" when it stopped
};

// previous_json: the drift JSON stored by the previous scan ("" none: everything drifted now started).
// A release whose state is unknown now (cluster unreachable) neither starts nor stops.
std::vector<DriftChange> drift_changes(const std::string& previous_json, const engine::ClusterDrift& now);

// One message for the changes of one scan: "helmgate drift on <cluster>: ..." a line per release.
std::string drift_message(const std::string& cluster, const std::vector<DriftChange>& changes);

// The webhook of a cluster: drift.webhook_url, else the URL in the environment variable drift.webhook_url_env
// ("" none). The URL may hold a credential (Slack's does): never log it.
std::string drift_webhook_url(const config::DriftSettings& s);
// The text as Slack-compatible webhooks must receive it: &, < and > as entities (no links or mentions).
std::string slack_text(std::string_view s);

// POSTs {"text": text} to the URL once it passes the egress policy; an error says why (the URL redacted).
core::Result<void> post_drift_webhook(const std::string& url, const core::EgressPolicy& egress, const std::string& text);

// The body of the tracking issue's comment: the marker, the latest changes, the releases drifted now.
std::string tracking_comment(const engine::ClusterDrift& now, const std::string& changes_text);

// Edits helmgate's comment on the issue (found by its marker for this cluster) or creates it.
core::Result<void> upsert_tracking_comment(forge::ForgeClient& client, const std::string& repo, int64_t issue,
                                           const std::string& body);

}  // namespace helmgate::runners
