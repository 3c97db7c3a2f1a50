#pragma once
// Read-only access to Git history without a checkout: bare mirrors per remote URL, trees and blobs at a
// commit, content-addressed materialization of directories, and the paths changed between two commits.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/egress.hpp"
#include "core/error.hpp"

struct git_repository;

namespace helmgate::git {

// libgit2's global set-up (it reads the system's CA certificates: milliseconds) on another thread, while the
// caller goes on with other start-up work; the first repository call waits for it to finish. Joined when
// the returned thread is destroyed.
std::jthread initialize_in_background();

struct TreeEntry {
  std::string path;  // relative to the directory that was listed
  std::string oid;   // blob or tree id
  bool is_tree = false;
  uint32_t mode = 0;  // git file mode (0100644, 0100755, 0120000 symlink, 0160000 submodule, 040000 tree)
};

inline constexpr uint32_t kModeSymlink = 0120000;
inline constexpr uint32_t kModeSubmodule = 0160000;

// One opened repository. Calls are serialized internally because libgit2 handles are not safe to share
// across threads; the render pool reads from other threads.
class Repository {
 public:
  struct Deleter {
    void operator()(git_repository* r) const noexcept;
  };

  // Opens a working clone or a bare repository at a local path.
  static core::Result<Repository> open(const std::string& path);

  Repository(Repository&&) noexcept;
  Repository& operator=(Repository&&) noexcept;
  ~Repository();

  const std::string& path() const { return path_; }

  // Any revision expression ("HEAD", "main", "origin/main~2", a sha) to a full commit id.
  core::Result<std::string> resolve(std::string_view rev) const;
  core::Result<std::string> merge_base(std::string_view a, std::string_view b) const;

  // Blob content at commit:path; nullopt when the path does not exist or is not a file.
  core::Result<std::optional<std::string>> read_file(std::string_view commit, std::string_view path) const;
  // Content of the blob with this id (from a listing's TreeEntry::oid: no path lookup); nullopt when there is
  // no such blob.
  core::Result<std::optional<std::string>> read_blob(std::string_view oid) const;
  // Id of the tree or blob at commit:path ("" at the root means the root tree); nullopt when absent.
  core::Result<std::optional<std::string>> object_id(std::string_view commit, std::string_view path) const;
  bool is_dir(std::string_view commit, std::string_view path) const;
  // The URLs of the repository's remotes (origin first), as configured (may carry a user name; compare
  // them through canonical_url, never print them unredacted).
  std::vector<std::string> remote_urls() const;
  // The working tree's directory (with a trailing '/'); "" for a bare repository.
  std::string workdir() const;
  // Entries under a directory at a commit; recursive lists every file and directory below it.
  core::Result<std::vector<TreeEntry>> list(std::string_view commit, std::string_view dir, bool recursive) const;

  // Paths (files) that differ between two commits, renames shown as delete + add.
  core::Result<std::vector<std::string>> changed_paths(std::string_view from, std::string_view to) const;

  // Writes commit:dir into <work_root>/<tree id>/ and returns that directory. Content-addressed: a tree
  // already materialized is reused without touching it. Symlinks and submodules are refused with an
  // error naming the path, because chart and kustomize inputs are untrusted and must not point outside.
  core::Result<std::string> materialize(std::string_view commit, std::string_view dir,
                                        const std::string& work_root) const;

 private:
  Repository(std::unique_ptr<git_repository, Deleter> repo, std::string path);
  std::unique_ptr<git_repository, Deleter> repo_;
  std::string path_;
  std::unique_ptr<std::mutex> mu_;
};

// Bare mirrors of remote repositories under one cache directory, one per URL, fetched (not re-cloned) on
// every open. A local directory is opened in place so `helmgate preview` works on a developer's clone.
class MirrorCache {
 public:
  explicit MirrorCache(std::string cache_dir);
  // url: a local path, file:// URL, or a remote URL. fetch=false reuses the mirror as it is.
  core::Result<Repository> open(const std::string& url, bool fetch = true) const;
  // A repository named by content from Git (a chart.git or GitRepository URL): the URL must pass the
  // egress policy (never a local path or file://, never a private address unless allowed), and the fetch
  // follows no HTTP redirect (a redirect could lead anywhere after the check).
  core::Result<Repository> open_untrusted(const std::string& url, const core::EgressPolicy& policy) const;
  // Directory of the mirror for a URL (exists only after open()).
  std::string mirror_dir(std::string_view url) const;

 private:
  core::Result<Repository> open_mirror(const std::string& url, bool fetch, bool follow_redirects) const;
  std::string cache_dir_;
};

// True for URLs that need a mirror (anything but a plain local path).
bool is_remote_url(std::string_view url);

// Normalizes Git URL spellings so "git@github.com:org/repo", "ssh://git@github.com/org/repo.git" and
// "https://github.com/org/repo" compare equal: "github.com/org/repo".
std::string canonical_url(std::string_view url);

}  // namespace helmgate::git
