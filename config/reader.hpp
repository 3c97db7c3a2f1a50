#pragma once
// The loader's YAML walker (used by every section reader of config.cpp and repos.cpp): it carries the
// file name and the key path, so every error reads "<file>:<line>:<col>: <key path>: <reason>".
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace helmgate::config::detail {

class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  // Throws ConfigError at node's place.
  [[noreturn]] void fail(const YAML::Node& node, const std::string& path, const std::string& why) const;
  // A mapping whose keys are all in `allowed`.
  void expect_map(const YAML::Node& node, const std::string& path, std::initializer_list<const char*> allowed) const;
  static std::string join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

  // parent[key] as a string, integer in [min, max], boolean, positive duration or list of strings; def when
  // the key is absent.
  std::string str(const YAML::Node& parent, const std::string& path, const char* key, const std::string& def,
                  bool required = false) const;
  int64_t integer(const YAML::Node& parent, const std::string& path, const char* key, int64_t def, int64_t min,
                  int64_t max) const;
  bool boolean(const YAML::Node& parent, const std::string& path, const char* key, bool def) const;
  std::chrono::milliseconds duration(const YAML::Node& parent, const std::string& path, const char* key,
                                     std::chrono::milliseconds def) const;
  std::vector<std::string> strings(const YAML::Node& parent, const std::string& path, const char* key) const;

  const std::string& source() const { return source_; }

 private:
  std::string source_;
};

// A name an environment variable can have: letters, digits and '_', not starting with a digit.
bool valid_env_name(const std::string& s);

}  // namespace helmgate::config::detail
