#include "git/repository.hpp"

#include <fcntl.h>
#include <git2.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/redact.hpp"

namespace fs = std::filesystem;

namespace helmgate::git {

namespace {

void ensure_init() {
  static const int once = [] { return git_libgit2_init(); }();
  (void)once;
}

}  // namespace

std::jthread initialize_in_background() {
  return std::jthread([] { ensure_init(); });
}

namespace {

std::string last_error() {
  const git_error* e = git_error_last();
  return e != nullptr && e->message != nullptr ? e->message : "unknown libgit2 error";
}

core::Error git_failure(std::string_view what) {
  return core::Error(core::errc::internal, std::string(what) + ": " + last_error());
}

template <typename T, void (*Free)(T*)>
struct Free_ {
  void operator()(T* p) const noexcept { Free(p); }
};
using ObjectPtr = std::unique_ptr<git_object, Free_<git_object, git_object_free>>;
using CommitPtr = std::unique_ptr<git_commit, Free_<git_commit, git_commit_free>>;
using TreePtr = std::unique_ptr<git_tree, Free_<git_tree, git_tree_free>>;
using TreeEntryPtr = std::unique_ptr<git_tree_entry, Free_<git_tree_entry, git_tree_entry_free>>;
using BlobPtr = std::unique_ptr<git_blob, Free_<git_blob, git_blob_free>>;
using DiffPtr = std::unique_ptr<git_diff, Free_<git_diff, git_diff_free>>;
using RemotePtr = std::unique_ptr<git_remote, Free_<git_remote, git_remote_free>>;

std::string oid_str(const git_oid* oid) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof buf, oid);
  return buf;
}

std::string clean_path(std::string_view p) {
  std::string s(p);
  while (!s.empty() && s.front() == '/') s.erase(0, 1);
  if (s.rfind("./", 0) == 0) s.erase(0, 2);
  while (!s.empty() && s.back() == '/') s.pop_back();
  if (s == ".") s.clear();
  return s;
}

core::Result<CommitPtr> lookup_commit(git_repository* repo, std::string_view rev) {
  std::string r(rev);
  git_object* obj = nullptr;
  if (git_revparse_single(&obj, repo, r.c_str()) != 0) {
    return core::Error(core::errc::not_found, "git: revision '" + r + "' not found: " + last_error() +
                                                  " (fetch it or pass an existing branch, tag or sha)");
  }
  ObjectPtr o(obj);
  git_object* peeled = nullptr;
  if (git_object_peel(&peeled, o.get(), GIT_OBJECT_COMMIT) != 0) {
    return core::Error(core::errc::bad_request, "git: revision '" + r + "' is not a commit: " + last_error());
  }
  return CommitPtr(reinterpret_cast<git_commit*>(peeled));
}

core::Result<TreePtr> commit_tree(git_repository* repo, std::string_view rev) {
  auto c = lookup_commit(repo, rev);
  if (!c) return c.error();
  git_tree* t = nullptr;
  if (git_commit_tree(&t, c->get()) != 0) return git_failure("git: reading the tree of " + std::string(rev));
  return TreePtr(t);
}

// The tree at commit:dir, or nullopt when dir is absent or a file.
core::Result<std::optional<TreePtr>> subtree(git_repository* repo, std::string_view rev, std::string_view dir) {
  auto root = commit_tree(repo, rev);
  if (!root) return root.error();
  std::string d = clean_path(dir);
  if (d.empty()) return std::optional<TreePtr>(std::move(root.value()));
  git_tree_entry* e = nullptr;
  if (git_tree_entry_bypath(&e, root->get(), d.c_str()) != 0) return std::optional<TreePtr>();
  TreeEntryPtr entry(e);
  if (git_tree_entry_type(entry.get()) != GIT_OBJECT_TREE) return std::optional<TreePtr>();
  git_tree* t = nullptr;
  if (git_tree_lookup(&t, repo, git_tree_entry_id(entry.get())) != 0) return git_failure("git: reading tree " + d);
  return std::optional<TreePtr>(TreePtr(t));
}

