#pragma once
// Rendered manifests to comparable resources: parse, key by group/kind/namespace/name, normalize both sides
// the same way (sorted keys, no status/managedFields/creationTimestamp, ignore rules), redact Secrets.
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/redact.hpp"

namespace YAML {
class Node;
}

namespace helmgate::diff {

class Scopes;

// Drops the field at a JSON pointer ("/spec/replicas") from resources whose group and kind match the
// globs ("apps", "*", "Deploy*"). Data, so configuration can carry it.
struct IgnoreRule {
  std::string group = "*";
  std::string kind = "*";
  std::string pointer;
};

// Replaces known sensitive strings (values that came from Secrets or sensitive paths) wherever they appear in
// text, with the same keyed marker core::secret_marker gives, also line by line for multi-line values and in
// the encodings templates commonly apply (case, quoting, base64): see core::SecretScrubber.
class Redactor {
 public:
  void add_sensitive(std::string_view value) { scrubber_.add(value); }
  std::string scrub(std::string text) const { return scrubber_.scrub(text); }
  bool empty() const { return scrubber_.empty(); }

 private:
  core::SecretScrubber scrubber_;
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
  // When set, receives the (decoded) values of every Secret in the manifest, also inside a List, so that
  // the caller can scrub them from everything else it prints (a template may copy them anywhere).
  std::vector<std::string>* secret_values = nullptr;
  // The key of the markers that stand for Secret data; empty: core::redaction_key() (random per process
  // unless configured). A digest that must be the same in every process passes a fixed one.
  std::string secret_key;
  // The release's target namespace: a namespaced resource without metadata.namespace gets it (in its key
  // and its text), as `helm install --namespace` would create it; cluster-scoped kinds (scopes, else the
  // built-in table) keep none. Empty: namespaces are taken as written.
  std::string default_namespace;
  const Scopes* scopes = nullptr;
};

// Parses a multi-document manifest. Documents without kind/metadata.name are skipped (helm emits empty
// ones); a YAML syntax error fails with the line and column.
core::Result<std::vector<Resource>> parse_manifest(std::string_view yaml, const ParseOptions& options);

// Deterministic YAML for a node: keys sorted, multi-line strings as literal blocks.
std::string canonical_yaml(const YAML::Node& node);

bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace helmgate::diff
