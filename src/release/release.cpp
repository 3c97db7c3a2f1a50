// The model of release.hpp: how a chart source and a valuesFrom entry are shown, the typed release spec
// (the effective HelmRelease document a release was built from), and what a discovery says of its paths.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <mutex>

#include "core/redact.hpp"
#include "release/release.hpp"
#include "release/yaml_util.hpp"

namespace helmgate::release {

bool Discovery::root_failed(const std::string& cluster, const std::string& root) const {
  return std::find(failed_roots.begin(), failed_roots.end(), std::make_pair(cluster, root)) != failed_roots.end();
}

bool Discovery::root_missing(const std::string& cluster, const std::string& root) const {
  return std::find(missing_roots.begin(), missing_roots.end(), std::make_pair(cluster, root)) != missing_roots.end();
}

bool Discovery::root_partial(const std::string& cluster, const std::string& root) const {
  return std::find(partial_roots.begin(), partial_roots.end(), std::make_pair(cluster, root)) != partial_roots.end();
}

std::string ChartRef::describe() const {
  switch (kind) {
    case ChartKind::repo_dir: return path + " (this repository)";
    case ChartKind::helm_repository: return name + (version.empty() ? "" : "@" + version) + " from " + core::redact_url(url);
    case ChartKind::oci:
      return core::redact_url(url) + (version.empty() ? "" : ":" + version) + (digest.empty() ? "" : "@" + digest);
    case ChartKind::remote_git: return core::redact_url(url) + "//" + path + (version.empty() ? "" : "@" + version);
  }
  return {};
}

std::string ValuesSource::label() const {
  std::string s = kind + " " + (namespace_.empty() ? "" : namespace_ + "/") + name;
  if (!key.empty()) s += "[" + key + "]";
  if (!target_path.empty()) s += " -> " + target_path;
  return s;
}

Spec::Spec(const YAML::Node& document)
    : kind_(detail::scalar(document, "kind")), spec_(std::make_shared<const YAML::Node>(YAML::Clone(document))) {
  // As helm's install reads it: a scalar yaml-cpp reads as a boolean (true/yes/on ...), else not set.
  try {
    const YAML::Node cn = detail::get(detail::get(detail::get(*spec_, "spec"), "install"), "createNamespace");
    if (cn.IsScalar()) create_namespace_ = cn.as<bool>();
  } catch (const YAML::Exception&) {
  }
  if (detail::scalar(document, "apiVersion").rfind("helm.toolkit.fluxcd.io/", 0) == 0) {
    const YAML::Node sa = detail::get(detail::get(*spec_, "spec"), "serviceAccountName");
    if (sa.IsDefined() && sa.IsScalar()) service_account_ = sa.Scalar();
  }
}

struct Spec::Lazy {
  std::once_flag once;
  std::function<YAML::Node()> build;
  std::shared_ptr<const YAML::Node> node;
};

Spec Spec::restored(std::string kind, std::optional<bool> create_namespace, std::string service_account,
                    std::function<YAML::Node()> build) {
  Spec s;
  s.kind_ = std::move(kind);
  s.create_namespace_ = create_namespace;
  s.service_account_ = std::move(service_account);
  s.lazy_ = std::make_shared<Lazy>();
  s.lazy_->build = std::move(build);
  return s;
}

const YAML::Node* Spec::document() const {
  if (spec_ || !lazy_) return spec_.get();
  std::call_once(lazy_->once, [this] {
    lazy_->node = std::make_shared<const YAML::Node>(lazy_->build());
    lazy_->build = nullptr;
  });
  return lazy_->node.get();
}

std::vector<std::string> Spec::changed_fields(const Spec& other, size_t max) const {
  // The same stored document on both sides (a cluster the change did not touch): nothing to compare.
  if ((lazy_ && lazy_ == other.lazy_) || (spec_ && spec_ == other.spec_)) return {};
  const YAML::Node none(YAML::NodeType::Undefined);
  const YAML::Node* da = document();
  const YAML::Node* db = other.document();
  const YAML::Node a = da != nullptr ? detail::get(*da, "spec") : none;
  const YAML::Node b = db != nullptr ? detail::get(*db, "spec") : none;
  std::vector<std::string> out;
  detail::diff_paths(a, b, "spec", out, max);
  return out;
}

std::vector<std::string> Spec::depends_on(const std::string& own_namespace) const {
  std::vector<std::string> out;
  const YAML::Node* doc = document();
  if (doc == nullptr) return out;
  const YAML::Node deps = detail::get(detail::get(*doc, "spec"), "dependsOn");
  if (!deps.IsSequence()) return out;
  for (const auto& d : deps) {
    if (!d.IsMap()) continue;
    std::string name = detail::scalar(d, "name"), ns = detail::scalar(d, "namespace");
    if (!name.empty()) out.push_back((ns.empty() ? own_namespace : ns) + "/" + name);
  }
  return out;
}

}  // namespace helmgate::release
