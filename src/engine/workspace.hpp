#pragma once
// The engine's workspace: what every job sets up, made once per worker (or CLI run) and shared by the
// preview, apply and command runners: the renderer (its memory cache and process pool outlive a job),
// the Git mirror cache, the document cache of discovery, the tools and the cache root below which all of
// them live (owner-only: fetched and rendered content holds Secret data).
#include <cstddef>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "git/repository.hpp"
#include "release/release.hpp"
#include "render/renderer.hpp"

namespace helmgate::engine {

struct WorkspaceOptions {
  std::string cache_root;  // absolute; mirrors/, work/ and renders/ go below
  std::string helm;        // resolved binaries ("" when there is none: jobs that need it fail saying so)
  std::string kubectl;
  size_t render_concurrency = 2;  // parallel helm renders
};

struct Workspace {
  std::string cache_root, helm, kubectl;
  std::unique_ptr<render::Renderer> renderer;
  std::unique_ptr<git::MirrorCache> mirrors;  // <cache_root>/mirrors
  std::shared_ptr<release::DocCache> doc_cache;  // parsed documents by blob, across commits and jobs
  // Clusters already discovered, by their input closure: in memory and under <cache_root>/discovery/
  // (null with HELMGATE_DISCOVERY_CACHE=off).
  std::shared_ptr<release::DiscoveryCache> discovery_cache;
  std::string tools_id;  // the kubectl kustomize runs with (path, size, mtime): part of the cache key
  std::string trees_dir() const { return cache_root + "/work/trees"; }
};

// Creates the private directories and the shared pieces.
std::shared_ptr<Workspace> make_workspace(const WorkspaceOptions& options);

// The URL a job fetches a repository from: the configured one (with its credentials from the environment,
// config::fetch_url) when there is one, else the URL the event carried.
std::string repository_url(const config::Repo* repo, const std::string& event_clone_url);

}  // namespace helmgate::engine
