#pragma once
// Reading the process environment: one helper for every folder (names of variables come from the
// configuration or are fixed; their values may be secrets, so callers never log them).
#include <string>
#include <string_view>

namespace helmgate::core {

// The value of environment variable `name`, or `fallback` when it is unset or empty (or name is empty).
std::string env_or(std::string_view name, std::string fallback = {});

}  // namespace helmgate::core
