#include "core/env.hpp"

#include <cstdlib>

namespace helmgate::core {

std::string env_or(std::string_view name, std::string fallback) {
  if (name.empty()) return fallback;
  const char* v = std::getenv(std::string(name).c_str());
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

}  // namespace helmgate::core
