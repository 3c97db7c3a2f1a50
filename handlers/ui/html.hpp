#pragma once
// HTML building blocks of the status page: escaping (every string from Redis, Git or a cluster goes
// through esc()), the page shell (inline CSS, one inline script, no external asset), and the security
// headers (a Content-Security-Policy that allows exactly that style and script by their hashes).
#include <string>
#include <string_view>

#include "http/router.hpp"

namespace helmgate::handlers::ui {

// &, <, >, " and ' as entities: safe in element content and in quoted attribute values.
std::string esc(std::string_view s);

// A URL path under /ui/ from segments, each percent-encoded (core::names::path_segment), then escaped.
std::string href(std::initializer_list<std::string_view> segments);

// A state badge: text (never colour alone) with a class for its colour.
std::string state_badge(std::string_view state);

// The page: <title> and <h1> are `title` (escaped here), `body` is trusted markup built with esc().
// with_script: include the replay script (jobs page).
std::string page(std::string_view title, const std::string& body, bool with_script = false);

// 200 text/html with the security headers.
http::Response html_response(unsigned status, std::string body);

// A short error page (escaped) with the status.
http::Response html_error(unsigned status, std::string_view message);

}  // namespace helmgate::handlers::ui
