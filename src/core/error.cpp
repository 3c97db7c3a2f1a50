#include "core/error.hpp"

namespace helmgate::core {
namespace {
class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "helmgate"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::ok: return "ok";
      case errc::bad_request: return "bad request";
      case errc::unauthorized: return "unauthorized";
      case errc::forbidden: return "forbidden";
      case errc::not_found: return "not found";
      case errc::conflict: return "conflict";
      case errc::payload_too_large: return "payload too large";
      case errc::unsupported_media_type: return "unsupported media type";
      case errc::unavailable: return "service unavailable";
      case errc::timeout: return "timed out";
      case errc::invalid_config: return "invalid configuration";
      case errc::internal: return "internal error";
    }
    return "unknown error";
  }
};
}  // namespace

const std::error_category& helmgate_category() noexcept {
  static const Category category;
  return category;
}

int http_status_for(const std::error_code& ec) noexcept {
  if (!ec) return 200;
  if (ec.category() != helmgate_category()) return 500;
  switch (static_cast<errc>(ec.value())) {
    case errc::ok: return 200;
    case errc::bad_request: return 400;
    case errc::unauthorized: return 401;
    case errc::forbidden: return 403;
    case errc::not_found: return 404;
    case errc::conflict: return 409;
    case errc::payload_too_large: return 413;
    case errc::unsupported_media_type: return 415;
    case errc::unavailable: return 503;
    case errc::timeout: return 504;
    case errc::invalid_config:
    case errc::internal: return 500;
  }
  return 500;
}

}  // namespace helmgate::core
