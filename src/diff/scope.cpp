#include "diff/scope.hpp"

#include <yaml-cpp/yaml.h>

#include <array>

#include "core/yaml_bounded.hpp"

namespace helmgate::diff {

namespace {

struct Kind {
  std::string_view group, kind;
};

// Cluster-scoped kinds of the built-in API groups (kubectl api-resources --namespaced=false, Kubernetes 1.35).
constexpr std::array kClusterScoped = {
    Kind{"", "Namespace"},
    Kind{"", "Node"},
    Kind{"", "PersistentVolume"},
    Kind{"", "ComponentStatus"},
    Kind{"admissionregistration.k8s.io", "MutatingWebhookConfiguration"},
    Kind{"admissionregistration.k8s.io", "ValidatingWebhookConfiguration"},
    Kind{"admissionregistration.k8s.io", "ValidatingAdmissionPolicy"},
    Kind{"admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"},
    Kind{"admissionregistration.k8s.io", "MutatingAdmissionPolicy"},
    Kind{"admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"},
    Kind{"apiextensions.k8s.io", "CustomResourceDefinition"},
    Kind{"apiregistration.k8s.io", "APIService"},
    Kind{"authentication.k8s.io", "TokenReview"},
    Kind{"authentication.k8s.io", "SelfSubjectReview"},
    Kind{"authorization.k8s.io", "SubjectAccessReview"},
    Kind{"authorization.k8s.io", "SelfSubjectAccessReview"},
    Kind{"authorization.k8s.io", "SelfSubjectRulesReview"},
    Kind{"certificates.k8s.io", "CertificateSigningRequest"},
    Kind{"certificates.k8s.io", "ClusterTrustBundle"},
    Kind{"flowcontrol.apiserver.k8s.io", "FlowSchema"},
    Kind{"flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"},
    Kind{"networking.k8s.io", "IngressClass"},
    Kind{"networking.k8s.io", "IPAddress"},
    Kind{"networking.k8s.io", "ServiceCIDR"},
    Kind{"node.k8s.io", "RuntimeClass"},
    Kind{"policy", "PodSecurityPolicy"},
    Kind{"rbac.authorization.k8s.io", "ClusterRole"},
    Kind{"rbac.authorization.k8s.io", "ClusterRoleBinding"},
    Kind{"resource.k8s.io", "DeviceClass"},
    Kind{"scheduling.k8s.io", "PriorityClass"},
    Kind{"storage.k8s.io", "CSIDriver"},
    Kind{"storage.k8s.io", "CSINode"},
    Kind{"storage.k8s.io", "StorageClass"},
    Kind{"storage.k8s.io", "VolumeAttachment"},
    Kind{"storage.k8s.io", "VolumeAttributesClass"},
};

std::string scalar(const YAML::Node& n) { return n && n.IsScalar() ? n.Scalar() : std::string(); }

}  // namespace

bool builtin_cluster_scoped(std::string_view group, std::string_view kind) {
  for (const auto& k : kClusterScoped) {
    if (k.group == group && k.kind == kind) return true;
  }
  return false;
}

void Scopes::add_crds(std::string_view manifest) {
  if (manifest.find("CustomResourceDefinition") == std::string_view::npos) return;
  std::vector<YAML::Node> docs;
  try {
    docs = core::yaml::load_all(manifest, core::yaml::Source::rendered);
  } catch (const YAML::Exception&) {
    return;
  }
  for (const auto& d : docs) {
    if (!d.IsMap() || scalar(d["kind"]) != "CustomResourceDefinition") continue;
    YAML::Node spec = d["spec"];
    if (!spec || !spec.IsMap()) continue;
    std::string group = scalar(spec["group"]);
    std::string kind = spec["names"] && spec["names"].IsMap() ? scalar(spec["names"]["kind"]) : std::string();
    if (group.empty() || kind.empty()) continue;
    (scalar(spec["scope"]) == "Cluster" ? cluster_ : namespaced_).emplace(group, kind);
  }
}

bool Scopes::cluster_scoped(std::string_view group, std::string_view kind) const {
  if (builtin_cluster_scoped(group, kind)) return true;
  auto key = std::make_pair(std::string(group), std::string(kind));
  if (cluster_.count(key) != 0) return true;
  if (namespaced_.count(key) != 0) return false;
  // Built-in groups not in the table are namespaced; custom kinds follow the naming convention.
  bool builtin_group = group.empty() || group.find('.') == std::string_view::npos ||
                       (group.size() > 7 && group.compare(group.size() - 7, 7, ".k8s.io") == 0);
  return !builtin_group && kind.rfind("Cluster", 0) == 0;
}

}  // namespace helmgate::diff
