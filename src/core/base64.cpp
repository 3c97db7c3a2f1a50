#include "core/base64.hpp"

#include <cctype>
#include <cstdint>

namespace helmgate::core {
namespace {

// The 6-bit value of c, or -1 when c is not in the alphabet (URL-safe '-' and '_' only when asked).
int sextet(char c, bool url_safe) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || (url_safe && c == '-')) return 62;
  if (c == '/' || (url_safe && c == '_')) return 63;
  return -1;
}

// Decodes; a character outside the alphabet is skipped when skip(c) says so, else decoding fails.
template <typename Skip>
std::optional<std::string> decode(std::string_view in, bool url_safe, Skip skip) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = sextet(c, url_safe);
    if (v < 0) {
      if (skip(c)) continue;
      return std::nullopt;
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> base64_decode(std::string_view in) {
  return decode(in, false, [](char c) { return c == '=' || std::isspace(static_cast<unsigned char>(c)) != 0; });
}

std::string base64_decode_lenient(std::string_view in) {
  return *decode(in, true, [](char) { return true; });
}

}  // namespace helmgate::core
