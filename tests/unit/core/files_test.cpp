#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/files.hpp"

using namespace helmgate;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/helmgate-files-test-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void write(const fs::path& p, const std::string& s) {
  std::ofstream(p, std::ios::binary) << s;
}

}  // namespace

TEST_CASE("read_file reads whole files, binary and empty ones too, up to its bound", "[unit][core]") {
  TempDir dir;
  std::string binary;
  for (int i = 0; i < 70000; ++i) binary += static_cast<char>(i * 7);
  write(dir.path / "bin", binary);
  write(dir.path / "empty", "");
  write(dir.path / "four", "abcd");

  CHECK(core::read_file((dir.path / "bin").string()) == binary);
  CHECK(core::read_file((dir.path / "empty").string()) == std::string());
  CHECK(core::read_file((dir.path / "four").string(), 4) == std::string("abcd"));
  // One byte over the bound: refused, not truncated.
  CHECK_FALSE(core::read_file((dir.path / "four").string(), 3).has_value());
  CHECK_FALSE(core::read_file((dir.path / "bin").string(), binary.size() - 1).has_value());
}

TEST_CASE("read_file refuses what it cannot read whole: missing paths, directories, special files", "[unit][core]") {
  TempDir dir;
  CHECK_FALSE(core::read_file((dir.path / "missing").string()).has_value());
  CHECK_FALSE(core::read_file(dir.path.string()).has_value());
  // A character device has no size to bound a read by: it is not a regular file.
  CHECK_FALSE(core::read_file("/dev/zero").has_value());
  // A symbolic link to a regular file reads the file (configuration paths may be links).
  write(dir.path / "target", "x");
  fs::create_symlink(dir.path / "target", dir.path / "link");
  CHECK(core::read_file((dir.path / "link").string()) == std::string("x"));
}

TEST_CASE("read_file reads a pipe to its end, within the bound", "[unit][core]") {
  auto piped = [](const std::string& text, size_t bound) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    REQUIRE(::write(fds[1], text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    ::close(fds[1]);
    auto out = core::read_file("/proc/self/fd/" + std::to_string(fds[0]), bound);
    ::close(fds[0]);
    return out;
  };
  CHECK(piped("from a pipe", 100) == std::string("from a pipe"));
  CHECK_FALSE(piped("from a pipe", 5).has_value());
}
