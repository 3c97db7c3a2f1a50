#include "runners/preview_runner.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "core/json.hpp"
#include "core/markdown.hpp"
#include "kube/client.hpp"
#include "kube/kubeconfig.hpp"
#include "engine/cluster.hpp"
#include "runners/preview_pipeline.hpp"
#include "engine/validate.hpp"
#include "runners/tools.hpp"

namespace helmgate::runners {

using engine::ClusterValidation;
using engine::Credential;
using engine::Finding;
using engine::RenderedRelease;
using engine::Severity;
using engine::ValidateOptions;
using engine::has_credential;
using engine::load_cluster_kubeconfig;
using engine::no_preview_credential_note;
using engine::validate_cluster;

namespace fs = std::filesystem;

core::Result<forge::ForgeClient*> ForgeAccess::client(std::string_view forge_name) const {
  if (!router) return core::Error(core::errc::invalid_config, "forges: " + error);
  return router->get(forge_name);
}

ForgeAccess make_forge_access(const config::Config& cfg) {
  ForgeAccess access;
  auto router = std::make_shared<forge::ForgeRouter>();
  if (auto added = router->add_all(cfg.forges); !added) {
    // No router at all rather than a partial one: a job for a forge that did load would work while
    // another silently would not; every loop job instead fails with this reason.
    access.error = added.error().message + " (set the forge's token_env variable for the worker)";
    return access;
  }
  access.router = std::move(router);
  return access;
}

std::string comment_url(const config::Forge* forge, const std::string& repo, int64_t pr, int64_t comment_id) {
  if (forge == nullptr || comment_id == 0) return "";
  return core::pull_request_web_url(forge->kind, forge->api_url, repo, pr) + "#issuecomment-" +
         std::to_string(comment_id);
}

namespace {

// Closes what a cut left open so the part still renders: an unclosed ``` fence and <details> blocks.
std::string close_open_blocks(std::string text) {
  // Fences are as long as their content needs (core::md::fence): follow them line by line.
  size_t open_fence = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    size_t n = 0;
    while (n < line.size() && line[n] == '`') ++n;
    if (n < 3) continue;
    if (open_fence == 0) {
      open_fence = n;
    } else if (n >= open_fence && line.find_first_not_of("` \r", n) == std::string::npos) {
      open_fence = 0;
    }
  }
  if (open_fence > 0) text += "\n" + std::string(open_fence, '`') + "\n";
  auto count = [&](std::string_view needle) {
    size_t n = 0;
    for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + needle.size())) ++n;
    return n;
  };
  size_t open = count("<details>"), closed = count("</details>");
  for (size_t i = closed; i < open; ++i) text += "</details>\n";
  return text;
}

std::string cut_utf8(std::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n));
}

}  // namespace

std::vector<std::string> pack_parts(std::vector<std::string> parts, const std::vector<std::string>& sections,
                                    size_t limit) {
  for (const auto& section : sections) {
    std::string s = section;
    if (s.size() > limit) {
      const std::string note =
          "\n\n_(section cut at the comment size limit; the job's result holds all of it)_\n";
      // Room for the note and for the closing lines close_open_blocks may add.
      size_t room = limit > note.size() + 256 ? limit - note.size() - 256 : limit / 2;
      s = close_open_blocks(cut_utf8(s, room)) + note;
    }
    if (!parts.empty() && parts.back().size() + 2 + s.size() <= limit) {
      parts.back() += "\n\n" + s;
    } else {
      parts.push_back(std::move(s));
    }
  }
  return parts;
}

namespace {

struct ClusterCounts {
  size_t releases = 0, changed = 0, errors = 0;  // from the render diff
  size_t unreadable = 0;  // manifests of the cluster that could not be read at head (a malformed file)
  size_t findings = 0, finding_errors = 0, drifted = 0;
  bool validated = false;
  bool offline_only = false;  // no preview credential: no dry-run
  std::string validation_error;  // the cluster could not be reached or its kubeconfig read
};

struct Shared {
  config::Config cfg;
  ForgeAccess forges;
  PreviewRunnerOptions opt;
  std::unique_ptr<render::Renderer> renderer;  // one for every job, so its memory cache outlives a job
};

class PreviewJob {
 public:
  PreviewJob(Shared& s, queue::JobContext& ctx) : s_(s), ctx_(ctx), spec_(ctx.job().spec) {}

