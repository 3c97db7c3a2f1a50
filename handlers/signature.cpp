#include "handlers/signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <memory>
#include <new>
#include <span>
#include <stdexcept>

namespace helmgate::handlers {
namespace {

int hex_nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

using Digest = std::array<unsigned char, 32>;

// SHA-256 fetched once: HMAC() and EVP_sha256() look the algorithm up in the provider on every call,
// which costs more than hashing a whole webhook payload.
const EVP_MD* sha256() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) throw std::runtime_error("OpenSSL has no SHA256");
  return md;
}

void digest(EVP_MD_CTX* ctx, std::span<const unsigned char> a, std::string_view b, unsigned char* out) {
  unsigned int len = 0;
  if (EVP_DigestInit_ex(ctx, sha256(), nullptr) != 1 || EVP_DigestUpdate(ctx, a.data(), a.size()) != 1 ||
      EVP_DigestUpdate(ctx, b.data(), b.size()) != 1 || EVP_DigestFinal_ex(ctx, out, &len) != 1) {
    throw std::runtime_error("SHA256 failed");
  }
}

// HMAC-SHA256 as RFC 2104 defines it: H((K ^ opad) || H((K ^ ipad) || body)).
Digest hmac(std::string_view secret, std::string_view body) {
  constexpr size_t kBlock = 64;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx) throw std::bad_alloc();
  std::array<unsigned char, kBlock> key{}, pad{};
  if (secret.size() > kBlock) {
    digest(ctx.get(), {}, secret, key.data());
  } else {
    std::copy(secret.begin(), secret.end(), key.begin());
  }
  Digest inner{}, out{};
  for (size_t i = 0; i < kBlock; ++i) pad[i] = key[i] ^ 0x36;
  digest(ctx.get(), pad, body, inner.data());
  for (size_t i = 0; i < kBlock; ++i) pad[i] = key[i] ^ 0x5c;
  const std::string_view inner_bytes(reinterpret_cast<const char*>(inner.data()), inner.size());
  digest(ctx.get(), pad, inner_bytes, out.data());
  OPENSSL_cleanse(key.data(), key.size());
  OPENSSL_cleanse(pad.data(), pad.size());
  return out;
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
  Digest given{};
  for (size_t i = 0; i < given.size(); ++i) {
    int hi = hex_nibble(provided[2 * i]);
    int lo = hex_nibble(provided[2 * i + 1]);
    if (hi < 0 || lo < 0) return fail("signature is not hexadecimal");
    given[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  Digest expected = hmac(secret, body);
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
  Digest d = hmac(secret, body);
  static const char* hex = "0123456789abcdef";
  std::string out = "sha256=";
  for (unsigned char c : d) {
    out += hex[c >> 4];
    out += hex[c & 0xf];
  }
  return out;
}

}  // namespace helmgate::handlers
