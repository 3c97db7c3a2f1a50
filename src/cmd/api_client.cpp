#include "cmd/api_client.hpp"

#include <cstdio>
#include <cstdlib>

#include "core/json.hpp"

namespace helmgate::cmd {

std::optional<http::ClientResponse> api_call(const Args& args, const std::string& method, const std::string& path,
                                             const char* command) {
  const char* env_server = std::getenv("HELMGATE_SERVER");
  return api_call(args.get("server", env_server != nullptr ? env_server : "http://127.0.0.1:8080"),
                  args.get("token-env", "HELMGATE_API_TOKEN"), method, path, command);
}

std::optional<http::ClientResponse> api_call(std::string server, const std::string& token_env,
                                             const std::string& method, const std::string& path, const char* command) {
  while (!server.empty() && server.back() == '/') server.pop_back();
  const char* token = std::getenv(token_env.c_str());
  if (token == nullptr || *token == '\0') {
    std::fprintf(stderr, "helmgate %s: environment variable %s is not set (it must hold the API token)\n", command,
                 token_env.c_str());
    return std::nullopt;
  }
  auto r = http::request(method, server + path, {{"Authorization", std::string("Bearer ") + token}});
  if (!r) {
    std::fprintf(stderr, "helmgate %s: %s\n", command, r.error().message.c_str());
    return std::nullopt;
  }
  if (r->status >= 400) {
    core::json::Document doc;
    std::string msg = r->body;
    if (!core::json::parse(doc, r->body) && doc.IsObject()) msg = core::json::get_string(doc, "error").value_or(msg);
    std::fprintf(stderr, "helmgate %s: server answered %u: %s\n", command, r->status, msg.c_str());
    return std::nullopt;
  }
  return std::move(*r);
}

std::optional<int> print_raw_or_parse(const Args& args, const http::ClientResponse& r, core::json::Document& doc,
                                      const char* command) {
  if (args.has("json")) {
    std::printf("%s", r.body.c_str());
    return 0;
  }
  if (core::json::parse(doc, r.body)) {
    std::fprintf(stderr, "helmgate %s: the server sent invalid JSON\n", command);
    return 1;
  }
  return std::nullopt;
}

}  // namespace helmgate::cmd
