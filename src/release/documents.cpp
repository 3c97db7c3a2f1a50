#include "release/documents.hpp"

#include <filesystem>
#include <set>

#include "core/limits.hpp"
#include "core/yaml_bounded.hpp"
#include "release/yaml_util.hpp"

namespace fs = std::filesystem;

namespace helmgate::release {

std::variant<Docs, ParseFailure> parse_documents(const std::string& path, const std::string& text,
                                                 FileObjects* objects) {
  Docs out;
  std::vector<ObjectName> names;
  bool whole = true;
  try {
    for (auto& n : core::yaml::load_all(text)) {
      if (n.IsNull()) continue;
      if (!n.IsMap()) {
        whole = false;
        continue;
      }
      if (objects != nullptr && whole) {
        ObjectName o{detail::scalar(n, "apiVersion"), detail::scalar(n, "kind"),
                     detail::scalar(detail::get(n, "metadata"), "name")};
        if (o.kind.empty() || o.name.empty()) whole = false;
        names.push_back(std::move(o));
      }
      out.push_back({n, path, n.Mark().line + 1, {}, nullptr});
    }
  } catch (const core::yaml::LimitExceeded& e) {
    if (objects != nullptr) *objects = std::nullopt;
    return ParseFailure{e.msg, {path, e.mark.line + 1, e.mark.column + 1}};
  } catch (const YAML::Exception& e) {
    if (objects != nullptr) *objects = std::nullopt;
    return ParseFailure{"invalid YAML: " + e.msg, {path, e.mark.line + 1, e.mark.column + 1}};
  }
  if (objects != nullptr) {
    *objects = std::nullopt;
    if (whole && !names.empty()) *objects = std::move(names);
  }
  return out;
}

std::variant<Docs, ParseFailure> ParseBudget::parse(const std::string& path, const std::string& text) {
  if (++parsed_ > max_) {
    return ParseFailure{"the repository has more than " + core::with_commas(max_) +
                            " YAML files to read (limits.max_files); split it or raise the limit",
                        {path, 0, 0}};
  }
  return parse_documents(path, text);
}

std::variant<Docs, ParseFailure> ParseBudget::parse_file(const std::string& prefix, const std::string& path,
                                                         const std::string& text) {
  if (parsed_ >= max_) return parse(path, text);  // fails, naming the limit
  ++parsed_;
  FileObjects objects;
  auto parsed = parse_documents(path, text, &objects);
  files_.emplace(prefix + path, std::move(objects));
  return parsed;
}

std::string clean_path(std::string p) {
  while (p.rfind("./", 0) == 0) p.erase(0, 2);
  while (!p.empty() && p.front() == '/') p.erase(0, 1);
  while (!p.empty() && p.back() == '/') p.pop_back();
  if (p == ".") p.clear();
  const std::string normal = fs::path(p).lexically_normal().generic_string();
  return normal == "." ? std::string() : normal;
}

std::string join_path(const std::string& dir, const std::string& rel) {
  if (dir.empty()) return clean_path(rel);
  return clean_path((fs::path(dir) / rel).lexically_normal().generic_string());
}

bool is_yaml_path(const std::string& p) {
  return p.size() > 5 && (p.compare(p.size() - 5, 5, ".yaml") == 0 || p.compare(p.size() - 4, 4, ".yml") == 0);
}

std::shared_ptr<const Docs> DocCache::get(const std::string& key) {
  std::lock_guard lk(mu_);
  auto it = docs_.find(key);
  return it == docs_.end() ? nullptr : it->second;
}

void DocCache::put(const std::string& key, std::shared_ptr<const Docs> docs) {
  std::lock_guard lk(mu_);
  docs_[key] = std::move(docs);
}

std::shared_ptr<DocCache> make_doc_cache() { return std::make_shared<DocCache>(); }

namespace {
std::string object_key(const std::string& kind, const std::string& ns, const std::string& name) {
  return kind + "/" + ns + "/" + name;
}
}  // namespace

void ObjectIndex::add(const Doc& d) {
  static const std::set<std::string> kinds = {"HelmRepository", "GitRepository", "OCIRepository", "ConfigMap",
                                              "Secret", "ArtifactGenerator", "HelmChart"};
  const std::string kind = detail::scalar(d.node, "kind");
  if (kinds.count(kind) == 0) return;
  YAML::Node md = detail::get(d.node, "metadata");
  // erase + emplace: assigning over a Doc would write through the YAML::Node into a cached document.
  const std::string key = object_key(kind, detail::scalar(md, "namespace"), detail::scalar(md, "name"));
  objects_.erase(key);
  objects_.emplace(key, d);
}

const Doc* ObjectIndex::find(const std::string& kind, const std::string& ns, const std::string& name) const {
  auto it = objects_.find(object_key(kind, ns, name));
  if (it == objects_.end() && ns.empty()) it = objects_.find(object_key(kind, "default", name));
  if (it == objects_.end()) it = objects_.find(object_key(kind, "", name));
  return it == objects_.end() ? nullptr : &it->second;
}

std::vector<const Doc*> ObjectIndex::all(const std::string& kind) const {
  std::vector<const Doc*> out;
  for (const auto& [key, d] : objects_) {
    if (key.rfind(kind + "/", 0) == 0) out.push_back(&d);
  }
  return out;
}

}  // namespace helmgate::release
