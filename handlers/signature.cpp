#include "handlers/signature.hpp"

#include "core/hmac.hpp"

#include <openssl/crypto.h>

namespace helmgate::handlers {
namespace {

int hex_nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool verify_hmac_sha256(std::string_view secret, std::string_view body, std::string_view provided,
                        bool require_prefix, std::string* why) {
  auto fail = [&](const char* reason) {
    if (why != nullptr) *why = reason;
    return false;
  };
  constexpr std::string_view prefix = "sha256=";
  if (provided.substr(0, prefix.size()) == prefix) {
    provided.remove_prefix(prefix.size());
  } else if (require_prefix) {
    return fail("signature header must start with 'sha256='");
  }
  if (provided.size() != 64) return fail("signature must be 64 hex digits of HMAC-SHA256");
  core::Sha256Digest given{};
  for (size_t i = 0; i < given.size(); ++i) {
    int hi = hex_nibble(provided[2 * i]);
    int lo = hex_nibble(provided[2 * i + 1]);
    if (hi < 0 || lo < 0) return fail("signature is not hexadecimal");
    given[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  core::Sha256Digest expected = core::hmac_sha256(secret, body);
  // CRYPTO_memcmp takes the same time wherever the first difference is.
  if (CRYPTO_memcmp(given.data(), expected.data(), expected.size()) != 0) {
    return fail("signature does not match the payload (check the webhook secret)");
  }
  return true;
}

bool verify_hmac_headers(const HeaderLookup& header, std::span<const SignatureHeader> headers, std::string_view secret,
                         std::string_view body, std::string* why) {
  for (const auto& h : headers) {
    std::string value = header(h.name);
    if (!value.empty()) return verify_hmac_sha256(secret, body, value, h.require_prefix, why);
  }
  if (why != nullptr) {
    std::string names;
    for (const auto& h : headers) names += (names.empty() ? "" : " or ") + std::string(h.name);
    *why = "missing " + names + " header";
  }
  return false;
}

std::string sign_sha256(std::string_view secret, std::string_view body) {
  core::Sha256Digest d = core::hmac_sha256(secret, body);
  static const char* hex = "0123456789abcdef";
  std::string out = "sha256=";
  for (unsigned char c : d) {
    out += hex[c >> 4];
    out += hex[c & 0xf];
  }
  return out;
}

}  // namespace helmgate::handlers
