#pragma once
// The desired side of the drift verdict from what the engine already has for a release: the release as
// discovered on the deploy branch's head, its render request and its render.
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "engine/drift.hpp"
#include "release/release.hpp"
#include "render/renderer.hpp"

namespace helmgate::engine {

struct ChartIdentity {
  std::string name;
  std::string version;  // "" when Git does not pin one exact version (a range, latest, an OCI digest)
};

// The chart name and version Helm will record for a request: a chart directory's Chart.yaml, a chart
// repository's chart name and exact version, an OCI reference's last path element and exact tag.
ChartIdentity chart_identity(const render::ChartSource& chart);

// A declared release for detect_drift: matched with Helm's record by (target_namespace, release_name),
// which is where helmgate's apply installs it. request/rendered: the engine's render_request and
// Renderer::render results (an error in either makes the release's verdict unknown, with that error).
DesiredRelease desired_release(const release::Release& r, const core::Result<render::RenderRequest>& request,
                               const core::Result<render::RenderResult>& rendered);

// What makes two requests one render: every input of the renderer's cache key as the request gives it
// (the chart's origin, content id or directory, URL, name, version and digest; release name, namespace,
// values, kube version, post-renderer, schema validation). A scan renders each key once, however many
// clusters declare the release.
std::string render_share_key(const render::RenderRequest& req);

// The render split into its objects, once, for every cluster that declares the release (null when the
// manifest cannot be split: live_drift then reports why, cluster by cluster).
std::shared_ptr<const std::vector<kube::ManifestObject>> split_objects(const std::string& manifest, const std::string& id);

}  // namespace helmgate::engine
