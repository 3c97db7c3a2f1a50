#include "runners/apply_clusters.hpp"

#include <algorithm>
#include <future>
#include <map>
#include <set>

namespace helmgate::runners {

using engine::ClusterResult;
using engine::ClusterStatus;

core::Result<std::vector<config::Cluster>> clusters_to_apply(const config::Repo& repo, const std::vector<std::string>& chosen) {
  if (repo.clusters.empty()) {
    return core::Error(core::errc::invalid_config, "repository " + repo.name +
                                                       " has no clusters configured; apply needs each cluster's kubeconfig (repos[].clusters)");
  }
  if (chosen.empty()) return repo.clusters;
  std::vector<config::Cluster> out;
  for (const auto& name : chosen) {
    auto it = std::find_if(repo.clusters.begin(), repo.clusters.end(), [&](const config::Cluster& c) { return c.name == name; });
    if (it == repo.clusters.end()) {
      return core::Error(core::errc::invalid_config, "cluster " + name + " is not configured for repository " + repo.name);
    }
    out.push_back(*it);
    out.back().auto_apply = true;
  }
  for (auto& c : out) {
    std::erase_if(c.requires_clusters, [&](const std::string& n) { return std::find(chosen.begin(), chosen.end(), n) == chosen.end(); });
  }
  return out;
}

std::vector<ClusterResult> run_in_order(const std::vector<config::Cluster>& clusters,
                                        const std::function<ClusterResult(const config::Cluster&)>& apply,
                                        const std::function<bool(const std::string&)>& applied_cleanly,
                                        const std::string& commit) {
  std::map<std::string, std::shared_future<ClusterResult>> futures;
  std::vector<std::string> order;
  std::set<std::string> started;
  std::vector<const config::Cluster*> pending;
  for (const auto& c : clusters) pending.push_back(&c);
  while (!pending.empty()) {
    size_t before = pending.size();
    for (auto it = pending.begin(); it != pending.end();) {
      const config::Cluster* c = *it;
      bool ready = std::all_of(c->requires_clusters.begin(), c->requires_clusters.end(),
                               [&](const std::string& r) { return started.count(r) != 0; });
      if (!ready) {
        ++it;
        continue;
      }
      std::vector<std::pair<std::string, std::shared_future<ClusterResult>>> deps;
      for (const auto& r : c->requires_clusters) deps.emplace_back(r, futures[r]);
      futures[c->name] = std::async(std::launch::async, [&apply, &applied_cleanly, &commit, c, deps] {
                           for (const auto& [name, f] : deps) {
                             const ClusterResult& d = f.get();
                             if (!applied_cleanly(name)) {
                               ClusterResult b;
                               b.name = c->name;
                               b.status = ClusterStatus::blocked;
                               b.reason = "requires cluster " + name + " to have applied " + commit.substr(0, 12) +
                                          " cleanly first (it is " + std::string(engine::to_string(d.status)) + ")";
                               b.retry = true;
                               return b;
                             }
                           }
                           return apply(*c);
                         }).share();
      started.insert(c->name);
      order.push_back(c->name);
      it = pending.erase(it);
    }
    if (pending.size() == before) {
      // Requirements naming clusters that do not exist (or a cycle): say so instead of waiting forever.
      for (const auto* c : pending) {
        std::promise<ClusterResult> p;
        ClusterResult b;
        b.name = c->name;
        b.status = ClusterStatus::blocked;
        b.reason = "requires clusters that are not configured for this repository (or a cycle)";
        p.set_value(b);
        futures[c->name] = p.get_future().share();
        order.push_back(c->name);
      }
      pending.clear();
    }
  }
  std::vector<ClusterResult> all;
  for (const auto& name : order) all.push_back(futures[name].get());
  return all;
}

queue::RunOutcome apply_outcome(const engine::ApplyResult& result) {
  const auto& all = result.clusters;
  std::string summary;
  bool retry = false;
  for (const auto& c : all) {
    if (c.status == ClusterStatus::applied || c.status == ClusterStatus::superseded || c.status == ClusterStatus::skipped) continue;
    summary += (summary.empty() ? "" : "; ") + c.name + " " + std::string(engine::to_string(c.status)) +
               (c.reason.empty() ? "" : ": " + c.reason);
    for (const auto& r : c.releases) {
      if (r.outcome == engine::ReleaseOutcome::failed) summary += "; " + r.id + ": " + r.reason;
    }
    retry = retry || c.retry;
  }
  if (!summary.empty()) return retry ? queue::RunOutcome::retry_later(summary) : queue::RunOutcome::fail(summary);
  bool superseded = !all.empty() && std::all_of(all.begin(), all.end(), [](const ClusterResult& c) { return c.status == ClusterStatus::superseded; });
  return superseded ? queue::RunOutcome::superseded(result.to_json()) : queue::RunOutcome::ok(result.to_json());
}

}  // namespace helmgate::runners
