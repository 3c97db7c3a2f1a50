#pragma once
// A throwaway Git repository for tests, built with the real git binary (fixed identity, no signing,
// a clean environment) and removed at the end. Header-only: tests that include it link helmgate_git
// and helmgate_render (for run_process).
#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "git/repository.hpp"
#include "process/process.hpp"
#include "support/support.hpp"

namespace helmgate::test {

// git -C <dir> <args>; the test fails (with git's stderr) if git does.
inline void run_git(const std::filesystem::path& dir, std::vector<std::string> args) {
  args.insert(args.begin(), {"/usr/bin/git", "-C", dir.string(), "-c", "user.email=t@example.com", "-c",
                             "user.name=test", "-c", "commit.gpgsign=false"});
  process::ProcessOptions po;
  po.env = {"PATH=/usr/bin:/bin", "HOME=" + dir.string()};
  auto r = process::run_process(args, po);
  REQUIRE(r.ok());
  INFO(r->err);
  REQUIRE(r->exit_code == 0);
}

struct TempRepo {
  std::filesystem::path dir;

  // A new repository under the temp dir, named after the test and the process.
  explicit TempRepo(const std::string& name, const std::string& branch = "main") {
    dir = std::filesystem::temp_directory_path() / ("hg-test-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    git({"init", "-q", "-b", branch});
  }
  ~TempRepo() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  TempRepo(const TempRepo&) = delete;
  TempRepo& operator=(const TempRepo&) = delete;

  void git(std::vector<std::string> args) const { run_git(dir, std::move(args)); }
  void copy_from(const std::string& src, const std::vector<std::string>& entries) const {
    for (const auto& e : entries) {
      std::filesystem::copy(std::filesystem::path(src) / e, dir / e, std::filesystem::copy_options::recursive);
    }
  }
  void write(const std::string& rel, const std::string& text) const {
    std::filesystem::create_directories((dir / rel).parent_path());
    std::ofstream(dir / rel, std::ios::trunc) << text;
  }
  std::string read(const std::string& rel) const { return read_file((dir / rel).string()); }
  // Replaces the first occurrence of `from` (which must be there) in a file.
  void replace(const std::string& rel, const std::string& from, const std::string& to) const {
    std::string t = read(rel);
    auto pos = t.find(from);
    REQUIRE(pos != std::string::npos);
    t.replace(pos, from.size(), to);
    write(rel, t);
  }
  // Commits everything (empty commits allowed) and returns the new HEAD.
  std::string commit(const std::string& msg) const {
    git({"add", "-A"});
    git({"commit", "-q", "--allow-empty", "-m", msg});
    return git::Repository::open(dir.string())->resolve("HEAD").value();
  }
};

}  // namespace helmgate::test
