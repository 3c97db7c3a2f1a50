#pragma once
// SOPS decryption, room (a): the primitives, on the OpenSSL helmgate already links. X25519, HKDF-SHA256,
// HMAC-SHA256, ChaCha20-Poly1305 (age) and AES-256-GCM with any nonce length (SOPS values use 32 bytes),
// SHA-512 (the SOPS MAC). Every function returns false (or nullopt) on failure; none logs or throws.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace helmgate::release::sops::crypto {

using Key32 = std::array<uint8_t, 32>;

// The X25519 public key of a private scalar.
std::optional<Key32> x25519_public(const Key32& secret);
// X25519(secret, peer_public); nullopt when the result is all zeroes (a low-order point) or on error.
std::optional<Key32> x25519(const Key32& secret, const Key32& peer_public);

// HKDF-SHA256 (RFC 5869), 32 bytes out.
Key32 hkdf_sha256(std::string_view ikm, std::string_view salt, std::string_view info);

// ChaCha20-Poly1305 (RFC 8439) open: sealed is ciphertext || 16-byte tag, nonce 12 bytes, no additional
// data. nullopt when the tag does not verify.
std::optional<std::string> chacha20poly1305_open(const Key32& key, std::string_view nonce12, std::string_view sealed);

// AES-256-GCM open with a nonce of any length and additional data; nullopt when the tag does not verify.
std::optional<std::string> aes256gcm_open(std::string_view key32, std::string_view nonce, std::string_view ciphertext,
                                          std::string_view tag16, std::string_view aad);

// SHA-512 streaming, for the SOPS MAC.
class Sha512 {
 public:
  Sha512();
  ~Sha512();
  Sha512(const Sha512&) = delete;
  Sha512& operator=(const Sha512&) = delete;
  void update(std::string_view data);
  std::string hex_upper();  // the final digest as Go's %X prints it

 private:
  void* ctx_;
};

// Constant-time comparison of equal-length strings (false when lengths differ).
bool equal(std::string_view a, std::string_view b);

// Overwrites a buffer before it is released.
void wipe(std::string& s);

}  // namespace helmgate::release::sops::crypto
