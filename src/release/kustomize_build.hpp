#pragma once
// Discovery, room (b): kustomizations of a source tree. Reads a kustomization and every file its build
// reaches (resources, components, patches, generators: its closure), refusing remote and outside entries
// (kustomize_scan.hpp) before kustomize runs; builds it with kustomize, cached by the content of the
// closure; and points each built document back to the file and line that declare it.
#include <set>
#include <string>
#include <vector>

#include <map>

#include "release/documents.hpp"
#include "release/source_tree.hpp"

namespace helmgate::release {

// The kustomization file of a directory (kustomization.yaml, kustomization.yml, Kustomization); "" if none.
std::string kustomization_file(const SourceTree& tree, const std::string& dir);

// The files a kustomization directory reaches, recursively (a plain directory used as a resource: every
// file in it); what cannot be read or is refused lands in failures with file:line.
struct Closure {
  std::set<std::string> files;
  std::vector<ParseFailure> failures;
  // The documents of the YAML files it parsed whose every document names an object (kind and name), so
  // that building it natively does not parse them again.
  std::map<std::string, Docs> objects;
};
Closure kustomize_closure(const SourceTree& tree, const std::string& dir, ParseBudget& budget);

// kustomize build of `dir`: inputs gets the closure, env.units the directory's file set.
core::Result<std::shared_ptr<const Docs>> build_kustomization(SourceTree& tree, const std::string& dir,
                                                              std::vector<std::string>& inputs, const TreeEnv& env);

}  // namespace helmgate::release
