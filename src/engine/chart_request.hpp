#pragma once
// The render request of one release at one commit: where its chart comes from (materialized from this
// repository or another Git repository, a chart repository, an OCI registry), its values, its names. One
// function for preview, apply and drift, so they render the same thing. URLs from the repository pass the
// egress policy here, before anything is fetched.
#include <string>
#include <vector>

#include "core/egress.hpp"
#include "core/error.hpp"
#include "git/repository.hpp"
#include "release/release.hpp"
#include "render/renderer.hpp"

namespace helmgate::engine {

// Where the charts of one commit are read from.
struct ChartSources {
  const git::Repository* repo = nullptr;  // the repository being previewed or applied
  std::string commit;
  const git::MirrorCache* mirrors = nullptr;  // other Git repositories (remote_git charts)
  std::string trees_dir;                      // materialized trees go here
  core::EgressPolicy egress;
};

// errc::forbidden for a URL the egress policy refuses (the message names the URL and where it is
// declared); otherwise the error of the fetch that failed.
core::Result<render::RenderRequest> render_request(const release::Release& r, const ChartSources& src);

// The chart part of `helm upgrade --install` for a request: {dir} or {chart, --repo, url[, --version, v]}
// or {oci://url[, --version, v]} (flag/value pairs; the caller passes them as --flag=value).
std::vector<std::string> helm_chart_args(const render::ChartSource& chart);

// Whether helm creates the release's namespace: helm-operator v1 always did; Flux v2 when
// spec.install.createNamespace says so.
bool creates_namespace(const release::Release& r);

}  // namespace helmgate::engine
