#include "runners/tools.hpp"

#include <unistd.h>

#include <filesystem>

#include "core/env.hpp"
#include "engine/workspace.hpp"

namespace helmgate::runners {

using core::env_or;

std::string default_cache_dir() {
  std::string dir = env_or("HELMGATE_CACHE_DIR", "");
  if (dir.empty()) {
    if (auto x = env_or("XDG_CACHE_HOME", ""); !x.empty()) {
      dir = x + "/helmgate";
    } else if (auto h = env_or("HOME", ""); !h.empty()) {
      dir = h + "/.cache/helmgate";
    } else {
      dir = "/tmp/helmgate-cache";
    }
  }
  std::error_code ec;
  auto abs = std::filesystem::absolute(dir, ec);
  return ec ? dir : abs.lexically_normal().string();
}

namespace {

// scripts/bootstrap unpacks helm and kubectl here (the pin comes from scripts/lib/common.sh through
// CMake). HELMGATE_CACHE is the scripts' name for the cache; the tools live there even when the runtime
// cache (HELMGATE_CACHE_DIR) is elsewhere.
std::string pinned_tool(const char* name) {
  std::string root = env_or("HELMGATE_CACHE", "");
  if (root.empty()) {
    auto h = env_or("HOME", "");
    if (h.empty()) return "";
    root = h + "/.cache/helmgate";
  }
  std::string cand = root + "/tools/kubectl-layer-" HELMGATE_TOOLS_LAYER_VERSION "/bin/" + name;
  return ::access(cand.c_str(), X_OK) == 0 ? cand : "";
}

}  // namespace

std::string find_tool(const char* env, const char* name) {
  if (auto v = env_or(env, ""); !v.empty()) return v;
  std::string path = env_or("PATH", "");
  for (size_t pos = 0; pos <= path.size();) {
    size_t next = path.find(':', pos);
    if (next == std::string::npos) next = path.size();
    std::filesystem::path cand = std::filesystem::path(path.substr(pos, next - pos)) / name;
    if (::access(cand.c_str(), X_OK) == 0) return cand.string();
    pos = next + 1;
  }
  return pinned_tool(name);
}

std::shared_ptr<engine::Workspace> runner_workspace(const std::string& helm, const std::string& kubectl,
                                                    const std::string& cache_root, size_t render_concurrency) {
  engine::WorkspaceOptions wo;
  wo.helm = helm.empty() ? find_tool("HELMGATE_HELM", "helm") : helm;
  wo.kubectl = kubectl.empty() ? find_tool("HELMGATE_KUBECTL", "kubectl") : kubectl;
  wo.cache_root = cache_root.empty() ? default_cache_dir() : cache_root;
  wo.render_concurrency = render_concurrency;
  return engine::make_workspace(wo);
}

}  // namespace helmgate::runners
