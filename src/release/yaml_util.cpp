// YAML helpers of discovery (yaml_util.hpp): field access that never throws, comparing documents as
// Kubernetes reads them, and digests independent of key order.
#include <map>

#include "core/redact.hpp"
#include "release/typed_json.hpp"
#include "release/yaml_util.hpp"

namespace helmgate::release::detail {

void collect_leaves(const YAML::Node& n, std::vector<std::string>& out) {
  if (n.IsScalar()) {
    out.push_back(n.Scalar());
  } else if (n.IsMap()) {
    for (const auto& kv : n) collect_leaves(kv.second, out);
  } else if (n.IsSequence()) {
    for (const auto& x : n) collect_leaves(x, out);
  }
}

namespace {
// Scalars compare by the value Kubernetes would see: "1.10" (a string) differs from 1.10 (a number),
// while 1.10 and 1.1 are the same number.
bool scalar_equal(const YAML::Node& a, const YAML::Node& b) {
  if (a.Scalar() == b.Scalar() && a.Tag() == b.Tag()) return true;
  auto ta = typed::scalar_value(a), tb = typed::scalar_value(b);
  if (!ta.ok || !tb.ok) return a.Scalar() == b.Scalar() && a.Tag() == b.Tag();
  return ta.value == tb.value;
}
}  // namespace

bool node_equal(const YAML::Node& a, const YAML::Node& b) {
  if (a.Type() != b.Type()) return false;
  switch (a.Type()) {
    case YAML::NodeType::Scalar: return scalar_equal(a, b);
    case YAML::NodeType::Sequence:
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i) {
        if (!node_equal(a[i], b[i])) return false;
      }
      return true;
    case YAML::NodeType::Map: {
      if (a.size() != b.size()) return false;
      for (const auto& kv : a) {
        YAML::Node other = b[kv.first.Scalar()];
        if (!other.IsDefined() || !node_equal(kv.second, other)) return false;
      }
      return true;
    }
    default: return true;
  }
}

void diff_paths(const YAML::Node& a, const YAML::Node& b, const std::string& prefix, std::vector<std::string>& out,
                size_t max) {
  if (out.size() >= max) return;
  bool a_def = a.IsDefined() && !a.IsNull();
  bool b_def = b.IsDefined() && !b.IsNull();
  if (!a_def && !b_def) return;
  if (a_def && b_def && a.IsMap() && b.IsMap()) {
    std::map<std::string, int> keys;
    for (const auto& kv : a) keys[kv.first.Scalar()] |= 1;
    for (const auto& kv : b) keys[kv.first.Scalar()] |= 2;
    for (const auto& [k, where] : keys) {
      std::string p = prefix.empty() ? k : prefix + "." + k;
      YAML::Node na = (where & 1) != 0 ? a[k] : YAML::Node();
      YAML::Node nb = (where & 2) != 0 ? b[k] : YAML::Node();
      diff_paths(na, nb, p, out, max);
    }
    return;
  }
  if (a_def && b_def && node_equal(a, b)) return;
  out.push_back(prefix.empty() ? "(document)" : prefix);
}

std::string dump(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "{}\n";
  YAML::Emitter e;
  e << n;
  return std::string(e.c_str()) + "\n";
}

namespace {
void digest_into(const YAML::Node& n, std::string& acc) {
  switch (n.Type()) {
    case YAML::NodeType::Scalar: {
      // The typed value, so that a quoted "1.10" and a plain 1.10 digest differently.
      auto t = typed::scalar_value(n);
      std::string v = t.ok ? typed::to_json(t.value) : n.Tag() + "|" + n.Scalar();
      acc += "s" + std::to_string(v.size()) + ":" + v;
      break;
    }
    case YAML::NodeType::Sequence:
      acc += "[";
      for (const auto& x : n) digest_into(x, acc);
      acc += "]";
      break;
    case YAML::NodeType::Map: {
      std::map<std::string, YAML::Node> sorted;
      for (const auto& kv : n) sorted.emplace(kv.first.Scalar(), kv.second);
      acc += "{";
      for (const auto& [k, v] : sorted) {
        acc += "k" + std::to_string(k.size()) + ":" + k;
        digest_into(v, acc);
      }
      acc += "}";
      break;
    }
    default: acc += "~";
  }
}
}  // namespace

std::string digest(const YAML::Node& n) {
  std::string acc;
  digest_into(n, acc);
  return core::sha256_hex(acc).substr(0, 16);
}

bool truthy(const YAML::Node& n, const char* key) {
  if (!n.IsDefined() || !n.IsMap()) return false;
  YAML::Node v = n[key];
  if (!v.IsDefined() || !v.IsScalar()) return false;
  auto t = typed::scalar_value(v);
  return t.ok && t.value.type == typed::Value::Type::boolean && t.value.b;
}

std::string scalar(const YAML::Node& n, const char* key, const std::string& fallback) {
  if (!n.IsDefined() || !n.IsMap()) return fallback;
  YAML::Node v = n[key];
  return v.IsDefined() && v.IsScalar() ? v.Scalar() : fallback;
}

}  // namespace helmgate::release::detail