  // Whatever happens (a failure, an exception from any stage), no status this job set to pending stays
  // pending: the PR would wait forever for a check that never finishes.
  queue::RunOutcome run() {
    queue::RunOutcome out;
    try {
      out = run_stages();
    } catch (const std::exception& e) {
      ctx_.log(std::string("preview threw: ") + e.what());
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
    if (spec_.pr <= 0 || spec_.head_sha.empty()) {
      return queue::RunOutcome::fail("preview: the job names no pull request or head commit (pr, head_sha)");
    }
    repo_cfg_ = s_.cfg.find_repo(spec_.forge, spec_.repo);
    forge_cfg_ = s_.cfg.find_forge(spec_.forge);
    auto client = s_.forges.client(spec_.forge);
    if (!client) return queue::RunOutcome::fail("preview: " + client.error().message);
    forge_ = *client;
    auto ref = forge::RepoRef::parse(spec_.repo);
    if (!ref)
      return queue::RunOutcome::fail("preview: repository name " + spec_.repo + ": " + ref.error().message);
    repo_ = *ref;

    // The configured URL wins: it is the one the operator gave credentials for (the webhook's clone
    // URL may be an anonymous https one).
    const std::string url =
        repo_cfg_ != nullptr && !repo_cfg_->url.empty() ? config::fetch_url(*repo_cfg_) : spec_.clone_url;
    if (url.empty())
      return queue::RunOutcome::fail("preview: no clone URL for " + spec_.repo + " (add repos[].url)");

    // `/helmgate preview <cluster>` (a command job run as a preview): that cluster alone, in a comment
    // of its own so the PR's full preview stays as it is.
    std::string only;
    if (!spec_.command.empty()) {
      std::istringstream words(spec_.command);
      std::string w1, w2, w3;
      words >> w1 >> w2 >> w3;
      if (w2 == "preview") only = w3;
    }
    const std::string marker_key = only.empty() ? s_.opt.marker_key : s_.opt.marker_key + "/" + only;
    std::vector<std::string> clusters;
    if (repo_cfg_ != nullptr) {
      for (const auto& c : repo_cfg_->clusters) {
        if (only.empty() || c.name == only) clusters.push_back(c.name);
      }
    }
    if (!ctx_.superseded()) {
      for (const auto& c : clusters) set_status(c, forge::CommitState::pending, "rendering the change");
    }

    PreviewRequest req;
    req.repo = url;
    req.base = spec_.base_sha;
    req.head = spec_.head_sha;
    if (repo_cfg_ != nullptr) req.repo_config = *repo_cfg_;
    req.egress = s_.cfg.egress;  // used when the repository has no configuration of its own
    req.formats = {PreviewFormat::markdown};
    req.max_part_bytes = forge_->part_limit();
    req.cache_dir = s_.opt.cache_root;
    req.renderer = s_.renderer.get();
    req.keep_head_manifests = true;
    if (!only.empty()) req.only_clusters = {only};
    auto started = std::chrono::steady_clock::now();
    auto result = run_preview(req);
    if (!result) {
      // The repository or a revision could not be read: likely transient (a fetch), so retry; the
      // statuses say why meanwhile.
      std::string why = result.error().message;
      if (!ctx_.superseded()) {
        for (const auto& c : clusters) set_status(c, forge::CommitState::error, "preview failed: " + why);
      }
      return queue::RunOutcome::retry_later("preview: " + why);
    }
    if (clusters.empty()) clusters = result->report.clusters;
    auto render_ms = ms_since(started);
    ctx_.log("rendered " + std::to_string(result->report.releases.size()) + " affected release(s) in " +
             std::to_string(render_ms) + " ms (" + std::to_string(result->render_stats.renders) +
             " helm runs, " + std::to_string(result->render_stats.cache_hits) + " cache hits)");

    std::map<std::string, ClusterCounts> counts;
    for (const auto& c : clusters) counts[c];
    // A file that cannot be read fails the sync of its path in Flux: the cluster's status is a failure even
    // when no affected release comes from that file (an error for no cluster in particular counts for all).
    for (const auto& e : result->report.errors) {
      for (const auto& c : clusters) {
        if (e.cluster.empty() || e.cluster == c) ++counts[c].unreadable;
      }
    }
    for (const auto& r : result->report.releases) {
      auto& cc = counts[r.cluster];
      ++cc.releases;
      if (r.status == diff::ReleaseStatus::error) {
        ++cc.errors;
      } else if (r.status != diff::ReleaseStatus::unchanged) {
        ++cc.changed;
      }
    }

    std::vector<std::string> sections;
    std::string validation_json = "[";
    if (repo_cfg_ != nullptr) {
      bool first = true;
      for (const auto& c : repo_cfg_->clusters) {
        if (ctx_.superseded()) break;
        if (!only.empty() && c.name != only) continue;
        if (!has_credential(c, Credential::deploy) && !has_credential(c, Credential::preview)) continue;
        auto& cc = counts[c.name];
        std::vector<RenderedRelease> releases;
        for (const auto& h : result->head_manifests) {
          if (h.cluster == c.name)
            releases.push_back({h.id, h.release_name, h.target_namespace, h.manifest, h.create_namespace,
                                h.declared_at_base});
        }
        if (releases.empty()) continue;
        auto v = validate(c, releases, result->redactor);
        if (!v) {
          cc.validation_error = result->redactor.scrub(v.error().message);
          sections.push_back("### Cluster " + core::md::code(c.name) +
                             ": validation (server-side dry-run)\n\nNot validated: " +
                             core::md::text(cc.validation_error) + "\n");
          continue;
        }
        cc.validated = true;
        cc.offline_only = !v->offline_note.empty();
        cc.findings = v->findings.size();
        cc.finding_errors =
            static_cast<size_t>(std::count_if(v->findings.begin(), v->findings.end(), [](const Finding& f) {
              return f.severity == Severity::error;
            }));
        for (const auto& [rel, diffs] : v->live_diffs) cc.drifted += diffs.size();
        sections.push_back(result->redactor.scrub(to_markdown(*v, c.name)));
        validation_json += (first ? "" : ",") + result->redactor.scrub(to_json(*v, c.name));
        first = false;
      }
    }
    validation_json += "]";
    if (!sections.empty()) {
      sections.front() =
          "## Validation against the clusters\n\nHead rendering dry-run on each target cluster "
          "(server-side apply, dryRun=All) and compared with what the cluster runs now; "
          "separate from the base-vs-head diff above.\n\n" +
          sections.front();
    }

    if (ctx_.superseded()) {
      ctx_.log("superseded by a newer push: nothing posted");
      return queue::RunOutcome::ok(R"({"superseded":true})");
    }

    auto parts = pack_parts(result->markdown_parts, sections, forge_->part_limit());
    auto upserted = forge_->upsert_comment(repo_, spec_.pr, marker_key, parts);
    if (!upserted)
      return queue::RunOutcome::retry_later("preview: posting the comment on PR #" +
                                            std::to_string(spec_.pr) + ": " + upserted.error().message);
    auto comment_ms = ms_since(started);
    std::string url_first = upserted->comment_ids.empty() ? std::string()
                                                          : comment_url(forge_cfg_, spec_.repo, spec_.pr,
                                                                        upserted->comment_ids.front());
    ctx_.log("preview comment: " + std::to_string(parts.size()) + " part(s), created " +
             std::to_string(upserted->created) + ", updated " + std::to_string(upserted->updated) +
             ", deleted " + std::to_string(upserted->deleted) + (url_first.empty() ? "" : " " + url_first));

    for (const auto& c : clusters) {
      const auto& cc = counts[c];
      bool bad = cc.errors > 0 || cc.finding_errors > 0 || cc.unreadable > 0;
      std::string d = std::to_string(cc.changed) + " release(s) changed";
      if (cc.errors > 0) d += ", " + std::to_string(cc.errors) + " failed to render";
      if (cc.unreadable > 0) d += ", " + std::to_string(cc.unreadable) + " manifest error(s)";
      if (cc.validated && cc.offline_only) {
        d += cc.finding_errors > 0 ? ", offline checks: " + std::to_string(cc.finding_errors) + " error(s)"
                                   : ", offline checks only (no preview credential)";
      } else if (cc.validated) {
        d += cc.finding_errors > 0 ? ", dry-run: " + std::to_string(cc.finding_errors) + " error(s)"
                                   : ", dry-run ok";
        if (cc.drifted > 0) d += ", " + std::to_string(cc.drifted) + " live difference(s)";
      } else if (!cc.validation_error.empty()) {
        d += ", not validated (cluster unreachable)";
      }
      set_status(c, bad ? forge::CommitState::failure : forge::CommitState::success, d);
    }

    rapidjson::StringBuffer sb;
    core::json::Writer w(sb);
    w.StartObject();
    core::json::kv(w, "repo", spec_.repo);
    core::json::kv(w, "pr", spec_.pr);
    core::json::kv(w, "base", result->report.base);
    core::json::kv(w, "head", result->report.head);
    core::json::kv(w, "render_ms", render_ms);
    core::json::kv(w, "comment_ms", comment_ms);
    core::json::write_str(w, "comment_ids");
    w.StartArray();
    for (auto id : upserted->comment_ids) w.Int64(id);
    w.EndArray();
    core::json::kv(w, "comment_url", url_first);
    core::json::write_str(w, "clusters");
    w.StartObject();
    for (const auto& [name, cc] : counts) {
      core::json::write_str(w, name);
      w.StartObject();
      core::json::kv(w, "releases", static_cast<int64_t>(cc.releases));
      core::json::kv(w, "changed", static_cast<int64_t>(cc.changed));
      core::json::kv(w, "errors", static_cast<int64_t>(cc.errors));
      core::json::kv(w, "validated", cc.validated);
      core::json::kv(w, "findings", static_cast<int64_t>(cc.findings));
      core::json::kv(w, "finding_errors", static_cast<int64_t>(cc.finding_errors));
      core::json::kv(w, "live_differences", static_cast<int64_t>(cc.drifted));
      if (!cc.validation_error.empty()) core::json::kv(w, "validation_error", cc.validation_error);
      w.EndObject();
    }
    w.EndObject();
    w.EndObject();
    std::string json = sb.GetString();
    // Validation details go to the log, not the result: they can be long; the counts above suffice.
    ctx_.log("validation: " + validation_json);
    return queue::RunOutcome::ok(json);
  }

  void settle_pending(const std::string& description) {
    if (forge_ == nullptr || pending_.empty() || ctx_.superseded()) return;
    try {
      auto clusters = pending_;
      for (const auto& c : clusters) set_status(c, forge::CommitState::error, description);
    } catch (const std::exception& e) {
      ctx_.log(std::string("could not settle the pending statuses: ") + e.what());
    }
  }

  static int64_t ms_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t)
        .count();
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
    if (auto r = forge_->set_status(repo_, spec_.head_sha, st); !r) {
      ctx_.log("status " + st.context + " on " + spec_.head_sha.substr(0, 12) + ": " + r.error().message);
    }
  }

