#include "handlers/read_access.hpp"

#include "core/base64.hpp"
#include "core/redact.hpp"

namespace helmgate::handlers {
namespace {

// Whether `presented` equals one of the configured (non-empty) tokens. Every configured token is compared,
// whatever the first answered: the time depends on neither the presented value nor which token matched.
bool token_matches(std::string_view presented, std::string_view read_token, std::string_view api_token) {
  bool read_ok = core::constant_time_equal(presented, read_token);
  bool api_ok = core::constant_time_equal(presented, api_token);
  return (read_ok && !read_token.empty()) || (api_ok && !api_token.empty());
}

}  // namespace

ReadAccess read_access(const config::Config& cfg, const http::Context& ctx) {
  if (cfg.ui.auth == config::UiAuth::proxy) {
    if (cfg.ui.proxy_user_header.empty()) return ReadAccess::granted;
    return ctx.header(cfg.ui.proxy_user_header).empty() ? ReadAccess::not_proxied : ReadAccess::granted;
  }
  std::string auth = ctx.header("Authorization");
  if (auth.empty()) return ReadAccess::missing;
  std::string_view a = auth;
  std::string presented;
  if (a.substr(0, 7) == "Bearer ") {
    presented = std::string(a.substr(7));
  } else if (a.substr(0, 6) == "Basic ") {
    auto decoded = core::base64_decode(a.substr(6));
    if (!decoded) return ReadAccess::denied;
    size_t colon = decoded->find(':');
    if (colon == std::string::npos) return ReadAccess::denied;
    presented = decoded->substr(colon + 1);
  } else {
    return ReadAccess::denied;
  }
  return token_matches(presented, cfg.ui.read_token, cfg.api_token) ? ReadAccess::granted : ReadAccess::denied;
}

http::Response read_denied(ReadAccess why, bool browser) {
  std::string reason = why == ReadAccess::missing      ? "missing credentials: Authorization: Bearer <read token>"
                       : why == ReadAccess::not_proxied ? "the request did not come through the authenticating proxy"
                                                        : "invalid read token";
  auto res = http::error_response(401, reason);
  res.set(http::beast_http::field::www_authenticate,
          browser ? "Basic realm=\"helmgate status\", charset=\"UTF-8\"" : "Bearer realm=\"helmgate\"");
  return res;
}

}  // namespace helmgate::handlers
