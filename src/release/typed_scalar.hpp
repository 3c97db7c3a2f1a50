#pragma once
// Inside the typed-values converter (typed_json.cpp, typed_yaml.cpp): how one scalar resolves, and how a
// string is quoted so that both JSON and YAML read it back. Not for use outside src/release/typed_*.
#include <cstdint>
#include <string>

#include "release/typed_json.hpp"

namespace helmgate::release::typed::detail {

inline constexpr const char* kTagPrefix = "tag:yaml.org,2002:";

// What go-yaml v2's resolve() gives for a scalar with the given tag ("" for plain), then what JSON
// conversion and apimachinery make of it. Kinds: the JSON value, or an error (NaN/Inf are not JSON), or
// a non-JSON-able key kind (uint64, null) reported by the caller only for keys.
struct Resolved {
  enum class Kind { null, boolean, integer, uinteger, floating, string, error } kind = Kind::string;
  bool b = false;
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  std::string s;
  std::string error;
};

Resolved resolve(const std::string& tag, const std::string& in);

// s with every byte that is not UTF-8 replaced by U+FFFD, as Go's encoding/json writes it.
std::string valid_utf8(const std::string& s);

// A double-quoted string valid both as JSON and as a YAML 1.1/1.2 double-quoted scalar.
std::string quote(const std::string& s);

}  // namespace helmgate::release::typed::detail
