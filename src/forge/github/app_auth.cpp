#include "forge/github/app_auth.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <ctime>
#include <iomanip>
#include <memory>
#include <sstream>

#include "core/json.hpp"

namespace helmgate::forge::github {

namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

constexpr std::string_view kB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// "2016-07-11T22:14:10Z" → time point; nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> parse_iso8601(const std::string& s) {
  std::tm tm{};
  std::istringstream in(s);
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
  if (in.fail()) return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace

std::string base64url(std::string_view data) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : data) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kB64[(acc >> bits) & 0x3F];
    }
  }
  if (bits > 0) out += kB64[(acc << (6 - bits)) & 0x3F];
  return out;
}

std::string base64url_decode(std::string_view data) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : data) {
    auto pos = kB64.find(c);
    if (pos == std::string_view::npos) return {};
    acc = (acc << 6) | static_cast<uint32_t>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

core::Result<std::string> make_app_jwt(std::string_view issuer, const std::string& private_key_pem,
                                       std::chrono::system_clock::time_point now) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(private_key_pem.data(), static_cast<int>(private_key_pem.size())));
  if (!bio) return core::Error(core::errc::internal, "GitHub App: cannot allocate a buffer for the private key");
  std::unique_ptr<EVP_PKEY, PkeyFree> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key || EVP_PKEY_base_id(key.get()) != EVP_PKEY_RSA) {
    return core::Error(core::errc::invalid_config,
                       "GitHub App: the private key is not an RSA key in PEM form; use the .pem GitHub generated for the app");
  }
  const int64_t t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  rapidjson::StringBuffer sb;
  core::json::Writer w(sb);
  w.StartObject();
  core::json::kv(w, "iat", t - 60);
  core::json::kv(w, "exp", t + 540);
  core::json::kv(w, "iss", issuer);
  w.EndObject();
  const std::string signing_input = base64url(R"({"alg":"RS256","typ":"JWT"})") + "." + base64url(sb.GetString());

  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  size_t sig_len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSignUpdate(ctx.get(), signing_input.data(), signing_input.size()) != 1 ||
      EVP_DigestSignFinal(ctx.get(), nullptr, &sig_len) != 1) {
    return core::Error(core::errc::internal, "GitHub App: signing the JWT failed (OpenSSL)");
  }
  std::string sig(sig_len, '\0');
  if (EVP_DigestSignFinal(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &sig_len) != 1) {
    return core::Error(core::errc::internal, "GitHub App: signing the JWT failed (OpenSSL)");
  }
  sig.resize(sig_len);
  return signing_input + "." + base64url(sig);
}

InstallationTokens::InstallationTokens(GitHubApp app, TransportOptions transport)
    : app_(std::move(app)),
      clock_(transport.clock ? transport.clock : system_clock()),
      transport_(std::move(transport), [this]() -> core::Result<http::Headers> {
        auto jwt = make_app_jwt(app_.app_id, app_.private_key_pem, clock_->wall_now());
        if (!jwt) return jwt.error();
        return http::Headers{{"Authorization", "Bearer " + *jwt}};
      }) {}

int64_t InstallationTokens::fetches() const { return fetches_; }

core::Result<std::string> InstallationTokens::token() {
  std::lock_guard lock(mu_);
  auto now = clock_->wall_now();
  if (!token_.empty() && expires_at_ - now > refresh_margin) return token_;
  auto res = transport_.call("POST", "/app/installations/" + std::to_string(app_.installation_id) + "/access_tokens");
  if (!res) {
    return core::Error(res.error().code, "GitHub App " + app_.app_id + ": cannot get an installation token for installation " +
                                             std::to_string(app_.installation_id) + ": " + res.error().message);
  }
  core::json::Document doc;
  auto token = core::json::parse(doc, res->body) ? std::nullopt : core::json::get_string(doc, "token");
  auto expires = core::json::get_string(doc, "expires_at");
  if (!token || token->empty()) {
    return core::Error(core::errc::unavailable, "GitHub App " + app_.app_id + ": the access_tokens answer has no token");
  }
  token_ = *token;
  // Without a readable expiry assume the documented hour.
  auto parsed = expires ? parse_iso8601(*expires) : std::nullopt;
  expires_at_ = parsed.value_or(now + std::chrono::hours(1));
  ++fetches_;
  return token_;
}

core::Result<std::string> InstallationTokens::app_slug() {
  auto res = transport_.call("GET", "/app");
  if (!res) return core::Error(res.error().code, "GitHub App " + app_.app_id + ": GET /app: " + res.error().message);
  core::json::Document doc;
  auto slug = core::json::parse(doc, res->body) ? std::nullopt : core::json::get_string(doc, "slug");
  if (!slug || slug->empty()) return core::Error(core::errc::unavailable, "GitHub App " + app_.app_id + ": GET /app has no slug");
  return *slug;
}

}  // namespace helmgate::forge::github
