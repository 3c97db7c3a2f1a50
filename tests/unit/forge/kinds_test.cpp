// The client side of the forge-kind table: a factory for every kind, each making a client of its kind.
#include <catch2/catch.hpp>

#include "core/forge_kind.hpp"
#include "forge/kinds.hpp"

using namespace helmgate;

TEST_CASE("every forge kind has a client factory that makes a client of that kind", "[unit][forge]") {
  CHECK(forge::client_kinds().size() == core::forge_kinds().size());
  for (const auto& info : core::forge_kinds()) {
    INFO(info.name);
    forge::ForgeSettings s;
    s.name = "f-" + std::string(info.name);
    s.kind = info.kind;
    s.api_url = info.default_api_url.empty() ? std::string(info.api_url_example) : std::string(info.default_api_url);
    s.token = "tok";
    auto c = forge::make_client(s, {});
    REQUIRE(c.ok());
    CHECK((*c)->kind() == info.kind);
    CHECK((*c)->name() == s.name);

    s.token.clear();  // a client without credentials is refused by its own factory
    auto bare = forge::make_client(s, {});
    REQUIRE_FALSE(bare.ok());
    CHECK(bare.error().code == core::make_error_code(core::errc::invalid_config));
  }
}
