#pragma once
// YAML helpers for discovery: merging values the way Helm and Flux do, and comparing documents.
#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <vector>

namespace helmgate::release::detail {

// Every scalar leaf.
void collect_leaves(const YAML::Node& n, std::vector<std::string>& out);
// Equal as Kubernetes would see them (scalars by typed value: "1.10" is not 1.10).
bool node_equal(const YAML::Node& a, const YAML::Node& b);
// Dotted paths where a and b differ, at most max entries.
void diff_paths(const YAML::Node& a, const YAML::Node& b, const std::string& prefix, std::vector<std::string>& out,
                size_t max);
std::string dump(const YAML::Node& n);
// A digest of a node's typed content independent of key order.
std::string digest(const YAML::Node& n);
std::string scalar(const YAML::Node& n, const char* key, const std::string& fallback = {});
// A boolean field as Kubernetes reads it (true, yes, on, ... plain): false when absent or not a boolean.
bool truthy(const YAML::Node& n, const char* key);
// n[key] that never throws: an undefined node (falsy) when n is not a map or lacks the key, so lookups
// can be chained through documents of any shape.
inline YAML::Node get(const YAML::Node& n, const char* key) {
  if (n.IsDefined() && n.IsMap()) {
    YAML::Node v = n[key];
    if (v.IsDefined()) return v;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

}  // namespace helmgate::release::detail
