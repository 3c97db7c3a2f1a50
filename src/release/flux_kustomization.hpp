#pragma once
// Discovery, room (c): Flux Kustomizations. Reads a kustomize.toolkit.fluxcd.io Kustomization: which path
// it applies and from which tree (this repository, a source mapping, a tenant's GitRepository, an
// ExternalArtifact traced back to its ArtifactGenerator's source), and what it does to that path's
// documents (a Transform: spec.targetNamespace, spec.patches, spec.postBuild with the variables of its
// substituteFrom ConfigMaps and Secrets). Applying a Transform is post_build.hpp.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "release/chart_source.hpp"
#include "release/documents.hpp"
#include "release/tenants.hpp"

namespace helmgate::release {

// What a Flux Kustomization does to the documents of its path before they are applied.
struct Transform {
  std::string target_namespace;
  YAML::Node patches;  // spec.patches, in kustomize's own format
  bool substitute = false;
  bool substitute_always = false;  // postBuild.substituteStrategy: Always
  int line = 0;                    // of the Kustomization
  std::map<std::string, std::string> vars;  // postBuild.substitute over postBuild.substituteFrom
  std::vector<std::string> sensitive;       // vars that came from Secrets
  std::string file;                         // where the Kustomization is declared
  // spec.decryption.provider: sops: the path's SOPS-encrypted documents are decrypted (sops_documents).
  bool decrypt = false;
  std::string digest;                       // of all of the above: two Transforms alike read alike
  // Whether it changes the documents' text (targetNamespace, patches, substitution); decryption alone
  // does not re-emit them.
  bool rewrites() const { return !target_namespace.empty() || patches.IsSequence() || substitute; }
};

// A path a Flux Kustomization applies: in tree `source` (Sources index), transformed by `transform`.
struct Applied {
  size_t source = 0;
  std::string path;
  std::shared_ptr<const Transform> transform;
};

// What reading a Flux Kustomization needs of discovery: the options (source mappings, this repository's
// URLs, open_source), the cluster's objects, the trees, where charts and artifacts resolve, and where
// problems (file:line) and notes (a source not followed) go.
struct KustomizationEnv {
  const DiscoverOptions& opt;
  const ObjectIndex& objects;
  Sources& sources;
  const charts::Context& charts;
  Report problem;
  Report note;
};

// The paths a document applies when it is a Flux Kustomization (none otherwise). A source that cannot be
// followed is a note naming it, never a silent gap.
std::vector<Applied> follow(const Doc& d, const KustomizationEnv& env);

// spec.targetNamespace, spec.patches, spec.postBuild and spec.decryption of Flux Kustomization `ks` (namespace/name);
// null when it has none. A substituteFrom object that is missing (and not optional) or a value that is
// not a string is a problem at the file:line that declares it.
std::shared_ptr<const Transform> transform_of(const Doc& d, const std::string& ks, const ObjectIndex& objects,
                                              const Report& problem);

}  // namespace helmgate::release
