#pragma once
// Live objects for the drift scan, read by list where that saves requests: a namespace that holds many of
// the scan's releases has its objects of one type read with one list (page by page) the first time one of
// them is wanted, instead of a GET per object. A listed object is only a first read: live_drift keeps its
// verdict only when the dry-run answer carries the same resourceVersion (the object did not change since
// the list), reads it again with a GET otherwise, and confirms with a GET every object the list did not
// have (missing) or that is no longer the release's own (not-owned). Secrets are never listed (their
// values, and Helm's records, would be read for nothing); a list the identity may not make, or one past
// the bounds, falls back to GETs for that namespace and type.
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "kube/client.hpp"

namespace helmgate::engine {

struct LiveReadOptions {
  size_t min_releases = 8;            // a namespace with fewer of the scan's releases: a GET per object
  size_t max_items = 5'000;           // per namespace and type; past it: GETs
  size_t max_bytes = 64u << 20;       // all lists of the cluster together; past it: GETs
  size_t page_size = 250;
};

// Where a live object came from.
enum class LiveSource { get, list };

struct LiveRead {
  std::optional<std::string> json;  // the object as GET returns it; nullopt: the read found none
  LiveSource source = LiveSource::get;
};

class LiveReads {
 public:
  // releases_per_namespace: how many releases the scan compares in each target namespace.
  LiveReads(kube::Client& client, std::map<std::string, size_t> releases_per_namespace, LiveReadOptions options = {});
  LiveReads(const LiveReads&) = delete;
  LiveReads& operator=(const LiveReads&) = delete;

  // The live object: from the list of its namespace and type when there is one, else a GET (counted in
  // gets). ref.namespace_ already resolved (empty for a cluster-scoped type).
  core::Result<LiveRead> read(const kube::ObjectRef& ref, const kube::ResourceType& type);

  size_t gets() const;
  size_t lists() const;   // list pages requested
  size_t list_hits() const;

 private:
  struct Listing {
    std::mutex mu;
    bool done = false;
    bool usable = false;                         // false: the list failed or was too large: GETs
    std::map<std::string, std::string> objects;  // name -> JSON as GET returns it
  };
  std::shared_ptr<Listing> listing(const std::string& namespace_, const kube::ResourceType& type);
  void fill(Listing& l, const std::string& namespace_, const kube::ResourceType& type);

  kube::Client& client_;
  std::map<std::string, size_t> per_namespace_;
  LiveReadOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Listing>> listings_;  // "<namespace>/<group>/<plural>"
  size_t bytes_ = 0;
  size_t gets_ = 0, pages_ = 0, hits_ = 0;
};

}  // namespace helmgate::engine
