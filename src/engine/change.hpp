#pragma once
// A change between two commits of a repository, as every job reads it: which revisions are compared, which
// clusters are looked at, what discovery finds at each side, and which releases the change touches.
// Preview compares a pull request's head with where it left the deploy branch; apply compares what a
// cluster runs with the pushed commit; drift compares a commit with itself (nothing affected, all read).
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/egress.hpp"
#include "core/error.hpp"
#include "git/repository.hpp"
#include "release/release.hpp"

namespace helmgate::engine {

// The commit a change is compared with when none is given: where head left the deploy branch (the
// configured one, else main/master, locally or at origin). errc::not_found when there is none.
core::Result<std::string> default_base(const git::Repository& repo, const std::string& head, const config::Repo* cfg);

// The clusters of a repository at a commit: the configured ones, else those discovered (clusters/<name>, or
// the root as "default"); only: keep these names (errc::not_found naming the known ones when none is left).
core::Result<std::vector<release::ClusterSpec>> select_clusters(const git::Repository& repo, const std::string& head,
                                                                const config::Repo* cfg,
                                                                const std::vector<std::string>& only);

// Tenant repositories (Flux GitRepositories in other repositories) fetched once per job: base and head
// discovery run concurrently and must see the same commit of the same mirror. Every URL passes the egress
// policy (git::MirrorCache::open_untrusted).
class TenantRepos {
 public:
  TenantRepos(const git::MirrorCache& mirrors, core::EgressPolicy egress) : mirrors_(mirrors), egress_(std::move(egress)) {}
  core::Result<std::shared_ptr<const git::Repository>> open(const std::string& url);

 private:
  const git::MirrorCache& mirrors_;
  core::EgressPolicy egress_;
  std::mutex mu_;
  std::map<std::string, core::Result<std::shared_ptr<const git::Repository>>> repos_;
};

// The releases whose inputs the change base..head touches. A zero or empty base (a first push) touches
// every input of head. cluster: only that cluster's releases ("" every cluster).
core::Result<std::vector<release::Affected>> affected_releases(const git::Repository& repo, const std::string& base,
                                                               const std::string& head, const release::Discovery& at_base,
                                                               const release::Discovery& at_head,
                                                               const std::string& cluster = {});

// Both sides discovered (concurrently) and what the change touches. Affected points into at_base and
// at_head: a Change moves but never copies.
struct Change {
  std::string base, head;
  release::Discovery at_base, at_head;
  std::vector<std::string> changed;  // paths changed between base and head
  std::vector<release::Affected> affected;
  Change() = default;
  Change(const Change&) = delete;
  Change& operator=(const Change&) = delete;
  Change(Change&&) = default;
  Change& operator=(Change&&) = default;
};
core::Result<Change> discover_change(const git::Repository& repo, const std::string& base, const std::string& head,
                                     const release::DiscoverOptions& options);

// A commit read whole, as a drift job compares it with the clusters: every release of the commit is
// affected (as added: rendered at head only), and each counts as declared on the deploy branch (at_base is
// the commit's own discovery), so the live diff may read what Helm marks as the release's own.
core::Result<Change> discover_commit(const git::Repository& repo, const std::string& commit,
                                     const release::DiscoverOptions& options);

// Discoveries of one repository by commit, each made once for all callers: the threads of a job (one per
// cluster) that ask for a commit being discovered wait for that one. A zero commit discovers nothing.
class Discoveries {
 public:
  Discoveries(const git::Repository& repo, release::DiscoverOptions options) : repo_(repo), options_(std::move(options)) {}
  const release::Discovery& at(const std::string& commit);

 private:
  const git::Repository& repo_;
  release::DiscoverOptions options_;
  std::mutex mu_;
  std::map<std::string, std::shared_future<std::shared_ptr<release::Discovery>>> done_;
};

// Whether a commit id means "no commit" (empty or all zeros, as a branch creation's `before`).
bool zero_commit(const std::string& sha);

}  // namespace helmgate::engine
