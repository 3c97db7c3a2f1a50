#pragma once
// The one path every forge API call takes: authentication headers, the write limiter, the forge's
// rate-limit headers, retries (Retry-After, x-ratelimit-reset, 5xx with exponential backoff) and
// errors that carry the forge's own message but never a credential.
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "forge/pacing.hpp"
#include "http/client.hpp"

namespace helmgate::forge {

// Produces the Authorization (and any other identity) headers; may refresh a token.
using AuthProvider = std::function<core::Result<http::Headers>()>;

struct TransportOptions {
  std::string forge_name;  // in every message
  std::string api_url;     // base, without a trailing slash
  http::Headers default_headers;
  RetryPolicy retry;
  std::shared_ptr<WriteLimiter> limiter;  // shared by every client of the same identity
  std::shared_ptr<Clock> clock;
  std::shared_ptr<http::Client> http;
};

struct ApiResponse {
  unsigned status = 0;
  std::string body;
  http::Headers headers;
  std::string header(std::string_view name) const;
};

class Transport {
 public:
  Transport(TransportOptions options, AuthProvider auth);

  // path: from the API root ("/repos/o/r/issues/1/comments?per_page=100"). 2xx answers are results;
  // a 404 is a result too when allow_not_found (for "is there one?" questions); any other failure is
  // an Error naming the forge, method, path and the forge's message.
  core::Result<ApiResponse> call(std::string_view method, const std::string& path, const std::string& body = {},
                                 bool allow_not_found = false);

  RateLimitSnapshot rate_limit() const;
  const TransportOptions& options() const { return options_; }

 private:
  void note_rate_limit(const http::ClientResponse& res);

  TransportOptions options_;
  AuthProvider auth_;
  mutable std::mutex mu_;
  RateLimitSnapshot rate_;
};

// "message" (+ GitHub's "errors") of a forge's JSON error body, or the body's start.
std::string forge_message(std::string_view body);

}  // namespace helmgate::forge
