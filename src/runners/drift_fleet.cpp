#include "runners/drift_fleet.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "core/redact.hpp"
#include "engine/change.hpp"
#include "engine/chart_request.hpp"
#include "engine/discovery.hpp"
#include "engine/drift_desired.hpp"
#include "engine/redaction.hpp"
#include "runners/drift_cluster.hpp"

namespace helmgate::runners {

namespace {

using Clock = std::chrono::steady_clock;

int64_t ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

// A declared release of one cluster.
struct Slot {
  const release::Release* release = nullptr;
  core::Result<render::RenderRequest> request{core::Error(core::errc::internal, "no render request")};
  size_t job = SIZE_MAX;  // its render; SIZE_MAX: none (the release or its request has an error)
  engine::DesiredRelease desired;
};

// One distinct render and the slots that wait for it.
struct Job {
  std::vector<Slot*> slots;
  bool done = false;
};

struct Fleet {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::unique_ptr<engine::Change>> changes;  // per cluster: the releases its slots point into
  std::vector<ClusterScan> clusters;
  std::vector<std::vector<Slot>> slots;  // per cluster, in declaration order
  std::vector<Job> jobs;
  bool setup_done = false;
  std::atomic<size_t> waiting{0};  // clusters that may still wait for a render
};

// The deploy branch of one repository, fetched once for its scanned clusters (idx), then each cluster
// discovered on its own (its paths, as a scan of that one cluster would), the clusters in parallel, and
// each release's render request made. An error: that cluster's releases could not be read (it says why).
void discover_repo(Fleet& f, const config::Repo& rc, const std::vector<size_t>& idx, engine::Workspace& ws) {
  auto fail = [&](const std::string& why) {
    for (size_t i : idx) f.clusters[i].head_error = why;
  };
  auto repo = ws.mirrors->open(config::fetch_url(rc));
  if (!repo) return fail("fetching " + core::redact_url(rc.url) + ": " + repo.error().message);
  auto head = repo->resolve("refs/heads/" + rc.deploy_branch);
  if (!head) return fail("deploy branch " + rc.deploy_branch + ": " + head.error().message);
  const auto specs = engine::cluster_specs(rc);
  const auto remote_urls = repo->remote_urls();
  engine::TenantRepos tenants(*ws.mirrors, rc.egress);
  const engine::ChartSources src{&*repo, *head, ws.mirrors.get(), ws.trees_dir(), rc.egress};
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t k = next++; k < idx.size(); k = next++) {
      const size_t i = idx[k];
      ClusterScan& c = f.clusters[i];
      try {
        std::vector<release::ClusterSpec> mine;
        for (const auto& sp : specs) {
          if (sp.name == c.config->name) mine.push_back(sp);
        }
        auto dopt = engine::discover_options(std::move(mine), ws.cache_root, *ws.renderer, &rc);
        dopt.cache = ws.doc_cache;
        dopt.open_source = [&tenants](const std::string& url) { return tenants.open(url); };
        dopt.remote_urls = remote_urls;
        auto change = engine::discover_commit(*repo, *head, dopt);
        if (!change) {
          c.head_error = change.error().message;
          continue;
        }
        f.changes[i] = std::make_unique<engine::Change>(std::move(*change));
        c.scan.commit = *head;
        for (const auto& r : f.changes[i]->at_head.releases) {
          if (r.cluster != c.config->name) continue;
          engine::add_release_secrets(c.redactor, r, rc.sensitive_values);
          Slot& s = f.slots[i].emplace_back();
          s.release = &r;
          if (r.errors.empty()) s.request = engine::render_request(r, src);
        }
      } catch (const std::exception& e) {
        c.head_error = std::string("drift scan failed: ") + e.what();
        f.slots[i].clear();
      }
    }
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < std::min<size_t>(idx.size(), std::max(1u, std::thread::hardware_concurrency())); ++t) {
    threads.emplace_back(work);
  }
  work();
  for (auto& t : threads) t.join();
}

// Every slot keyed to its render; jobs in release order across the clusters (the first release of every
// cluster, then the second ...), so that all clusters can compare while the renders go on.
void plan_jobs(Fleet& f) {
  std::map<std::string, size_t> by_key;
  size_t longest = 0;
  for (const auto& s : f.slots) longest = std::max(longest, s.size());
  for (size_t n = 0; n < longest; ++n) {
    for (size_t c = 0; c < f.slots.size(); ++c) {
      if (n >= f.slots[c].size()) continue;
      Slot& s = f.slots[c][n];
      if (!s.release->errors.empty() || !s.request) {
        core::Result<render::RenderResult> none(core::Error(core::errc::internal, "not rendered"));
        s.desired = engine::desired_release(*s.release, s.request, none);
        continue;
      }
      // Two repositories may allow different chart sources: a render is shared within one repository.
      std::string key = f.clusters[c].repo->name + "\n" + engine::render_share_key(*s.request);
      auto [it, fresh] = by_key.emplace(key, f.jobs.size());
      if (fresh) f.jobs.emplace_back();
      s.job = it->second;
      f.jobs[s.job].slots.push_back(&s);
    }
  }
}

