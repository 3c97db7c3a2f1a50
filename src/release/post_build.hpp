#pragma once
// Discovery, room (c): what kustomize-controller does to a path's documents after reading them: an overlay
// with the Flux Kustomization's targetNamespace and patches (built by kustomize), then ${var} substitution
// per document (substitute.hpp). The documents keep the file and line they came from.
#include <memory>

#include "core/error.hpp"
#include "release/documents.hpp"
#include "release/flux_kustomization.hpp"

namespace helmgate::release {

// opt: work_root (where the overlay is written), kustomize, flux_strict_substitution. A failure is a
// problem at the Kustomization's file (and line, for the substitution), as Flux fails that sync.
core::Result<std::shared_ptr<const Docs>> apply_transform(const Docs& in, const Transform& t,
                                                          const DiscoverOptions& opt, ParseBudget& budget,
                                                          const Report& problem);

}  // namespace helmgate::release
