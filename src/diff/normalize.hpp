#pragma once
// Rendered manifests to comparable resources: parse, key by group/kind/namespace/name, normalize both sides
// the same way (sorted keys, no status/managedFields/creationTimestamp, ignore rules), redact Secrets.
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace YAML {
class Node;
}

namespace helmgate::diff {

// Drops the field at a JSON pointer ("/spec/replicas") from resources whose group and kind match the
// globs ("apps", "*", "Deploy*"). Data, so configuration can carry it.
struct IgnoreRule {
  std::string group = "*";
  std::string kind = "*";
  std::string pointer;
};

// Replaces known sensitive strings (values that came from Secrets) wherever they appear in text, with the
// same keyed marker core::secret_marker gives, also in their base64 form.
class Redactor {
 public:
  void add_sensitive(std::string_view value);
  std::string scrub(std::string text) const;
  bool empty() const { return values_.empty(); }

 private:
  std::vector<std::pair<std::string, std::string>> values_;  // needle -> marker, longest first
};

struct Resource {
  std::string group;  // "" for the core group
  std::string version;
  std::string kind;
  std::string namespace_;
  std::string name;
  std::string text;  // normalized YAML, sorted keys, redacted
  std::string key() const;  // "apps/Deployment/podinfo/podinfo", "core" for the core group
};

struct ParseOptions {
  std::vector<IgnoreRule> ignore;
  const Redactor* redactor = nullptr;
  std::string source;  // names the manifest in errors ("helm template podinfo")
};

// Parses a multi-document manifest. Documents without kind/metadata.name are skipped (helm emits empty
// ones); a YAML syntax error fails with the line and column.
core::Result<std::vector<Resource>> parse_manifest(std::string_view yaml, const ParseOptions& options);

// Deterministic YAML for a node: keys sorted, multi-line strings as literal blocks.
std::string canonical_yaml(const YAML::Node& node);

bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace helmgate::diff
