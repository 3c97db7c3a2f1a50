#include "release/tenants.hpp"

#include "core/redact.hpp"
#include "release/yaml_util.hpp"

namespace helmgate::release {

using detail::scalar;

Sources::Sources(const git::Repository& self, std::string commit) {
  SourceTree t;
  t.repo = &self;
  t.commit = std::move(commit);
  trees_.push_back(std::move(t));
}

Sources::Opened Sources::open(const Doc& git_repository, const std::string& id, const OpenSource& open_source) {
  YAML::Node gspec = detail::get(git_repository.node, "spec");
  const std::string url = scalar(gspec, "url");
  YAML::Node ref = detail::get(gspec, "ref");
  std::string ref_kind, ref_value;
  for (const char* k : {"commit", "tag", "branch", "name", "semver"}) {
    if (!scalar(ref, k).empty()) {
      ref_kind = k;
      ref_value = scalar(ref, k);
      break;
    }
  }
  if (ref_kind.empty()) {
    ref_kind = "branch";
    ref_value = "master";  // Flux's default for a GitRepository without spec.ref
  }
  const std::string shown_url = core::redact_url(url);
  Opened out;
  out.label = "GitRepository " + id + " (" + shown_url + ", " + ref_kind + " " + ref_value + ")";
  const std::string cache_key = git::canonical_url(url) + "@" + ref_kind + "=" + ref_value;
  if (auto it = index_.find(cache_key); it != index_.end()) {
    out.index = it->second;
    return out;
  }
  auto skipped = [&](std::string why) {
    out.why = std::move(why);
    return out;
  };
  if (ref_kind == "semver") return skipped("selects a tag by semver range (not supported yet)");
  if (!open_source) return skipped("is not followed here (no repository access configured)");
  auto repo = open_source(url);
  if (!repo) return skipped("could not be fetched: " + repo.error().message);
  core::Result<std::string> commit = core::Error(core::errc::not_found, "");
  if (ref_kind == "commit") {
    commit = (*repo)->resolve(ref_value);
  } else if (ref_kind == "tag") {
    commit = (*repo)->resolve("refs/tags/" + ref_value);
  } else {
    commit = (*repo)->resolve(ref_value);
    if (!commit && ref_kind == "branch") commit = (*repo)->resolve("origin/" + ref_value);
  }
  if (!commit) return skipped("has no " + ref_kind + " '" + ref_value + "' (" + commit.error().message + ")");
  SourceTree t;
  t.owned = *repo;
  t.repo = t.owned.get();
  t.commit = *commit;
  t.prefix = shown_url + "@" + ref_value + "//";
  t.label = out.label;
  trees_.push_back(std::move(t));
  index_[cache_key] = trees_.size() - 1;
  out.index = trees_.size() - 1;
  return out;
}

}  // namespace helmgate::release
