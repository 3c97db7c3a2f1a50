// Mirror cache, trees at a commit, changed paths and materialization against real repositories.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "git/repository.hpp"
#include "process/process.hpp"
#include "support/temp_repo.hpp"

namespace fs = std::filesystem;
using namespace helmgate;

namespace {

using test::run_git;

}  // namespace

TEST_CASE("read, diff, materialize and mirror a repository", "[unit]") {
  fs::path root = fs::temp_directory_path() / ("hg-git-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::path src = root / "src";
  fs::create_directories(src / "chart" / "templates");
  run_git(src, {"init", "-q", "-b", "main"});
  std::ofstream(src / "chart" / "Chart.yaml") << "name: c\nversion: 1.0.0\n";
  std::ofstream(src / "chart" / "templates" / "cm.yaml") << "kind: ConfigMap\n";
  std::ofstream(src / "README") << "hi\n";
  run_git(src, {"add", "-A"});
  run_git(src, {"commit", "-q", "-m", "one"});
  std::ofstream(src / "chart" / "templates" / "cm.yaml") << "kind: ConfigMap # changed\n";
  run_git(src, {"commit", "-q", "-am", "two"});

  auto repo = git::Repository::open(src.string());
  REQUIRE(repo.ok());
  auto head = repo->resolve("HEAD");
  auto base = repo->resolve("HEAD~1");
  REQUIRE(head.ok());
  REQUIRE(base.ok());
  CHECK(repo->read_file(*base, "chart/templates/cm.yaml")->value() == "kind: ConfigMap\n");
  CHECK_FALSE(repo->read_file(*base, "nope.yaml")->has_value());
  CHECK(repo->changed_paths(*base, *head).value() == std::vector<std::string>{"chart/templates/cm.yaml"});
  CHECK(repo->merge_base(*base, *head).value() == *base);
  auto bad = repo->resolve("no-such-branch");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("'no-such-branch' not found") != std::string::npos);

  // Content-addressed: the directory is named by its tree id and reused.
  auto m1 = repo->materialize(*head, "chart", (root / "work").string());
  REQUIRE(m1.ok());
  CHECK(fs::path(*m1).filename() == repo->object_id(*head, "chart")->value());
  CHECK(fs::exists(fs::path(*m1) / "templates" / "cm.yaml"));
  CHECK_FALSE(fs::exists(fs::path(*m1) / "README"));
  CHECK(repo->materialize(*head, "chart", (root / "work").string()).value() == *m1);

  // A symlink in a materialized directory is refused.
  fs::create_symlink("/etc/passwd", src / "chart" / "templates" / "passwd.yaml");
  run_git(src, {"add", "-A"});
  run_git(src, {"commit", "-q", "-m", "symlink"});
  auto m2 = repo->materialize(repo->resolve("HEAD").value(), "chart", (root / "work").string());
  REQUIRE_FALSE(m2.ok());
  CHECK(m2.error().message.find("refusing symlink chart/templates/passwd.yaml") != std::string::npos);

  // file:// URLs go through a bare mirror that is fetched, not re-cloned.
  git::MirrorCache cache((root / "mirrors").string());
  std::string url = "file://" + src.string();
  auto mirror = cache.open(url);
  REQUIRE(mirror.ok());
  CHECK(mirror->resolve("main").value() == repo->resolve("HEAD").value());
  std::ofstream(src / "README") << "three\n";
  run_git(src, {"commit", "-q", "-am", "three"});
  auto again = cache.open(url);
  REQUIRE(again.ok());
  CHECK(again->resolve("main").value() == git::Repository::open(src.string())->resolve("HEAD").value());

  CHECK(git::canonical_url("git@github.com:fluxcd/helm-operator-get-started") ==
        git::canonical_url("https://github.com/fluxcd/helm-operator-get-started.git"));
  CHECK(git::canonical_url("ssh://git@github.com/Org/Repo.git") == "github.com/org/repo");
  fs::remove_all(root);
}