// Render workers: each takes the next job, renders it once, and hands the result to every slot of it.
void render_jobs(Fleet& f, engine::Workspace& ws, std::atomic<size_t>& next, RenderCounts& counts, Clock::time_point start) {
  for (size_t j = next++; j < f.jobs.size(); j = next++) {
    Job& job = f.jobs[j];
    core::Result<render::RenderResult> rendered(core::Error(core::errc::internal, "not rendered"));
    const bool wanted = f.waiting.load() > 0;  // else every cluster is done or failed: nobody reads it
    if (wanted) {
      try {
        rendered = ws.renderer->render(*job.slots.front()->request);
      } catch (const std::exception& e) {
        rendered = core::Error(core::errc::internal, std::string("the render failed: ") + e.what());
      }
    }
    std::vector<engine::DesiredRelease> made;
    try {
      std::shared_ptr<const std::vector<kube::ManifestObject>> objects;
      if (rendered) objects = engine::split_objects(rendered->manifest, job.slots.front()->release->id());
      for (Slot* s : job.slots) {
        made.push_back(engine::desired_release(*s->release, s->request, rendered));
        // The objects are the render, once for all clusters; the text is not kept once per cluster.
        if (objects) made.back().manifest.clear();
        made.back().objects = objects;
      }
    } catch (const std::exception& e) {
      made.clear();
      core::Result<render::RenderResult> failed(core::Error(core::errc::internal, std::string("the render failed: ") + e.what()));
      for (Slot* s : job.slots) made.push_back(engine::desired_release(*s->release, s->request, failed));
    }
    std::lock_guard lock(f.mu);
    for (size_t i = 0; i < job.slots.size(); ++i) job.slots[i]->desired = std::move(made[i]);
    job.done = true;
    if (rendered) (rendered->cache_hit ? counts.cache_hits : counts.rendered)++;
    else if (wanted) ++counts.failed;
    counts.last_ms = ms_since(start);
    f.cv.notify_all();
  }
}

}  // namespace

std::vector<DriftScan> scan_clusters(const std::vector<ScanTarget>& targets, engine::Workspace& ws,
                                     const FleetScanOptions& options, RenderCounts* counts_out) {
  const auto start = Clock::now();
  Fleet f;
  f.clusters.resize(targets.size());
  f.slots.resize(targets.size());
  f.changes.resize(targets.size());
  for (size_t i = 0; i < targets.size(); ++i) init_cluster(f.clusters[i], *targets[i].first, *targets[i].second, ws);
  RenderCounts counts;
  // The clusters' own reads start now; their comparisons wait for the set-up below, then for renders.
  f.waiting = targets.size();
  std::vector<std::thread> threads;
  for (size_t i = 0; i < targets.size(); ++i) {
    threads.emplace_back([&f, &options, i, start] {
      ClusterScan& c = f.clusters[i];
      ClusterHooks hooks;
      hooks.declared = [&f, i]() -> const std::vector<engine::DesiredRelease>& {
        std::unique_lock lock(f.mu);
        f.cv.wait(lock, [&f] { return f.setup_done; });
        return f.clusters[i].declared;
      };
      hooks.ready = [&f, i](size_t n) -> const engine::DesiredRelease& {
        Slot& s = f.slots[i][n];
        std::unique_lock lock(f.mu);
        f.cv.wait(lock, [&] { return s.job == SIZE_MAX || f.jobs[s.job].done; });
        return s.desired;
      };
      run_cluster(c, hooks, options);
      --f.waiting;
      c.scan.duration_ms = ms_since(start);
    });
  }
  // Set-up: each repository once, then the render plan.
  std::map<const config::Repo*, std::vector<size_t>> by_repo;
  for (size_t i = 0; i < targets.size(); ++i) by_repo[targets[i].first].push_back(i);
  try {
    for (const auto& [rc, idx] : by_repo) discover_repo(f, *rc, idx, ws);
    plan_jobs(f);
  } catch (const std::exception& e) {
    for (auto& c : f.clusters) c.head_error = std::string("drift scan failed: ") + e.what();
    for (auto& s : f.slots) s.clear();
    f.jobs.clear();
  }
  for (size_t i = 0; i < targets.size(); ++i) {
    for (const auto& s : f.slots[i]) f.clusters[i].declared.push_back(identity_of(*s.release));
  }
  counts.keys = f.jobs.size();
  for (const auto& s : f.slots) counts.releases += s.size();
  {
    std::lock_guard lock(f.mu);
    f.setup_done = true;
  }
  f.cv.notify_all();
  std::atomic<size_t> next{0};
  // Twice the cores by default: a helm run spends part of its time starting and reading its chart.
  size_t n = options.render_concurrency != 0 ? options.render_concurrency : 2 * std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> renders;
  for (size_t t = 0; t < std::min(n, f.jobs.size()); ++t) {
    renders.emplace_back([&] { render_jobs(f, ws, next, counts, start); });
  }
  for (auto& t : renders) t.join();
  for (auto& t : threads) t.join();
  std::vector<DriftScan> out;
  for (auto& c : f.clusters) out.push_back(finish_cluster(c));
  if (counts_out != nullptr) *counts_out = counts;
  return out;
}

}  // namespace helmgate::runners
