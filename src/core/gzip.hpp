#pragma once
// Gunzip with a bound on what it produces: a gzip bomb stops at the bound instead of filling memory.
#include <cstddef>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace helmgate::core {

// `what` names the data in errors ("the release record", "the chart archive"), `where` where it came from.
// errc::payload_too_large past max_out; errc::bad_request for data that is not gzip, truncated or corrupt.
Result<std::string> gunzip_bounded(std::string_view gz, size_t max_out, const std::string& where,
                                   const std::string& what);

}  // namespace helmgate::core
