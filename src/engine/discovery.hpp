#pragma once
// Discovery as every job sets it up: the configured clusters, kustomize builds through the renderer's
// kubectl, the repository's own URLs, a document cache shared between commits.
#include <string>
#include <vector>

#include "config/config.hpp"
#include "release/release.hpp"
#include "render/renderer.hpp"

namespace helmgate::engine {

std::vector<release::ClusterSpec> cluster_specs(const config::Repo& repo);

// open_source (tenant repositories) is left for the caller to set.
release::DiscoverOptions discover_options(std::vector<release::ClusterSpec> clusters, const std::string& cache_root,
                                          render::Renderer& renderer, const config::Repo* repo);

}  // namespace helmgate::engine
