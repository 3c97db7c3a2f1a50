#include "engine/workspace.hpp"

#include <sys/stat.h>

#include "core/env.hpp"
#include "core/private_files.hpp"
#include "release/discovery_cache.hpp"

namespace helmgate::engine {

std::shared_ptr<Workspace> make_workspace(const WorkspaceOptions& options) {
  auto ws = std::make_shared<Workspace>();
  ws->cache_root = options.cache_root;
  ws->helm = options.helm;
  ws->kubectl = options.kubectl;
  core::ensure_private_dir(ws->cache_root);
  core::ensure_private_dir(ws->cache_root + "/mirrors");
  render::Options ro;
  ro.helm = options.helm;
  ro.kubectl = options.kubectl;
  ro.work_dir = ws->cache_root + "/work";
  ro.cache_dir = ws->cache_root + "/renders";
  ro.concurrency = options.render_concurrency;
  ws->renderer = std::make_unique<render::Renderer>(ro);
  ws->mirrors = std::make_unique<git::MirrorCache>(ws->cache_root + "/mirrors");
  ws->doc_cache = release::make_doc_cache();
  // HELMGATE_DISCOVERY_CACHE=off: every cluster discovered on every job (to compare, or to rule it out).
  if (core::env_or("HELMGATE_DISCOVERY_CACHE", "") != "off") {
    ws->discovery_cache = std::make_shared<release::DiscoveryCache>(ws->cache_root + "/discovery");
  }
  struct stat st {};
  ws->tools_id = options.kubectl;
  if (!options.kubectl.empty() && ::stat(options.kubectl.c_str(), &st) == 0) {
    ws->tools_id += ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
                    std::to_string(st.st_mtim.tv_nsec);
  }
  return ws;
}

std::string repository_url(const config::Repo* repo, const std::string& event_clone_url) {
  return repo != nullptr && !repo->url.empty() ? config::fetch_url(*repo) : event_clone_url;
}

}  // namespace helmgate::engine
