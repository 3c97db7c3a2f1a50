#include "core/redact.hpp"

#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstdlib>

namespace helmgate::core {

std::string redact_url(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  size_t host_start = scheme + 3;
  size_t slash = url.find('/', host_start);
  std::string_view authority = url.substr(host_start, slash == std::string_view::npos ? url.npos : slash - host_start);
  size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  std::string out(url.substr(0, host_start));
  out += "***";
  out += url.substr(host_start + at);
  return out;
}

namespace {
std::string to_hex(const unsigned char* p, size_t n) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out += hex[p[i] >> 4];
    out += hex[p[i] & 0xf];
  }
  return out;
}
}  // namespace

std::string sha256_hex(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return to_hex(md, SHA256_DIGEST_LENGTH);
}

const std::string& redaction_key() {
  static const std::string key = [] {
    if (const char* env = std::getenv("HELMGATE_REDACTION_KEY"); env != nullptr && *env != '\0') return std::string(env);
    unsigned char buf[32];
    RAND_bytes(buf, sizeof buf);
    return to_hex(buf, sizeof buf);
  }();
  return key;
}

std::string secret_marker(std::string_view value, std::string_view key) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(value.data()),
       value.size(), md, &len);
  return "<redacted hmac:" + to_hex(md, 4) + ">";
}

std::string secret_marker(std::string_view value) { return secret_marker(value, redaction_key()); }

}  // namespace helmgate::core
