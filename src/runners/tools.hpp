#pragma once
// Where the runners find their external tools and settings.
#include <string>

namespace helmgate::runners {

// The environment variable's value, or fallback when it is unset or empty.
std::string env_or(const char* name, const std::string& fallback);

// The path in $<env> when set, else the first executable <name> on $PATH; "" when there is none.
std::string find_tool(const char* env, const char* name);

}  // namespace helmgate::runners
