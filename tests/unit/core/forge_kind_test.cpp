// The forge-kind table: one entry per enum value, names as the configuration writes them, and the web
// address of a pull request per kind.
#include <catch2/catch.hpp>

#include "core/forge_kind.hpp"

using namespace helmgate;

TEST_CASE("every forge kind has exactly its table entry, in enum order", "[unit][core]") {
  auto kinds = core::forge_kinds();
  REQUIRE(kinds.size() >= 2);
  for (size_t i = 0; i < kinds.size(); ++i) {
    INFO(kinds[i].name);
    CHECK(static_cast<size_t>(kinds[i].kind) == i);
    CHECK(&core::forge_kind_info(kinds[i].kind) == &kinds[i]);
    core::ForgeKind back{};
    REQUIRE(core::parse_forge_kind(kinds[i].name, back));
    CHECK(back == kinds[i].kind);
    CHECK(core::to_string(kinds[i].kind) == kinds[i].name);
    CHECK(kinds[i].web_root != nullptr);
    CHECK_FALSE(kinds[i].pull_path.empty());
    CHECK_FALSE(kinds[i].api_url_example.empty());
  }
  core::ForgeKind k = core::ForgeKind::gitea;
  CHECK_FALSE(core::parse_forge_kind("GitHub", k));
  CHECK_FALSE(core::parse_forge_kind("", k));
  CHECK(k == core::ForgeKind::gitea);  // untouched on failure
  CHECK(core::forge_kind_names() == "github or gitea");
}

TEST_CASE("pull request web addresses per forge kind", "[unit][core]") {
  using core::ForgeKind;
  CHECK(core::pull_request_web_url(ForgeKind::github, "https://api.github.com", "o/r", 7) ==
        "https://github.com/o/r/pull/7");
  CHECK(core::pull_request_web_url(ForgeKind::github, "https://api.github.com/", "o/r", 7) ==
        "https://github.com/o/r/pull/7");
  CHECK(core::pull_request_web_url(ForgeKind::github, "https://ghe.example.com/api/v3", "o/r", 7) ==
        "https://ghe.example.com/o/r/pull/7");
  CHECK(core::pull_request_web_url(ForgeKind::gitea, "http://git.local:3000/", "o/r", 7) ==
        "http://git.local:3000/o/r/pulls/7");
  // Gitea's api_url may name the API root (as config/examples/helmgate.yaml does): the page is on the host.
  CHECK(core::pull_request_web_url(ForgeKind::gitea, "http://127.0.0.1:3000/api/v1", "o/r", 7) ==
        "http://127.0.0.1:3000/o/r/pulls/7");
  CHECK(core::pull_request_web_url(ForgeKind::gitea, "https://git.example/sub/api/v1/", "o/r", 12) ==
        "https://git.example/sub/o/r/pulls/12");
}
