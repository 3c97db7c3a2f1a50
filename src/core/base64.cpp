#include "core/base64.hpp"

#include <algorithm>
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

std::optional<std::string> base64_decode_canonical(std::string_view in, Base64Padding padding) {
  if (padding == Base64Padding::required) {
    if (in.size() % 4 != 0) return std::nullopt;
    size_t pad = 0;
    while (pad < 2 && pad < in.size() && in[in.size() - 1 - pad] == '=') ++pad;
    in.remove_suffix(pad);
  }
  const size_t rem = in.size() % 4;
  if (rem == 1) return std::nullopt;
  // A group of 2 (or 3) characters carries 4 (or 2) bits past its last byte: they must be zero.
  if (rem != 0) {
    const int last = sextet(in.back(), false);
    if (last < 0 || (last & (rem == 2 ? 0x0f : 0x03)) != 0) return std::nullopt;
  }
  return decode(in, false, [](char) { return false; });
}

std::string base64_decode_lenient(std::string_view in) {
  return *decode(in, true, [](char) { return true; });
}

std::string base64_encode(std::string_view in) {
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (size_t i = 0; i < in.size(); i += 3) {
    const size_t n = std::min<size_t>(3, in.size() - i);
    uint32_t v = 0;
    for (size_t k = 0; k < 3; ++k) v = (v << 8) | (k < n ? static_cast<uint8_t>(in[i + k]) : 0u);
    for (size_t k = 0; k < 4; ++k) out += k <= n ? kAlphabet[(v >> (18 - 6 * k)) & 63] : '=';
  }
  return out;
}

}  // namespace helmgate::core
