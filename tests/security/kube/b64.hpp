#pragma once
// Standard base64 (with padding) for the tests: what a leaked Secret value would look like.
#include <string>

namespace helmgate::test {

inline std::string b64(const std::string& s) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  auto byte = [&](size_t i) { return i < s.size() ? static_cast<unsigned>(static_cast<unsigned char>(s[i])) : 0u; };
  std::string out;
  for (size_t i = 0; i < s.size(); i += 3) {
    unsigned n = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out += a[n >> 18];
    out += a[(n >> 12) & 63];
    out += i + 1 < s.size() ? a[(n >> 6) & 63] : '=';
    out += i + 2 < s.size() ? a[n & 63] : '=';
  }
  return out;
}

}  // namespace helmgate::test
