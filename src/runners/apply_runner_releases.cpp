#include "runners/apply_runner_releases.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <set>

#include "engine/apply.hpp"
#include "engine/apply_order.hpp"
#include "engine/plan.hpp"
#include "engine/redaction.hpp"
#include "engine/release_records.hpp"
#include "engine/workspace.hpp"
#include "runners/apply_remediation.hpp"

namespace helmgate::runners {

using engine::ClusterStatus;

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// What helm has in the namespaces of these releases, keyed "namespace/name" like apply::list_releases:
// the latest record of each release (helm's Secrets, as `helm list` reads them), without starting helm.
core::Result<std::map<std::string, apply::HelmRelease>> helm_releases(const ClusterReleases& in,
                                                                     const std::vector<release::Affected>& aff) {
  std::set<std::string> namespaces;
  for (const auto& a : aff) {
    for (const release::Release* r : {a.head, a.base}) {
      if (r != nullptr && !r->target_namespace.empty()) namespaces.insert(r->target_namespace);
    }
  }
  kube::Client client(in.cluster.name, in.kubeconfig);
  auto records = engine::read_release_records(client, {namespaces.begin(), namespaces.end()});
  if (!records) return records.error();
  std::map<std::string, apply::HelmRelease> out;
  for (const auto& r : records->releases) {
    out[r.namespace_ + "/" + r.name] =
        apply::HelmRelease{r.name, r.namespace_, r.status, static_cast<int>(r.revision), r.description, r.apply_method};
  }
  return out;
}

std::string object_of(const release::Affected& a) {
  const release::Release* r = a.head != nullptr ? a.head : a.base;
  return r == nullptr ? a.id : r->namespace_ + "/" + r->name;
}

}  // namespace

void apply_releases(const ClusterReleases& in, const std::string& base, const apply::HelmEnv& env,
                    engine::ClusterResult& out) {
  const std::string& cname = in.cluster.name;
  const auto& head_d = in.discoveries.at(in.after);
  const bool remediation = !in.spec.remediate.empty();  // the named releases of the commit, as if first applied
  const auto& base_d = in.discoveries.at(remediation || engine::zero_commit(base) ? std::string() : base);
  auto aff = engine::affected_releases(in.repo, remediation ? std::string() : base, in.after, base_d, head_d, cname);
  if (aff && remediation) aff = remediation_targets(std::move(*aff), in.spec.remediate);
  if (!aff) {
    out.status = ClusterStatus::failed;
    out.reason = aff.error().message;
    return;
  }
  for (const auto& p : head_d.problems) {
    if (p.cluster == cname) in.log("[" + cname + "] discovery problem: " + p.message);
  }
  if (aff->empty()) return;

  engine::Observed observed;
  observed.prune = in.cluster.prune;
  auto listed = helm_releases(in, *aff);
  auto digests = listed ? in.state.digests(in.spec.repo, cname) : core::Result<std::map<std::string, std::string>>(listed.error());
  if (!digests) {
    out.status = ClusterStatus::failed;
    out.reason = digests.error().message;
    out.retry = true;
    return;
  }
  observed.helm = std::move(*listed);
  observed.digests = std::move(*digests);
  diff::Redactor redactor;
  engine::add_affected_secrets(redactor, *aff, in.repo_cfg.sensitive_values);
  engine::ChartSources head{&in.repo, in.after, in.ws.mirrors.get(), in.ws.trees_dir(), in.repo_cfg.egress};

  // Each release: plan (render and digest: a cache hit when the preview rendered the same inputs) and
  // its helm action, in dependsOn order, up to apply_concurrency at once.
  const auto& releases = *aff;
  std::vector<std::optional<engine::ReleaseResult>> results(releases.size());
  std::atomic<bool> superseded{false};
  std::mutex mu;  // out.retry
  auto record = [&](size_t i, engine::ReleaseResult r) {
    in.log("[" + cname + "] " + r.id + ": " + std::string(apply::to_string(r.action)) + " -> " +
           std::string(engine::to_string(r.outcome)) + (r.reason.empty() ? "" : " (" + r.reason + ")"));
    results[i] = std::move(r);
  };
  auto run = [&](size_t i) -> bool {
    if (superseded || in.superseded()) {
      superseded = true;
      return false;
    }
    const auto& a = releases[i];
    auto plan = engine::plan_release(a, observed, head, *in.ws.renderer, in.after, in.rules);
    if (remediation) remediate_plan(plan);
    const int64_t started = now_ms();
    auto r = engine::apply_release(plan, env, redactor);
    if (r.action != apply::Action::none && plan.failure.empty()) r.started_ms = started;
    if (r.outcome != engine::ReleaseOutcome::failed && r.action != apply::Action::none) {
      auto st = in.state.set_digest(in.spec.repo, cname, r.id, r.action == apply::Action::uninstall ? "" : plan.spec.digest);
      if (!st) in.log("[" + cname + "] " + r.id + ": could not record the applied digest: " + st.error().message);
    }
    // Retried only when something may have changed: helm ran (a timeout, the API server, a webhook). A
    // release that failed before touching the cluster fails the same way until Git changes.
    if (r.outcome == engine::ReleaseOutcome::failed && r.touched) {
      std::lock_guard lock(mu);
      out.retry = true;
    }
    const bool ok = r.outcome != engine::ReleaseOutcome::failed;
    record(i, std::move(r));
    return ok;
  };
  auto not_run = [&](size_t i, engine::NotRun why) {
    if (superseded) return;  // not started because a newer job took over: not reported
    const auto& a = releases[i];
    const release::Release* rel = a.head != nullptr ? a.head : a.base;
    engine::ReleaseResult r;
    r.id = rel != nullptr ? rel->id() : a.id;
    r.release_name = rel != nullptr ? rel->release_name : std::string();
    r.namespace_ = rel != nullptr ? rel->target_namespace : std::string();
    r.outcome = engine::ReleaseOutcome::failed;
    if (why.because_of) {
      const std::string dep = object_of(releases[*why.because_of]);
      r.reason = a.head != nullptr ? "not applied: it dependsOn HelmRelease " + dep + ", which was not applied; fix that one first"
                                   : "not uninstalled: HelmRelease " + dep + ", which depended on it, was not uninstalled first";
    } else {
      r.reason = "not applied: its spec.dependsOn forms a cycle with other releases of cluster " + cname +
                 " (or waits on one); break the cycle";
    }
    record(i, std::move(r));
  };
  const size_t limit = static_cast<size_t>(std::max(1, in.cluster.apply_concurrency));
  engine::run_ordered(engine::apply_order(releases), limit, run, not_run);
  for (auto& r : results) {
    if (r) out.releases.push_back(std::move(*r));
  }
  if (superseded) {
    out.status = ClusterStatus::superseded;
    out.reason = "a newer job superseded this one while it ran";
  }
}

}  // namespace helmgate::runners
