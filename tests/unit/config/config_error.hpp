#pragma once
// What the configuration tests share: the error a YAML text is refused with ("" when it loads).
#include <string>

#include "config/config.hpp"

namespace helmgate::test {

inline std::string error_of(const std::string& yaml) {
  try {
    config::load_string(yaml, "helmgate.yaml");
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace helmgate::test
