#pragma once
// A small synchronous HTTP/1.1 client: http:// and https:// (OpenSSL; the system CA store or a CA file,
// SNI, hostname verification), keep-alive connections reused per host, request and response headers,
// connect and whole-request timeouts. Used by the CLI (helmgate jobs / replay), the forge clients and tests.
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace helmgate::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct ClientResponse {
  unsigned status = 0;
  std::string body;
  Headers headers;
  // First value of a header, matched case-insensitively; "" when absent.
  std::string header(std::string_view name) const;
};

struct ClientOptions {
  std::string ca_file;  // PEM bundle to trust instead of the system store (e.g. a test CA)
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds request_timeout{30'000};  // write + read of one exchange
  size_t max_idle_per_host = 4;
  size_t max_response_bytes = 64u << 20;
  std::string user_agent = "helmgate";
};

struct ClientRequest {
  std::string method = "GET";
  std::string url;  // http[s]://host[:port]/path?query
  Headers headers;
  std::string body;
  std::chrono::milliseconds timeout{0};  // 0: ClientOptions::request_timeout
};

// Parsed absolute URL.
struct Url {
  bool tls = false;
  std::string host;  // without brackets for IPv6 literals
  std::string port;
  std::string target;  // path and query, at least "/"
  std::string host_header() const;
};
core::Result<Url> parse_url(std::string_view url);

// Thread-safe: any number of threads may share one Client; each exchange holds its own connection.
class Client {
 public:
  explicit Client(ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Any HTTP status is a successful result. Errors: errc::bad_request (bad URL), errc::unavailable
  // (cannot connect, TLS failure, connection dropped), errc::timeout. A pooled keep-alive connection
  // the server has meanwhile closed is retried once on a fresh connection.
  core::Result<ClientResponse> request(const ClientRequest& req);

  struct Connection;
  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// One exchange on a fresh client (no reuse). errc::unavailable when the server cannot be reached.
core::Result<ClientResponse> request(const std::string& method, const std::string& url, const Headers& headers = {},
                                     const std::string& body = {},
                                     std::chrono::milliseconds timeout = std::chrono::milliseconds(30'000));

}  // namespace helmgate::http
