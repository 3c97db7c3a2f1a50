#pragma once
// One HelmRelease reached more than once in a cluster (a cluster path that holds a kustomize base and the
// overlay a Flux Kustomization applies, two paths including one base): which definition Flux applies.
#include <functional>
#include <string>
#include <vector>

namespace helmgate::release {

struct Definition {
  std::string key;        // what makes two definitions the same object: namespace/name of the HelmRelease
  bool followed = false;  // reached through a Flux Kustomization's spec.path (not only the cluster path walk)
  std::string unit;       // kustomization directory it was built in ("" for a file read as it is)
  std::string file;       // the file that declares it
  int line = 0;           // and the document's line there
  std::string root;       // the path it was found under
  std::string digest;     // of the document as found
};

struct DefinitionChoice {
  std::vector<bool> keep;          // per definition
  std::vector<std::string> notes;  // conflicts that no rule decides
};

// For each key, one definition: one a Flux Kustomization applies beats one only the cluster path walk
// found (the Kustomization's `kustomize build` is what Flux applies); then an overlay beats the base it
// includes (includes(a, b): a's kustomize build reads what b was built from). Identical definitions are
// one; differing ones no rule decides keep the first and a note names both.
// A declaration a Flux Kustomization moves to another namespace is another object (as in Flux, where the
// cluster path's own sync would apply it too), so it is not merged here.
DefinitionChoice choose_definitions(const std::vector<Definition>& defs,
                                    const std::function<bool(const Definition& a, const Definition& b)>& includes);

}  // namespace helmgate::release
