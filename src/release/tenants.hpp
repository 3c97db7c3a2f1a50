#pragma once
// Discovery, room (c): tenants. Reads a GitRepository object (spec.url, spec.ref) and opens the tree it
// names at that ref: the Git trees one discovery reads are this repository (index 0) and each tenant
// repository a Flux Kustomization applies through its own GitRepository, opened once per (URL, ref)
// through DiscoverOptions::open_source (the mirror cache).
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "release/documents.hpp"
#include "release/source_tree.hpp"

namespace helmgate::release {

using OpenSource = std::function<core::Result<std::shared_ptr<const git::Repository>>(const std::string& url)>;

class Sources {
 public:
  Sources(const git::Repository& self, std::string commit);
  SourceTree& at(size_t i) { return trees_[i]; }
  const SourceTree& at(size_t i) const { return trees_[i]; }

  struct Opened {
    std::optional<size_t> index;  // the tree; nullopt when it is not followed
    std::string label;            // "GitRepository <id> (<url>, <ref kind> <ref>)", credentials redacted
    std::string why;              // why not: "could not be fetched: …", "selects a tag by semver range …"
  };
  // The tree of GitRepository `git_repository` (id: namespace/name, for the label) at its spec.ref (a
  // commit, tag, branch or name; branch master without one, as in Flux). A failure is not remembered: the
  // next Kustomization that names it tries again (and notes it again).
  Opened open(const Doc& git_repository, const std::string& id, const OpenSource& open_source);

 private:
  std::deque<SourceTree> trees_;  // stable addresses
  std::map<std::string, size_t> index_;  // canonical URL@ref -> tree
};

}  // namespace helmgate::release
