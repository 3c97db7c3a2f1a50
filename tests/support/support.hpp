#pragma once
// Helpers every test may use: where things are, and environment the test environment provides.
#include <string>
#include <string_view>

namespace helmgate::test {

// The repository root and the build directory.
std::string source_dir();
std::string binary_dir();
// ../shared next to the repository (override: $HELMGATE_SHARED_DIR).
std::string shared_dir();
// A file under ../shared/corpora.
std::string corpus(std::string_view relative);

std::string read_file(const std::string& path);

// A variable the test environment (scripts/testenv env) must export. Throws with a clear message
// when it is missing: tests never skip because a server is absent.
std::string require_env(const char* name);

}  // namespace helmgate::test
