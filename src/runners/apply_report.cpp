#include "runners/apply_report.hpp"

#include <string_view>
#include <vector>

#include "core/markdown.hpp"
#include "forge/forge.hpp"
#include "runners/preview_comment.hpp"

namespace helmgate::runners {

using engine::ClusterStatus;
using engine::ReleaseOutcome;

std::string apply_report_markdown(const engine::ApplyResult& result, const std::string& job_id, bool will_retry) {
  namespace md = core::md;
  std::string out = "## helmgate apply of " + md::code(result.commit.substr(0, 12)) + "\n\n";
  out += "| Cluster | Status | Releases |\n|---|---|---|\n";
  bool any_failed = false;
  std::string details;
  for (const auto& c : result.clusters) {
    const std::string status(engine::to_string(c.status));
    bool failed = engine::needs_attention(c.status);
    any_failed = any_failed || failed;
    std::string summary;
    std::string rows;
    for (const auto& r : c.releases) {
      const std::string outcome(engine::to_string(r.outcome));
      if (r.outcome == ReleaseOutcome::failed) any_failed = true;
      // Release names come from Git: code spans, never live Markdown.
      summary += (summary.empty() ? "" : ", ") + md::code_cell(r.release_name) + " " + md::text(outcome);
      std::string rev = r.revision > 0 ? std::to_string(r.revision) : "";
      rows += "| " + md::code_cell(r.namespace_ + "/" + r.release_name) + " | " + md::text(std::string(apply::to_string(r.action))) +
              " | " + (r.outcome == ReleaseOutcome::failed ? "**failed**" : md::text(outcome)) + " | " + rev + " | " +
              md::text(r.reason) + " |\n";
    }
    out += "| " + md::code_cell(c.name) + " | " + (failed ? "**" + md::text(status) + "**" : md::text(status)) + " | " +
           (summary.empty() ? "no release changed" : summary) + " |\n";
    if (!rows.empty() || !c.reason.empty()) {
      details += "\n### " + md::code(c.name) + ": " + md::text(status) + "\n\n";
      if (!c.reason.empty()) details += md::text(c.reason) + "\n\n";
      if (!rows.empty()) details += "| Release | Action | Outcome | Revision | Reason |\n|---|---|---|---|---|\n" + rows;
    }
  }
  out += details;
  if (any_failed) {
    out += "\n";
    if (will_retry) out += "The queue retries this apply by itself with backoff. ";
    const std::string replay = "/helmgate replay " + job_id;
    const std::string fence = md::fence(replay);
    out += "To run it again now, comment:\n\n" + fence + "\n" + replay + "\n" + fence + "\n";
  }
  return out;
}

namespace {

forge::CommitStatus cluster_status(const engine::ClusterResult& c, bool retrying) {
  forge::CommitStatus st;
  st.context = "helmgate/" + c.name;
  st.state = engine::needs_attention(c.status) ? forge::CommitState::failure : forge::CommitState::success;
  std::string failed_releases;
  for (const auto& r : c.releases) {
    if (r.outcome == ReleaseOutcome::failed) {
      st.state = forge::CommitState::failure;
      failed_releases += (failed_releases.empty() ? "" : ", ") + r.release_name;
    }
  }
  std::string d = "apply " + std::string(engine::to_string(c.status)) + ": " + std::to_string(c.releases.size()) + " release(s)";
  if (!failed_releases.empty()) d += ", failed: " + failed_releases;
  if (retrying && st.state == forge::CommitState::failure) {
    st.state = forge::CommitState::pending;  // the queue runs it again
    d += " (retrying)";
  }
  st.description = forge::one_line(d, 140);
  return st;
}

}  // namespace

ApplyReporter apply_reporter(const config::Config& cfg, ForgeAccess forges) {
  auto forge_cfg = std::make_shared<config::Config>(cfg);
  return [forge_cfg, forges](queue::JobContext& ctx, const engine::ApplyResult& result, const queue::RunOutcome& outcome) {
    const auto& spec = ctx.job().spec;
    if (spec.after.empty()) return;
    auto client = forges.client(spec.forge);
    auto repo = forge::RepoRef::parse(spec.repo);
    if (!client || !repo) {
      ctx.log("apply report: " + (client ? repo.error().message : client.error().message));
      return;
    }
    forge::ForgeClient& forge = **client;
    const bool retrying = outcome.status == queue::RunOutcome::Status::retry;
    for (const auto& c : result.clusters) {
      auto st = cluster_status(c, retrying);
      if (auto r = forge.set_status(*repo, spec.after, st); !r) ctx.log("apply report: status " + st.context + ": " + r.error().message);
    }
    auto pr = forge.pull_request_for_commit(*repo, spec.after);
    if (!pr) {
      ctx.log("apply report: finding the PR of " + spec.after.substr(0, 12) + ": " + pr.error().message);
      return;
    }
    if (!pr->has_value()) {
      ctx.log("apply report: no pull request merged " + spec.after.substr(0, 12) + " (a direct push): statuses only");
      return;
    }
    std::string body = apply_report_markdown(result, ctx.job().id, retrying);
    if (body.size() > forge.part_limit()) body.resize(forge.part_limit());  // a table of hundreds of releases
    // Keyed by commit: a retry or replay of this commit edits its comment; another merge gets its own.
    auto up = forge.upsert_comment(*repo, (*pr)->number, "apply/" + spec.after, {body});
    if (!up) {
      ctx.log("apply report: comment on PR #" + std::to_string((*pr)->number) + ": " + up.error().message);
    } else if (!up->comment_ids.empty()) {
      ctx.log("apply report: PR #" + std::to_string((*pr)->number) + " comment " + std::to_string(up->comment_ids.front()) + " " +
              comment_url(forge_cfg->find_forge(spec.forge), spec.repo, (*pr)->number, up->comment_ids.front()));
    }
  };
}

}  // namespace helmgate::runners
