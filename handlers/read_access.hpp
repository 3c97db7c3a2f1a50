#pragma once
// Who may read the status page and the fleet API (config::UiSettings):
//   ui.auth: token  `Authorization: Bearer <read token or API token>`, or Basic auth whose password is one
//                   of them (what a browser prompts for on /ui/); both compared in constant time.
//   ui.auth: proxy  the operator's proxy authenticated the request; with ui.proxy_user_header, the request
//                   must carry that header (a request without it did not come through the proxy).
#include <string_view>

#include "config/config.hpp"
#include "http/router.hpp"

namespace helmgate::handlers {

enum class ReadAccess { granted, missing, denied, not_proxied };

ReadAccess read_access(const config::Config& cfg, const http::Context& ctx);

// 401 with the reason; `browser` asks for Basic auth (the browser prompts), otherwise Bearer.
http::Response read_denied(ReadAccess why, bool browser);

}  // namespace helmgate::handlers
