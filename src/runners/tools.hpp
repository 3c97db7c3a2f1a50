#pragma once
// Where the runners find their external tools and settings.
#include <cstddef>
#include <memory>
#include <string>


namespace helmgate::engine {
struct Workspace;
}  // namespace helmgate::engine

namespace helmgate::runners {

// The path in $<env> when set, else the first executable <name> on $PATH, else the pinned copy that
// scripts/bootstrap unpacked into the cache (<cache>/tools/kubectl-layer-<pin>/bin/<name>); "" when
// there is none.
std::string find_tool(const char* env, const char* name);

// The cache root: $HELMGATE_CACHE_DIR, else $XDG_CACHE_HOME/helmgate, else ~/.cache/helmgate; always an
// absolute path (a relative one is taken from the working directory at start), because helm and
// kustomize run in other directories and read a relative path against their own.
std::string default_cache_dir();

// The workspace of a runner given no shared one: the tools found as find_tool() does when not given, the
// cache root default_cache_dir() when empty.
std::shared_ptr<engine::Workspace> runner_workspace(const std::string& helm, const std::string& kubectl,
                                                    const std::string& cache_root, size_t render_concurrency);

}  // namespace helmgate::runners
