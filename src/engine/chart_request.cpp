#include "engine/chart_request.hpp"

#include <filesystem>

#include "core/redact.hpp"

namespace helmgate::engine {

namespace {

std::string declared_at(const release::Location& at) {
  if (at.file.empty()) return {};
  return " (declared at " + at.file + (at.line > 0 ? ":" + std::to_string(at.line) : "") + ")";
}

core::FetchKind fetch_kind(release::ChartKind k) {
  switch (k) {
    case release::ChartKind::remote_git: return core::FetchKind::git;
    case release::ChartKind::oci: return core::FetchKind::oci;
    default: return core::FetchKind::chart_repository;
  }
}

}  // namespace

core::Result<render::RenderRequest> render_request(const release::Release& r, const ChartSources& src) {
  render::RenderRequest req;
  req.release_name = r.release_name;
  req.namespace_ = r.target_namespace;
  req.values_json = r.values_json;
  req.kube_version = r.kube_version;
  req.post_render_kustomization = r.post_render_kustomization;
  req.chart.shown = r.chart.describe();
  req.egress = src.egress;
  if (r.chart.kind != release::ChartKind::repo_dir) {
    if (auto ok = core::check_egress(src.egress, fetch_kind(r.chart.kind), r.chart.url); !ok) {
      return core::Error(ok.error().code, ok.error().message + declared_at(r.chart.source));
    }
  }
  switch (r.chart.kind) {
    case release::ChartKind::repo_dir: {
      auto dir = src.repo->materialize(src.commit, r.chart.path, src.trees_dir);
      if (!dir) return dir.error();
      req.chart.origin = render::ChartOrigin::local_dir;
      req.chart.dir = *dir;
      req.chart.content_id = r.chart.content_id;
      break;
    }
    case release::ChartKind::remote_git: {
      auto other = src.mirrors->open_untrusted(r.chart.url, src.egress);
      if (!other) {
        return core::Error(other.error().code, "chart repository " + core::redact_url(r.chart.url) + ": " + other.error().message);
      }
      auto rev = other->resolve(r.chart.version);
      if (!rev) rev = other->resolve("origin/" + r.chart.version);
      if (!rev) {
        return core::Error(rev.error().code, "chart ref " + r.chart.version + " in " + core::redact_url(r.chart.url) +
                                                 ": " + rev.error().message);
      }
      auto dir = other->materialize(*rev, r.chart.path, src.trees_dir);
      if (!dir) return dir.error();
      req.chart.origin = render::ChartOrigin::local_dir;
      req.chart.dir = *dir;
      req.chart.content_id = std::filesystem::path(*dir).filename().string();
      break;
    }
    case release::ChartKind::helm_repository:
      req.chart.origin = render::ChartOrigin::helm_repository;
      req.chart.url = r.chart.url;
      req.chart.chart = r.chart.name;
      req.chart.version = r.chart.version;
      break;
    case release::ChartKind::oci:
      req.chart.origin = render::ChartOrigin::oci;
      req.chart.url = r.chart.url;
      req.chart.version = r.chart.version;
      req.chart.digest = r.chart.digest;  // wins over the tag, as in Flux
      break;
  }
  return req;
}

std::vector<std::string> helm_chart_args(const render::ChartSource& chart) {
  std::vector<std::string> args;
  switch (chart.origin) {
    case render::ChartOrigin::local_dir: return {chart.dir};
    case render::ChartOrigin::helm_repository: args = {chart.chart, "--repo", chart.url}; break;
    case render::ChartOrigin::oci:
      // A digest wins over the tag, as in Flux: helm resolves oci://…/chart@sha256:… itself.
      if (!chart.digest.empty()) return {chart.url + "@" + chart.digest};
      args = {chart.url};
      break;
  }
  if (!chart.version.empty()) args.insert(args.end(), {"--version", chart.version});
  return args;
}

bool creates_namespace(const release::Release& r) {
  // spec.install.createNamespace (Flux v2) when set, else what the generation does (the helm-operator's create it).
  return r.spec.install_create_namespace().value_or(r.create_namespace);
}

}  // namespace helmgate::engine
