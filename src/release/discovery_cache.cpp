// Discovery, cache: entries in memory and on disk, the input closure, the key, the bounds. The entry
// format is discovery_codec.cpp's.
#include "release/discovery_cache.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "core/files.hpp"
#include "core/limits.hpp"
#include "core/private_files.hpp"
#include "core/redact.hpp"

namespace fs = std::filesystem;

namespace helmgate::release {

namespace {

// helmgate's own build: another binary may discover differently with the same format.
const std::string& build_identity() {
  static const std::string id = [] {
    struct stat st {};
    if (::stat("/proc/self/exe", &st) != 0) return std::string("unknown");
    return std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
  }();
  return id;
}

void add(std::string& m, std::string_view field, std::string_view value) {
  m += field;
  m += '=';
  m += std::to_string(value.size());
  m += ':';
  m += value;
  m += '\n';
}

std::string random_suffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::to_string(rng());
}

}  // namespace

std::vector<std::pair<std::string, std::string>> closure_of(const ReadLog& reads, const git::Repository& repo,
                                                            const std::string& commit) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& p : reads) {
    bool covered = false;
    if (!p.empty()) {
      covered = reads.count("") != 0;
      for (size_t slash = p.find('/'); !covered && slash != std::string::npos; slash = p.find('/', slash + 1)) {
        covered = reads.count(p.substr(0, slash)) != 0;
      }
    }
    if (covered) continue;
    auto id = repo.object_id(commit, p);
    out.emplace_back(p, id.ok() && id->has_value() ? **id : std::string());
  }
  return out;
}

std::string discovery_key(const ClusterSpec& cluster, const DiscoverOptions& o) {
  std::string m;
  add(m, "format", kDiscoveryFormat);
  add(m, "build", build_identity());
  add(m, "cluster", cluster.name);
  for (const auto& p : cluster.paths) add(m, "path", p);
  add(m, "kube_version", cluster.kube_version);
  add(m, "work_root", o.work_root);
  add(m, "tools", o.tools_id);
  for (const auto& u : o.self_urls) add(m, "self_url", u);
  for (const auto& u : o.remote_urls) add(m, "remote_url", u);
  for (const auto& s : o.sources) {
    add(m, "source", s.kind + "\n" + s.namespace_ + "\n" + s.name + "\n" + s.path + "\n" + s.origin);
  }
  add(m, "strict_substitution", o.flux_strict_substitution ? "1" : "0");
  add(m, "helm_operator_charts_path", o.helm_operator_charts_path);
  add(m, "open_source", o.open_source ? "1" : "0");
  add(m, "kustomize", o.kustomize ? "1" : "0");
  add(m, "sops_keys", o.sops_keys ? "1" : "0");
  const core::Limits l = core::limits();
  for (const auto* y : {&l.yaml, &l.rendered}) {
    add(m, "yaml", std::to_string(y->max_bytes) + "," + std::to_string(y->max_documents) + "," +
                       std::to_string(y->max_depth) + "," + std::to_string(y->max_nodes) + "," + y->key);
  }
  add(m, "max_files", std::to_string(l.max_files));
  add(m, "max_releases", std::to_string(l.max_releases));
  add(m, "json_max_depth", std::to_string(l.json_max_depth));
  return core::sha256_hex(m);
}

DiscoveryCache::DiscoveryCache(std::string dir) : DiscoveryCache(std::move(dir), Bounds{}) {}

DiscoveryCache::DiscoveryCache(std::string dir, Bounds bounds) : dir_(std::move(dir)), bounds_(bounds) {
  if (!dir_.empty() && !core::ensure_private_dir(dir_)) {
    spdlog::warn("discovery cache: cannot use {} (not a private directory); discovery is cached in memory only", dir_);
    dir_.clear();
  }
}

bool DiscoveryCache::valid_at(const ClusterResult& r, const git::Repository& repo, const std::string& commit) const {
  for (const auto& [path, id] : r.closure) {
    auto now = repo.object_id(commit, path);
    if (!now.ok()) return false;
    const std::string cur = now->has_value() ? **now : std::string();
    if (cur != id) return false;
  }
  return true;
}

std::shared_ptr<const ClusterResult> DiscoveryCache::lookup(const std::string& key, const git::Repository& repo,
                                                            const std::string& commit) {
  std::shared_ptr<std::mutex> reading;
  {
    std::lock_guard lk(mu_);
    auto& m = reading_[key];
    if (!m) m = std::make_shared<std::mutex>();
    reading = m;
  }
  std::lock_guard one_reader(*reading);
  std::vector<std::shared_ptr<const ClusterResult>> known;
  {
    std::lock_guard lk(mu_);
    if (auto m = memory_.find(key); m != memory_.end()) known = m->second;
  }
  for (const auto& r : known) {
    if (valid_at(*r, repo, commit)) {
      ++hits_;
      return r;
    }
  }
  std::shared_ptr<const ClusterResult> found;
  try {
    found = from_disk(key, repo, commit);
  } catch (const std::exception& e) {  // a directory that vanished under us: a miss
    spdlog::warn("discovery cache: reading {}: {}", dir_, e.what());
  }
  if (auto r = found) {
    ++hits_;
    ++disk_reads_;
    std::lock_guard lk(mu_);
    memory_[key].push_back(r);
    return r;
  }
  ++misses_;
  return nullptr;
}

