#pragma once
// Discovery, room (d): HelmReleases. One reader per API generation turns a HelmRelease document into a
// Release: helmrelease_v2.hpp (helm.toolkit.fluxcd.io) and helmrelease_operator.hpp (the helm-operator
// generations, whose fields helmrelease_legacy.hpp reads). This is what they share: what a reader sees of discovery (ReleaseScope), and the steps
// every generation takes (common fields, spec.values, a chart directory of this repository,
// postRenderers, the name gate).
#include <string>
#include <vector>

#include "release/chart_source.hpp"
#include "release/documents.hpp"
#include "release/release.hpp"
#include "release/source_tree.hpp"
#include "release/typed_json.hpp"

namespace helmgate::release {

// What a reader sees: the cluster, the tree the document was declared in, the objects the cluster
// declares (valuesFrom), and where chart sources resolve. Nothing else of discovery.
struct ReleaseScope {
  const ClusterSpec& cluster;
  const DiscoverOptions& opt;
  const SourceTree& tree;
  const ObjectIndex& objects;
  const charts::Context& charts;
};

// The release a HelmRelease document of a generation helmgate reads declares (legacy::classify says which);
// root and inputs: the path it was found under and the files read for it.
Release read_release(const Doc& d, const std::string& root, const std::vector<std::string>& inputs,
                     const ReleaseScope& scope);

// --- steps shared by the readers ---

// cluster, names, root, inputs, where, spec; the Flux v2 defaults for target namespace and release name.
Release start_release(const Doc& d, const std::string& root, const std::vector<std::string>& inputs,
                      const ReleaseScope& scope);
// spec.values, typed as kubectl sends it; an error (with file:line) leaves an empty map.
typed::Value read_spec_values(Release& r, const Doc& d);
// Points r.chart at a chart directory of the tree (its tree id as content_id), or records why it cannot;
// `why` becomes a note.
void resolve_repo_chart(Release& r, const SourceTree& tree, const std::string& path, const std::string& why);
// spec.values over merged (values_json), spec.postRenderers, the inputs sorted, the name gate.
void finish_release(Release& r, const Doc& d, typed::Value merged, const typed::Value& spec_values);
// Where a value inside a document sits: its own line when the document was parsed from its file, else the
// document's line.
Location at_node(const Doc& d, const typed::ConvertError& e);

}  // namespace helmgate::release