struct WalkState {
  std::vector<TreeEntry>* out;
  bool recursive;
};

int walk_cb(const char* root, const git_tree_entry* entry, void* payload) {
  auto* st = static_cast<WalkState*>(payload);
  TreeEntry te;
  te.path = std::string(root) + git_tree_entry_name(entry);
  te.oid = oid_str(git_tree_entry_id(entry));
  te.mode = static_cast<uint32_t>(git_tree_entry_filemode(entry));
  te.is_tree = git_tree_entry_type(entry) == GIT_OBJECT_TREE;
  st->out->push_back(std::move(te));
  // Returning 1 from a pre-order callback skips the subtree.
  return (!st->recursive && git_tree_entry_type(entry) == GIT_OBJECT_TREE) ? 1 : 0;
}

std::string random_suffix() {
  static std::atomic<uint64_t> counter{0};
  std::random_device rd;
  return std::to_string(::getpid()) + "-" + std::to_string(rd()) + "-" + std::to_string(counter++);
}

// An exclusive advisory lock on a file, held for the scope: serializes fetches into one mirror across
// threads and processes.
class FileLock {
 public:
  explicit FileLock(const std::string& path) : fd_(::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644)) {
    if (fd_ >= 0) ::flock(fd_, LOCK_EX);
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

}  // namespace

void Repository::Deleter::operator()(git_repository* r) const noexcept { git_repository_free(r); }

Repository::Repository(std::unique_ptr<git_repository, Deleter> repo, std::string path)
    : repo_(std::move(repo)), path_(std::move(path)), mu_(std::make_unique<std::mutex>()) {}
Repository::Repository(Repository&&) noexcept = default;
Repository& Repository::operator=(Repository&&) noexcept = default;
Repository::~Repository() = default;

core::Result<Repository> Repository::open(const std::string& path) {
  ensure_init();
  git_repository* r = nullptr;
  if (git_repository_open_ext(&r, path.c_str(), 0, nullptr) != 0) {
    return core::Error(core::errc::not_found,
                       "git: cannot open a repository at '" + path + "': " + last_error() +
                           " (pass --repo with a Git clone, a bare repository or a URL)");
  }
  return Repository(std::unique_ptr<git_repository, Deleter>(r), path);
}

core::Result<std::string> Repository::resolve(std::string_view rev) const {
  std::lock_guard lk(*mu_);
  auto c = lookup_commit(repo_.get(), rev);
  if (!c) return c.error();
  return oid_str(git_commit_id(c->get()));
}

core::Result<std::string> Repository::merge_base(std::string_view a, std::string_view b) const {
  std::lock_guard lk(*mu_);
  auto ca = lookup_commit(repo_.get(), a);
  if (!ca) return ca.error();
  auto cb = lookup_commit(repo_.get(), b);
  if (!cb) return cb.error();
  git_oid out;
  if (git_merge_base(&out, repo_.get(), git_commit_id(ca->get()), git_commit_id(cb->get())) != 0) {
    return core::Error(core::errc::not_found, "git: no merge base between '" + std::string(a) + "' and '" +
                                                  std::string(b) + "' (pass --base explicitly)");
  }
  return oid_str(&out);
}

core::Result<std::optional<std::string>> Repository::read_file(std::string_view commit, std::string_view path) const {
  std::lock_guard lk(*mu_);
  auto root = commit_tree(repo_.get(), commit);
  if (!root) return root.error();
  std::string p = clean_path(path);
  git_tree_entry* e = nullptr;
  if (p.empty() || git_tree_entry_bypath(&e, root->get(), p.c_str()) != 0) return std::optional<std::string>();
  TreeEntryPtr entry(e);
  if (git_tree_entry_type(entry.get()) != GIT_OBJECT_BLOB) return std::optional<std::string>();
  if (git_tree_entry_filemode(entry.get()) == GIT_FILEMODE_LINK) {
    return core::Error(core::errc::forbidden,
                       "git: " + p + " is a symlink; symlinks are not followed (replace it with the file itself)");
  }
  git_blob* b = nullptr;
  if (git_blob_lookup(&b, repo_.get(), git_tree_entry_id(entry.get())) != 0) return git_failure("git: reading " + p);
  BlobPtr blob(b);
  return std::optional<std::string>(std::string(static_cast<const char*>(git_blob_rawcontent(blob.get())),
                                                static_cast<size_t>(git_blob_rawsize(blob.get()))));
}

