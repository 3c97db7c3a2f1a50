#pragma once
// A small synchronous HTTP/1.1 client for the CLI (helmgate jobs / replay) and tests.
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace helmgate::http {

struct ClientResponse {
  unsigned status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// url: http://host:port/path?query. errc::unavailable when the server cannot be reached.
core::Result<ClientResponse> request(const std::string& method, const std::string& url,
                                     const std::vector<std::pair<std::string, std::string>>& headers = {},
                                     const std::string& body = {},
                                     std::chrono::milliseconds timeout = std::chrono::milliseconds(30'000));

}  // namespace helmgate::http
