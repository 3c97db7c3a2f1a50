#include "runners/drift_signals.hpp"

#include <map>

#include "core/env.hpp"
#include "core/json.hpp"
#include "core/markdown.hpp"
#include "http/client.hpp"

namespace helmgate::runners {

namespace {

std::map<std::string, std::string> previous_states(const std::string& text) {
  std::map<std::string, std::string> out;
  if (text.empty()) return out;
  core::json::Document doc;
  if (core::json::parse(doc, text) || !doc.IsObject()) return out;
  const auto* rels = core::json::find(doc, "releases");
  if (rels == nullptr || !rels->IsArray()) return out;
  for (const auto& r : rels->GetArray()) {
    auto id = core::json::get_string(r, "id");
    auto state = core::json::get_string(r, "state");
    if (id && state) out[*id] = *state;
  }
  return out;
}

// The webhook as it may be shown: scheme, host and port only (Slack's path is its credential).
std::string shown(const std::string& url) {
  auto u = http::parse_url(url);
  if (!u) return "(an unparsable URL)";
  return std::string(u->tls ? "https://" : "http://") + u->host_header() + "/...";
}

std::string marker(const std::string& cluster) { return "<!-- helmgate:drift:" + cluster + " -->"; }

}  // namespace

std::vector<DriftChange> drift_changes(const std::string& previous_json, const engine::ClusterDrift& now) {
  auto before = previous_states(previous_json);
  std::vector<DriftChange> out;
  for (const auto& r : now.releases) {
    const std::string state(engine::to_string(r.state));
    auto it = before.find(r.id);
    const bool was = it != before.end() && it->second == "drifted";
    const bool is = r.state == engine::DriftState::drifted;
    if (is && !was) {
      out.push_back({r.id, true, state, r.reasons.empty() ? std::string() : r.reasons.back()});
    } else if (was && !is && r.state != engine::DriftState::unknown) {
      out.push_back({r.id, false, state, ""});
    }
  }
  return out;
}

std::string drift_message(const std::string& cluster, const std::vector<DriftChange>& changes) {
  std::string text = "helmgate drift on " + cluster + ":";
  for (const auto& c : changes) {
    text += "\n" + std::string(c.started ? "started drifting: " : "stopped drifting: ") + c.id;
    if (c.started && !c.detail.empty()) text += " (" + c.detail + ")";
    if (!c.started) text += " (now " + c.state + ")";
  }
  return text;
}

// Slack's message text treats "<...>" as links and mentions (<!channel>, <@U123>) and "&" as the start of an
// entity; release ids of "extra" releases and helm's failure text come from the cluster, so they are escaped
// the way Slack documents: &amp; &lt; &gt;.
std::string slack_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string drift_webhook_url(const config::DriftSettings& s) {
  if (!s.webhook_url.empty()) return s.webhook_url;
  return core::env_or(s.webhook_url_env);
}

core::Result<void> post_drift_webhook(const std::string& url, const core::EgressPolicy& egress, const std::string& text) {
  if (auto ok = core::check_egress(egress, core::FetchKind::chart_repository, url); !ok) {
    // The policy's message quotes the URL: its reasons only, after the shown form.
    const std::string& m = ok.error().message;
    auto why = m.find("refused by the egress policy");
    return core::Error(ok.error().code, "drift webhook: " + shown(url) + " " +
                                            (why == std::string::npos ? std::string("refused by the egress policy") : m.substr(why)));
  }
  std::string body;
  {
    rapidjson::StringBuffer buf;
    core::json::Writer w(buf);
    w.StartObject();
    core::json::kv(w, "text", slack_text(text));
    w.EndObject();
    body.assign(buf.GetString(), buf.GetSize());
  }
  auto r = http::request("POST", url, {{"Content-Type", "application/json"}}, body, std::chrono::milliseconds(10'000));
  if (!r) {
    std::string m = r.error().message;
    for (auto at = m.find(url); at != std::string::npos; at = m.find(url)) m.replace(at, url.size(), shown(url));
    return core::Error(r.error().code, "drift webhook " + shown(url) + ": " + m);
  }
  if (r->status / 100 != 2) {
    return core::Error(core::errc::unavailable, "drift webhook " + shown(url) + " answered HTTP " + std::to_string(r->status));
  }
  return {};
}

std::string tracking_comment(const engine::ClusterDrift& now, const std::string& changes_text) {
  namespace md = core::md;
  std::string body = marker(now.cluster) + "\n### helmgate drift on " + md::code(now.cluster) + "\n\nLatest scan " +
                     now.observed_at + ": " + std::to_string(now.count(engine::DriftState::drifted)) + " drifted, " +
                     std::to_string(now.count(engine::DriftState::in_sync)) + " in sync.\n";
  for (const auto& r : now.releases) {
    if (r.state == engine::DriftState::drifted) {
      body += "\n- " + md::code(r.id) + (r.reasons.empty() ? std::string() : ": " + md::text(r.reasons.back()));
    }
  }
  const std::string fence = md::fence(changes_text);
  body += "\n\nLast change:\n" + fence + "\n" + changes_text + "\n" + fence + "\n";
  return body;
}

core::Result<void> upsert_tracking_comment(forge::ForgeClient& client, const std::string& repo, int64_t issue,
                                           const std::string& body) {
  auto ref = forge::RepoRef::parse(repo);
  if (!ref) return ref.error();
  auto comments = client.list_comments(*ref, issue);
  if (!comments) return comments.error();
  const std::string head = body.substr(0, body.find('\n'));
  for (const auto& c : *comments) {
    if (c.body.rfind(head, 0) == 0) return client.edit_comment(*ref, c.id, body);
  }
  auto made = client.create_comment(*ref, issue, body);
  if (!made) return made.error();
  return {};
}

}  // namespace helmgate::runners