core::Result<std::optional<std::string>> Repository::read_blob(std::string_view oid) const {
  git_oid id;
  if (oid.size() != GIT_OID_HEXSZ || git_oid_fromstrn(&id, oid.data(), oid.size()) != 0) {
    return std::optional<std::string>();
  }
  std::lock_guard lk(*mu_);
  git_blob* b = nullptr;
  if (git_blob_lookup(&b, repo_.get(), &id) != 0) return std::optional<std::string>();
  BlobPtr blob(b);
  return std::optional<std::string>(std::string(static_cast<const char*>(git_blob_rawcontent(blob.get())),
                                                static_cast<size_t>(git_blob_rawsize(blob.get()))));
}

core::Result<std::optional<std::string>> Repository::object_id(std::string_view commit, std::string_view path) const {
  std::lock_guard lk(*mu_);
  auto root = commit_tree(repo_.get(), commit);
  if (!root) return root.error();
  std::string p = clean_path(path);
  if (p.empty()) return std::optional<std::string>(oid_str(git_tree_id(root->get())));
  git_tree_entry* e = nullptr;
  if (git_tree_entry_bypath(&e, root->get(), p.c_str()) != 0) return std::optional<std::string>();
  TreeEntryPtr entry(e);
  return std::optional<std::string>(oid_str(git_tree_entry_id(entry.get())));
}

bool Repository::is_dir(std::string_view commit, std::string_view path) const {
  std::lock_guard lk(*mu_);
  auto t = subtree(repo_.get(), commit, path);
  return t.ok() && t->has_value();
}

std::string Repository::workdir() const {
  std::lock_guard lk(*mu_);
  const char* w = git_repository_workdir(repo_.get());
  return w == nullptr ? std::string() : std::string(w);
}

std::vector<std::string> Repository::remote_urls() const {
  std::lock_guard lk(*mu_);
  std::vector<std::string> out;
  git_strarray names{};
  if (git_remote_list(&names, repo_.get()) != 0) return out;
  for (size_t i = 0; i < names.count; ++i) {
    git_remote* remote = nullptr;
    if (git_remote_lookup(&remote, repo_.get(), names.strings[i]) != 0) continue;
    if (const char* url = git_remote_url(remote); url != nullptr && *url != '\0') {
      if (std::string_view(names.strings[i]) == "origin") {
        out.insert(out.begin(), url);
      } else {
        out.emplace_back(url);
      }
    }
    git_remote_free(remote);
  }
  git_strarray_dispose(&names);
  return out;
}

core::Result<std::vector<TreeEntry>> Repository::list(std::string_view commit, std::string_view dir,
                                                      bool recursive) const {
  std::lock_guard lk(*mu_);
  auto t = subtree(repo_.get(), commit, dir);
  if (!t) return t.error();
  std::vector<TreeEntry> out;
  if (!t->has_value()) return out;
  WalkState st{&out, recursive};
  if (git_tree_walk(t->value().get(), GIT_TREEWALK_PRE, walk_cb, &st) < 0) {
    return git_failure("git: listing " + std::string(dir));
  }
  return out;
}

