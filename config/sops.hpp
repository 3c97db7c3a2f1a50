#pragma once
// The `sops:` section (top level, and repos[].sops for one repository): the age keys that SOPS-encrypted
// files are decrypted with, by reference only (an environment variable holding the key file's text, or a
// file), never a key in the configuration itself. Read and checked here; the keys are read and parsed
// when a job discovers releases (engine/sops_keys).
#include <yaml-cpp/yaml.h>

#include "config/config.hpp"
#include "config/reader.hpp"

namespace helmgate::config::detail {

// n: the `sops` mapping at path p ("sops" or "repos[0].sops").
void read_sops(const Reader& r, const YAML::Node& n, const std::string& p, SopsSettings& s);

}  // namespace helmgate::config::detail
