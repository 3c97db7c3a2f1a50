#include "config/reader.hpp"

#include <cctype>
#include <set>
#include <sstream>

namespace helmgate::config::detail {

void Reader::fail(const YAML::Node& node, const std::string& path, const std::string& why) const {
  std::ostringstream out;
  out << source_;
  if (node.IsDefined() && !node.Mark().is_null()) out << ":" << node.Mark().line + 1 << ":" << node.Mark().column + 1;
  out << ": " << (path.empty() ? "(top level)" : path) << ": " << why;
  throw ConfigError(out.str());
}

void Reader::expect_map(const YAML::Node& node, const std::string& path, std::initializer_list<const char*> allowed) const {
  if (!node.IsMap()) fail(node, path, "must be a mapping");
  std::set<std::string> ok(allowed.begin(), allowed.end());
  for (const auto& kv : node) {
    auto key = kv.first.as<std::string>();
    if (ok.count(key) == 0) {
      std::string list;
      for (const auto* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      fail(kv.first, join(path, key), "unknown key (allowed: " + list + ")");
    }
  }
}

std::string Reader::str(const YAML::Node& parent, const std::string& path, const char* key, const std::string& def,
                        bool required) const {
  YAML::Node n = parent[key];
  if (!n) {
    if (required) fail(parent, join(path, key), "is required");
    return def;
  }
  if (!n.IsScalar()) fail(n, join(path, key), "must be a string");
  auto v = n.as<std::string>();
  if (required && v.empty()) fail(n, join(path, key), "must not be empty");
  return v;
}

int64_t Reader::integer(const YAML::Node& parent, const std::string& path, const char* key, int64_t def, int64_t min,
                        int64_t max) const {
  YAML::Node n = parent[key];
  if (!n) return def;
  int64_t v = 0;
  if (!n.IsScalar() || !YAML::convert<int64_t>::decode(n, v)) fail(n, join(path, key), "must be an integer");
  if (v < min || v > max) {
    fail(n, join(path, key), "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return v;
}

bool Reader::boolean(const YAML::Node& parent, const std::string& path, const char* key, bool def) const {
  YAML::Node n = parent[key];
  if (!n) return def;
  bool v = false;
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) fail(n, join(path, key), "must be true or false");
  return v;
}

std::chrono::milliseconds Reader::duration(const YAML::Node& parent, const std::string& path, const char* key,
                                           std::chrono::milliseconds def) const {
  YAML::Node n = parent[key];
  if (!n) return def;
  if (!n.IsScalar()) fail(n, join(path, key), "must be a duration like 30s, 5m, 2h");
  auto d = parse_duration(n.as<std::string>());
  if (!d || d->count() <= 0) fail(n, join(path, key), "must be a positive duration like 500ms, 30s, 5m, 2h, 7d");
  return *d;
}

std::vector<std::string> Reader::strings(const YAML::Node& parent, const std::string& path, const char* key) const {
  YAML::Node n = parent[key];
  std::vector<std::string> out;
  if (!n) return out;
  if (!n.IsSequence()) fail(n, join(path, key), "must be a list of strings");
  for (size_t i = 0; i < n.size(); ++i) {
    if (!n[i].IsScalar()) fail(n[i], join(path, key) + "[" + std::to_string(i) + "]", "must be a string");
    out.push_back(n[i].as<std::string>());
  }
  return out;
}

bool valid_env_name(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return std::isdigit(static_cast<unsigned char>(s[0])) == 0;
}

}  // namespace helmgate::config::detail