core::Result<std::vector<std::string>> Repository::changed_paths(std::string_view from, std::string_view to) const {
  std::lock_guard lk(*mu_);
  auto a = commit_tree(repo_.get(), from);
  if (!a) return a.error();
  auto b = commit_tree(repo_.get(), to);
  if (!b) return b.error();
  git_diff* d = nullptr;
  git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
  if (git_diff_tree_to_tree(&d, repo_.get(), a->get(), b->get(), &opts) != 0) {
    return git_failure("git: diffing " + std::string(from) + ".." + std::string(to));
  }
  DiffPtr diff(d);
  std::vector<std::string> out;
  size_t n = git_diff_num_deltas(diff.get());
  for (size_t i = 0; i < n; ++i) {
    const git_diff_delta* delta = git_diff_get_delta(diff.get(), i);
    if (delta->old_file.path != nullptr) out.emplace_back(delta->old_file.path);
    if (delta->new_file.path != nullptr && (delta->old_file.path == nullptr ||
                                            std::string_view(delta->new_file.path) != delta->old_file.path)) {
      out.emplace_back(delta->new_file.path);
    }
  }
  return out;
}

core::Result<std::string> Repository::materialize(std::string_view commit, std::string_view dir,
                                                  const std::string& work_root) const {
  std::lock_guard lk(*mu_);
  std::string d = clean_path(dir);
  auto t = subtree(repo_.get(), commit, d);
  if (!t) return t.error();
  if (!t->has_value()) {
    return core::Error(core::errc::not_found,
                       "git: directory '" + d + "' does not exist at " + std::string(commit).substr(0, 12));
  }
  git_tree* tree = t->value().get();
  std::string id = oid_str(git_tree_id(tree));
  fs::path dest = fs::path(work_root) / id;
  std::error_code ec;
  if (fs::is_directory(dest, ec)) return dest.string();

  std::vector<TreeEntry> entries;
  WalkState st{&entries, true};
  if (git_tree_walk(tree, GIT_TREEWALK_PRE, walk_cb, &st) < 0) return git_failure("git: listing " + d);
  for (const auto& e : entries) {
    std::string shown = d.empty() ? e.path : d + "/" + e.path;
    if (e.mode == kModeSymlink) {
      return core::Error(core::errc::forbidden, "refusing symlink " + shown +
                                                    ": chart and manifest files may not be symlinks (they could "
                                                    "point outside the repository); commit the file itself");
    }
    if (e.mode == kModeSubmodule) {
      return core::Error(core::errc::forbidden,
                         "refusing submodule " + shown + ": charts must be committed in the repository itself");
    }
  }
  fs::create_directories(work_root, ec);
  fs::path tmp = fs::path(work_root) / (".tmp-" + id + "-" + random_suffix());
  fs::create_directories(tmp, ec);
  if (ec) return core::Error(ec, "creating work dir " + tmp.string() + ": " + ec.message());
  for (const auto& e : entries) {
    fs::path target = tmp / e.path;
    if (e.is_tree) {
      fs::create_directories(target, ec);
      continue;
    }
    git_oid oid;
    git_oid_fromstr(&oid, e.oid.c_str());
    git_blob* b = nullptr;
    if (git_blob_lookup(&b, repo_.get(), &oid) != 0) {
      fs::remove_all(tmp, ec);
      return git_failure("git: reading blob " + e.path);
    }
    BlobPtr blob(b);
    fs::create_directories(target.parent_path(), ec);
    std::ofstream f(target, std::ios::binary | std::ios::trunc);
    f.write(static_cast<const char*>(git_blob_rawcontent(blob.get())),
            static_cast<std::streamsize>(git_blob_rawsize(blob.get())));
    if (!f) {
      fs::remove_all(tmp, ec);
      return core::Error(core::errc::internal, "writing " + target.string() + " failed (disk full?)");
    }
    f.close();
    if (e.mode == GIT_FILEMODE_BLOB_EXECUTABLE) {
      fs::permissions(target, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                      fs::perm_options::add, ec);
    }
  }
  // Another process may have materialized the same tree meanwhile; its copy is identical by construction.
  fs::rename(tmp, dest, ec);
  if (ec) fs::remove_all(tmp, ec);
  return dest.string();
}

