// The API server's Status answers, read apart from the client that receives them.
#include <rapidjson/document.h>

#include "core/json.hpp"
#include "kube/client.hpp"

namespace helmgate::kube {

std::optional<ApiStatus> parse_status(std::string_view body) {
  rapidjson::Document doc;
  const bool unparsed = core::json::parse(doc, body).has_value();  // iterative, depth-bounded
  if (unparsed || !doc.IsObject()) return std::nullopt;
  auto kind = core::json::get_string(doc, "kind");
  if (!kind || *kind != "Status") return std::nullopt;
  ApiStatus s;
  s.code = static_cast<unsigned>(core::json::get_int(doc, "code").value_or(0));
  s.reason = core::json::get_string(doc, "reason").value_or("");
  s.message = core::json::get_string(doc, "message").value_or("");
  return s;
}

core::errc errc_for_status(unsigned http_status) {
  switch (http_status) {
    case 400: return core::errc::bad_request;
    case 401: return core::errc::unauthorized;
    case 403: return core::errc::forbidden;
    case 404: return core::errc::not_found;
    case 409: return core::errc::conflict;
    case 413: return core::errc::payload_too_large;
    case 415: return core::errc::unsupported_media_type;
    case 422: return core::errc::bad_request;
    case 429: return core::errc::unavailable;
    case 504: return core::errc::timeout;
    default: return http_status >= 500 ? core::errc::unavailable : core::errc::internal;
  }
}

}  // namespace helmgate::kube
