#pragma once
// Webhook signature checks over the raw request body, in constant time.
#include <string>
#include <string_view>

namespace helmgate::handlers {

// HMAC-SHA256(secret, body) compared in constant time with `provided`, which is either
// "sha256=<hex>" (X-Hub-Signature-256) or bare hex (X-Gitea-Signature). Hex may be any case.
// On failure `why` says what was wrong with the header (never anything about the secret).
bool verify_hmac_sha256(std::string_view secret, std::string_view body, std::string_view provided,
                        bool require_prefix, std::string* why);

// "sha256=<hex>" for body under secret (used by tests, the bench and the demo to sign deliveries).
std::string sign_sha256(std::string_view secret, std::string_view body);

}  // namespace helmgate::handlers
