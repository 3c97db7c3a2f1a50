#include "core/forge_kind.hpp"

#include <array>

namespace helmgate::core {
namespace {

std::string trimmed(std::string_view url) {
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  return std::string(url);
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// api.github.com serves github.com; GitHub Enterprise Server serves its API under <host>/api/v3.
std::string github_web_root(std::string_view api_url) {
  std::string base = trimmed(api_url);
  if (base.find("api.github.com") != std::string::npos) return "https://github.com";
  if (auto p = base.rfind("/api/v3"); p != std::string::npos) base.resize(p);
  return base;
}

// Gitea's api_url is the host, or the host with /api/v1 (both are accepted, see GiteaClient::create).
std::string gitea_web_root(std::string_view api_url) {
  std::string base = trimmed(api_url);
  if (ends_with(base, "/api/v1")) base.resize(base.size() - std::string_view("/api/v1").size());
  return base;
}

constexpr std::array<ForgeKindInfo, 2> kKinds = {{
    {ForgeKind::github, "github", "https://api.github.com", "https://api.github.com", true, github_web_root, "pull"},
    {ForgeKind::gitea, "gitea", "", "https://gitea.example.com/api/v1", false, gitea_web_root, "pulls"},
}};

}  // namespace

std::span<const ForgeKindInfo> forge_kinds() { return kKinds; }

const ForgeKindInfo& forge_kind_info(ForgeKind k) {
  for (const auto& info : kKinds) {
    if (info.kind == k) return info;
  }
  return kKinds.front();  // unreachable while every enum value has its entry (checked by unit_core)
}

std::string_view to_string(ForgeKind k) { return forge_kind_info(k).name; }

bool parse_forge_kind(std::string_view s, ForgeKind& out) {
  for (const auto& info : kKinds) {
    if (info.name == s) {
      out = info.kind;
      return true;
    }
  }
  return false;
}

std::string forge_kind_names() {
  std::string out;
  for (size_t i = 0; i < kKinds.size(); ++i) {
    if (i > 0) out += i + 1 == kKinds.size() ? " or " : ", ";
    out += kKinds[i].name;
  }
  return out;
}

std::string pull_request_web_url(ForgeKind k, std::string_view api_url, std::string_view repo, int64_t pr) {
  const auto& info = forge_kind_info(k);
  return info.web_root(api_url) + "/" + std::string(repo) + "/" + std::string(info.pull_path) + "/" +
         std::to_string(pr);
}

}  // namespace helmgate::core
