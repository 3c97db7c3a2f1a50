#include "render/chart_dir.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "core/files.hpp"
#include "core/redact.hpp"
#include "core/yaml_bounded.hpp"

namespace fs = std::filesystem;

namespace helmgate::render {

core::Result<void> check_chart_dir(const std::string& dir, const std::string& shown) {
  std::error_code ec;
  fs::path root = fs::path(dir).lexically_normal();
  if (fs::is_symlink(fs::symlink_status(root, ec))) {
    return core::Error(core::errc::forbidden, "chart " + shown + " is a symlink; refusing to follow it");
  }
  if (!fs::is_directory(root, ec)) {
    return core::Error(core::errc::not_found, "chart " + shown + ": directory not found");
  }
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::none, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (it->is_symlink(ec)) {
      return core::Error(core::errc::forbidden,
                         "chart " + shown + ": refusing symlink " +
                             fs::path(it->path()).lexically_relative(root).string() +
                             " (chart files are untrusted; a symlink could read files outside the chart)");
    }
  }
  for (const char* meta : {"Chart.yaml", "requirements.yaml"}) {
    fs::path p = root / meta;
    if (!fs::exists(p, ec)) continue;
    YAML::Node doc;
    try {
      doc = core::yaml::load_file(p.string());
    } catch (const YAML::Exception& e) {
      return core::Error(core::errc::bad_request, "chart " + shown + "/" + meta + ":" +
                                                      std::to_string(e.mark.line + 1) + ":" +
                                                      std::to_string(e.mark.column + 1) + ": " + e.msg);
    }
    if (!doc.IsMap() || !doc["dependencies"] || !doc["dependencies"].IsSequence()) continue;
    for (const auto& dep : doc["dependencies"]) {
      if (!dep.IsMap() || !dep["repository"] || !dep["repository"].IsScalar()) continue;
      std::string repo = dep["repository"].as<std::string>();
      if (repo.rfind("file://", 0) != 0) continue;
      fs::path target = (root / repo.substr(7)).lexically_normal();
      auto rel = target.lexically_relative(root);
      if (rel.empty() || *rel.begin() == "..") {
        return core::Error(core::errc::forbidden,
                           "chart " + shown + "/" + meta + ": dependency repository '" + repo +
                               "' leaves the chart directory; vendor the dependency under charts/ instead");
      }
    }
  }
  return {};
}

std::string hash_dir(const std::string& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (ec) break;
    if (it->is_regular_file(ec)) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  std::string acc;
  for (const auto& f : files) {
    acc += f.lexically_relative(dir).string();
    acc += '\0';
    acc += core::sha256_hex(core::read_file(f.string()).value_or(""));
    acc += '\n';
  }
  return core::sha256_hex(acc);
}

}  // namespace helmgate::render
