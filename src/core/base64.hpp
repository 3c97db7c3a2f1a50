#pragma once
// Base64 for Secret data in manifests.
#include <optional>
#include <string>
#include <string_view>

namespace helmgate::core {

// Strict: the standard alphabet; padding and whitespace are skipped; any other character makes it
// nullopt (the text is then not base64).
std::optional<std::string> base64_decode(std::string_view in);

// Canonical, as age requires: the standard alphabet, no whitespace, '=' padding required (to whole quads)
// or forbidden, and the unused bits of the last character zero; anything else makes it nullopt, so each
// byte string has exactly one accepted text.
enum class Base64Padding { required, forbidden };
std::optional<std::string> base64_decode_canonical(std::string_view in, Base64Padding padding);

// Lenient, as Kubernetes tooling reads Secret data in the wild: the standard and URL-safe alphabets,
// every other character skipped.
std::string base64_decode_lenient(std::string_view in);

// The standard alphabet with padding, as a Secret's `data` holds it.
std::string base64_encode(std::string_view in);

}  // namespace helmgate::core
