#include "core/hmac.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <memory>
#include <span>
#include <stdexcept>

namespace helmgate::core {
namespace {

const EVP_MD* sha256_md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) throw std::runtime_error("OpenSSL has no SHA256");
  return md;
}

// SHA-256 of a || b into out.
void digest(EVP_MD_CTX* ctx, std::span<const unsigned char> a, std::string_view b, unsigned char* out) {
  unsigned int len = 0;
  if (EVP_DigestInit_ex(ctx, sha256_md(), nullptr) != 1 || EVP_DigestUpdate(ctx, a.data(), a.size()) != 1 ||
      EVP_DigestUpdate(ctx, b.data(), b.size()) != 1 || EVP_DigestFinal_ex(ctx, out, &len) != 1) {
    throw std::runtime_error("SHA256 failed");
  }
}

}  // namespace

Sha256Digest sha256(std::string_view data) {
  Sha256Digest out{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, sha256_md(), nullptr) != 1) {
    throw std::runtime_error("SHA256 failed");
  }
  return out;
}

// H((K ^ opad) || H((K ^ ipad) || data)), K the key padded to SHA-256's 64-byte block (hashed first
// when longer).
Sha256Digest hmac_sha256(std::string_view key, std::string_view data) {
  constexpr size_t kBlock = 64;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx) throw std::runtime_error("out of memory for a SHA256 context");
  std::array<unsigned char, kBlock> k{}, pad{};
  if (key.size() > kBlock) {
    digest(ctx.get(), {}, key, k.data());
  } else {
    std::copy(key.begin(), key.end(), k.begin());
  }
  Sha256Digest inner{}, out{};
  for (size_t i = 0; i < kBlock; ++i) pad[i] = k[i] ^ 0x36;
  digest(ctx.get(), pad, data, inner.data());
  for (size_t i = 0; i < kBlock; ++i) pad[i] = k[i] ^ 0x5c;
  digest(ctx.get(), pad, std::string_view(reinterpret_cast<const char*>(inner.data()), inner.size()), out.data());
  OPENSSL_cleanse(k.data(), k.size());
  OPENSSL_cleanse(pad.data(), pad.size());
  return out;
}

}  // namespace helmgate::core
