#include "engine/workspace.hpp"
#include "runners/preview_runner.hpp"

#include <set>

#include "engine/cluster_validation.hpp"
#include "runners/forge_job.hpp"
#include "runners/pr_apply_gate.hpp"
#include "runners/preview_pipeline.hpp"
#include "runners/preview_policy.hpp"
#include "runners/preview_verdict.hpp"
#include "runners/tools.hpp"

namespace helmgate::runners {

namespace {

struct Shared {
  config::Config cfg;
  ForgeAccess forges;
  PreviewRunnerOptions opt;
  std::shared_ptr<engine::Workspace> ws;  // one for every job, so its caches outlive a job
};

int64_t ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t).count();
}

// The spec this job works on, a copy made before ForgeJob binds to it: its head may move on (follow_head).
struct OwnSpec { core::JobSpec own; };

class PreviewJob : OwnSpec, ForgeJob {
 public:
  PreviewJob(Shared& s, queue::JobContext& job_ctx)
      : OwnSpec{job_ctx.job().spec}, ForgeJob(job_ctx, own), s_(s) {}

  // Whatever happens (a failure, an exception from any stage), no status this job set to pending stays
  // pending: the PR would wait forever for a check that never finishes.
  queue::RunOutcome run() {
    queue::RunOutcome out;
    try {
      out = run_stages();
    } catch (const std::exception& e) {
      ctx.log(std::string("preview threw: ") + e.what());
      out = queue::RunOutcome::retry_later(std::string("preview: internal error: ") + e.what());
      settle_pending("preview failed: internal error (the job's log has the details)");
      return out;
    } catch (...) {
      out = queue::RunOutcome::retry_later("preview: internal error (unknown exception)");
      settle_pending("preview failed: internal error");
      return out;
    }
    if (out.status != queue::RunOutcome::Status::succeeded) settle_pending("preview failed: " + out.error);
    return out;
  }

 private:
  queue::RunOutcome run_stages() {
    if (spec.pr <= 0 || spec.head_sha.empty()) {
      return queue::RunOutcome::fail("preview: the job names no pull request or head commit (pr, head_sha)");
    }
    if (auto failed = open(s_.cfg, s_.forges, "preview")) return *failed;
    follow_head();
    // The configured URL wins: it is the one the operator gave credentials for (the webhook's clone
    // URL may be an anonymous https one).
    const std::string url = engine::repository_url(repo_cfg, spec.clone_url);
    if (url.empty()) return queue::RunOutcome::fail("preview: no clone URL for " + spec.repo + " (add repos[].url)");

    // `/helmgate preview <cluster>` (a command job run as a preview, its cluster in the spec): that
    // cluster alone, in a comment of its own so the PR's full preview stays as it is.
    const std::string only = spec.clusters.size() == 1 ? spec.clusters.front() : std::string();
    const std::string marker_key = only.empty() ? s_.opt.marker_key : s_.opt.marker_key + "/" + only;
    std::vector<std::string> clusters;
    if (repo_cfg != nullptr) {
      for (const auto& c : repo_cfg->clusters) {
        if (only.empty() || c.name == only) clusters.push_back(c.name);
      }
    }
    if (!ctx.superseded()) {
      for (const auto& c : clusters) set_status(c, forge::CommitState::pending, "rendering the change");
    }

    PreviewRequest req;
    req.repo = url;
    req.base = spec.base_sha;
    req.head = spec.head_sha;
    if (repo_cfg != nullptr) req.repo_config = *repo_cfg;
    req.egress = s_.cfg.egress;  // used when the repository has no configuration of its own
    req.formats = {PreviewFormat::markdown};
    req.max_part_bytes = client->part_limit();
    req.workspace = s_.ws.get();
    req.keep_head_manifests = true;
    if (!only.empty()) req.only_clusters = {only};
    auto started = std::chrono::steady_clock::now();
    auto result = run_preview(req);
    if (!result) {
      // The repository or a revision could not be read: likely transient (a fetch), so retry; the
      // statuses say why meanwhile.
      std::string why = result.error().message;
      if (!ctx.superseded()) {
        for (const auto& c : clusters) set_status(c, forge::CommitState::error, "preview failed: " + why);
      }
      return queue::RunOutcome::retry_later("preview: " + why);
    }
    if (clusters.empty()) clusters = result->report.clusters;
    auto render_ms = ms_since(started);
    ctx.log("rendered " + std::to_string(result->report.releases.size()) + " affected release(s) in " +
             std::to_string(render_ms) + " ms (" + std::to_string(result->render_stats.renders) + " helm runs, " +
             std::to_string(result->render_stats.cache_hits) + " cache hits)");

    auto counts = count_clusters(result->report, clusters);
    std::vector<std::string> sections;
    std::string validation_json = validate(*result, only, counts, sections);
    auto policy = policy_verdict(*result, sections);
    if (ctx.superseded()) {
      ctx.log("superseded by a newer push: nothing posted");
      return queue::RunOutcome::ok(R"({"superseded":true})");
    }

    auto parts = pack_parts(result->markdown_parts, sections, client->part_limit());
    auto upserted = client->upsert_comment(repo_ref, spec.pr, marker_key, parts);
    if (!upserted)
      return queue::RunOutcome::retry_later("preview: posting the comment on PR #" + std::to_string(spec.pr) + ": " +
                                            upserted.error().message);
    PreviewSummary summary{spec, result->report, render_ms, ms_since(started), upserted->comment_ids, {}, counts};
    if (!upserted->comment_ids.empty()) {
      summary.comment_url =
          comment_url(s_.cfg.find_forge(spec.forge), spec.repo, spec.pr, upserted->comment_ids.front());
    }
    ctx.log("preview comment: " + std::to_string(parts.size()) + " part(s), created " +
             std::to_string(upserted->created) + ", updated " + std::to_string(upserted->updated) + ", deleted " +
             std::to_string(upserted->deleted) + (summary.comment_url.empty() ? "" : " " + summary.comment_url));
    for (const auto& c : clusters) {
      const auto& cc = counts[c];
      set_status(c, failed(cc) ? forge::CommitState::failure : forge::CommitState::success, status_description(cc));
    }
    if (policy) {
      if (auto r = client->set_status(repo_ref, spec.head_sha, *policy); !r) ctx.log("status helmgate/policy: " + r.error().message);
    }
    // Validation details go to the log, not the result: they can be long; the counts above suffice.
    ctx.log("validation: " + validation_json);
    return queue::RunOutcome::ok(to_json(summary));
  }

