#include "engine/drift_reads.hpp"

#include "core/json.hpp"
#include "kube/list.hpp"

namespace helmgate::engine {

namespace {

std::string group_version(const kube::ResourceType& t) { return t.group.empty() ? t.version : t.group + "/" + t.version; }

// A list item as GET returns the object: the API server leaves kind and apiVersion out of the items of a
// typed list; they come first, as in a GET's answer.
std::string as_object_json(const core::json::Value& item, const kube::ResourceType& type) {
  rapidjson::StringBuffer sb;
  core::json::Writer w(sb);
  w.StartObject();
  if (!item.HasMember("kind")) core::json::kv(w, "kind", type.kind);
  if (!item.HasMember("apiVersion")) core::json::kv(w, "apiVersion", group_version(type));
  for (const auto& m : item.GetObject()) {
    w.Key(m.name.GetString(), m.name.GetStringLength());
    m.value.Accept(w);
  }
  w.EndObject();
  return {sb.GetString(), sb.GetSize()};
}

}  // namespace

LiveReads::LiveReads(kube::Client& client, std::map<std::string, size_t> releases_per_namespace, LiveReadOptions options)
    : client_(client), per_namespace_(std::move(releases_per_namespace)), options_(options) {}

size_t LiveReads::gets() const {
  std::lock_guard lock(mu_);
  return gets_;
}

size_t LiveReads::lists() const {
  std::lock_guard lock(mu_);
  return pages_;
}

size_t LiveReads::list_hits() const {
  std::lock_guard lock(mu_);
  return hits_;
}

std::shared_ptr<LiveReads::Listing> LiveReads::listing(const std::string& namespace_, const kube::ResourceType& type) {
  if (namespace_.empty() || !type.namespaced || (type.group.empty() && type.kind == "Secret")) return nullptr;
  auto n = per_namespace_.find(namespace_);
  if (n == per_namespace_.end() || n->second < options_.min_releases) return nullptr;
  std::lock_guard lock(mu_);
  auto& l = listings_[namespace_ + "/" + type.group + "/" + type.plural];
  if (!l) l = std::make_shared<Listing>();
  return l;
}

void LiveReads::fill(Listing& l, const std::string& namespace_, const kube::ResourceType& type) {
  kube::ListRequest req;
  req.group_version_path = type.group.empty() ? "/api/" + type.version : "/apis/" + type.group + "/" + type.version;
  req.plural = type.plural;
  req.namespace_ = namespace_;
  req.page_size = options_.page_size;
  req.max_items = options_.max_items;
  size_t pages = 0, bytes = 0;
  bool over = false;
  auto ok = kube::list_objects(client_, req, [&](const core::json::Value& item) -> core::Result<void> {
    std::string name = kube::str_at(item, "metadata.name");
    if (name.empty()) return {};
    std::string json = as_object_json(item, type);
    bytes += json.size() + name.size();
    {
      std::lock_guard lock(mu_);
      if (bytes_ + bytes > options_.max_bytes) over = true;
    }
    if (over) return core::Error(core::errc::payload_too_large, "the list is larger than the scan reads by list");
    l.objects.emplace(std::move(name), std::move(json));
    return {};
  }, &pages);
  std::lock_guard lock(mu_);
  pages_ += pages;
  l.done = true;
  l.usable = ok.ok();
  if (l.usable) {
    bytes_ += bytes;
  } else {
    l.objects.clear();  // forbidden, too large, unreachable: GETs say what is wrong, object by object
  }
}

core::Result<LiveRead> LiveReads::read(const kube::ObjectRef& ref, const kube::ResourceType& type) {
  if (auto l = listing(ref.namespace_, type)) {
    std::lock_guard wait(l->mu);  // the first reader lists; the others wait for it
    if (!l->done) fill(*l, ref.namespace_, type);
    if (l->usable) {
      if (auto it = l->objects.find(ref.name); it != l->objects.end()) {
        std::lock_guard lock(mu_);
        ++hits_;
        return LiveRead{it->second, LiveSource::list};
      }
      // Not in the list: a GET says whether it is gone (or was created since).
    }
  }
  {
    std::lock_guard lock(mu_);
    ++gets_;
  }
  auto live = client_.get(ref);
  if (!live) return live.error();
  return LiveRead{std::move(*live), LiveSource::get};
}

}  // namespace helmgate::engine
