#pragma once
// Gunzip with a bound on what it produces: a gzip bomb stops at the bound instead of filling memory.
#include <cstddef>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace helmgate::core {

// Whether `bytes` begin as a gzip member does (RFC 1952's two identification bytes, 1f 8b).
inline bool starts_gzip(std::string_view bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

// `what` names the data in errors ("the release record", "the chart archive"), `where` where it came from.
// errc::payload_too_large past max_out; errc::bad_request for data that is not gzip, truncated or corrupt.
Result<std::string> gunzip_bounded(std::string_view gz, size_t max_out, const std::string& where,
                                   const std::string& what);

}  // namespace helmgate::core
