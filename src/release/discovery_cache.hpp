#pragma once
// Discovery, cache: what discovery found for one cluster, kept in memory and on disk (owner-only files
// under <cache dir>/discovery/), so a preview of an unchanged or barely changed repository does not parse
// it again. An entry is found by its key (everything that decides the result besides Git content: the
// cluster, the discovery options, the limits, helmgate's build and format version) and is valid at a
// commit where every path the discovery looked at (its input closure) has the same Git object id.
//
// Never cached (discover.cpp decides, cacheable()): a cluster whose discovery decrypted SOPS content or
// met any, read a Secret through valuesFrom or a postBuild substitution (Release::sensitive), opened a
// tenant repository, reported a problem, or whose result names the commit or the work directory. Entries
// are input from disk: parsed as strictly as Git content (discovery_codec.cpp), and one that is corrupt,
// truncated, oversized or another key's is ignored with a log line.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "release/release.hpp"
#include "release/source_tree.hpp"

namespace helmgate::release {

// One cluster's share of a Discovery, when nothing failed in it.
struct ClusterResult {
  std::vector<Release> releases;  // sorted by id, inputs narrowed
  std::vector<Problem> notes;
  std::vector<std::string> read_roots;
  std::map<std::string, std::string> unread;  // Discovery::unread entries of this cluster
  uint64_t parsed = 0;                        // files parsed (counted against limits.max_files again on a hit)
  // Every path looked at (no path below another one listed) and its object id at the commit; "" absent.
  std::vector<std::pair<std::string, std::string>> closure;
};

// Why a cluster's result may not be written to disk; "" when it may.
std::string uncacheable_reason(const ClusterResult& r);

// The input closure of a read log: the paths not below another path of the log, with their ids at the
// tree's commit (paths below a listed one are decided by its id).
std::vector<std::pair<std::string, std::string>> closure_of(const ReadLog& reads, const git::Repository& repo,
                                                            const std::string& commit);

// Everything besides Git content that decides a cluster's discovery, as a hex digest.
std::string discovery_key(const ClusterSpec& cluster, const DiscoverOptions& options);

// The entry format's name: in every entry's header and in every key, so entries of another format miss.
inline constexpr std::string_view kDiscoveryFormat = "helmgate-discovery-v2";

// The entry file's text (a header line with the key and the closure, then the result) and back.
std::string encode_entry(const std::string& key, const ClusterResult& r);
struct DecodedHeader {
  std::string key;
  std::vector<std::pair<std::string, std::string>> closure;
  size_t body = 0;  // offset of the result in the text
};
core::Result<DecodedHeader> decode_header(std::string_view text);
core::Result<ClusterResult> decode_entry(std::string_view text);

class DiscoveryCache {
 public:
  struct Bounds {
    uint64_t max_entry_bytes = 64ull << 20;   // one cluster's entry (larger ones are not stored, nor read)
    uint64_t max_total_bytes = 512ull << 20;  // the directory: oldest entries go first
    size_t max_entries_per_key = 4;           // commits whose closures differ, per cluster and options
  };
  // dir: where entries go (created owner-only); "" keeps them in memory only.
  explicit DiscoveryCache(std::string dir);
  DiscoveryCache(std::string dir, Bounds bounds);

  // An entry of `key` whose closure has the same ids at `commit`; null when there is none.
  std::shared_ptr<const ClusterResult> lookup(const std::string& key, const git::Repository& repo,
                                              const std::string& commit);
  void store(const std::string& key, std::shared_ptr<const ClusterResult> result);
  void count_uncacheable() { ++uncacheable_; }

  struct Stats {
    size_t hits = 0;         // clusters taken from the cache (memory or disk)
    size_t disk_reads = 0;   // of which read from disk
    size_t misses = 0;       // clusters discovered
    size_t stored = 0;       // entries written
    size_t uncacheable = 0;  // clusters not cached (secret material, tenants, problems)
    size_t ignored = 0;      // entries on disk ignored (corrupt, foreign, oversized)
  };
  Stats stats() const;
  const std::string& dir() const { return dir_; }

 private:
  bool valid_at(const ClusterResult& r, const git::Repository& repo, const std::string& commit) const;
  std::shared_ptr<const ClusterResult> from_disk(const std::string& key, const git::Repository& repo,
                                                 const std::string& commit);
  void write(const std::string& key, const ClusterResult& r);
  void ignore(const std::string& file, const std::string& why);

  std::string dir_;
  Bounds bounds_;
  mutable std::mutex mu_;
  std::map<std::string, std::vector<std::shared_ptr<const ClusterResult>>> memory_;
  // One disk read of a key at a time: base and head looking up the same cluster at once share one entry
  // (and so the same restored documents, which they then need not compare).
  std::map<std::string, std::shared_ptr<std::mutex>> reading_;
  std::atomic<size_t> hits_{0}, disk_reads_{0}, misses_{0}, stored_{0}, uncacheable_{0}, ignored_{0};
};

}  // namespace helmgate::release
