#pragma once
// Kustomize reads more than the files next to a kustomization: remote bases (Git URLs, github.com/org/repo,
// git@host:repo), remote files (https://...), absolute paths and directories above the repository, and charts
// pulled by helmCharts. Content from Git is hostile, so before kustomize runs every kustomization it would
// read is scanned and any such entry is refused with the file, line, field and entry. (kustomize also runs
// without network; this scan is what turns an attempt into a clear finding.)
#include <yaml-cpp/yaml.h>

#include <functional>
#include <string>
#include <vector>

namespace helmgate::release {

struct KustomizeRefusal {
  std::string field;  // "resources", "configMapGenerator[0].files", "helmCharts[1].repo", ...
  std::string entry;  // as written (credentials in a URL redacted)
  std::string reason;
  int line = 0;  // 1-based, 0 unknown
  int column = 0;
  std::string message() const;  // "resources entry 'https://…' is refused: <reason>"
};

// Entries of one kustomization (or kustomize fields such as Flux postRenderers) that would make kustomize
// read outside the repository. dir: the kustomization's directory relative to the repository root;
// exists(path): whether a repository path (relative to the root) exists at the commit.
std::vector<KustomizeRefusal> scan_kustomization(const YAML::Node& kustomization, const std::string& dir,
                                                 const std::function<bool(const std::string&)>& exists);

// Whether an entry names something remote (a URL, an scp-like Git address, a go-getter style source).
bool kustomize_entry_is_remote(const std::string& entry);

}  // namespace helmgate::release
