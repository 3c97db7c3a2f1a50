#pragma once
// Webhook signature checks over the raw request body, in constant time.
#include <functional>
#include <span>
#include <string>
#include <string_view>

namespace helmgate::handlers {

// A request header by name ("" when absent): what a verifier or the webhook table reads.
using HeaderLookup = std::function<std::string(std::string_view name)>;

// HMAC-SHA256(secret, body) compared in constant time with `provided`, which is either
// "sha256=<hex>" (X-Hub-Signature-256) or bare hex (X-Gitea-Signature). Hex may be any case.
// On failure `why` says what was wrong with the header (never anything about the secret).
bool verify_hmac_sha256(std::string_view secret, std::string_view body, std::string_view provided,
                        bool require_prefix, std::string* why);

// A signature header and whether its value must carry the "sha256=" prefix.
struct SignatureHeader {
  std::string_view name;
  bool require_prefix;
};
// verify_hmac_sha256 over the first of `headers` the request has; with none of them, false and
// "missing <A> header" / "missing <A> or <B> header" in *why.
bool verify_hmac_headers(const HeaderLookup& header, std::span<const SignatureHeader> headers, std::string_view secret,
                         std::string_view body, std::string* why);

// "sha256=<hex>" for body under secret (used by tests, the bench and the demo to sign deliveries).
std::string sign_sha256(std::string_view secret, std::string_view body);

}  // namespace helmgate::handlers