  // The head rendering validated on every configured cluster with a credential (the engine's
  // validate_on_cluster); the comment's sections and counts; returns the findings as JSON for the log.
  std::string validate(const PreviewResult& result, const std::string& only, std::map<std::string, ClusterCounts>& counts,
                       std::vector<std::string>& sections) {
    std::string json = "[";
    if (repo_cfg == nullptr) return json + "]";
    bool first = true;
    for (const auto& c : repo_cfg->clusters) {
      if (ctx.superseded()) break;
      if ((!only.empty() && c.name != only) || !engine::validates(c)) continue;
      auto releases = engine::releases_of_cluster(result.head_manifests, c.name);
      if (releases.empty()) continue;
      auto& cc = counts[c.name];
      auto v = engine::validate_on_cluster(c, releases, result.redactor, s_.opt.kube_timeout);
      if (!v) {
        cc.validation_error = result.redactor.scrub(v.error().message);
        sections.push_back(not_validated_section(c.name, cc.validation_error));
        continue;
      }
      count_validation(cc, *v);
      sections.push_back(result.redactor.scrub(to_markdown(*v, c.name)));
      json += (first ? "" : ",") + result.redactor.scrub(to_json(*v, c.name));
      first = false;
    }
    add_validation_heading(sections);
    return json + "]";
  }

  // Ownership: the helmgate/policy status to set and its section first in the comment; nullopt when the
  // repository declares no ownership. A forge that cannot answer leaves the status at error, never success.
  std::optional<forge::CommitStatus> policy_verdict(const PreviewResult& result, std::vector<std::string>& sections) {
    auto v = decide_policy(*client, repo_ref, spec.pr, spec.head_sha, result.policy);
    if (!v) {
      ctx.log("ownership: " + v.error().message);
      return forge::CommitStatus{kPolicyContext, forge::CommitState::error,
                                 forge::one_line("ownership could not be checked: " + result.redactor.scrub(v.error().message), 140), ""};
    }
    if (!v->applies) return std::nullopt;
    sections.insert(sections.begin(), result.redactor.scrub(v->markdown()));
    return policy_status(*v);
  }

  // A late delivery (an operator's redelivery of an older push, a forge retry) makes a job for an older
  // head that supersedes the job of the newer one: the comment would end at the older head. So the job
  // previews the PR's head as the forge has it now; when the forge cannot say, the event's head stands.
  void follow_head() {
    auto pr = client->pull_request(repo_ref, spec.pr);
    if (!pr) {
      return ctx.log("the PR's current head could not be read (" + pr.error().message + "); previewing " +
                     spec.head_sha.substr(0, 12));
    }
    const std::string& head = pr->head_sha;
    if (!is_full_sha(head) || head == spec.head_sha) return;
    ctx.log("PR #" + std::to_string(spec.pr) + " moved on from " + spec.head_sha.substr(0, 12) + " to " +
            head.substr(0, 12) + ": previewing its current head");
    own.head_sha = head;
  }

  void settle_pending(const std::string& description) {
    if (client == nullptr || pending_.empty() || ctx.superseded()) return;
    try {
      auto clusters = pending_;
      for (const auto& c : clusters) set_status(c, forge::CommitState::error, description);
    } catch (const std::exception& e) {
      ctx.log(std::string("could not settle the pending statuses: ") + e.what());
    }
  }

  void set_status(const std::string& cluster, forge::CommitState state, const std::string& description) {
    forge::CommitStatus st;
    st.context = "helmgate/" + cluster;
    st.state = state;
    st.description = forge::one_line(description, 140);
    if (state == forge::CommitState::pending) {
      pending_.insert(cluster);
    } else {
      pending_.erase(cluster);
    }
    // A status that cannot be set does not fail the preview: the comment carries the same verdict.
    if (auto r = client->set_status(repo_ref, spec.head_sha, st); !r) {
      ctx.log("status " + st.context + " on " + spec.head_sha.substr(0, 12) + ": " + r.error().message);
    }
  }

  Shared& s_;
  std::set<std::string> pending_;  // clusters whose status this job left pending
};

}  // namespace

queue::Runner make_preview_runner(const config::Config& cfg, ForgeAccess forges, PreviewRunnerOptions options) {
  auto s = std::make_shared<Shared>();
  s->cfg = cfg;
  s->forges = std::move(forges);
  s->ws = options.workspace != nullptr ? options.workspace
                                       : runner_workspace(options.helm, options.kubectl, options.cache_root,
                                                          options.render_concurrency);
  s->opt = std::move(options);
  return [s](queue::JobContext& ctx) { return PreviewJob(*s, ctx).run(); };
}

}  // namespace helmgate::runners
