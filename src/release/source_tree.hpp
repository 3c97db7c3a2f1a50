#pragma once
// Discovery, room (b): source trees. Reads a Git tree at a commit (this repository, or a tenant's reached
// through a Flux Kustomization) below one path, as Flux's kustomize-controller reads a path: a directory
// holding a kustomization is built by kustomize (kustomize_build.hpp), otherwise every YAML file below it
// is read and each subdirectory is read the same way; chart directories are skipped.
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "git/repository.hpp"
#include "release/documents.hpp"
#include "release/release.hpp"

namespace helmgate::release {

// Repository paths a discovery looked at (read, listed, tested): the input closure of a cluster, for the
// discovery cache (release/discovery_cache). Only this repository's tree records them.
using ReadLog = std::set<std::string>;

// A Git tree at a commit.
struct SourceTree {
  const git::Repository* repo = nullptr;
  std::shared_ptr<const git::Repository> owned;  // a tenant repository is held here
  std::string commit;
  std::string tree_dir;  // materialized for kustomize, on first use
  std::string prefix;    // "" for this repository; "<url>@<ref>//" for a tenant's, so paths never collide
  std::string label;     // "GitRepository apps/dev-team (https://…, branch dev-team)"

  std::shared_ptr<ReadLog> reads;  // when set, every path looked at below is recorded

  std::optional<std::string> read(const std::string& path) const;       // nullopt: absent or unreadable
  // read() of a file whose blob id a listing gave (no path lookup in the tree).
  std::optional<std::string> read(const std::string& path, const git::TreeEntry& listed) const;
  std::optional<std::string> object_id(const std::string& path) const;  // tree or blob id; nullopt: absent
  bool is_dir(const std::string& path) const;
  core::Result<std::vector<git::TreeEntry>> list(const std::string& dir, bool recursive) const;

 private:
  void record(const std::string& path) const {
    if (reads) reads->insert(path);
  }
};

// What reading a tree needs of discovery: the options (work_root, kustomize, cache), the parse budget, where
// problems go, and where each kustomization's file set is recorded (kustomization directory, prefixed ->
// the files its build reads: tells an overlay from the base it includes).
struct TreeEnv {
  const DiscoverOptions& opt;
  ParseBudget& budget;
  Report problem;
  std::map<std::string, std::set<std::string>>* units = nullptr;
};

struct RootRead {
  std::shared_ptr<const Docs> docs;  // null: the path could not be read (the problems say why)
  std::vector<std::string> inputs;   // the repository files read for it
  bool missing = false;              // the path does not exist at the commit
  bool partial = false;              // read in part: some files below it could not be read
};

// Reads `root` (a cluster path or a Flux Kustomization's spec.path; a single file is read as it is).
RootRead read_root(SourceTree& tree, const std::string& root, const TreeEnv& env);

}  // namespace helmgate::release
