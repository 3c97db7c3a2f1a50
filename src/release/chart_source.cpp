#include "release/chart_source.hpp"

#include <filesystem>

#include "core/names.hpp"
#include "core/redact.hpp"
#include "release/sources.hpp"
#include "release/yaml_util.hpp"

namespace fs = std::filesystem;

namespace helmgate::release::charts {

using detail::scalar;

namespace {

std::string clean(std::string p) {
  while (p.rfind("./", 0) == 0) p.erase(0, 2);
  while (!p.empty() && p.front() == '/') p.erase(0, 1);
  std::string n = fs::path(p).lexically_normal().generic_string();
  while (!n.empty() && n.back() == '/') n.pop_back();
  return n == "." ? std::string() : n;
}

std::string join(const std::string& dir, const std::string& rel) {
  if (dir.empty()) return clean(rel);
  if (clean(rel).empty()) return clean(dir);
  return clean(dir + "/" + rel);
}

std::string id(const std::string& kind, const std::string& ns, const std::string& name) {
  return kind + " " + (ns.empty() ? std::string() : ns + "/") + name;
}

void error(Release& r, const Context& c, const std::string& message) { r.errors.push_back({c.cluster, message, r.where}); }

void input(Release& r, const Object& o) {
  if (!o.file.empty()) r.inputs.push_back(o.file);
}

std::string mapped_note(const SourceMapping& m, const std::string& what) {
  return what + " is read from " + (m.path.empty() ? std::string(".") : m.path) + " in this repository (source mapping " +
         (m.kind.empty() ? "" : m.kind + "/") + (m.namespace_.empty() ? "" : m.namespace_ + "/") + m.name + " from " +
         m.origin + ")";
}

// spec.valuesFiles of a chart read from this repository: paths relative to the source's root, merged in order.
void values_files(Release& r, const YAML::Node& spec, const std::string& root, bool readable, const Context& c,
                  Resolved& out) {
  // spec.valuesFile (deprecated) is merged before spec.valuesFiles, as source-controller does.
  YAML::Node files(YAML::NodeType::Sequence);
  if (std::string one = scalar(spec, "valuesFile"); !one.empty()) files.push_back(one);
  for (const auto& f : detail::get(spec, "valuesFiles")) files.push_back(YAML::Node(f));
  if (files.size() == 0) return;
  if (!readable) {
    r.notes.push_back("spec.valuesFiles are read from the chart archive by Flux; helmgate does not apply them for " +
                      r.chart.describe() + ", so this preview renders without them");
    return;
  }
  bool own_values_first = false;
  for (size_t i = 0; i < files.size(); ++i) {
    std::string f = files[i].IsScalar() ? files[i].Scalar() : std::string();
    if (auto why = core::names::repo_path(f); f.empty() || !why.empty()) {
      error(r, c, "spec.valuesFiles[" + std::to_string(i) + "] " + core::names::shown(f) + " " + (f.empty() ? "is empty" : why));
      continue;
    }
    std::string p = join(root, f);
    if (i == 0 && p == join(r.chart.path, "values.yaml")) own_values_first = true;
    auto text = c.read(p);
    if (!text) {
      error(r, c, "spec.valuesFiles[" + std::to_string(i) + "] " + p + " does not exist in the repository");
      continue;
    }
    r.inputs.push_back(p);
    auto parsed = typed::from_yaml_text(*text);
    if (!parsed.ok) {
      r.errors.push_back({c.cluster, "values file " + p + " cannot be read as values: " + parsed.error.message,
                          {p, parsed.error.line + 1, parsed.error.column + 1}});
    } else if (parsed.value.is_object()) {
      typed::merge(out.values, parsed.value);
    }
  }
  if (!own_values_first) {
    r.notes.push_back("spec.valuesFiles replace the chart's values.yaml in Flux; in this preview the chart's own "
                      "values.yaml still applies below them (list it first to make both agree)");
  }
}

// A chart from a GitRepository, Bucket or mapped HelmRepository: name is a path (or, for a HelmRepository,
// a chart name) below the source root.
Resolved from_source(Release& r, const std::string& kind, const std::string& ns, const std::string& name,
                     const std::string& chart, const std::string& version, const YAML::Node& spec,
                     const Context& c, const std::string& referrer = "spec.chart.spec.sourceRef") {
  Resolved out;
  const std::string what = "chart '" + chart + "' of " + id(kind, ns, name);
  if (const SourceMapping* m = find_mapping(c.opt->sources, kind, ns, name)) {
    if (auto why = kind == "HelmRepository" ? core::names::chart_name(chart) : core::names::repo_path(chart); !why.empty()) {
      error(r, c, "chart " + core::names::shown(chart) + " " + why);
      return out;
    }
    c.repo_chart(r, join(m->path, chart), mapped_note(*m, what) +
                                              (version.empty() ? std::string() : "; version '" + version + "' is not checked"));
    values_files(r, spec, m->path, true, c, out);
    return out;
  }
  auto src = c.find(kind, ns, name);
  if (kind == "GitRepository") {
    const std::string url = src ? scalar(detail::get(src->node, "spec"), "url") : std::string();
    if (is_self_git_repository(*c.opt, name, url)) {
      c.repo_chart(r, chart, "");
      values_files(r, spec, "", true, c, out);
    } else if (src) {
      YAML::Node gspec = detail::get(src->node, "spec");
      r.chart.kind = ChartKind::remote_git;
      r.chart.url = url;
      r.chart.source = {src->file, src->line, 0};
      r.chart.path = clean(chart);
      YAML::Node gref = detail::get(gspec, "ref");
      r.chart.version = scalar(gref, "commit", scalar(gref, "tag", scalar(gref, "branch", "HEAD")));
      r.chart.content_id = detail::digest(gspec);
      values_files(r, spec, "", false, c, out);
    } else {
      error(r, c, "GitRepository " + ns + "/" + name + " not found" +
                      (referrer == "spec.chart.spec.sourceRef" ? std::string() : " (referenced by " + referrer + ")"));
    }
    return out;
  }
  if (kind == "HelmRepository") {
    if (!src) {
      error(r, c, "HelmRepository " + ns + "/" + name + " referenced by " + referrer + " is not declared for this cluster");
      return out;
    }
    YAML::Node s = detail::get(src->node, "spec");
    std::string url = scalar(s, "url");
    r.chart.url = url;
    r.chart.source = {src->file, src->line, 0};
    r.chart.name = chart;
    r.chart.content_id = detail::digest(s);
    r.chart.kind = (scalar(s, "type") == "oci" || url.rfind("oci://", 0) == 0) ? ChartKind::oci : ChartKind::helm_repository;
    if (r.chart.kind == ChartKind::oci) {
      if (r.chart.url.rfind("oci://", 0) != 0) r.chart.url = "oci://" + r.chart.url;
      while (!r.chart.url.empty() && r.chart.url.back() == '/') r.chart.url.pop_back();
      r.chart.url += "/" + chart;
    }
    input(r, *src);
    values_files(r, spec, "", false, c, out);
    return out;
  }
  error(r, c, "chart source kind " + kind + " is not supported" +
                  (kind == "Bucket" ? " (map the Bucket to a path of this repository: --source Bucket/" + ns + "/" + name +
                                          "=PATH or repos[].sources)"
                                    : std::string()));
  return out;
}

// The ArtifactGenerator artifact named `name` in namespace ns, with its generator.
struct Found {
  Object generator;
  YAML::Node artifact;
};

std::optional<Found> find_artifact(const std::string& ns, const std::string& name, const Context& c) {
  for (const auto& gen : c.all("ArtifactGenerator")) {
    std::string gns = scalar(detail::get(gen.node, "metadata"), "namespace");
    if (!ns.empty() && !gns.empty() && gns != ns) continue;
    for (const auto& art : detail::get(detail::get(gen.node, "spec"), "artifacts")) {
      if (scalar(art, "name") == name) return Found{gen, art};
    }
  }
  return std::nullopt;
}

}  // namespace

ArtifactPlace locate_artifact(const std::string& ns, const std::string& name, const std::string& path_in,
                              const Context& c) {
  ArtifactPlace out;
  const std::string path = clean(path_in);
  if (const SourceMapping* m = find_mapping(c.opt->sources, "ExternalArtifact", ns, name)) {
    out.kind = ArtifactPlace::Kind::self;
    out.path = join(m->path, path);
    out.via = "source mapping " + m->name + "=" + (m->path.empty() ? "." : m->path) + " from " + m->origin;
    return out;
  }
  auto found = find_artifact(ns, name, c);
  if (!found) {
    out.why = "no ArtifactGenerator in this cluster's manifests declares an artifact named '" + name +
              "' (map it to a path: --source ExternalArtifact/" + ns + "/" + name + "=PATH or repos[].sources)";
    return out;
  }
  YAML::Node gmd = detail::get(found->generator.node, "metadata");
  const std::string gen_id = scalar(gmd, "namespace", ns) + "/" + scalar(gmd, "name");
  // The copy entry whose destination holds the path; the longest destination wins.
  std::string best_to, best_from;
  bool have = false;
  for (const auto& cp : detail::get(found->artifact, "copy")) {
    std::string from = scalar(cp, "from"), to = scalar(cp, "to");
    if (to.rfind("@artifact/", 0) != 0 || from.size() < 2 || from[0] != '@') continue;
    std::string to_rel = clean(to.substr(10));
    if (!(to_rel.empty() || path == to_rel || path.rfind(to_rel + "/", 0) == 0)) continue;
    if (have && to_rel.size() <= best_to.size()) continue;
    best_to = to_rel;
    best_from = from;
    have = true;
  }
  if (!have) {
    out.why = "ArtifactGenerator " + gen_id + " copies nothing to '" + path + "' of artifact '" + name + "'";
    return out;
  }
  const std::string alias = best_from.substr(1, best_from.find('/') == std::string::npos ? std::string::npos : best_from.find('/') - 1);
  std::string from_rel = best_from.find('/') == std::string::npos ? std::string() : best_from.substr(best_from.find('/') + 1);
  if (auto star = from_rel.find("/**"); star != std::string::npos) from_rel = from_rel.substr(0, star);
  if (from_rel == "**") from_rel.clear();
  from_rel = clean(from_rel);
  const std::string rest = best_to.empty() ? path : clean(path.substr(best_to.size()));
  out.via = "ArtifactGenerator " + gen_id + " (" + best_from + " -> @artifact/" + best_to + ")";
  // The alias names one of the generator's sources.
  std::optional<YAML::Node> source;
  for (const auto& s : detail::get(detail::get(found->generator.node, "spec"), "sources")) {
    if (!source && scalar(s, "alias") == alias) source.emplace(YAML::Node(s));
  }
  if (!source) {
    out.why = out.via + " names source alias '" + alias + "', which its spec.sources does not declare";
    return out;
  }
  const std::string skind = scalar(*source, "kind"), sname = scalar(*source, "name");
  const std::string sns = scalar(*source, "namespace", scalar(gmd, "namespace", ns));
  const std::string sid = id(skind, sns, sname);
  if (const SourceMapping* m = find_mapping(c.opt->sources, skind, sns, sname)) {
    out.kind = ArtifactPlace::Kind::self;
    out.path = join(join(m->path, from_rel), rest);
    out.via += ", " + sid + " mapped to " + (m->path.empty() ? "." : m->path) + " by " + m->origin;
    return out;
  }
  if (skind == "GitRepository") {
    auto gr = c.find("GitRepository", sns, sname);
    const std::string url = gr ? scalar(detail::get(gr->node, "spec"), "url") : std::string();
    if (is_self_git_repository(*c.opt, sname, url)) {
      out.kind = ArtifactPlace::Kind::self;
      out.path = join(from_rel, rest);
      return out;
    }
    if (!gr) {
      out.why = out.via + " copies from " + sid + ", which is not declared in this cluster's manifests (declare it, or map it: --source GitRepository/" +
                sns + "/" + sname + "=PATH)";
      return out;
    }
    out.kind = ArtifactPlace::Kind::git_repository;
    out.git_repository = *gr;
    out.path = join(from_rel, rest);
    return out;
  }
  out.why = out.via + " copies from " + sid + "; sources of kind " + (skind.empty() ? "(none)" : skind) +
            " are not read by helmgate (map it: --source " + (skind.empty() ? "" : skind + "/") + sns + "/" + sname + "=PATH)";
  return out;
}

Resolved resolve_chart_template(Release& r, const YAML::Node& cs, const Context& c) {
  std::string chart_name = scalar(cs, "chart");
  r.chart.version = scalar(cs, "version");
  YAML::Node sref = detail::get(cs, "sourceRef");
  std::string kind = scalar(sref, "kind", "HelmRepository"), name = scalar(sref, "name");
  std::string ns = scalar(sref, "namespace", r.namespace_);
  Resolved out = from_source(r, kind, ns, name, chart_name, r.chart.version, cs, c);
  r.chart.content_id += "|" + chart_name + "|" + r.chart.version;
  return out;
}

Resolved resolve_chart_ref(Release& r, const YAML::Node& ref, const Context& c) {
  Resolved out;
  const std::string kind = scalar(ref, "kind"), name = scalar(ref, "name");
  const std::string ns = scalar(ref, "namespace", r.namespace_);
  const std::string what = "spec.chartRef " + id(kind, ns, name);
  if (kind == "OCIRepository") {
    if (const SourceMapping* m = find_mapping(c.opt->sources, kind, ns, name)) {
      c.repo_chart(r, m->path, mapped_note(*m, "the chart of " + id(kind, ns, name)));
      return out;
    }
    auto src = c.find(kind, ns, name);
    if (!src) {
      error(r, c, what + " not found in the cluster's manifests");
      return out;
    }
    YAML::Node s = detail::get(src->node, "spec");
    OciRef oref = oci_ref(detail::get(s, "ref"));
    r.chart.kind = ChartKind::oci;
    r.chart.url = scalar(s, "url");
    r.chart.source = {src->file, src->line, 0};
    r.chart.version = oref.version;
    r.chart.digest = oref.digest;
    r.chart.content_id = detail::digest(s);
    if (!oref.error.empty()) {
      YAML::Node d = detail::get(detail::get(s, "ref"), "digest");
      r.errors.push_back({c.cluster, "OCIRepository " + ns + "/" + name + " spec.ref.digest " + core::names::shown(oref.digest) + " " + oref.error,
                          // The digest's own line when the document was parsed from its file (not kustomize output).
                          {src->file, d && src->node.Mark().line + 1 == src->line ? d.Mark().line + 1 : src->line, 0}});
    }
    input(r, *src);
    return out;
  }
  if (kind == "HelmChart") {
    auto hc = c.find(kind, ns, name);
    if (!hc) {
      error(r, c, what + " not found in the cluster's manifests");
      return out;
    }
    input(r, *hc);
    YAML::Node hspec = detail::get(hc->node, "spec");
    std::string chart = scalar(hspec, "chart");
    r.chart.version = scalar(hspec, "version");
    YAML::Node sref = detail::get(hspec, "sourceRef");
    // A HelmChart's sourceRef has no namespace: the source is in the HelmChart's own namespace.
    std::string hns = scalar(detail::get(hc->node, "metadata"), "namespace", ns);
    std::string skind = scalar(sref, "kind", "HelmRepository"), sname = scalar(sref, "name");
    if (skind != "HelmRepository" && skind != "GitRepository" && skind != "Bucket") {
      error(r, c, "HelmChart " + hns + "/" + name + " spec.sourceRef.kind '" + skind + "' is not HelmRepository, GitRepository or Bucket");
      return out;
    }
    const bool path = skind != "HelmRepository";
    if (auto why = path ? core::names::repo_path(chart) : core::names::chart_name(chart); chart.empty() || !why.empty()) {
      r.errors.push_back({c.cluster, "HelmChart " + hns + "/" + name + " spec.chart " + core::names::shown(chart) + " " +
                                         (chart.empty() ? "is empty" : why),
                          {hc->file, hc->line, 0}});
      return out;
    }
    if (auto why = core::names::chart_version(r.chart.version); !why.empty()) {
      r.errors.push_back({c.cluster, "HelmChart " + hns + "/" + name + " spec.version " + why, {hc->file, hc->line, 0}});
      return out;
    }
    // The API has no spec.sourceRef.namespace (the API server drops it): the source is in the HelmChart's namespace.
    std::string referrer = "HelmChart " + hns + "/" + name + " spec.sourceRef";
    if (std::string given = scalar(sref, "namespace"); !given.empty() && given != hns) {
      referrer += " (its namespace: '" + given + "' is not a field of HelmChart's sourceRef and is dropped by the API server)";
    }
    out = from_source(r, skind, hns, sname, chart, r.chart.version, hspec, c, referrer);
    r.chart.content_id += "|" + chart + "|" + r.chart.version;
    r.notes.push_back("chart from HelmChart " + hns + "/" + name + (hc->file.empty() ? "" : " (" + hc->file + ")"));
    return out;
  }
  if (kind == "ExternalArtifact") {
    ArtifactPlace at = locate_artifact(ns, name, "", c);
    // The path comes from the generator's copy entries (Git content): the repository path rule, once, here.
    if (auto why = core::names::repo_path(at.path); at.kind != ArtifactPlace::Kind::unknown && (!why.empty() || at.path.rfind("..", 0) == 0)) {
      error(r, c, what + ": the chart path " + core::names::shown(at.path) + " (" + at.via + ") " +
                      (why.empty() ? std::string("leaves the repository") : why));
      return out;
    }
    if (at.kind == ArtifactPlace::Kind::self) {
      c.repo_chart(r, at.path, "the chart of ExternalArtifact " + ns + "/" + name + " is read from " +
                                    (at.path.empty() ? "." : at.path) + " in this repository" +
                                    (at.via.empty() ? std::string() : " (" + at.via + ")"));
    } else if (at.kind == ArtifactPlace::Kind::git_repository) {
      YAML::Node gspec = detail::get(at.git_repository.node, "spec");
      YAML::Node gref = detail::get(gspec, "ref");
      r.chart.kind = ChartKind::remote_git;
      r.chart.url = scalar(gspec, "url");
      r.chart.source = {at.git_repository.file, at.git_repository.line, 0};
      r.chart.path = at.path;
      r.chart.version = scalar(gref, "commit", scalar(gref, "tag", scalar(gref, "branch", "HEAD")));
      r.chart.content_id = detail::digest(gspec) + "|" + at.path;
      r.notes.push_back("the chart of ExternalArtifact " + ns + "/" + name + " comes from " +
                        core::redact_url(r.chart.url) + " (" + at.via + ")");
    } else {
      error(r, c, what + " is not previewed: " + at.why);
    }
    return out;
  }
  error(r, c, what + (kind.empty() ? " has no kind" : " is not supported (OCIRepository, HelmChart or ExternalArtifact)"));
  return out;
}

}  // namespace helmgate::release::charts
