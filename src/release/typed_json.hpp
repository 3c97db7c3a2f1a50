#pragma once
// Values as Kubernetes sees them. A HelmRelease reaches Flux (and a ConfigMap's values reach helm) as JSON
// made by sigs.k8s.io/yaml: go-yaml v2 resolves PLAIN scalars by the YAML 1.1 rules (yes/on/y are booleans,
// 0123 is octal, 1.10 is the number 1.1, timestamps stay strings), quoted and block scalars are always
// strings, explicit tags (!!str, !!int, ...) are honoured, non-string keys become strings, `<<` merges
// maps; then apimachinery's JSON decoding keeps integers that fit int64 and makes every other number a
// float64. kubectl is the oracle (tests/unit/values compare this converter with it case by case).
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace helmgate::release::typed {

struct Value {
  enum class Type { null, boolean, integer, number, string, array, object };
  Type type = Type::null;
  bool b = false;
  int64_t i = 0;
  double d = 0;
  std::string s;
  std::vector<Value> a;
  std::map<std::string, Value> o;  // sorted by bytes, as Go's encoding/json writes map keys

  static Value object() {
    Value v;
    v.type = Type::object;
    return v;
  }
  static Value string(std::string text) {
    Value v;
    v.type = Type::string;
    v.s = std::move(text);
    return v;
  }
  static Value integer(int64_t n) {
    Value v;
    v.type = Type::integer;
    v.i = n;
    return v;
  }
  static Value boolean(bool x) {
    Value v;
    v.type = Type::boolean;
    v.b = x;
    return v;
  }
  // A float64 as apimachinery keeps it: integral values that fit int64 become integers.
  static Value number(double x);
  bool is_object() const { return type == Type::object; }
  bool is_null() const { return type == Type::null; }
  bool operator==(const Value& other) const;
  bool operator!=(const Value& other) const { return !(*this == other); }
};

struct Limits {
  size_t max_nodes = 1u << 20;  // nodes visited, aliases expanded (a YAML alias bomb stops here)
  size_t max_depth = 512;
};

// Conversion failure: what, and the position of the offending node inside the parsed text (0-based, as
// yaml-cpp marks) with the dotted path to it.
struct ConvertError {
  std::string message;
  std::string path;
  int line = -1;
  int column = -1;
};

struct Converted {
  Value value;
  bool ok = true;
  ConvertError error;
};

// yaml-cpp node -> typed value, as kubectl would send it.
Converted from_yaml(const YAML::Node& node, const Limits& limits = {});
// Parses text (first document) and converts it; a YAML syntax error is a ConvertError too.
Converted from_yaml_text(const std::string& text, const Limits& limits = {});
// One scalar's typed value (for comparisons); ok=false when kubectl would refuse it (.inf, !!int x).
Converted scalar_value(const YAML::Node& scalar);

// Canonical JSON: keys sorted, numbers as Go's encoding/json writes them, no insignificant space.
std::string to_json(const Value& v);
// Block YAML whose every scalar reads back as the same typed value in any YAML 1.1 or 1.2 parser
// (strings double-quoted, numbers and booleans plain). Top-level maps are plain "key: value" lines, so a
// caller may prepend other top-level keys.
std::string to_yaml(const Value& v);
// Re-emits a YAML node as block YAML keeping each scalar's style class: plain scalars stay plain (so a
// later ${var} substitution types its result as Flux's kustomize-controller would), quoted and block
// scalars are emitted double-quoted or as literal blocks, explicit tags kept, aliases expanded. The
// result parses back to the same typed tree. Fails past limits.max_nodes or when the output would pass
// max_bytes.
core::Result<std::string> emit_preserving(const YAML::Node& node, const Limits& limits = {},
                                          size_t max_bytes = 64u << 20);

// Go's float formatting: encoding/json ('f', or 'e' below 1e-6 and from 1e21), and a float map key as
// sigs.k8s.io/yaml spells it (strconv 'g' at float32 precision; .inf, -.inf, .nan).
std::string format_json_number(double d);
std::string format_yaml_key(double d);

// Flux's MergeMaps (helm's own for -f files): maps merge key by key, recursively; anything else in src
// (null too) replaces what dst holds.
void merge(Value& dst, const Value& src);
// valuesFrom.targetPath as Flux applies it: the path must match the HelmRelease CRD's pattern
// (^([a-zA-Z0-9_\-.\\/]|\[[0-9]{1,5}\])+$, at most 250 characters) and be well formed for Helm's strvals
// ("a.b", "a\.b" for a dot in a key, "a[0]" with an index up to 65536, no empty segment, at most 30 levels).
core::Result<void> check_target_path(const std::string& path);
// Sets `value` at `path` the way Flux's ReplacePathValue does: strvals.ParseInto on "path=value", which
// types the value (true/false/null any case, integers without a leading 0; "1.10", "0123" and "yes" stay
// strings; "{a,b}" is a list); a value quoted with ' or " is a string without its quotes.
core::Result<void> set_target_path(Value& root, const std::string& path, const std::string& value);

// Every scalar leaf as text (strings as they are, numbers formatted), for redaction.
void collect_leaves(const Value& v, std::vector<std::string>& out);

}  // namespace helmgate::release::typed
