#pragma once
// The forge kinds helmgate speaks to, as one table. Everything that differs between forges and is not
// webhook- or client-specific is an entry's field here: the name in the configuration, the API URL
// defaults, whether GitHub App authentication applies, and how a pull request's web page is addressed.
// The webhook side of a kind is in handlers/webhooks/, its client in src/forge/kinds.cpp; adding a forge
// is one enum value, one entry in each of those three tables, a client class and a webhook parser file
// (README: "Adding a forge").
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace helmgate::core {

enum class ForgeKind { github, gitea };

struct ForgeKindInfo {
  ForgeKind kind;
  std::string_view name;             // forges[].kind in the configuration, and what logs and keys print
  std::string_view default_api_url;  // empty: forges[].api_url is required
  std::string_view api_url_example;  // for the error when it is required and missing
  bool github_app;                   // forges[].github_app is accepted
  // The forge's web root from its configured API URL (no trailing '/').
  std::string (*web_root)(std::string_view api_url);
  std::string_view pull_path;  // "<web root>/<owner>/<repo>/<pull_path>/<number>"
};

// Every kind, in enum order (a unit test checks that each enum value has exactly its entry).
std::span<const ForgeKindInfo> forge_kinds();
const ForgeKindInfo& forge_kind_info(ForgeKind k);

std::string_view to_string(ForgeKind k);
bool parse_forge_kind(std::string_view s, ForgeKind& out);
// "github or gitea": the accepted names, for messages.
std::string forge_kind_names();

// The web page of a pull request: https://github.com/o/r/pull/7, https://gitea.example/o/r/pulls/7.
std::string pull_request_web_url(ForgeKind k, std::string_view api_url, std::string_view repo, int64_t pr);

}  // namespace helmgate::core
