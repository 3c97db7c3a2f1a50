#include "release/own_inputs.hpp"

#include <algorithm>
#include <map>
#include <optional>

namespace helmgate::release {

namespace {

using Object = ObjectName;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_kustomization_file(const std::string& path) {
  std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  return base == "kustomization.yaml" || base == "kustomization.yml" || base == "Kustomization";
}

// The whole objects a file declares; nullopt when it is not only whole objects (or cannot be read), so
// the file is kept for every release. Read from what discovery parsed when it can, else from Git.
FileObjects objects_of(const git::Repository& repo, const std::string& commit, const std::string& path,
                       const ParseBudget* parsed) {
  if (!ends_with(path, ".yaml") && !ends_with(path, ".yml")) return std::nullopt;
  if (path.find("//") != std::string::npos) return std::nullopt;  // a tenant repository's file
  if (parsed != nullptr) {
    if (const FileObjects* known = parsed->objects(path)) return *known;
  }
  auto text = repo.read_file(commit, path);
  if (!text.ok() || !text->has_value()) return std::nullopt;
  FileObjects out;
  parse_documents(path, **text, &out);
  return out;
}

bool belongs(const Release& r, const Object& o) {
  if (o.kind == "HelmRelease" || o.kind == "FluxHelmRelease") return o.name == r.name;
  if (o.kind == "Kustomization" && o.api_version.rfind("kustomize.toolkit.fluxcd.io/", 0) == 0) return true;
  for (const auto& v : r.values_from) {
    if (v.kind == o.kind && v.name == o.name) return true;
  }
  return false;
}

}  // namespace

void narrow_inputs(const git::Repository& repo, const std::string& commit, std::vector<Release>& releases,
                   const ParseBudget* parsed) {
  std::map<std::string, FileObjects> files;
  for (auto& r : releases) {
    if (r.where.file.empty()) continue;
    std::vector<std::string> keep;
    for (const auto& f : r.inputs) {
      bool own = f == r.where.file || f == r.chart.source.file || is_kustomization_file(f);
      if (!own) {
        auto it = files.find(f);
        if (it == files.end()) it = files.emplace(f, objects_of(repo, commit, f, parsed)).first;
        own = !it->second || std::any_of(it->second->begin(), it->second->end(),
                                          [&](const Object& o) { return belongs(r, o); });
      }
      if (own) keep.push_back(f);
    }
    r.inputs = std::move(keep);
  }
}

}  // namespace helmgate::release