bool is_remote_url(std::string_view url) {
  return url.find("://") != std::string_view::npos ||
         (url.find('@') != std::string_view::npos && url.find(':') != std::string_view::npos);
}

std::string canonical_url(std::string_view url) {
  std::string s(url);
  if (auto p = s.find("://"); p != std::string::npos) s = s.substr(p + 3);
  if (auto at = s.find('@'); at != std::string::npos && at < s.find('/')) s = s.substr(at + 1);
  // scp-like "host:org/repo" -> "host/org/repo" (a ':' before the first '/')
  if (auto colon = s.find(':'); colon != std::string::npos && colon < s.find('/')) {
    std::string after = s.substr(colon + 1);
    bool port = !after.empty() && std::isdigit(static_cast<unsigned char>(after[0])) != 0 &&
                after.find('/') != std::string::npos &&
                std::all_of(after.begin(), after.begin() + static_cast<long>(after.find('/')),
                            [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
    s = port ? s.substr(0, colon) + after.substr(after.find('/')) : s.substr(0, colon) + "/" + after;
  }
  while (!s.empty() && s.back() == '/') s.pop_back();
  if (s.size() > 4 && s.compare(s.size() - 4, 4, ".git") == 0) s.resize(s.size() - 4);
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

MirrorCache::MirrorCache(std::string cache_dir) : cache_dir_(std::move(cache_dir)) {}

std::string MirrorCache::mirror_dir(std::string_view url) const {
  // Keyed without credentials: a rotated token keeps its mirror.
  return (fs::path(cache_dir_) / (core::sha256_hex(core::strip_userinfo(url)).substr(0, 24) + ".git")).string();
}

core::Result<Repository> MirrorCache::open(const std::string& url, bool fetch) const {
  ensure_init();
  if (!is_remote_url(url)) return Repository::open(url);
  return open_mirror(url, fetch, true);
}

core::Result<Repository> MirrorCache::open_untrusted(const std::string& url, const core::EgressPolicy& policy) const {
  if (auto ok = core::check_egress(policy, core::FetchKind::git, url); !ok) return ok.error();
  ensure_init();
  return open_mirror(url, true, false);
}

core::Result<Repository> MirrorCache::open_mirror(const std::string& url, bool fetch, bool follow_redirects) const {
  std::error_code ec;
  fs::create_directories(cache_dir_, ec);
  std::string dir = mirror_dir(url);
  FileLock lock(dir + ".lock");
  bool fresh = !fs::exists(dir, ec);
  git_repository* r = nullptr;
  if (fresh) {
    if (git_repository_init(&r, dir.c_str(), 1) != 0) return git_failure("git: creating mirror " + dir);
  } else if (git_repository_open_bare(&r, dir.c_str()) != 0) {
    return git_failure("git: opening mirror " + dir + " (delete it to re-create)");
  }
  std::unique_ptr<git_repository, Repository::Deleter> repo(r);
  if (fresh || fetch) {
    // An anonymous remote: the URL (which may carry the repository's token) is never written to the
    // mirror's config on disk.
    git_remote* rem = nullptr;
    if (git_remote_create_anonymous(&rem, repo.get(), url.c_str()) != 0) {
      return git_failure("git: configuring mirror remote for " + core::redact_url(url));
    }
    RemotePtr remote(rem);
    git_fetch_options fo = GIT_FETCH_OPTIONS_INIT;
    fo.prune = GIT_FETCH_PRUNE;
    if (!follow_redirects) fo.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
    char refspec[] = "+refs/*:refs/*";
    char* specs[] = {refspec};
    git_strarray refspecs = {specs, 1};
    if (git_remote_fetch(remote.get(), &refspecs, &fo, nullptr) != 0) {
      std::string msg = "git: fetching " + core::redact_url(url) + " failed: " + last_error() +
                        " (check the URL and network access)";
      if (fresh) {
        repo.reset();
        fs::remove_all(dir, ec);
      }
      return core::Error(core::errc::unavailable, msg);
    }
  }
  return Repository::open(dir);
}

}  // namespace helmgate::git
