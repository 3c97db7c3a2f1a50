#pragma once
// Method + path routing with "{name}" path parameters. Handlers answer asynchronously: they get a
// Responder and must call it exactly once, from any thread.
#include <boost/beast/http.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace helmgate::http {

namespace beast_http = boost::beast::http;
using Request = beast_http::request<beast_http::string_body>;
using Response = beast_http::response<beast_http::string_body>;
using Responder = std::function<void(Response)>;

struct Context {
  Request request;
  std::map<std::string, std::string, std::less<>> params;  // from "{name}" segments
  std::string route;                                         // the matched pattern
  // The connection's I/O thread (an io_context run by that one thread), for handlers that wait for I/O
  // on it instead of on another thread; null outside a server.
  boost::asio::io_context* io = nullptr;
  std::string_view path() const;                             // target without the query
  std::string query(std::string_view key) const;             // decoded query parameter ("" if absent)
  std::string header(std::string_view name) const;
};

using Handler = std::function<void(std::shared_ptr<Context>, Responder)>;

class Router {
 public:
  void add(beast_http::verb method, std::string pattern, Handler handler);
  // Fills ctx->params and ctx->route. Returns nullptr and sets *status to 404 or 405 when nothing matches.
  const Handler* match(Context& ctx, unsigned* status) const;

 private:
  struct Route {
    beast_http::verb method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
};

// Response helpers: every answer is JSON with a stable shape.
Response json_response(unsigned status, std::string body, unsigned version = 11, bool keep_alive = true);
// {"error": "<reason>"} with the given status.
Response error_response(unsigned status, std::string_view reason, unsigned version = 11, bool keep_alive = true);
Response text_response(unsigned status, std::string body, std::string_view content_type);
// A response as it goes on the wire, in one buffer: the status line, the fields, the body. For the server's
// responses, whose builders above set the body's length (prepare_payload); not for a chunked one. Beast's
// serializer walks a view of a dozen pieces per response, a tenth of serve's CPU per webhook.
std::string wire_text(const Response& res);

std::string url_decode(std::string_view s);

}  // namespace helmgate::http
