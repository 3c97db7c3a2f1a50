#pragma once
// Which source a Flux object reads from, and where helmgate finds it: source mappings (--source,
// repos[].sources), "this repository" by name or URL, and what an OCIRepository pulls (digest, semver, tag).
#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "release/release.hpp"

namespace helmgate::release {

// Parses "[KIND/][NAMESPACE/]NAME=PATH" (flux-local writes NAME=PATH and NAMESPACE/NAME=PATH). A kind
// is told from a namespace by its first letter (kinds start upper case, namespaces cannot). PATH must be a
// path inside the repository: relative, no "..", no control characters ("." or "" is the root).
core::Result<SourceMapping> parse_source_mapping(std::string_view text, const std::string& origin);

// Checks a mapping's path (core::names::repo_path) and normalizes it; "" when fine, else why not.
std::string check_mapping_path(std::string& path);

// The mapping for a source object, the most specific first (kind and namespace given over left out);
// null when none names it.
const SourceMapping* find_mapping(const std::vector<SourceMapping>& mappings, const std::string& kind,
                                  const std::string& namespace_, const std::string& name);

// Whether a GitRepository is the repository being previewed: a mapping to the repository root, the name
// flux-system (what `flux bootstrap` writes), a configured URL (self_urls), or, without one, a URL naming
// one of the repository's own remotes (https/ssh spellings, ".git", host case compare equal).
bool is_self_git_repository(const DiscoverOptions& opt, const std::string& name, const std::string& url);

// What an OCIRepository's spec.ref makes Flux pull: spec.ref.digest wins over semver, semver over tag
// (source-controller's order). `error` says why the digest is refused (not "<algorithm>:<hex>").
struct OciRef {
  std::string version;  // semver range or tag ("" none)
  std::string digest;   // "sha256:<64 hex>" ("" none)
  std::string error;
};
OciRef oci_ref(const YAML::Node& ref);

// "" when v is an OCI content digest helm accepts (sha256:64 hex, sha384:96, sha512:128), else why not.
std::string digest_problem(std::string_view v);

}  // namespace helmgate::release
