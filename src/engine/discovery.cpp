#include "engine/discovery.hpp"

#include "engine/sops_keys.hpp"
#include "release/sources.hpp"

namespace helmgate::engine {

std::vector<release::ClusterSpec> cluster_specs(const config::Repo& repo) {
  std::vector<release::ClusterSpec> out;
  for (const auto& c : repo.clusters) out.push_back({c.name, c.paths, c.kube_version});
  return out;
}

release::DiscoverOptions discover_options(std::vector<release::ClusterSpec> clusters, const std::string& cache_root,
                                          render::Renderer& renderer, const config::Repo* repo) {
  release::DiscoverOptions o;
  o.clusters = std::move(clusters);
  o.work_root = cache_root + "/work/trees";
  o.cache = release::make_doc_cache();
  o.kustomize = [&renderer](const std::string& dir, const std::string& key) { return renderer.kustomize_build(dir, key); };
  o.sops_keys = sops_keys(repo != nullptr ? repo->sops : config::SopsSettings{});
  if (repo != nullptr) {
    o.self_urls = {repo->url};  // configured: only its URL names this repository
    o.flux_strict_substitution = repo->flux_strict_substitution;
    o.helm_operator_charts_path = repo->helm_operator_charts_path;
    // repos[].sources (checked when the configuration was loaded): preview and apply read the same paths.
    for (size_t i = 0; i < repo->sources.size(); ++i) {
      auto m = release::parse_source_mapping(repo->sources[i], repo->name + " sources[" + std::to_string(i) + "]");
      if (m) o.sources.push_back(std::move(*m));
    }
  }
  return o;
}

}  // namespace helmgate::engine
