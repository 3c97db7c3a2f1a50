#include "engine/change.hpp"

#include <algorithm>
#include <future>
#include <optional>

namespace helmgate::engine {

bool zero_commit(const std::string& sha) { return sha.empty() || sha.find_first_not_of('0') == std::string::npos; }

core::Result<std::string> default_base(const git::Repository& repo, const std::string& head, const config::Repo* cfg) {
  std::vector<std::string> candidates;
  if (cfg != nullptr) candidates = {cfg->deploy_branch, "origin/" + cfg->deploy_branch};
  for (const char* c : {"main", "origin/main", "master", "origin/master"}) candidates.emplace_back(c);
  for (const auto& c : candidates) {
    if (auto mb = repo.merge_base(head, c); mb.ok()) return *mb;
  }
  return core::Error(core::errc::not_found,
                     "no deploy branch (main/master) in " + repo.path() + " to compare with; pass a base revision");
}

core::Result<std::vector<release::ClusterSpec>> select_clusters(const git::Repository& repo, const std::string& head,
                                                                const config::Repo* cfg,
                                                                const std::vector<std::string>& only) {
  std::vector<release::ClusterSpec> clusters;
  if (cfg != nullptr && !cfg->clusters.empty()) {
    for (const auto& c : cfg->clusters) clusters.push_back({c.name, c.paths, c.kube_version});
  } else {
    auto dc = release::default_clusters(repo, head);
    if (!dc) return dc.error();
    clusters = std::move(*dc);
  }
  if (only.empty()) return clusters;
  std::vector<release::ClusterSpec> keep;
  for (const auto& c : clusters) {
    if (std::find(only.begin(), only.end(), c.name) != only.end()) keep.push_back(c);
  }
  if (keep.empty()) {
    std::string names;
    for (const auto& c : clusters) names += (names.empty() ? "" : ", ") + c.name;
    return core::Error(core::errc::not_found, "no cluster named " + only.front() + " (known: " + names + ")");
  }
  return keep;
}

core::Result<std::shared_ptr<const git::Repository>> TenantRepos::open(const std::string& url) {
  std::lock_guard lk(mu_);
  auto it = repos_.find(url);
  if (it == repos_.end()) {
    auto r = mirrors_.open_untrusted(url, egress_);
    core::Result<std::shared_ptr<const git::Repository>> v =
        r ? core::Result<std::shared_ptr<const git::Repository>>(std::make_shared<const git::Repository>(std::move(*r)))
          : core::Result<std::shared_ptr<const git::Repository>>(r.error());
    it = repos_.emplace(url, std::move(v)).first;
  }
  return it->second;
}

core::Result<std::vector<release::Affected>> affected_releases(const git::Repository& repo, const std::string& base,
                                                               const std::string& head, const release::Discovery& at_base,
                                                               const release::Discovery& at_head,
                                                               const std::string& cluster) {
  std::vector<std::string> changed;
  if (zero_commit(base)) {
    for (const auto& r : at_head.releases) changed.insert(changed.end(), r.inputs.begin(), r.inputs.end());
  } else {
    auto ch = repo.changed_paths(base, head);
    if (!ch) return ch.error();
    changed = std::move(*ch);
  }
  std::vector<release::Affected> out;
  for (auto& a : release::affected(at_base, at_head, changed)) {
    const release::Release* any = a.head != nullptr ? a.head : a.base;
    if (cluster.empty() || (any != nullptr && any->cluster == cluster)) out.push_back(std::move(a));
  }
  return out;
}

core::Result<Change> discover_change(const git::Repository& repo, const std::string& base, const std::string& head,
                                     const release::DiscoverOptions& options) {
  Change c;
  c.base = base;
  c.head = head;
  auto changed = repo.changed_paths(base, head);
  if (!changed) return changed.error();
  c.changed = std::move(*changed);
  // With the discovery cache, base and head go opposite ways through the clusters and meet in the middle:
  // a cluster whose input closure the change does not touch is then discovered by one side and taken
  // from the cache by the other (its entry is valid there: the same tree ids).
  release::DiscoverOptions head_options = options;
  head_options.last_first = options.discovery_cache != nullptr;
  auto base_f = std::async(std::launch::async, [&] { return release::discover(repo, base, options); });
  c.at_head = release::discover(repo, head, head_options);
  c.at_base = base_f.get();
  if (!c.changed.empty()) c.affected = release::affected(c.at_base, c.at_head, c.changed);
  return c;
}

core::Result<Change> discover_commit(const git::Repository& repo, const std::string& commit,
                                     const release::DiscoverOptions& options) {
  auto resolved = repo.resolve(commit);
  if (!resolved) return resolved.error();
  Change c;
  c.base = *resolved;
  c.head = *resolved;
  c.at_head = release::discover(repo, *resolved, options);
  c.at_base = c.at_head;
  for (const auto& r : c.at_head.releases) {
    release::Affected a;
    a.id = r.id();
    a.head = &r;
    a.reasons = {"read whole at " + resolved->substr(0, 12)};
    c.affected.push_back(std::move(a));
  }
  return c;
}

const release::Discovery& Discoveries::at(const std::string& commit) {
  std::shared_future<std::shared_ptr<release::Discovery>> f;
  std::optional<std::promise<std::shared_ptr<release::Discovery>>> mine;
  {
    std::lock_guard lock(mu_);
    if (auto it = done_.find(commit); it != done_.end()) {
      f = it->second;
    } else {
      mine.emplace();
      f = mine->get_future().share();
      done_.emplace(commit, f);
    }
  }
  if (mine) {
    auto d = std::make_shared<release::Discovery>();
    if (!zero_commit(commit)) *d = release::discover(repo_, commit, options_);
    mine->set_value(d);
  }
  return *f.get();
}

}  // namespace helmgate::engine
