#pragma once
// Which of the files that reach a release's root are the release's own inputs: the "changed files" reason
// names only those. A root (a cluster path, a kustomize overlay) is read as a whole, so every release found
// there starts with all of its files; a file whose documents all declare other objects (another
// HelmRelease, a Namespace, another release's ConfigMap) is not an input of this release.
#include <string>
#include <vector>

#include "git/repository.hpp"
#include "release/documents.hpp"
#include "release/release.hpp"

namespace helmgate::release {

// Narrows every release's inputs in place. Kept: its own file, its chart source's and valuesFrom objects'
// files, kustomization files, Flux Kustomizations (patches, postBuild), files that patch it (a HelmRelease
// document of its name), and any file whose documents are not all whole objects (JSON patches, values
// files of generators) or that cannot be read. A release whose own file is unknown keeps all of them.
// parsed: the discovery's parses of this repository's files at `commit` (ParseBudget::parse_file), read
// instead of parsing a file again; files it did not parse are read from Git.
void narrow_inputs(const git::Repository& repo, const std::string& commit, std::vector<Release>& releases,
                   const ParseBudget* parsed = nullptr);

}  // namespace helmgate::release
