#include "support/support.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace helmgate::test {

std::string source_dir() { return HELMGATE_SOURCE_DIR; }
std::string binary_dir() { return HELMGATE_BINARY_DIR; }

std::string shared_dir() {
  if (const char* s = std::getenv("HELMGATE_SHARED_DIR"); s != nullptr && *s != '\0') return s;
  return source_dir() + "/../shared";
}

std::string corpus(std::string_view relative) { return shared_dir() + "/corpora/" + std::string(relative); }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string require_env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') {
    throw std::runtime_error(std::string(name) +
                             " is not set: run the tests through scripts/test (it starts the test environment)");
  }
  return v;
}

}  // namespace helmgate::test
