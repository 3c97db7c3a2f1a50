#pragma once
// GitHub App authentication: an RS256-signed JWT (the app's identity) traded for an installation
// access token, cached and renewed ahead of its expiry.
#include <chrono>
#include <mutex>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "forge/settings.hpp"
#include "forge/transport.hpp"

namespace helmgate::forge::github {

// {"alg":"RS256","typ":"JWT"} . {"iat": now-60, "exp": now+540, "iss": issuer}: iat is back-dated for
// clock drift and exp stays under GitHub's ten-minute maximum.
core::Result<std::string> make_app_jwt(std::string_view issuer, const std::string& private_key_pem,
                                       std::chrono::system_clock::time_point now);

std::string base64url(std::string_view data);
std::string base64url_decode(std::string_view data);  // "" on malformed input

class InstallationTokens {
 public:
  // transport: the API base, authenticated by this object's own JWT.
  InstallationTokens(GitHubApp app, TransportOptions transport);

  // A token valid for at least refresh_margin more; fetches a new one when needed. Thread-safe.
  core::Result<std::string> token();
  static constexpr std::chrono::minutes refresh_margin{5};
  int64_t fetches() const;
  // The app's slug (GET /app, authenticated by the JWT): its comments are by "<slug>[bot]".
  core::Result<std::string> app_slug();

 private:
  GitHubApp app_;
  std::shared_ptr<Clock> clock_;
  Transport transport_;
  std::mutex mu_;
  std::string token_;
  std::chrono::system_clock::time_point expires_at_{};
  int64_t fetches_ = 0;
};

}  // namespace helmgate::forge::github
