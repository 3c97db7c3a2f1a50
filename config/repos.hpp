#pragma once
// The repos[] section of the configuration (and the egress policy it shares with the top level):
// each repository, its clusters and its source mappings.
#include <yaml-cpp/yaml.h>

#include <string>

#include "config/config.hpp"
#include "config/reader.hpp"

namespace helmgate::config::detail {

// repos[i] at key path p into repo; egress is the top-level policy the repository's own egress overrides.
void read_repo(const Reader& r, const YAML::Node& n, const std::string& p, Repo& repo, const core::EgressPolicy& egress,
               Use use);
// An egress policy (egress: at the top level or in a repository) at key path p into e.
void read_egress(const Reader& r, const YAML::Node& n, const std::string& p, core::EgressPolicy& e);

}  // namespace helmgate::config::detail