  core::Result<ClusterValidation> validate(const config::Cluster& c,
                                           const std::vector<RenderedRelease>& releases,
                                           const diff::Redactor& redactor) {
    ValidateOptions vo;
    vo.cluster = c.name;
    vo.kube_version = c.kube_version;
    vo.redactor = &redactor;
    // Pull-request content never meets the deploy credential: without a preview credential, offline only.
    if (!has_credential(c, Credential::preview)) {
      vo.dry_run = false;
      auto v = validate_cluster(nullptr, releases, vo);
      v.offline_note = no_preview_credential_note(c);
      return v;
    }
    auto kc = load_cluster_kubeconfig(c, Credential::preview);
    if (!kc) return kc.error();
    kube::ClientOptions ko;
    ko.connect_timeout = std::min(s_.opt.kube_timeout, std::chrono::milliseconds(5'000));
    ko.request_timeout = s_.opt.kube_timeout;
    kube::Client client(c.name, *kc, ko);
    // One cheap request first: an unreachable cluster is one line in the report, not a finding per object.
    if (auto v = client.server_version(); !v) return v.error();
    return validate_cluster(&client, releases, vo);
  }

  Shared& s_;
  queue::JobContext& ctx_;
  const core::JobSpec& spec_;
  const config::Repo* repo_cfg_ = nullptr;
  const config::Forge* forge_cfg_ = nullptr;
  forge::ForgeClient* forge_ = nullptr;
  forge::RepoRef repo_;
  std::set<std::string> pending_;  // clusters whose status this job left pending
};

}  // namespace

queue::Runner make_preview_runner(const config::Config& cfg, ForgeAccess forges,
                                  PreviewRunnerOptions options) {
  auto s = std::make_shared<Shared>();
  s->cfg = cfg;
  s->forges = std::move(forges);
  if (options.cache_root.empty()) options.cache_root = default_cache_dir();
  s->opt = options;
  render::Options ro;
  ro.helm = options.helm.empty() ? find_tool("HELMGATE_HELM", "helm") : options.helm;
  ro.kubectl = options.kubectl.empty() ? find_tool("HELMGATE_KUBECTL", "kubectl") : options.kubectl;
  ro.work_dir = options.cache_root + "/work";
  ro.cache_dir = options.cache_root + "/renders";
  ro.concurrency = options.render_concurrency;
  s->renderer = std::make_unique<render::Renderer>(ro);
  return [s](queue::JobContext& ctx) { return PreviewJob(*s, ctx).run(); };
}

}  // namespace helmgate::runners
