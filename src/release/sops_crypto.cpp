#include "release/sops_crypto.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <memory>

namespace helmgate::release::sops::crypto {

namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

// Fetched once: OpenSSL 3 looks an algorithm up in its providers at every implicit EVP_aes_256_gcm() init,
// which costs more than decrypting a short value.
const EVP_CIPHER* cipher(const char* name) {
  static EVP_CIPHER* aes = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  static EVP_CIPHER* chacha = EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
  const std::string_view n(name);
  if (n == "AES-256-GCM") return aes != nullptr ? aes : EVP_aes_256_gcm();
  return chacha != nullptr ? chacha : EVP_chacha20_poly1305();
}

const unsigned char* u(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// An AEAD open: cipher with key, nonce of nonce.size() bytes, aad, ciphertext, tag.
std::optional<std::string> aead_open(const EVP_CIPHER* cipher, std::string_view key, std::string_view nonce,
                                     std::string_view ct, std::string_view tag, std::string_view aad) {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx || tag.size() != 16) return std::nullopt;
  if (EVP_DecryptInit_ex(ctx.get(), cipher, nullptr, nullptr, nullptr) != 1) return std::nullopt;
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_IVLEN, static_cast<int>(nonce.size()), nullptr) != 1) {
    return std::nullopt;
  }
  if (EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, u(key), u(nonce)) != 1) return std::nullopt;
  int len = 0;
  if (!aad.empty() && EVP_DecryptUpdate(ctx.get(), nullptr, &len, u(aad), static_cast<int>(aad.size())) != 1) {
    return std::nullopt;
  }
  std::string out(ct.size() + 16, '\0');
  int n = 0;
  if (!ct.empty() &&
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &n, u(ct), static_cast<int>(ct.size())) != 1) {
    return std::nullopt;
  }
  std::string t(tag);
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, 16, t.data()) != 1) return std::nullopt;
  int fin = 0;
  if (EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + n, &fin) != 1) {
    wipe(out);
    return std::nullopt;
  }
  out.resize(static_cast<size_t>(n + fin));
  return out;
}

}  // namespace

std::optional<Key32> x25519_public(const Key32& secret) {
  Pkey key(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, secret.data(), secret.size()));
  if (!key) return std::nullopt;
  Key32 pub{};
  size_t len = pub.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), pub.data(), &len) != 1 || len != pub.size()) return std::nullopt;
  return pub;
}

std::optional<Key32> x25519(const Key32& secret, const Key32& peer_public) {
  Pkey key(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, secret.data(), secret.size()));
  Pkey peer(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer_public.data(), peer_public.size()));
  if (!key || !peer) return std::nullopt;
  PkeyCtx ctx(EVP_PKEY_CTX_new(key.get(), nullptr));
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) != 1) {
    return std::nullopt;
  }
  Key32 shared{};
  size_t len = shared.size();
  // OpenSSL refuses an all-zero result itself; the check below keeps that promise whatever the version.
  if (EVP_PKEY_derive(ctx.get(), shared.data(), &len) != 1 || len != shared.size()) return std::nullopt;
  unsigned char acc = 0;
  for (uint8_t b : shared) acc |= b;
  if (acc == 0) return std::nullopt;
  return shared;
}

Key32 hkdf_sha256(std::string_view ikm, std::string_view salt, std::string_view info) {
  Key32 out{};
  PkeyCtx ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr));
  size_t len = out.size();
  // An empty salt is HashLen zero bytes (RFC 5869 2.2); OpenSSL wants a non-null pointer either way.
  static const unsigned char zero[32] = {};
  const bool ok = ctx && EVP_PKEY_derive_init(ctx.get()) == 1 &&
                  EVP_PKEY_CTX_set_hkdf_md(ctx.get(), EVP_sha256()) == 1 &&
                  EVP_PKEY_CTX_set1_hkdf_key(ctx.get(), u(ikm), static_cast<int>(ikm.size())) == 1 &&
                  (salt.empty() ? EVP_PKEY_CTX_set1_hkdf_salt(ctx.get(), zero, 32)
                                : EVP_PKEY_CTX_set1_hkdf_salt(ctx.get(), u(salt), static_cast<int>(salt.size()))) == 1 &&
                  EVP_PKEY_CTX_add1_hkdf_info(ctx.get(), u(info), static_cast<int>(info.size())) == 1 &&
                  EVP_PKEY_derive(ctx.get(), out.data(), &len) == 1;
  if (!ok) out.fill(0);  // a zero key never verifies anything, so failures surface as MAC errors
  return out;
}

std::optional<std::string> chacha20poly1305_open(const Key32& key, std::string_view nonce12, std::string_view sealed) {
  if (nonce12.size() != 12 || sealed.size() < 16) return std::nullopt;
  return aead_open(cipher("ChaCha20-Poly1305"),
                   std::string_view(reinterpret_cast<const char*>(key.data()), key.size()), nonce12,
                   sealed.substr(0, sealed.size() - 16), sealed.substr(sealed.size() - 16), {});
}

std::optional<std::string> aes256gcm_open(std::string_view key32, std::string_view nonce, std::string_view ciphertext,
                                          std::string_view tag16, std::string_view aad) {
  if (key32.size() != 32 || nonce.empty() || nonce.size() > 128) return std::nullopt;
  return aead_open(cipher("AES-256-GCM"), key32, nonce, ciphertext, tag16, aad);
}

Sha512::Sha512() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ != nullptr) EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha512(), nullptr);
}
Sha512::~Sha512() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }
void Sha512::update(std::string_view data) {
  if (ctx_ != nullptr && !data.empty()) EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size());
}
std::string Sha512::hex_upper() {
  unsigned char md[64];
  unsigned int len = 0;
  if (ctx_ == nullptr || EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), md, &len) != 1) return {};
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += digits[md[i] >> 4];
    out += digits[md[i] & 15];
  }
  return out;
}

bool equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void wipe(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

}  // namespace helmgate::release::sops::crypto
