#include <catch2/catch.hpp>

#include <cstdlib>

#include "core/env.hpp"

using namespace helmgate;

// core::env_or is the one reader of the environment for engine (kubeconfig_env), runners (tool paths,
// cache) and config (secrets by variable name).
TEST_CASE("env_or returns the variable's value, or the fallback when it is unset or empty", "[unit][core]") {
  ::setenv("HELMGATE_UNIT_ENV_SET", "a value with = and spaces", 1);
  ::setenv("HELMGATE_UNIT_ENV_EMPTY", "", 1);
  ::unsetenv("HELMGATE_UNIT_ENV_UNSET");
  CHECK(core::env_or("HELMGATE_UNIT_ENV_SET") == "a value with = and spaces");
  CHECK(core::env_or("HELMGATE_UNIT_ENV_SET", "fallback") == "a value with = and spaces");
  CHECK(core::env_or("HELMGATE_UNIT_ENV_EMPTY", "fallback") == "fallback");
  CHECK(core::env_or("HELMGATE_UNIT_ENV_UNSET", "fallback") == "fallback");
  CHECK(core::env_or("HELMGATE_UNIT_ENV_UNSET").empty());
  CHECK(core::env_or("", "fallback") == "fallback");  // a configuration that names no variable
  // A name is not a pattern or a prefix.
  CHECK(core::env_or("HELMGATE_UNIT_ENV", "none") == "none");
  ::unsetenv("HELMGATE_UNIT_ENV_SET");
  ::unsetenv("HELMGATE_UNIT_ENV_EMPTY");
}
