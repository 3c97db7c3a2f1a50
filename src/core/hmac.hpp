#pragma once
// HMAC-SHA256, the one implementation for webhook signatures, SOPS MACs, secret markers and
// constant-time comparisons; and SHA-256 for content keys.
#include <array>
#include <string_view>

namespace helmgate::core {

using Sha256Digest = std::array<unsigned char, 32>;

// HMAC-SHA256(key, data) per RFC 2104, over a SHA-256 fetched from OpenSSL once per process (HMAC()
// and EVP_sha256() look it up on every call, which costs more than hashing a webhook payload).
// Throws std::runtime_error if OpenSSL fails (out of memory).
Sha256Digest hmac_sha256(std::string_view key, std::string_view data);

// SHA-256(data), over the same fetched SHA-256 (SHA256() looks the algorithm up on every call).
Sha256Digest sha256(std::string_view data);

}  // namespace helmgate::core
