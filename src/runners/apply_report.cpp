#include "runners/apply_report.hpp"

#include <mutex>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "core/markdown.hpp"
#include "forge/forge.hpp"

namespace helmgate::runners {

namespace {

std::string str(const core::json::Value& v, const char* key) {
  if (!v.IsObject() || !v.HasMember(key) || !v[key].IsString()) return "";
  return v[key].GetString();
}

// Outcomes that need someone's attention (the apply did not reach the commit).
bool cluster_failed(const std::string& status) {
  return status == "failed" || status == "blocked" || status == "unreachable" || status == "busy";
}

// Forwards to the real context and keeps the apply runner's "apply result: {json}" line: the runner
// records that JSON as the job result only on success, but failures need it for the report too.
class CapturingContext : public queue::JobContext {
 public:
  explicit CapturingContext(queue::JobContext& inner) : inner_(inner) {}
  const queue::JobRecord& job() const override { return inner_.job(); }
  void log(std::string_view line) override {
    constexpr std::string_view prefix = "apply result: ";
    if (line.substr(0, prefix.size()) == prefix) {
      std::lock_guard lock(mu_);
      result_ = std::string(line.substr(prefix.size()));
    }
    inner_.log(line);
  }
  bool superseded() const override { return inner_.superseded(); }
  std::string result() {
    std::lock_guard lock(mu_);
    return result_;
  }

 private:
  queue::JobContext& inner_;
  std::mutex mu_;
  std::string result_;
};

}  // namespace

std::string apply_report_markdown(const std::string& result_json, const std::string& job_id,
                                  bool will_retry) {
  core::json::Document doc;
  if (core::json::parse(doc, result_json) || !doc.IsObject()) return "";
  const std::string commit = str(doc, "commit");
  namespace md = core::md;
  std::string out = "## helmgate apply of " + md::code(commit.substr(0, 12)) + "\n\n";
  out += "| Cluster | Status | Releases |\n|---|---|---|\n";
  bool any_failed = false;
  std::string details;
  if (doc.HasMember("clusters") && doc["clusters"].IsArray()) {
    for (const auto& c : doc["clusters"].GetArray()) {
      std::string name = str(c, "name"), status = str(c, "status"), reason = str(c, "reason");
      bool failed = cluster_failed(status);
      any_failed = any_failed || failed;
      std::string summary;
      std::string rows;
      if (c.HasMember("releases") && c["releases"].IsArray()) {
        for (const auto& r : c["releases"].GetArray()) {
          std::string outcome = str(r, "outcome");
          if (outcome == "failed") any_failed = true;
          // Release names come from Git: code spans, never live Markdown.
          summary += (summary.empty() ? "" : ", ") + md::code_cell(str(r, "release")) + " " + md::text(outcome);
          std::string rev = r.HasMember("revision") && r["revision"].IsInt64() && r["revision"].GetInt64() > 0
                                ? std::to_string(r["revision"].GetInt64())
                                : "";
          rows += "| " + md::code_cell(str(r, "namespace") + "/" + str(r, "release")) + " | " +
                  md::text(str(r, "action")) + " | " + (outcome == "failed" ? "**failed**" : md::text(outcome)) +
                  " | " + rev + " | " + md::text(str(r, "reason")) + " |\n";
        }
      }
      out += "| " + md::code_cell(name) + " | " + (failed ? "**" + md::text(status) + "**" : md::text(status)) +
             " | " + (summary.empty() ? "no release changed" : summary) + " |\n";
      if (!rows.empty() || !reason.empty()) {
        details += "\n### " + md::code(name) + ": " + md::text(status) + "\n\n";
        if (!reason.empty()) details += md::text(reason) + "\n\n";
        if (!rows.empty())
          details += "| Release | Action | Outcome | Revision | Reason |\n|---|---|---|---|---|\n" + rows;
      }
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

queue::Runner with_apply_report(queue::Runner apply, const config::Config& cfg, ForgeAccess forges) {
  auto forge_cfg = std::make_shared<config::Config>(cfg);
  return [apply = std::move(apply), forge_cfg, forges](queue::JobContext& ctx) {
    CapturingContext capture(ctx);
    queue::RunOutcome outcome = apply(capture);
    std::string json = capture.result();
    const auto& spec = ctx.job().spec;
    if (json.empty() || spec.after.empty()) return outcome;  // not a deploy-branch push, or nothing ran
    if (capture.superseded()) return outcome;                // the newer job reports
    auto client = forges.client(spec.forge);
    auto repo = forge::RepoRef::parse(spec.repo);
    if (!client || !repo) {
      ctx.log("apply report: " + (client ? repo.error().message : client.error().message));
      return outcome;
    }
    forge::ForgeClient& forge = **client;
    core::json::Document doc;
    if (!core::json::parse(doc, json) && doc.HasMember("clusters") && doc["clusters"].IsArray()) {
      for (const auto& c : doc["clusters"].GetArray()) {
        std::string status = str(c, "status");
        forge::CommitStatus st;
        st.context = "helmgate/" + str(c, "name");
        st.state = cluster_failed(status) ? forge::CommitState::failure : forge::CommitState::success;
        std::string failed_releases;
        int n = 0;
        if (c.HasMember("releases") && c["releases"].IsArray()) {
          for (const auto& r : c["releases"].GetArray()) {
            ++n;
            if (str(r, "outcome") == "failed") {
              st.state = forge::CommitState::failure;
              failed_releases += (failed_releases.empty() ? "" : ", ") + str(r, "release");
            }
          }
        }
        std::string d = "apply " + status + ": " + std::to_string(n) + " release(s)";
        if (!failed_releases.empty()) d += ", failed: " + failed_releases;
        if (outcome.status == queue::RunOutcome::Status::retry && st.state == forge::CommitState::failure) {
          st.state = forge::CommitState::pending;  // the queue runs it again
          d += " (retrying)";
        }
        st.description = forge::one_line(d, 140);
        if (auto r = forge.set_status(*repo, spec.after, st); !r)
          ctx.log("apply report: status " + st.context + ": " + r.error().message);
      }
    }
    auto pr = forge.pull_request_for_commit(*repo, spec.after);
    if (!pr) {
      ctx.log("apply report: finding the PR of " + spec.after.substr(0, 12) + ": " + pr.error().message);
      return outcome;
    }
    if (!pr->has_value()) {
      ctx.log("apply report: no pull request merged " + spec.after.substr(0, 12) +
              " (a direct push): statuses only");
      return outcome;
    }
    std::string body =
        apply_report_markdown(json, ctx.job().id, outcome.status == queue::RunOutcome::Status::retry);
    if (body.size() > forge.part_limit()) body.resize(forge.part_limit());  // a table of hundreds of releases
    // Keyed by commit: a retry or replay of this commit edits its comment; another merge gets its own.
    auto up = forge.upsert_comment(*repo, (*pr)->number, "apply/" + spec.after, {body});
    if (!up) {
      ctx.log("apply report: comment on PR #" + std::to_string((*pr)->number) + ": " + up.error().message);
    } else if (!up->comment_ids.empty()) {
      ctx.log(
          "apply report: PR #" + std::to_string((*pr)->number) + " comment " +
          std::to_string(up->comment_ids.front()) + " " +
          comment_url(forge_cfg->find_forge(spec.forge), spec.repo, (*pr)->number, up->comment_ids.front()));
    }
    return outcome;
  };
}

}  // namespace helmgate::runners
