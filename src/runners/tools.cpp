#include "runners/tools.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace helmgate::runners {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

std::string find_tool(const char* env, const char* name) {
  if (auto v = env_or(env, ""); !v.empty()) return v;
  std::string path = env_or("PATH", "");
  for (size_t pos = 0; pos <= path.size();) {
    size_t next = path.find(':', pos);
    if (next == std::string::npos) next = path.size();
    std::filesystem::path cand = std::filesystem::path(path.substr(pos, next - pos)) / name;
    if (::access(cand.c_str(), X_OK) == 0) return cand.string();
    pos = next + 1;
  }
  return "";
}

}  // namespace helmgate::runners