void DiscoveryCache::ignore(const std::string& file, const std::string& why) {
  ++ignored_;
  spdlog::warn("discovery cache: ignoring {}: {} (it is discovered again and the entry replaced)", file, why);
  std::error_code ec;
  fs::remove(file, ec);
}

std::shared_ptr<const ClusterResult> DiscoveryCache::from_disk(const std::string& key, const git::Repository& repo,
                                                               const std::string& commit) {
  if (dir_.empty()) return nullptr;
  const fs::path kdir = fs::path(dir_) / key;
  std::error_code ec;
  if (!fs::is_directory(kdir, ec)) return nullptr;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(kdir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() > 6 && name.compare(name.size() - 6, 6, ".entry") == 0) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    struct stat st {};
    // Entries are ours: a regular file owned by this user, not a link, within the bound.
    if (::lstat(f.c_str(), &st) != 0) continue;
    if (!S_ISREG(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 077) != 0) {
      ignore(f.string(), "not a private regular file of this user");
      continue;
    }
    if (static_cast<uint64_t>(st.st_size) > bounds_.max_entry_bytes) {
      ignore(f.string(), "larger than " + std::to_string(bounds_.max_entry_bytes) + " bytes");
      continue;
    }
    std::string text = core::read_file(f.string(), bounds_.max_entry_bytes).value_or("");
    if (text.size() != static_cast<size_t>(st.st_size)) {
      ignore(f.string(), "changed while it was read");
      continue;
    }
    auto header = decode_header(text);
    if (!header) {
      ignore(f.string(), header.error().message);
      continue;
    }
    if (header->key != key) {
      ignore(f.string(), "written for another key");
      continue;
    }
    ClusterResult probe;
    probe.closure = header->closure;
    if (!valid_at(probe, repo, commit)) continue;  // another commit's entry: kept
    auto r = decode_entry(text);
    if (!r) {
      ignore(f.string(), r.error().message);
      continue;
    }
    fs::last_write_time(f, fs::file_time_type::clock::now(), ec);  // recently used: evicted last
    return std::make_shared<const ClusterResult>(std::move(*r));
  }
  return nullptr;
}

void DiscoveryCache::store(const std::string& key, std::shared_ptr<const ClusterResult> result) {
  {
    std::lock_guard lk(mu_);
    auto& v = memory_[key];
    v.push_back(result);
    if (v.size() > bounds_.max_entries_per_key) v.erase(v.begin());
  }
  if (dir_.empty()) return;
  try {
    write(key, *result);
  } catch (const std::exception& e) {  // the cache is an optimization: a failed write is only a warning
    spdlog::warn("discovery cache: writing under {}: {}", dir_, e.what());
  }
}

void DiscoveryCache::write(const std::string& key, const ClusterResult& r) {
  const std::string text = encode_entry(key, r);
  if (text.size() > bounds_.max_entry_bytes) return;
  const fs::path kdir = fs::path(dir_) / key;
  if (!core::ensure_private_dir(kdir.string())) return;
  const fs::path final_path = kdir / (core::sha256_hex(text.substr(0, text.find('\n'))).substr(0, 32) + ".entry");
  const fs::path tmp = kdir / (".tmp-" + random_suffix());
  std::error_code ec;
  if (!core::write_private_file(tmp.string(), text)) {
    fs::remove(tmp, ec);
    return;
  }
  fs::rename(tmp, final_path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return;
  }
  ++stored_;
  // Bounds: the oldest entries of this key beyond max_entries_per_key, then the oldest of the whole
  // directory beyond max_total_bytes.
  struct File {
    fs::path path;
    fs::file_time_type mtime;
    uint64_t size;
  };
  auto by_age = [](const File& a, const File& b) { return a.mtime > b.mtime; };
  std::vector<File> mine, all;
  for (const auto& kd : fs::directory_iterator(dir_, ec)) {
    if (!kd.is_directory(ec)) continue;
    for (const auto& e : fs::directory_iterator(kd.path(), ec)) {
      if (!e.is_regular_file(ec)) continue;
      File f{e.path(), e.last_write_time(ec), static_cast<uint64_t>(e.file_size(ec))};
      all.push_back(f);
      if (kd.path().filename() == key) mine.push_back(f);
    }
  }
  std::sort(mine.begin(), mine.end(), by_age);
  for (size_t i = bounds_.max_entries_per_key; i < mine.size(); ++i) {
    if (mine[i].path != final_path) fs::remove(mine[i].path, ec);
  }
  std::sort(all.begin(), all.end(), by_age);
  uint64_t total = 0;
  for (const auto& f : all) {
    if (!fs::exists(f.path, ec)) continue;
    total += f.size;
    if (total > bounds_.max_total_bytes && f.path != final_path) fs::remove(f.path, ec);
  }
}

DiscoveryCache::Stats DiscoveryCache::stats() const {
  return {hits_.load(), disk_reads_.load(), misses_.load(), stored_.load(), uncacheable_.load(), ignored_.load()};
}

}  // namespace helmgate::release
