#include "release/helmrelease_operator.hpp"

#include <algorithm>

#include "release/values_from.hpp"
#include "release/yaml_util.hpp"

namespace helmgate::release::legacy {

using detail::get;

namespace {

bool is_self_url(const DiscoverOptions& opt, const std::string& url) {
  if (url.empty()) return false;
  const std::string c = git::canonical_url(url);
  return std::any_of(opt.self_urls.begin(), opt.self_urls.end(),
                     [&](const std::string& s) { return git::canonical_url(s) == c; });
}

// chart.git/chart.repository/chartGitPath: this repository's directory, another Git repository or a chart
// repository (an oci:// one too).
void resolve_chart(Release& r, const Fields& op, const YAML::Node& chart, const ReleaseScope& scope) {
  if (op.chart.from == Chart::From::this_repository) {
    resolve_repo_chart(r, scope.tree, op.chart.path, op.describe_chart);
  } else if (op.chart.from == Chart::From::git) {
    const std::string& url = op.chart.git_url;
    const std::string path = clean_path(op.chart.path);
    const bool configured = !scope.opt.self_urls.empty();
    if (configured ? is_self_url(scope.opt, url) : scope.tree.is_dir(path)) {
      resolve_repo_chart(r, scope.tree, op.chart.path,
                         "chart.git " + url + " resolved to this repository at " + scope.tree.commit.substr(0, 12) +
                             (configured ? " (the URL names the configured repository)"
                                         : " (path " + path + " exists here; no configuration)") +
                             "; chart.ref '" + op.chart.ref + "' is not used");
    } else {
      r.chart.kind = ChartKind::remote_git;
      r.chart.url = url;
      r.chart.source = r.where;
      r.chart.path = path;
      r.chart.version = op.chart.ref;
      r.chart.content_id = detail::digest(chart);
    }
  } else if (op.chart.from == Chart::From::repository) {
    r.chart.kind = ChartKind::helm_repository;
    r.chart.url = op.chart.repository;
    r.chart.source = r.where;
    r.chart.name = op.chart.name;
    r.chart.version = op.chart.version;
    r.chart.content_id = detail::digest(chart);
    if (r.chart.url.rfind("oci://", 0) == 0) {
      r.chart.kind = ChartKind::oci;
      r.chart.url += "/" + r.chart.name;
    }
  }
}

// valuesFrom chartFileRef (a values file inside a chart of this repository) and externalSourceRef (a URL:
// never fetched by a preview). Missing and not optional: the operator fails.
void file_values(Release& r, typed::Value& merged, const ValuesRef& ref, const SourceTree& tree) {
  const std::string what = ref.field + (ref.kind == "External" ? " externalSourceRef " : " chartFileRef ") + ref.name;
  if (ref.kind == "External" || r.chart.kind != ChartKind::repo_dir) {
    const std::string why = ref.kind == "External" ? " is a URL, which a preview does not fetch"
                                                   : " is read only from a chart in this repository";
    if (ref.optional) {
      r.notes.push_back(what + why + "; it is optional and left out");
    } else {
      r.errors.push_back({r.cluster, what + why + " (mark it optional: true to preview without it)", r.where});
    }
    return;
  }
  const std::string file = release::join_path(r.chart.path, ref.name);
  auto text = tree.read(file);
  if (!text) {
    if (!ref.optional) r.errors.push_back({r.cluster, what + ": " + file + " does not exist", r.where});
    return;
  }
  auto parsed = typed::from_yaml_text(*text);
  if (!parsed.ok) {
    r.errors.push_back({r.cluster, what + " is not valid values YAML: " + parsed.error.message,
                        {file, parsed.error.line + 1, parsed.error.column + 1}});
  } else if (parsed.value.is_object()) {
    typed::merge(merged, parsed.value);
  }
}

}  // namespace

Release read_release(const Doc& d, const std::string& root, const std::vector<std::string>& inputs,
                     const ReleaseScope& scope) {
  Release r = start_release(d, root, inputs, scope);
  const Fields op = read(d.node, scope.opt.helm_operator_charts_path).value_or(Fields{});
  r.release_name = op.release_name;
  r.target_namespace = op.target_namespace;
  r.create_namespace = true;  // the operators install with the target namespace created
  for (const auto& e : op.errors) r.errors.push_back({r.cluster, e, r.where});
  resolve_chart(r, op, get(get(d.node, "spec"), "chart"), scope);

  // Values: valuesFrom in order, then spec.values on top, as the operator merges them.
  typed::Value merged = typed::Value::object();
  const typed::Value spec_values = read_spec_values(r, d);
  for (const auto& ref : op.values_from) {
    if (ref.kind == "ChartFile" || ref.kind == "External") {
      file_values(r, merged, ref, scope.tree);
      continue;
    }
    ValuesSource vs;
    vs.kind = ref.kind;
    vs.name = ref.name;
    vs.namespace_ = ref.namespace_;
    vs.key = ref.key;
    vs.optional = ref.optional;
    add_values_source(r, merged, spec_values, vs, r.where, scope.objects);
  }
  finish_release(r, d, std::move(merged), spec_values);
  return r;
}

}  // namespace helmgate::release::legacy
