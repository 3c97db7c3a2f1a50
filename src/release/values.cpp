#include <algorithm>
#include <cctype>
#include <map>
#include <optional>

#include "core/redact.hpp"
#include "release/yaml_util.hpp"

namespace helmgate::release::detail {

void deep_merge(YAML::Node& dst, const YAML::Node& src) {
  if (!src.IsDefined() || src.IsNull()) return;
  if (!dst.IsMap() || !src.IsMap()) {
    dst = YAML::Clone(src);
    return;
  }
  for (const auto& kv : src) {
    std::string k = kv.first.Scalar();
    if (dst[k] && dst[k].IsMap() && kv.second.IsMap()) {
      YAML::Node child = dst[k];
      deep_merge(child, kv.second);
    } else {
      dst[k] = YAML::Clone(kv.second);
    }
  }
}

bool set_path(YAML::Node& root, const std::string& path, const YAML::Node& value) {
  std::vector<std::string> parts;
  std::string cur;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '\\' && i + 1 < path.size()) {
      cur += path[++i];
    } else if (path[i] == '.') {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += path[i];
    }
  }
  parts.push_back(cur);
  if (!root.IsMap()) root = YAML::Node(YAML::NodeType::Map);
  YAML::Node node = root;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string key = parts[i];
    long index = -1;
    if (auto br = key.find('['); br != std::string::npos && key.back() == ']') {
      index = std::stol(key.substr(br + 1, key.size() - br - 2));
      key = key.substr(0, br);
    }
    bool last = i + 1 == parts.size();
    if (index < 0) {
      if (last) {
        node[key] = value;
        return true;
      }
      if (!node[key] || !node[key].IsMap()) node[key] = YAML::Node(YAML::NodeType::Map);
      node.reset(node[key]);
    } else {
      if (!node[key] || !node[key].IsSequence()) node[key] = YAML::Node(YAML::NodeType::Sequence);
      YAML::Node seq = node[key];
      while (seq.size() <= static_cast<size_t>(index)) seq.push_back(YAML::Node());
      if (last) {
        seq[static_cast<size_t>(index)] = value;
        return true;
      }
      if (!seq[static_cast<size_t>(index)].IsMap()) seq[static_cast<size_t>(index)] = YAML::Node(YAML::NodeType::Map);
      node.reset(seq[static_cast<size_t>(index)]);
    }
  }
  return true;
}

void collect_leaves(const YAML::Node& n, std::vector<std::string>& out) {
  if (n.IsScalar()) {
    out.push_back(n.Scalar());
  } else if (n.IsMap()) {
    for (const auto& kv : n) collect_leaves(kv.second, out);
  } else if (n.IsSequence()) {
    for (const auto& x : n) collect_leaves(x, out);
  }
}

bool node_equal(const YAML::Node& a, const YAML::Node& b) {
  if (a.Type() != b.Type()) return false;
  switch (a.Type()) {
    case YAML::NodeType::Scalar: return a.Scalar() == b.Scalar();
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
    case YAML::NodeType::Scalar:
      acc += "s" + std::to_string(n.Scalar().size()) + ":" + n.Scalar();
      break;
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

std::string scalar(const YAML::Node& n, const char* key, const std::string& fallback) {
  if (!n.IsDefined() || !n.IsMap()) return fallback;
  YAML::Node v = n[key];
  return v.IsDefined() && v.IsScalar() ? v.Scalar() : fallback;
}

}  // namespace helmgate::release::detail

namespace helmgate::release::detail {

namespace {

bool var_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_'; }
bool var_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

std::string substitute_one(const std::string& doc, const std::map<std::string, std::string>& vars) {
  std::string out;
  out.reserve(doc.size());
  for (size_t i = 0; i < doc.size(); ++i) {
    if (doc[i] != '$' || i + 1 >= doc.size()) {
      out += doc[i];
      continue;
    }
    if (doc[i + 1] == '$' && i + 2 < doc.size() && doc[i + 2] == '{') {
      out += '$';  // "$${x}" escapes to a literal "${x}"
      ++i;
      continue;
    }
    if (doc[i + 1] != '{' || i + 2 >= doc.size() || !var_start(doc[i + 2])) {
      out += doc[i];
      continue;
    }
    size_t j = i + 2;
    while (j < doc.size() && var_char(doc[j])) ++j;
    std::string name = doc.substr(i + 2, j - i - 2);
    std::optional<std::string> fallback;
    if (j + 1 < doc.size() && doc[j] == ':' && (doc[j + 1] == '=' || doc[j + 1] == '-')) {
      size_t close = doc.find('}', j + 2);
      if (close == std::string::npos) {
        out += doc[i];
        continue;
      }
      fallback = doc.substr(j + 2, close - j - 2);
      j = close;
    } else if (j >= doc.size() || doc[j] != '}') {
      out += doc[i];  // not a variable reference kustomize-controller would touch
      continue;
    }
    auto it = vars.find(name);
    out += it != vars.end() ? it->second : fallback.value_or("");
    i = j;
  }
  return out;
}

}  // namespace

std::string flux_substitute(const std::string& text, const std::map<std::string, std::string>& vars) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t next = text.find("\n---", pos);
    size_t end = next == std::string::npos ? text.size() : next + 1;
    std::string doc = text.substr(pos, end - pos);
    bool disabled = doc.find("kustomize.toolkit.fluxcd.io/substitute: disabled") != std::string::npos;
    out += disabled ? doc : substitute_one(doc, vars);
    pos = end;
  }
  return out;
}

}  // namespace helmgate::release::detail
